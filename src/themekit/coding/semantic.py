"""Semantic coding: segments, read in context, compared with each code's definition, criteria and examples.

Every segment and every reference text of a code (``label: definition``,
``label: keywords``, each ``include`` criterion, each example quote) is
embedded. A segment longer than a sentence is also read sentence by sentence:
its similarity to a reference is that of its closest sentence, so one
sentence about a code in a long answer is not drowned by the rest. A
segment's similarity to a code is its highest similarity to any of that
code's references, and it is read in context: the score mixes the segment's
own similarity with its whole turn's and with the interviewer question before
it (weights in ``CONTEXT_WEIGHTS``; see :mod:`themekit.coding.context`). On a
corpus of at least ``CALIBRATION_MIN_SEGMENTS`` segments, the segments are
ranked per code by each reference's similarity in standard deviations from
that reference's mean over the corpus, averaged over the code's ``RANK_TOP``
best references, and that ranking is put on the scale of the similarity
above: a criterion that resembles all talk ("It was fine in the end")
no longer codes every "yeah, it was fine", and a code needs more than one
of its references to agree.

Thresholds: ``threshold:`` in the YAML if set; else, for a code with
examples, one derived from them (:func:`default_thresholds`); else, when the
corpus has at least ``CALIBRATION_MIN_SEGMENTS`` segments, one calibrated on
the corpus itself: the code's mean in-context similarity over the corpus plus
``CORPUS_Z`` standard deviations, so a code is given where talk resembles it
clearly more than talk in general does. A segment gets every code that passes
its threshold and stands within ``Z_MARGIN`` standard deviations (each code's
spread over the corpus) of the segment's most distinctive code: a passage
about two themes gets both, faint resemblances do not. On a corpus too small
to calibrate on, codes without examples keep the floor and a code must come
within ``MARGIN`` of the segment's best. Scores are calibrated so that 0.5 is
the threshold, the same meaning ``--min-score`` has for every method. Each
coding also has a probability that a coder would give it
(``PROBABILITY_MAP``): a score says which segments resemble a code most, not
how often such a resemblance is what a coder codes.

On the bundled sample's gold set, reading the question and the turn raised
macro F1 from 0.32 (the sentence alone) to 0.45 (benchmarks/quality.py). On
real interviews coded from code names and memos alone (benchmarks/quality_real.py),
corpus-calibrated thresholds, several codes per segment and reading long
turns sentence by sentence raised turn-level macro F1 from 0.23 to 0.35.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from spacy.language import Language

from themekit.codebook import Code, Codebook
from themekit.coding.base import Coded, top_per_row
from themekit.coding.context import question_vectors, turn_vectors
from themekit.models import Coding, Segment
from themekit.nlp.embed import Embedder, EmbeddingCache, embed_texts
from themekit.nlp.language import pipe_texts
from themekit.nlp.segment import Segmentation, sentence_spans

__all__ = [
    "SemanticCoder", "CorpusScale", "Reference", "references", "default_thresholds", "calibrate", "probability",
    "probability_of_score", "fitted_intercept",
]  # fmt: skip

#: Similarity above the threshold that lifts the score from 0.5 to about 0.73.
SCALE = 0.05
#: Bounds for thresholds derived from examples.
THRESHOLD_FLOOR, THRESHOLD_CEILING = 0.20, 0.50
#: Real talk resembles a code less than its hand-picked examples do: a code's default threshold is this share
#: of the similarity at which its examples resemble other codes (chosen on the sample's gold set, where
#: anything from 0.5 to 0.7 scores within 0.01 macro F1).
EXAMPLE_DISCOUNT = 0.7
#: Without corpus calibration, a code must come within this score of the segment's best code.
MARGIN = 0.01
#: A corpus with at least this many segments calibrates the thresholds of codes without examples, and the margin.
CALIBRATION_MIN_SEGMENTS = 30
#: A code without examples is given from this many standard deviations above its corpus mean similarity.
CORPUS_Z = 1.0
#: A segment of several sentences gets every passing code within this many standard deviations of its most
#: distinctive code: it can hold several themes.
Z_MARGIN = 1.0
#: A segment of one sentence is coded with what it is most about: codes within this many standard deviations.
SENTENCE_Z_MARGIN = 0.1
#: Sentences of a long segment are read on their own, joined to a neighbour when shorter than this many words.
PART_MIN_WORDS = 5
#: How much the segment itself, its whole turn and the interviewer question before it count.
CONTEXT_WEIGHTS = {"segment": 1.0, "turn": 1.0, "question": 0.5}
#: On a corpus large enough to calibrate on, segments are ranked per code by their similarity to each reference
#: in standard deviations from that reference's mean similarity to the corpus' segments, the mean of the
#: ``RANK_TOP`` best references: a reference that resembles all talk alike ("Not very useful", "Filtering") no
#: longer outranks one that resembles a few segments clearly.
RANK_TOP = 2
#: Segments with fewer words are too short to judge by meaning.
MIN_WORDS = 4
#: The most codes one segment gets by meaning, its most distinctive ones: a long answer touching every code a
#: little is not about all of them (real oral histories had one turn given 14 of 15 codes without it).
MAX_CODES = 3
#: A semantic coding's probability that a coder gives the code there: a logistic map (slope, intercept) of its
#: score's log-odds (its similarity above the code's threshold, in units of ``SCALE``). Fitted by
#: ``benchmarks/zero_shot_calibration.py`` on the bundled sample's human codings (its semantic codings by sentence
#: and by turn) and checked on real interviews it never saw (``../shared/dev-data``): expected calibration error
#: 0.035 by turn and 0.055 by sentence. The score ranks; the probability says how often such codings are right.
PROBABILITY_MAP = (0.67, -1.45)


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


def probability(similarity: float | np.ndarray, threshold: float | np.ndarray) -> float | np.ndarray:
    """The probability that a coder gives the code to a segment of this in-context similarity (``PROBABILITY_MAP``)."""
    return _mapped((np.asarray(similarity) - threshold) / SCALE)


def probability_of_score(score: float | np.ndarray, intercept: float = PROBABILITY_MAP[1]) -> float | np.ndarray:
    """A semantic coding's probability from its score (whose log-odds are its similarity above the threshold in
    units of ``SCALE``), by ``PROBABILITY_MAP``'s slope and ``intercept`` (default: the map's own)."""
    from scipy.special import logit

    return _mapped(logit(np.clip(score, 1e-6, 1 - 1e-6)), intercept)


def _mapped(odds: float | np.ndarray, intercept: float = PROBABILITY_MAP[1]) -> float | np.ndarray:
    """``PROBABILITY_MAP`` (its slope, and ``intercept``) applied to a score's log-odds."""
    from scipy.special import expit

    return expit(PROBABILITY_MAP[0] * np.asarray(odds) + intercept)


