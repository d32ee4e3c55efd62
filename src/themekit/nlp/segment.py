"""Transcripts → coding units (segments), anchored by character offsets.

Units: ``sentence`` (default: sentences from spaCy's sentencizer, with very
short ones such as "Yeah." joined to their neighbour so each unit says
something), ``turn`` (a whole speaker turn), ``paragraph`` (a paragraph
within a turn) or ``passage`` (consecutive sentences of one turn, about 40-150
words, cut where neighbouring sentences are least alike). Passages need
sentence vectors, which this layer does not make: :func:`segment_corpus` gives
the sentences and :func:`group_passages` joins them, given their vectors.
Only participant speech is segmented unless asked otherwise; interviewer
speech stays in the transcript for context.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, ORTH, SENT_START
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc

from themekit.errors import OptionError
from themekit.models import UNITS, Role, Segment, Transcript, Turn, Unit
from themekit.nlp.language import pipe_texts
from themekit.util.choices import check_choice
from themekit.util.gcpause import paused_gc

__all__ = [
    "PASSAGE_WORDS",
    "UNITS",
    "Segmentation",
    "Unit",
    "group_passages",
    "passage_bounds",
    "segment_corpus",
    "segmentation_of",
    "sentence_spans",
]

#: A passage's length in words: a turn longer than the most is cut into passages of at least the least.
PASSAGE_WORDS = (40, 150)
#: Sentences on each side of a gap whose mean vectors are compared (TextTiling's block size).
_BLOCK = 2


@dataclass
class Segmentation:
    """Segments of a corpus, with the spaCy Doc of every segmented turn.

    ``docs`` maps (transcript id, turn index) to the Doc of that turn's speech;
    coders use them so text is tokenised once. ``unit`` names the coding unit
    (``None`` when not known): a coder need not split a ``sentence`` again.
    """

    segments: list[Segment] = field(default_factory=list)
    docs: dict[tuple[str, int], Doc] = field(default_factory=dict)
    by_turn: dict[tuple[str, int], list[Segment]] = field(default_factory=dict)
    unit: str | None = None


_OPENERS = frozenset({"[", "(", "{", '"', "“", "‘"})
_OPENER_IDS = frozenset(get_string_id(text) for text in _OPENERS)
_STRAIGHT_QUOTE = get_string_id('"')
_CURLY_OPEN, _CURLY_CLOSE = get_string_id("“"), get_string_id("”")
#: Quoted speech of at most this many words is kept in one sentence; a longer "quotation" is more likely an
#: unpaired quote mark, and is split as usual.
QUOTED_SPEECH_WORDS = 60


def _quotations(orth: np.ndarray, words_before: list[int]) -> list[tuple[int, int]]:
    """Token spans (opening mark, closing mark) of the quoted speech in a Doc: straight quotes paired in order,
    curly quotes opening and closing; only quotations of at most ``QUOTED_SPEECH_WORDS`` words."""
    spans: list[tuple[int, int]] = []
    straight: int | None = None
    curly: int | None = None
    for i in np.flatnonzero(np.isin(orth, (_STRAIGHT_QUOTE, _CURLY_OPEN, _CURLY_CLOSE))).tolist():
        mark = orth[i]
        if mark == _STRAIGHT_QUOTE:
            if straight is None:
                straight = i
            else:
                spans.append((straight, i))
                straight = None
        elif mark == _CURLY_OPEN:
            curly = i
        elif curly is not None:
            spans.append((curly, i))
            curly = None
    return [(a, b) for a, b in spans if words_before[b] - words_before[a] <= QUOTED_SPEECH_WORDS]


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

    # Quoted speech stays whole and in its sentence: no break inside a quotation, nor between its closing mark
    # and the sentence going on in lower case (you can say "has anyone dealt with this?" and someone always has).
    quotations = _quotations(flags[:, 3], words_before)
    closing = {b for _, b in quotations}
    if quotations and len(breaks):
        keep = np.ones(len(breaks), dtype=bool)
        for a, b in quotations:
            keep &= ~((breaks > a) & (breaks <= b))
            if b + 1 < n and doc[b + 1].is_lower:
                keep &= breaks != b + 1
        breaks = breaks[keep]
        sents = list(zip([0, *breaks.tolist()], [*breaks.tolist(), n]))

    # An opening bracket or quote left at a sentence's end ("... once. [" + "laughs] ...") belongs to the next
    # sentence; a quote mark that closes a quotation stays.
    for i, last in enumerate(flags[breaks - 1, 3].tolist()):
        start, end = sents[i]
        if last in _OPENER_IDS and end - start > 1 and end - 1 not in closing:
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
    check_choice(unit, UNITS, what="coding unit", param="unit")
    if unit == "passage":
        raise OptionError(
            "passages are grouped from sentence vectors (unit='passage'): segment with unit='sentence', then call "
            "group_passages with the sentences' embeddings, or use themekit.code(unit='passage')",
            param="unit",
        )
    result = Segmentation(unit=unit)
    for transcript in transcripts:
        turns: list[Turn] = [t for t in transcript.turns if t.role in roles and t.end > t.start]
        texts = [transcript.turn_text(t) for t in turns]
        index = 0
        # a Doc's text is the text it was made from: use that string, not Doc.text (rebuilt from every token)
        for turn, text, doc in zip(turns, texts, pipe_texts(nlp, texts, batch_size=batch_size)):
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


def _gap_similarities(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """For each gap between neighbouring sentences (n - 1 of them), the cosine of the word-weighted mean vectors
    of up to :data:`_BLOCK` sentences either side."""
    n = len(vectors)
    sims = np.empty(n - 1)
    for gap in range(1, n):
        left = slice(max(0, gap - _BLOCK), gap)
        right = slice(gap, min(n, gap + _BLOCK))
        a = (vectors[left] * weights[left, None]).sum(axis=0)
        b = (vectors[right] * weights[right, None]).sum(axis=0)
        norm = float(np.linalg.norm(a) * np.linalg.norm(b))
        sims[gap - 1] = float(a @ b) / norm if norm > 0 else 0.0
    return sims


def _depths(sims: np.ndarray) -> np.ndarray:
    """TextTiling's depth score of each gap: how far similarity climbs from it to the peak on its left and on its right."""
    depths = np.empty_like(sims)
    for i, value in enumerate(sims):
        left = i
        while left > 0 and sims[left - 1] >= sims[left]:
            left -= 1
        right = i
        while right < len(sims) - 1 and sims[right + 1] >= sims[right]:
            right += 1
        depths[i] = (sims[left] - value) + (sims[right] - value)
    return depths


