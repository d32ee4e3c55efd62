"""Transcripts → coding units (segments), anchored by character offsets.

Units: ``sentence`` (default: sentences from spaCy's sentencizer, with very
short ones such as "Yeah." joined to their neighbour so each unit says
something), ``turn`` (a whole speaker turn) or ``paragraph`` (a paragraph
within a turn). Only participant speech is segmented unless asked otherwise;
interviewer speech stays in the transcript for context.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, ORTH, SENT_START
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc

from themekit.errors import OptionError
from themekit.models import Role, Segment, Transcript, Turn
from themekit.util.gcpause import paused_gc

__all__ = ["Unit", "UNITS", "Segmentation", "segment_corpus", "sentence_spans"]

Unit = Literal["sentence", "turn", "paragraph"]
UNITS: tuple[str, ...] = ("sentence", "turn", "paragraph")


@dataclass
class Segmentation:
    """Segments of a corpus, with the spaCy Doc of every segmented turn.

    ``docs`` maps (transcript id, turn index) to the Doc of that turn's speech;
    coders use them so text is tokenised once.
    """

    segments: list[Segment] = field(default_factory=list)
    docs: dict[tuple[str, int], Doc] = field(default_factory=dict)
    by_turn: dict[tuple[str, int], list[Segment]] = field(default_factory=dict)


_OPENERS = frozenset({"[", "(", "{", "\"", "“", "‘"})
_OPENER_IDS = frozenset(get_string_id(text) for text in _OPENERS)


def _sentence_bounds(doc: Doc, min_words: int, flags: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Sentence token bounds, with sentences under ``min_words`` words joined to a neighbour.

    Read from token arrays rather than ``doc.sents`` and Token objects: the
    same bounds, without a Python object per token. ``flags`` is the Doc's
    ``to_array([SENT_START, IS_PUNCT, IS_SPACE, ORTH])`` when already taken.
    """
    if not len(doc):
        return []
    if flags is None:
        flags = doc.to_array([SENT_START, IS_PUNCT, IS_SPACE, ORTH])
    n = len(doc)
    breaks = np.flatnonzero(flags[1:, 0] == 1) + 1
    sents = list(zip([0, *breaks.tolist()], [*breaks.tolist(), n]))
    # words before token i: cumulative count of tokens that are neither punctuation nor space
    words_before = np.concatenate(([0], np.cumsum((flags[:, 1] == 0) & (flags[:, 2] == 0)))).tolist()

    # An opening bracket or quote left at a sentence's end ("... once. [" + "laughs] ...")
    # belongs to the next sentence.
    for i, last in enumerate(flags[breaks - 1, 3].tolist()):
        start, end = sents[i]
        if last in _OPENER_IDS and end - start > 1:
            sents[i] = (start, end - 1)
            sents[i + 1] = (end - 1, sents[i + 1][1])
    merged: list[tuple[int, int]] = []
    carry: int | None = None
    for start, end in sents:
        if carry is not None:
            start, carry = carry, None
        if words_before[end] - words_before[start] < min_words:
            carry = start
            continue
        merged.append((start, end))
    if carry is not None:
        if merged:
            merged[-1] = (merged[-1][0], n)
        else:
            merged.append((carry, n))
    return merged


def sentence_spans(doc: Doc, min_words: int = 5) -> list[tuple[int, int]]:
    """Character spans, in the Doc's text, of its sentences, with sentences under ``min_words`` words joined to
    a neighbour: the ``sentence`` unit's spans (before whitespace is trimmed)."""
    if not len(doc):
        return []
    flags = doc.to_array([SENT_START, IS_PUNCT, IS_SPACE, ORTH, IDX, LENGTH])
    ends = flags[:, 4] + flags[:, 5]
    return [(int(flags[s, 4]), int(ends[e - 1])) for s, e in _sentence_bounds(doc, min_words, flags)]


def _paragraph_bounds(text: str) -> list[tuple[int, int]]:
    bounds, pos = [], 0
    for part in text.split("\n"):
        if part.strip():
            bounds.append((pos, pos + len(part)))
        pos += len(part) + 1
    return bounds


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@paused_gc()
def segment_corpus(
    transcripts: Iterable[Transcript],
    nlp: Language,
    *,
    unit: Unit = "sentence",
    min_words: int = 5,
    roles: Sequence[Role] = ("participant",),
    progress: Callable[[int], None] | None = None,
    batch_size: int = 64,
) -> Segmentation:
    """Split the chosen speakers' turns into segments; ``progress(n)`` is called per transcript."""
    if unit not in UNITS:
        raise OptionError(f"unknown coding unit {unit!r} (unit=); choose from: {', '.join(UNITS)}", param="unit")
    result = Segmentation()
    for transcript in transcripts:
        turns: list[Turn] = [t for t in transcript.turns if t.role in roles and t.end > t.start]
        texts = [transcript.turn_text(t) for t in turns]
        index = 0
        # a Doc's text is the text it was made from: use that string, not Doc.text (rebuilt from every token)
        for turn, text, doc in zip(turns, texts, nlp.pipe(texts, batch_size=batch_size)):
            key = (transcript.id, turn.index)
            result.docs[key] = doc
            if unit == "turn":
                spans = [(0, len(text))]
            elif unit == "paragraph":
                spans = _paragraph_bounds(text)
            else:
                spans = sentence_spans(doc, min_words)
            turn_segments = []
            for start, end in spans:
                start, end = _trimmed(text, start, end)
                if end <= start:
                    continue
                seg = Segment(transcript, index, turn.index, turn.start + start, turn.start + end)
                index += 1
                turn_segments.append(seg)
            result.by_turn[key] = turn_segments
            result.segments.extend(turn_segments)
        if progress:
            progress(1)
    return result