def fitted_intercept(scores: np.ndarray, given: np.ndarray) -> float:
    """The intercept of ``PROBABILITY_MAP`` (its slope kept) under which the probabilities of semantic codings of
    these ``scores`` add up to the number a coder ``given`` (half a coding added either way, so none or all still
    gives a finite value): the map moved to a study's own rate of right codings."""
    from scipy.optimize import brentq

    target = (float(np.sum(given)) + 0.5) / (len(given) + 1.0) * len(given)
    # the sum rises with the intercept, from 0 to every coding: one root between
    return round(brentq(lambda b: float(np.sum(probability_of_score(scores, b))) - target, -20.0, 20.0), 4)


def default_thresholds(
    codebook: Codebook, refs: list[Reference], vectors: np.ndarray, corpus: CorpusScale | None = None
) -> dict[str, float]:
    """A threshold per code from the codebook's own examples, else from the corpus.

    For each example quote, take its highest similarity to any other code's
    references: how close a code's true instances come to the wrong codes.
    The code's threshold is ``EXAMPLE_DISCOUNT`` times the mean of these,
    within fixed bounds: examples are written to be typical, and what people
    actually say resembles any code less. A code with no examples (or in a
    codebook of one code) gets its corpus mean plus ``CORPUS_Z`` standard
    deviations when ``corpus`` is given (not below the floor), else the floor.
    """
    sims = vectors @ vectors.T
    code_of = np.array([r.code_id for r in refs])
    thresholds: dict[str, float] = {}
    for k, code in enumerate(codebook):
        other = [
            float(sims[i, code_of != code.id].max())
            for i, ref in enumerate(refs)
            if ref.code_id == code.id and ref.kind == "example" and (code_of != code.id).any()
        ]
        if other:
            value = min(max(EXAMPLE_DISCOUNT * float(np.mean(other)), THRESHOLD_FLOOR), THRESHOLD_CEILING)
        elif corpus is not None:
            value = max(float(corpus.mean[k] + CORPUS_Z * corpus.spread[k]), THRESHOLD_FLOOR)
        else:
            value = THRESHOLD_FLOOR
        thresholds[code.id] = float(value)
    for code in codebook:
        if code.spec.threshold is not None:
            thresholds[code.id] = code.spec.threshold
    return thresholds


