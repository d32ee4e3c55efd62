"""Semantic coding: segments, read in context, compared with each code's definition, criteria and examples.

Every segment and every reference text of a code (``label: definition``,
``label: keywords``, each ``include`` criterion, each example quote) is
embedded. A segment's similarity to a code is its highest cosine similarity
to any of that code's references, and it is read in context: the score mixes
the segment's own similarity with its turn's and with the interviewer
question before it (weights in ``CONTEXT_WEIGHTS``; see
:mod:`themekit.coding.context`). A code is given when that score reaches the
code's threshold (``threshold:`` in the YAML if set, otherwise one derived
from the codebook's own examples, see :func:`default_thresholds`) and is
within ``MARGIN`` of the segment's best code: a sentence is coded with what
it is most about, not with everything it faintly resembles. Scores are
calibrated so that 0.5 is the threshold, the same meaning ``--min-score``
has for every method.

On the bundled sample's gold set, reading the question and the turn raised
macro F1 from 0.32 (the sentence alone) to 0.45 (benchmarks/quality.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from themekit.codebook import Code, Codebook
from themekit.coding.base import Coded
from themekit.coding.context import question_vectors, turn_vectors
from themekit.embed import Embedder, EmbeddingCache, embed_texts
from themekit.models import Coding
from themekit.segment import Segmentation

__all__ = ["SemanticCoder", "Reference", "references", "default_thresholds", "calibrate"]

#: Similarity above the threshold that lifts the score from 0.5 to about 0.73.
SCALE = 0.05
#: Bounds for thresholds derived from examples.
THRESHOLD_FLOOR, THRESHOLD_CEILING = 0.20, 0.50
#: Real talk resembles a code less than its hand-picked examples do: a code's default threshold is this share
#: of the similarity at which its examples resemble other codes (chosen on the sample's gold set, where
#: anything from 0.5 to 0.7 scores within 0.01 macro F1).
EXAMPLE_DISCOUNT = 0.7
#: A code must come within this score of the segment's best code.
MARGIN = 0.01
#: How much the segment itself, its whole turn and the interviewer question before it count.
CONTEXT_WEIGHTS = {"segment": 1.0, "turn": 1.0, "question": 0.5}
#: Segments with fewer words are too short to judge by meaning.
MIN_WORDS = 4


@dataclass(frozen=True)
class Reference:
    code_id: str
    kind: str  # "definition" | "keywords" | "include" | "example"
    text: str


def references(code: Code) -> list[Reference]:
    spec = code.spec
    refs = [Reference(code.id, "definition", f"{spec.label}: {spec.definition}")]
    if spec.keywords:
        refs.append(Reference(code.id, "keywords", f"{spec.label}: {', '.join(spec.keywords)}"))
    refs += [Reference(code.id, "include", text) for text in spec.include]
    refs += [Reference(code.id, "example", text) for text in spec.examples]
    return refs


def calibrate(similarity: float | np.ndarray, threshold: float | np.ndarray) -> float | np.ndarray:
    """Logistic map of similarity around the threshold: threshold → 0.5."""
    return 1.0 / (1.0 + np.exp(-(np.asarray(similarity) - threshold) / SCALE))


def default_thresholds(codebook: Codebook, refs: list[Reference], vectors: np.ndarray) -> dict[str, float]:
    """A threshold per code from the codebook's own examples.

    For each example quote, take its highest similarity to any other code's
    references: how close a code's true instances come to the wrong codes.
    The code's threshold is ``EXAMPLE_DISCOUNT`` times the mean of these,
    within fixed bounds: examples are written to be typical, and what people
    actually say resembles any code less. Codes with no examples (or a
    codebook of one code) get the floor.
    """
    sims = vectors @ vectors.T
    code_of = np.array([r.code_id for r in refs])
    thresholds: dict[str, float] = {}
    for code in codebook:
        other = [
            float(sims[i, code_of != code.id].max())
            for i, ref in enumerate(refs)
            if ref.code_id == code.id and ref.kind == "example" and (code_of != code.id).any()
        ]
        value = EXAMPLE_DISCOUNT * float(np.mean(other)) if other else THRESHOLD_FLOOR
        thresholds[code.id] = float(min(max(value, THRESHOLD_FLOOR), THRESHOLD_CEILING))
    for code in codebook:
        if code.spec.threshold is not None:
            thresholds[code.id] = code.spec.threshold
    return thresholds


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


class SemanticCoder:
    """Codes by embedding similarity; ``cache`` (optional) avoids re-embedding known texts."""

    method = "semantic"

    def __init__(self, embedder: Embedder, *, cache: EmbeddingCache | None = None, min_score: float = 0.5) -> None:
        self.embedder = embedder
        self.cache = cache
        self.min_score = min_score
        self.thresholds: dict[str, float] = {}

    def _embed(self, texts: list[str]) -> np.ndarray:
        return embed_texts(texts, self.embedder, self.cache)

    def code(self, segmentation: Segmentation, codebook: Codebook) -> Coded:
        """Every code whose context-mixed similarity passes its threshold, within :data:`MARGIN` of the best."""
        codings = self._codings(segmentation, codebook)
        stats: dict[str, Any] = {"embedding_cache": self.cache.stats()} if self.cache is not None else {}
        stats["semantic_thresholds"] = {k: round(v, 4) for k, v in self.thresholds.items()}
        return Coded(codings, stats)

    def _codings(self, segmentation: Segmentation, codebook: Codebook) -> list[Coding]:
        segments = [s for s in segmentation.segments if len(s.text.split()) >= MIN_WORDS]
        refs = [r for code in codebook for r in references(code)]
        if not segments or not refs:
            return []
        ref_vectors = self._embed([r.text for r in refs])
        seg_vectors = self._embed([s.text for s in segments])
        asked = question_vectors(segments, self._embed, ref_vectors.shape[1])
        self.thresholds = default_thresholds(codebook, refs, ref_vectors)
        columns: dict[str, list[int]] = {}
        for j, ref in enumerate(refs):
            columns.setdefault(ref.code_id, []).append(j)
        codes = list(codebook)

        def per_code(sims: np.ndarray) -> np.ndarray:
            return np.stack([sims[:, columns[c.id]].max(axis=1) for c in codes], axis=1)

        sims = seg_vectors @ ref_vectors.T
        best_ref = np.stack([np.asarray(columns[c.id])[sims[:, columns[c.id]].argmax(axis=1)] for c in codes], axis=1)
        best_sim = np.take_along_axis(sims, best_ref, axis=1)
        turn_sim = per_code(turn_vectors(segments, seg_vectors) @ ref_vectors.T)
        has_question = asked.any(axis=1)
        question_sim = per_code(asked @ ref_vectors.T)  # zero where there is no question, which then weighs nothing
        w = CONTEXT_WEIGHTS
        weight = w["segment"] + w["turn"] + w["question"] * has_question
        mixed = (w["segment"] * best_sim + w["turn"] * turn_sim + w["question"] * question_sim) / weight[:, None]
        top = mixed.max(axis=1)
        codings: list[Coding] = []
        for k, code in enumerate(codes):
            threshold = self.thresholds[code.id]
            scores = calibrate(mixed[:, k], threshold)
            keep = (scores >= self.min_score) & (mixed[:, k] >= top - MARGIN)
            for i in np.flatnonzero(keep):
                ref = refs[best_ref[i, k]]
                what = "definition" if ref.kind == "definition" else f"nearest {ref.kind}"
                evidence = (
                    f'{what}: "{_short(ref.text)}" (similarity {best_sim[i, k]:.2f}, in context {mixed[i, k]:.2f}, '
                    f"threshold {threshold:.2f})"
                )
                codings.append(
                    Coding(
                        segment=segments[i],
                        code_id=code.id,
                        theme_id=code.theme_id,
                        method="semantic",
                        score=round(float(scores[i]), 4),
                        evidence=evidence,
                    )
                )
        order = {c.id: k for k, c in enumerate(codebook)}
        codings.sort(key=lambda c: (c.segment.transcript.id, c.segment.index, order[c.code_id]))
        return codings


def noisy_or(scores: list[float]) -> float:
    """Combine independent evidence: 1 - Π(1 - s)."""
    return 1.0 - math.prod(1.0 - s for s in scores)
