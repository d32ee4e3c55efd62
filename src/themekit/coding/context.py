"""What surrounds a segment: the interviewer's question before it and the rest of its turn.

In an interview a sentence often means what it means because of the question
it answers ("Yeah, massively" after "Did the training help?") and the turn it
sits in. The semantic coder and the classifier read a segment together with
this context. The turn's meaning is the mean of its sentences' embeddings, so
context costs no embedding beyond the questions, which are short.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from themekit.models import Segment

__all__ = ["question_before", "question_vectors", "turn_vectors"]


def question_before(segment: Segment) -> str:
    """The text of the nearest interviewer turn before the segment's turn ('' if there is none)."""
    turns = segment.transcript.turns
    for index in range(segment.turn_index - 1, -1, -1):
        turn = turns[index]
        if turn.role == "interviewer":
            return segment.transcript.turn_text(turn).strip()
    return ""


def question_vectors(
    segments: Sequence[Segment], embed: Callable[[list[str]], np.ndarray], dimensions: int
) -> np.ndarray:
    """Per segment, the embedding of the question before it (zeros where there is none); each question embedded once."""
    questions = [question_before(s) for s in segments]
    asked = [q for q in dict.fromkeys(questions) if q]
    out = np.zeros((len(segments), dimensions), dtype=np.float32)
    if asked:
        embedded = dict(zip(asked, embed(asked)))
        for i, q in enumerate(questions):
            if q:
                out[i] = embedded[q]
    return out


def turn_vectors(segments: Sequence[Segment], vectors: np.ndarray) -> np.ndarray:
    """Per segment, the unit-length mean of the vectors of the given segments that share its turn."""
    members: dict[tuple[str, int], list[int]] = {}
    for i, segment in enumerate(segments):
        members.setdefault((segment.transcript.id, segment.turn_index), []).append(i)
    out = np.empty_like(vectors)
    for rows in members.values():
        mean = vectors[rows].mean(axis=0)
        norm = float(np.linalg.norm(mean))
        out[rows] = mean / norm if norm > 0 else mean
    return out