@dataclass(frozen=True)
class CorpusScale:
    """Per code (codebook order): the mean and standard deviation of the in-context similarity over the corpus."""

    mean: np.ndarray
    spread: np.ndarray

    @classmethod
    def of(cls, mixed: np.ndarray) -> CorpusScale | None:
        """The scale of a (segments × codes) similarity matrix; ``None`` when too few segments to calibrate on."""
        if len(mixed) < CALIBRATION_MIN_SEGMENTS:
            return None
        return cls(mixed.mean(axis=0), np.maximum(mixed.std(axis=0), 1e-6))

    def keep(self, mixed: np.ndarray, several: np.ndarray) -> np.ndarray:
        """Per segment and code: within ``Z_MARGIN`` standard deviations of the segment's most distinctive code
        where the segment holds ``several`` sentences, within ``SENTENCE_Z_MARGIN`` where it is one sentence."""
        z = (mixed - self.mean) / self.spread
        margin = np.where(several, Z_MARGIN, SENTENCE_Z_MARGIN)[:, None]
        return z >= z.max(axis=1, keepdims=True) - margin


def _most_distinctive(mixed: np.ndarray, scale: CorpusScale | None, most: int) -> np.ndarray:
    """Per segment and code, whether the code is among the segment's ``most`` most distinctive codes (standard
    deviations above the code's corpus mean; the similarity itself on a corpus too small to calibrate on)."""
    return top_per_row(mixed if scale is None else (mixed - scale.mean) / scale.spread, most)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