def passage_bounds(
    words: Sequence[int], vectors: np.ndarray, *, min_words: int = PASSAGE_WORDS[0], max_words: int = PASSAGE_WORDS[1]
) -> list[tuple[int, int]]:
    """Consecutive sentences grouped into passages: ``[start, end)`` sentence ranges covering all of them.

    ``words`` and ``vectors`` (unit-length) are the sentences' word counts and
    embeddings. A run of sentences longer than ``max_words`` is cut at its
    deepest gap (the lowest similarity of neighbouring sentences relative to
    the peaks around it) that leaves at least ``min_words`` on each side; ties
    go to the earliest gap. A run with no such gap stays whole.
    """
    n = len(words)
    if n < 2:
        return [(0, n)] if n else []
    counts = np.asarray(words, dtype=np.float64)
    sims = _gap_similarities(np.asarray(vectors, dtype=np.float64), counts)
    depths, before = _depths(sims), np.concatenate(([0.0], np.cumsum(counts)))
    bounds: list[tuple[int, int]] = []
    todo = [(0, n)]
    while todo:
        start, end = todo.pop()
        total = before[end] - before[start]
        gaps = [
            g
            for g in range(start + 1, end)
            if before[g] - before[start] >= min_words and before[end] - before[g] >= min_words
        ]
        if total <= max_words or not gaps:
            bounds.append((start, end))
            continue
        cut = max(gaps, key=lambda g: (round(float(depths[g - 1]), 6), -round(float(sims[g - 1]), 6), -g))
        todo.extend([(cut, end), (start, cut)])
    return sorted(bounds)


def group_passages(
    sentences: Sequence[Segment],
    vectors: np.ndarray,
    *,
    min_words: int = PASSAGE_WORDS[0],
    max_words: int = PASSAGE_WORDS[1],
) -> list[Segment]:
    """Passages from the sentence segments of a corpus (in corpus order) and their vectors, as :func:`passage_bounds`
    groups them within each turn: from the start of a passage's first sentence to the end of its last."""
    passages: list[Segment] = []
    index, current = 0, None
    row = 0
    while row < len(sentences):
        first = sentences[row]
        end = row
        while (
            end < len(sentences)
            and sentences[end].transcript is first.transcript
            and sentences[end].turn_index == first.turn_index
        ):
            end += 1
        if first.transcript is not current:
            index, current = 0, first.transcript
        turn = sentences[row:end]
        words = [len(s.text.split()) for s in turn]
        for a, b in passage_bounds(words, vectors[row:end], min_words=min_words, max_words=max_words):
            passages.append(Segment(first.transcript, index, first.turn_index, turn[a].start, turn[b - 1].end))
            index += 1
        row = end
    return passages


def segmentation_of(
    segments: Sequence[Segment], nlp: Language, *, unit: str | None = None, batch_size: int = 64
) -> Segmentation:
    """A Segmentation of ``segments`` (of ``unit``) made elsewhere, with the Doc of every turn they lie in (for the
    rule coder)."""
    result = Segmentation(segments=list(segments), unit=unit)
    for segment in segments:
        result.by_turn.setdefault((segment.transcript.id, segment.turn_index), []).append(segment)
    turns = [(key, group[0].transcript.turn_text(group[0].turn)) for key, group in result.by_turn.items()]
    for (key, _), doc in zip(turns, pipe_texts(nlp, [text for _, text in turns], batch_size=batch_size)):
        result.docs[key] = doc
    return result
