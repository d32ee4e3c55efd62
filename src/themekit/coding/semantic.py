"""Semantic coding: segments compared with each code's definition, criteria and examples.

Every segment and every reference text of a code (``label: definition``, each
``include`` criterion, each example quote) is embedded; a segment's
similarity to a code is its highest cosine similarity to any of that code's
references. A code is given when the similarity reaches the code's threshold
(``threshold:`` in the YAML if set, otherwise one derived from the codebook's
own examples, see :func:`default_thresholds`) and is within ``MARGIN`` of the
segment's best code: a sentence is coded with what it is most about, not with
everything it faintly resembles. Scores are calibrated so that 0.5 is the
threshold, the same meaning ``--min-score`` has for every method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..codebook import Code, Codebook
from ..embed import Embedder, EmbeddingCache, embed_texts
from ..models import Coding
from ..segment import Segmentation

__all__ = ["SemanticCoder", "Reference", "references", "default_thresholds", "calibrate"]

#: Similarity above the threshold that lifts the score from 0.5 to about 0.73.
SCALE = 0.05
#: Bounds for thresholds derived from examples.
THRESHOLD_FLOOR, THRESHOLD_CEILING = 0.40, 0.70
#: A code must come within this similarity of the segment's best code.
MARGIN = 0.05
#: Segments with fewer words are too short to judge by meaning.
MIN_WORDS = 4


@dataclass(frozen=True)
class Reference:
    code_id: str
    kind: str  # "definition" | "include" | "example"
    text: str


def references(code: Code) -> list[Reference]:
    spec = code.spec
    refs = [Reference(code.id, "definition", f"{spec.label}: {spec.definition}")]
    refs += [Reference(code.id, "include", text) for text in spec.include]
    refs += [Reference(code.id, "example", text) for text in spec.examples]
    return refs


def calibrate(similarity: float | np.ndarray, threshold: float | np.ndarray) -> float | np.ndarray:
    """Logistic map of similarity around the threshold: threshold → 0.5."""
    return 1.0 / (1.0 + np.exp(-(np.asarray(similarity) - threshold) / SCALE))


def default_thresholds(codebook: Codebook, refs: list[Reference], vectors: np.ndarray) -> dict[str, float]:
    """A threshold per code from the codebook's own examples.

    For each example quote, take its similarity to the rest of its own code's
    references (how close a true instance comes) and its highest similarity
    to any other code's references (how close it comes to the wrong codes).
    The code's threshold lies midway between the mean of the first and the
    mean of the second, within fixed bounds, so a segment must look more like
    this code than the code's own examples look like other codes.
    """
    sims = vectors @ vectors.T
    code_of = np.array([r.code_id for r in refs])
    thresholds: dict[str, float] = {}
    for code in codebook:
        own, other = [], []
        for i, ref in enumerate(refs):
            if ref.code_id != code.id or ref.kind != "example":
                continue
            mask_own = (code_of == code.id) & (np.arange(len(refs)) != i)
            mask_other = code_of != code.id
            if mask_own.any():
                own.append(float(sims[i, mask_own].max()))
            if mask_other.any():
                other.append(float(sims[i, mask_other].max()))
        if own and other:
            value = (np.mean(own) + np.mean(other)) / 2
        elif own:
            value = np.mean(own) * 0.8
        else:
            value = (THRESHOLD_FLOOR + THRESHOLD_CEILING) / 2
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

    def code(self, segmentation: Segmentation, codebook: Codebook) -> list[Coding]:
        segments = [s for s in segmentation.segments if len(s.text.split()) >= MIN_WORDS]
        refs = [r for code in codebook for r in references(code)]
        if not segments or not refs:
            return []
        ref_vectors = self._embed([r.text for r in refs])
        seg_vectors = self._embed([s.text for s in segments])
        self.thresholds = default_thresholds(codebook, refs, ref_vectors)
        sims = seg_vectors @ ref_vectors.T
        columns: dict[str, list[int]] = {}
        for j, ref in enumerate(refs):
            columns.setdefault(ref.code_id, []).append(j)
        codes = list(codebook)
        best_ref = np.stack([np.asarray(columns[c.id])[sims[:, columns[c.id]].argmax(axis=1)] for c in codes], axis=1)
        best_sim = np.take_along_axis(sims, best_ref, axis=1)
        top = best_sim.max(axis=1)
        codings: list[Coding] = []
        for k, code in enumerate(codes):
            threshold = self.thresholds[code.id]
            scores = calibrate(best_sim[:, k], threshold)
            keep = (scores >= self.min_score) & (best_sim[:, k] >= top - MARGIN)
            for i in np.flatnonzero(keep):
                ref = refs[best_ref[i, k]]
                what = "definition" if ref.kind == "definition" else f"nearest {ref.kind}"
                evidence = f'{what}: "{_short(ref.text)}" (similarity {best_sim[i, k]:.2f}, threshold {threshold:.2f})'
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