class SemanticCoder:
    """Codes by embedding similarity; ``cache`` (optional) avoids re-embedding known texts."""

    method = "semantic"

    def __init__(
        self,
        embedder: Embedder,
        *,
        cache: EmbeddingCache | None = None,
        min_score: float = 0.5,
        nlp: Language | None = None,
    ) -> None:
        self.embedder = embedder
        #: splits turns into sentences where the segmentation kept no Docs (without it, long segments are read whole)
        self.nlp = nlp
        self.cache = cache
        self.min_score = min_score
        self.thresholds: dict[str, float] = {}
        self.calibration = "none"

    def _embed(self, texts: list[str]) -> np.ndarray:
        return embed_texts(texts, self.embedder, self.cache)

    def code(self, segmentation: Segmentation, codebook: Codebook) -> Coded:
        """Every code whose context-mixed similarity passes its threshold, within the margin of the segment's best."""
        self.calibration = "none"
        codings = self._codings(segmentation, codebook)
        stats: dict[str, Any] = {"embedding_cache": self.cache.stats()} if self.cache is not None else {}
        stats["semantic_thresholds"] = {k: round(v, 4) for k, v in self.thresholds.items()}
        stats["semantic_calibration"] = self.calibration
        stats["semantic_max_codes"] = MAX_CODES
        return Coded(codings, stats)

    def _codings(self, segmentation: Segmentation, codebook: Codebook) -> list[Coding]:
        segments = [s for s in segmentation.segments if len(s.text.split()) >= MIN_WORDS]
        read = self._read(segments, segmentation, codebook)
        if read is None:
            return []
        mixed, refs = read.mixed, read.refs
        scale = CorpusScale.of(mixed)
        self.thresholds = default_thresholds(codebook, refs, read.ref_vectors, scale)
        if scale is not None:
            self.calibration = f"corpus ({len(segments)} segments)"
            near_best = scale.keep(mixed, read.several)
        else:
            self.calibration = (
                f"none ({len(segments)} segments, fewer than {CALIBRATION_MIN_SEGMENTS}): floor and margin"
            )
            near_best = mixed >= mixed.max(axis=1, keepdims=True) - MARGIN
        thresholds = np.array([self.thresholds[code.id] for code in codebook])
        given = (calibrate(mixed, thresholds[None, :]) >= self.min_score) & near_best
        given &= _most_distinctive(mixed, scale, MAX_CODES)
        codings: list[Coding] = []
        for k, code in enumerate(codebook):
            threshold = self.thresholds[code.id]
            scores = calibrate(mixed[:, k], threshold)
            chances = probability(mixed[:, k], threshold)
            for i in np.flatnonzero(given[:, k]):
                ref = refs[read.best_ref[i, k]]
                what = "definition" if ref.kind == "definition" else f"nearest {ref.kind}"
                evidence = (
                    f'{what}: "{_short(ref.text)}" (similarity {read.best_sim[i, k]:.2f}, in context {mixed[i, k]:.2f}, '
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
                        probability=round(float(chances[i]), 4),
                    )
                )
        order = {c.id: k for k, c in enumerate(codebook)}
        codings.sort(key=lambda c: (c.segment.transcript.id, c.segment.index, order[c.code_id]))
        return codings

    def distinctiveness(self, segmentation: Segmentation, codebook: Codebook) -> np.ndarray:
        """Per segment of ``segmentation`` and code (codebook order): how many standard deviations above the
        corpus mean the segment's in-context similarity to the code lies. The classifier learns from these."""
        read = self._read(segmentation.segments, segmentation, codebook)
        if read is None:
            return np.zeros((len(segmentation.segments), len(codebook)), dtype=np.float32)
        spread = np.maximum(read.mixed.std(axis=0), 1e-6)
        return ((read.mixed - read.mixed.mean(axis=0)) / spread).astype(np.float32)

    def _read(self, segments: list[Segment], segmentation: Segmentation, codebook: Codebook) -> _Reading | None:
        """Each segment compared with each code's references, in context (``None`` without segments or codes)."""
        refs = [r for code in codebook for r in references(code)]
        if not segments or not refs:
            return None
        ref_vectors = self._embed([r.text for r in refs])
        seg_vectors = self._embed([s.text for s in segments])
        asked = question_vectors(segments, self._embed, ref_vectors.shape[1])
        columns: dict[str, list[int]] = {}
        for j, ref in enumerate(refs):
            columns.setdefault(ref.code_id, []).append(j)
        codes = list(codebook)

        def per_code(sims: np.ndarray) -> np.ndarray:
            return np.stack([sims[:, columns[c.id]].max(axis=1) for c in codes], axis=1)

        sims, several = self._part_similarities(segments, segmentation, seg_vectors, ref_vectors)
        best_ref = np.stack([np.asarray(columns[c.id])[sims[:, columns[c.id]].argmax(axis=1)] for c in codes], axis=1)
        best_sim = np.take_along_axis(sims, best_ref, axis=1)
        turn_sims = turn_vectors(segments, seg_vectors) @ ref_vectors.T
        has_question = asked.any(axis=1)
        question_sims = asked @ ref_vectors.T  # zero where there is no question, which then weighs nothing
        mixed = _in_context(best_sim, per_code(turn_sims), per_code(question_sims), has_question)
        if len(segments) >= CALIBRATION_MIN_SEGMENTS:
            lists = [columns[c.id] for c in codes]
            mean, spread = sims.mean(axis=0), np.maximum(sims.std(axis=0), 1e-6)
            ranked = _in_context(
                *(_top_mean((part - mean) / spread, lists) for part in (sims, turn_sims, question_sims)), has_question
            )
            mixed = _on_scale_of(ranked, mixed)
        return _Reading(refs, ref_vectors, mixed, best_ref, best_sim, several)

    def _part_similarities(
        self, segments: list[Segment], segmentation: Segmentation, seg_vectors: np.ndarray, ref_vectors: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per segment and reference: the similarity of the segment's closest sentence (the segment's own for a
        segment of one sentence), and per segment whether it has several sentences. Each sentence of a longer
        segment is embedded on its own."""
        sims = seg_vectors @ ref_vectors.T
        if segmentation.unit == "sentence":  # each segment is one sentence already: nothing to split again
            return sims, np.zeros(len(segments), dtype=bool)
        owners: list[int] = []
        texts: list[str] = []
        spans = turn_sentences(segments, segmentation, self.nlp)
        for i, segment in enumerate(segments):
            key = (segment.transcript.id, segment.turn_index)
            if key not in spans:
                continue
            base = segment.turn.start
            parts = [
                segment.transcript.text[max(base + s, segment.start) : min(base + e, segment.end)].strip()
                for s, e in spans[key]
                if base + s < segment.end and base + e > segment.start
            ]
            parts = [part for part in parts if part]
            if len(parts) >= 2:
                owners += [i] * len(parts)
                texts += parts
        if texts:
            best = np.full_like(sims, -np.inf)
            np.maximum.at(best, np.asarray(owners), self._embed(texts) @ ref_vectors.T)
            rows = np.unique(owners)
            sims[rows] = best[rows]
        several = np.zeros(len(segments), dtype=bool)
        several[np.unique(np.asarray(owners, dtype=int))] = True
        return sims, several


def turn_sentences(
    segments: list[Segment], segmentation: Segmentation, nlp: Language | None
) -> dict[tuple[str, int], list[tuple[int, int]]]:
    """The sentence spans (in turn text) of every turn holding one of ``segments``, from the segmentation's Docs,
    or split now with ``nlp`` (the run's spaCy pipeline) where the Docs were not kept (without it, those turns are
    left out). A sentence shorter than ``PART_MIN_WORDS`` words is joined to a neighbour."""
    docs = dict(segmentation.docs)
    missing = list(
        dict.fromkeys((s.transcript, s.turn_index) for s in segments if (s.transcript.id, s.turn_index) not in docs)
    )
    if missing and nlp is not None:
        texts = [t.turn_text(t.turns[i]) for t, i in missing]
        for (t, i), doc in zip(missing, pipe_texts(nlp, texts, batch_size=64)):
            docs[(t.id, i)] = doc
    keys = {(s.transcript.id, s.turn_index) for s in segments}
    return {key: sentence_spans(doc, PART_MIN_WORDS) for key, doc in docs.items() if key in keys}


def _in_context(own: np.ndarray, turn: np.ndarray, question: np.ndarray, has_question: np.ndarray) -> np.ndarray:
    """Per segment and code, the segment's own similarity mixed with its turn's and its question's
    (``CONTEXT_WEIGHTS``; the question weighs nothing where there is none)."""
    w = CONTEXT_WEIGHTS
    weight = w["segment"] + w["turn"] + w["question"] * has_question
    return (w["segment"] * own + w["turn"] * turn + w["question"] * question * has_question[:, None]) / weight[:, None]


def _top_mean(standard: np.ndarray, lists: list[list[int]]) -> np.ndarray:
    """Per code, the mean of a segment's ``RANK_TOP`` highest standardised similarities to the code's references
    (its one reference's, for a code of one)."""
    out = np.empty((len(standard), len(lists)), dtype=standard.dtype)
    for k, columns in enumerate(lists):
        part = standard[:, columns]
        out[:, k] = np.sort(part, axis=1)[:, -RANK_TOP:].mean(axis=1) if part.shape[1] > 1 else part[:, 0]
    return out


def _on_scale_of(ranked: np.ndarray, mixed: np.ndarray) -> np.ndarray:
    """``ranked``'s order of segments per code, on ``mixed``'s scale (its mean and standard deviation over the
    corpus): thresholds, margins and scores keep their meaning, the ranking is the new one."""
    z = (ranked - ranked.mean(axis=0)) / np.maximum(ranked.std(axis=0), 1e-6)
    return mixed.mean(axis=0) + z * mixed.std(axis=0)


@dataclass(frozen=True)
class _Reading:
    """Segments compared with the codes' references: per segment and code, the in-context similarity (``mixed``),
    the closest reference and its similarity; per segment, whether it holds several sentences."""

    refs: list[Reference]
    ref_vectors: np.ndarray
    mixed: np.ndarray
    best_ref: np.ndarray
    best_sim: np.ndarray
    several: np.ndarray


def noisy_or(scores: list[float]) -> float:
    """Combine independent evidence: 1 - Π(1 - s)."""
    return 1.0 - math.prod(1.0 - s for s in scores)
