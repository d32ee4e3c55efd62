"""Learned coding: one scikit-learn model per code, trained on human codings.

Training data are the segments human codings cover (see
:func:`themekit.human.gold.load_gold`): a segment is a positive for every code a
person gave it and a negative for the rest. A gold file's coder read whole
transcripts, so every segment of a transcript it names counts, a segment with
no code being a negative for every code; review decisions teach only the
segments decided. Rows about transcripts that are not in the corpus being
coded (coded earlier, elsewhere) are learned from their ``text`` column, so a
model trained on one batch of interviews codes the next.

Features are TF-IDF word n-grams without stop words, disfluencies and filler
("um", "you know", "kind of"…: see ``FILLER``), readable, so the evidence can
name them; the segment's sentence embedding and its context (see
:mod:`themekit.coding.context`): the mean embedding of its turn and, at half
weight, the embedding of the interviewer question before it; per code,
whether the rules gave it, so a model learns how far to trust a code's
keywords. What the codebook says enters beside the model, not among its
features (see below). Excerpts learned from their ``text`` column have
no context; their own embedding stands in for the turn. With ``adapt``
(``--adapt-encoder``), the embeddings among the features come from the run's
model fine-tuned on the corpus' own sentences (:mod:`themekit.nlp.adapt`).

A code gets a model once it has ``MIN_POSITIVES`` positives; each model is
cross-validated at training time with ``CV_FOLDS`` folds grouped by
transcript, so no interview is both learned from and tested on, and the
figures are kept in ``report``. A code the coder gave in one transcript only
(common for rare codes) cannot be held out that way: it is cross-validated by
segment (``cv_by: segment`` in ``report``) rather than left uncalibrated. A
cross-validated code ranks segments by its model's log-odds (in standard
deviations of its cross-validated ones) plus the
codebook's reading of the segment (``PRIOR_WEIGHT``; how distinctive its
similarity to the code's definition, criteria and examples is in this corpus,
in standard deviations above the corpus mean, as the semantic coder reads it):
the model learns what the codings add, and the codebook keeps its say where
they are few. Each code's ranking is then calibrated to the coder (Platt
scaling on the cross-validated scores) and given its own threshold: the
cut-off that gives it as many cross-validated segments as the coder gave it
(its prevalence). Codes that could not be cross-validated share one threshold,
the cut-off with the best mean F1 (``decision_threshold``). The score is the
model's probability calibrated so that the code's threshold scores 0.5, the
meaning ``--min-score`` has for every method. Codes are trained side by side
on the machine's cores.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from themekit.codebook import Codebook
from themekit.coding.base import Coded, top_per_row
from themekit.coding.context import question_vectors, turn_vectors
from themekit.coding.fitcache import FitCache, digest_arrays
from themekit.coding.semantic import PROBABILITY_MAP, SemanticCoder, fitted_intercept, turn_sentences
from themekit.human.gold import CodeNames, HumanCodings, map_gold
from themekit.models import Coding
from themekit.nlp.embed import Embedder, EmbeddingCache, embed_texts
from themekit.nlp.segment import Segmentation

if TYPE_CHECKING:
    import pandas as pd
    from spacy.language import Language

__all__ = ["MIN_POSITIVES", "ClassifierCoder", "CorpusFeatures", "SegmentFit"]

#: A code needs at least this many human-coded positive segments to get a model.
MIN_POSITIVES = 5
#: Weight of the interviewer question's embedding among the features.
QUESTION_WEIGHT = 0.5
#: Cross-validation folds (grouped by transcript) for each code's figures and the decision threshold.
CV_FOLDS = 3
#: Regularisation of the logistic regressions (smaller: simpler models; a few hundred codings call for little).
C = 0.5
#: Weight of the codebook's reading of a segment (standard deviations above the corpus mean) beside a
#: cross-validated model's log-odds (in standard deviations of its held-out ones) in the code's ranking: the model
#: learns what the codings add to the codebook, and the codebook keeps its say where the codings are few.
PRIOR_WEIGHT = 1.0
#: Disfluencies and filler: never features, never evidence. Phrases are removed before words are split.
FILLER_PHRASES = ("you know", "kind of", "sort of", "i mean", "i guess", "a bit", "and stuff", "or something")
FILLER = frozenset(
    "um umm uh uhh uhm erm er ah ahh eh hmm mm mmm mhm huh oh ok okay yeah yep yes no like right so well just really "
    "actually basically literally obviously totally kinda sorta gonna wanna gotta thing things stuff quite pretty "
    "definitely probably maybe sure think know say said mean guess suppose lot bit going got get went "
    # what is left of contractions once words are split at apostrophes ("didn't" gives "didn")
    "didn don doesn isn wasn weren couldn wouldn shouldn haven hasn hadn aren won ve ll re".split()
)
_FILLER_RE = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in FILLER_PHRASES) + r")\b")
#: Probability cut-offs tried when choosing the decision threshold from cross-validation.
THRESHOLD_GRID = tuple(round(0.2 + 0.05 * k, 2) for k in range(11))
#: A code the coder gave too rarely to learn (fewer than ``MIN_POSITIVES`` segments) in transcripts they coded whole,
#: at least this many segments of them, is given by the other methods to at most as many segments of the corpus
#: as the coder's rate would give it (add-one smoothed: a code the coder never gave still gets a segment or so).
RATE_MIN_SEGMENTS = 50
#: Those codes' semantic probabilities are moved to the rate at which the coder gave their semantic codings in the
#: transcripts they coded (``PROBABILITY_MAP``'s intercept refitted) when there are at least this many such codings.
REFIT_MIN_CODINGS = 20
#: With ``adapt``, a corpus needs this many distinct sentences of 4 words or more to adapt the model to.
MIN_ADAPT_SENTENCES = 10
#: A segment keeps at most as many codes as the coder gave this share of the segments they coded.
CARDINALITY_QUANTILE = 0.99


class ClassifierCoder:
    """Codes with per-code logistic regressions trained on human codings from ``gold``."""

    method = "classifier"

    def __init__(
        self,
        embedder: Embedder,
        *,
        human: HumanCodings,
        cache: EmbeddingCache | None = None,
        min_score: float = 0.5,
        rule_codings: Sequence[Coding] = (),
        suggested_codings: Sequence[Coding] = (),
        nlp: Language | None = None,
        report: Callable[[str, int, int], None] | None = None,
        adapt: bool = False,
    ) -> None:
        self.embedder = embedder
        #: learn the features' embeddings from the run's model adapted to the corpus' own sentences
        #: (:mod:`themekit.nlp.adapt`); the codebook's reading stays with the model as it is
        self.adapt = adapt
        #: what run.json says of the adapted model (None: not adapted)
        self.adapted: dict[str, Any] | None = None
        #: called with ("classifier", 1, codes) as each code's model is trained (progress bars)
        self.report_progress = report
        self.nlp = nlp
        self.rule_codings = rule_codings
        #: the other methods' codings (rules, semantic similarity): when the models learn from review decisions,
        #: which are decisions on these suggestions, a model decides only on the suggestions of its code
        self.suggested_codings = suggested_codings
        self.decision_threshold = 0.5
        #: per trained code, its decision threshold on calibrated probabilities (cross-validated, see _learn)
        self.thresholds: dict[str, float] = {}
        #: the most codes one segment keeps: as many as the coder gave nearly every segment
        self.max_codes = 0
        #: expected calibration error of the calibrated probabilities over every trained code, each held-out fold
        #: calibrated by the others (None until cross-validated)
        self.cv_ece: float | None = None
        self.human = human
        self.cache = cache
        #: fitted models of earlier runs, beside the embedding cache: an identical fit is read back, not redone
        self.fits = FitCache(cache.directory / "classifier") if cache is not None else None
        self.min_score = min_score
        self.report: dict[str, Any] = {}
        #: the transcripts whose human codings the models learned from: id → sha256 of the transcript's source
        #: (None for excerpts of transcripts outside the corpus, learned from their text)
        self.trained_on: dict[str, str | None] = {}
        #: the human codings' rows left out of training (each with its row number in the file and why), and rows
        #: learned from whose text does not match the span they locate
        self.skipped: list[str] = []
        #: per code the coder gave too rarely to learn, the most segments the other methods may give it
        self.limits: dict[str, int] = {}
        #: the semantic probabilities' refit for those codes (see ``REFIT_MIN_CODINGS``): what it learned from
        self.semantic_refit: dict[str, Any] = {}

    def _embed(self, texts: list[str]) -> np.ndarray:
        return embed_texts(texts, self.embedder, self.cache)

    @property
    def trained_codes(self) -> list[str]:
        """The codes that got a model in the last :meth:`code` call."""
        return [code_id for code_id, entry in self.report.items() if entry.get("trained")]

    def _dense(self, segments: list, embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Per segment: its embedding, its turn's mean embedding, and half its question's embedding (by ``embed``)."""
        vectors = embed([s.text for s in segments])
        asked = question_vectors(segments, embed, vectors.shape[1])
        return np.hstack([vectors, turn_vectors(segments, vectors), QUESTION_WEIGHT * asked])

    def _rule_matches(self, segments: list, codebook: Codebook) -> np.ndarray:
        """Per segment and code, 1 where the rules gave the code (not negated)."""
        column = {c.id: k for k, c in enumerate(codebook)}
        row = {(s.transcript.id, s.index): i for i, s in enumerate(segments)}
        matches = np.zeros((len(segments), len(column)), dtype=np.float32)
        for coding in self.rule_codings:
            i = row.get((coding.segment.transcript.id, coding.segment.index))
            if i is not None and coding.code_id in column and not coding.negated:
                matches[i, column[coding.code_id]] = 1.0
        return matches

    def code(self, segmentation: Segmentation, codebook: Codebook) -> Coded:
        """A model per code with enough human codings; each codes the corpus. Its decision on those codes is final."""
        codings = self._codings(segmentation, codebook)
        stats: dict[str, Any] = {"embedding_cache": self.cache.stats()} if self.cache is not None else {}
        stats["classifier"] = self.report
        stats["classifier_threshold"] = self.decision_threshold
        if self.trained_codes:
            stats["classifier_max_codes"] = self.max_codes
            stats["classifier_cv_ece"] = self.cv_ece
            # the weight of the codebook's reading beside each cross-validated model in its code's ranking
            stats["classifier_prior_weight"] = PRIOR_WEIGHT
        stats["classifier_trained_on"] = self.trained_on if self.trained_codes else {}
        if self.adapted is not None:
            stats["classifier_encoder"] = self.adapted
        if self.trained_codes and self.suggestions_only:
            stats["classifier_scope"] = "suggestions: learned from review decisions, it decides on suggested codes only"
        if self.skipped:
            stats["classifier_skipped"] = self.skipped
        if self.fits is not None:
            stats["classifier_fit_cache"] = self.fits.stats()
        intercepts: dict[str, float] = {}
        if self.semantic_refit:
            stats["semantic_probability_refit"] = self.semantic_refit
            intercepts = dict.fromkeys(self.limits, self.semantic_refit["intercept"])
        return Coded(
            codings, stats, final_codes=frozenset(self.trained_codes), limits=self.limits,
            semantic_intercepts=intercepts,
        )  # fmt: skip

    def _codings(self, segmentation: Segmentation, codebook: Codebook) -> list[Coding]:
        """Learn a model per code from the human codings, then code every segment with it."""
        segments = segmentation.segments
        if not segments:
            return []
        examples = self._examples(segments, codebook)
        if not examples.texts and self.skipped:  # rows, and none placed: a file for other interviews, or misread
            from themekit.errors import GoldError

            reason = f"none of its {len(self.skipped)} rows could be placed"
            raise GoldError(self.human.source, [f"nothing to learn from: {reason}", *self.skipped])
        sha = {s.transcript.id: s.transcript.sha256 for s in segments}
        self.trained_on = {t: sha.get(t) for t in sorted(set(examples.groups))}
        if not examples.texts:
            return []
        adapted = self._adapt(segmentation) if self.adapt else None
        data = self._features(segmentation, codebook, examples, embed=adapted)
        learned = self._learn(codebook, data, examples)
        if adapted is not None:
            data, learned = self._adapted_or_not(segmentation, codebook, examples, data, learned)
        self.limits = self._rate_limits(codebook, examples, len(segments))
        self.semantic_refit = self._semantic_refit(segments, examples)
        return self._code_with(learned, segments, data)

    def _semantic_refit(self, segments: list, examples: _Examples) -> dict[str, Any]:
        """How often the coder gave the semantic codings of the codes in ``limits`` on the segments they coded, and
        the intercept that moves those codes' semantic probabilities to that rate ({} with fewer than
        ``REFIT_MIN_CODINGS`` such codings). Similarity's general map was fitted on one study's codebook; a codebook
        of many fine-grained codes has fewer of its codings right at the same similarity."""
        if not self.limits:
            return {}
        position = {(segments[row].transcript.id, segments[row].index): k for k, row in enumerate(examples.covered)}
        scores: list[float] = []
        given: list[bool] = []
        for c in self.suggested_codings:
            k = position.get((c.segment.transcript.id, c.segment.index))
            if c.method == "semantic" and c.code_id in self.limits and not c.negated and k is not None:
                scores.append(c.score)
                given.append(c.code_id in examples.labels[k])
        if len(scores) < REFIT_MIN_CODINGS:
            return {}
        return {
            "codings": len(scores),
            "coder_gave": int(sum(given)),
            "intercept": fitted_intercept(np.array(scores), np.array(given)),
            "instead_of": PROBABILITY_MAP[1],
        }

    def _rate_limits(self, codebook: Codebook, examples: _Examples, segments: int) -> dict[str, int]:
        """Per code without a model, the most of the corpus' ``segments`` the other methods may give it: its
        share at the coder's rate (add-one smoothed), when the coder read whole transcripts of ``RATE_MIN_SEGMENTS``
        segments or more. Review decisions are decisions on suggestions and say no rate: no limits then."""
        n = len(examples.labels)
        if not self.human.whole_transcripts or self.suggestions_only or n < RATE_MIN_SEGMENTS:
            return {}
        limits: dict[str, int] = {}
        for code in codebook:
            entry = self.report.get(code.id, {})
            if entry.get("trained"):
                continue
            rate = (entry.get("positives", 0) + 1) / (n + 2)
            limits[code.id] = math.ceil(rate * segments)
            entry["at_most"] = limits[code.id]
        return limits

    def _adapted_or_not(
        self, segmentation: Segmentation, codebook: Codebook, examples: _Examples, data: _Features, learned: list
    ) -> tuple[_Features, list]:
        """The models learned from the adapted encoder's features, unless the model as it is ranks the coder's
        excerpts better in the same cross-validation (mean average precision over the cross-validated codes): then
        the models learned from its features. Both figures go to run.json."""
        assert self.adapted is not None
        kept = (dict(self.report), self.thresholds, self.max_codes, self.decision_threshold, self.cv_ece)
        # the same features but the embeddings, the codebook's reading of the corpus taken as it was
        frozen_data = self._features(segmentation, codebook, examples, reading=data.prior_corpus)
        progress, self.report_progress = self.report_progress, None  # the comparison shows no second bar
        try:
            frozen = self._learn(codebook, frozen_data, examples)
        finally:
            self.report_progress = progress
        scores = {"adapted": _held_out_ap(learned, examples), "as it is": _held_out_ap(frozen, examples)}
        self.adapted["cv_average_precision"] = {k: None if v is None else round(v, 4) for k, v in scores.items()}
        if scores["adapted"] is not None and scores["as it is"] is not None and scores["adapted"] < scores["as it is"]:
            self.adapted["used"] = False
            return frozen_data, frozen  # its _learn ran last: thresholds and report are the frozen models'
        self.adapted["used"] = True
        self.report, self.thresholds, self.max_codes, self.decision_threshold, self.cv_ece = kept
        return data, learned

    def _examples(self, segments: list, codebook: Codebook) -> _Examples:
        """The training excerpts: segments of the corpus the human codings cover, then excerpts of other
        transcripts learned from their ``text``; with their transcripts (the folds' groups) and codes. Rows that
        cannot be placed are left out and listed in ``skipped``, as ``evaluate`` leaves them out of its scores."""
        import pandas as pd

        frame = pd.DataFrame(
            [(s.transcript.id, s.index, s.start, s.end, s.text) for s in segments],
            columns=["transcript", "segment", "start", "end", "text"],
        )
        codes = self.human.code_names(codebook)
        ids = set(frame["transcript"])
        transcripts = {s.transcript.id: s.transcript for s in segments}
        turns = pd.DataFrame(
            [(t.id, turn.role, turn.start, turn.end) for t in transcripts.values() for turn in t.turns],
            columns=["transcript", "role", "start", "end"],
        )  # as evaluate reads them: spans trimmed to participant speech, interviewer speech left out
        mapped = map_gold(
            self.human.source, frame, codes, frame=self.human.placeable(ids, progress=self.report_progress), turns=turns,
            transcripts=transcripts, progress=self.report_progress,
        )  # fmt: skip
        gold = mapped.codings
        row_of = {(t, i): n for n, (t, i) in enumerate(zip(frame["transcript"], frame["segment"]))}
        covered = sorted({row_of[(t, s)] for t, s in zip(gold["transcript"], gold["segment"])})
        if self.human.whole_transcripts:  # the coder read these transcripts whole: their uncoded segments hold no code
            named = set(gold["transcript"])
            covered = [n for n, t in enumerate(frame["transcript"]) if t in named]
        examples = _Examples(
            covered=covered,
            texts=[segments[i].text for i in covered],
            groups=[frame["transcript"].iat[i] for i in covered],
            labels=[set() for _ in covered],
        )
        position = {row: k for k, row in enumerate(covered)}
        for t, s, c in gold.itertuples(index=False):
            if c:
                examples.labels[position[row_of[(t, s)]]].add(c)
        outside, left_out = _outside_rows(self.human.placeable(ids, keep=False), codes)
        for text, transcript, label in outside:
            examples.texts.append(text)
            examples.groups.append(transcript)
            examples.labels.append(label)
        self.skipped = _by_row([*mapped.skipped, *left_out])
        return examples

    def _features(
        self, segmentation: Segmentation, codebook: Codebook, examples: _Examples, *,
        embed: Callable[[list[str]], np.ndarray] | None = None, reading: np.ndarray | None = None,
    ) -> _Features:  # fmt: skip
        """TF-IDF n-grams beside the embeddings (by ``embed``, default the run's model), context and rule
        matches, and the codebook's reading of each segment that the models' rankings add to theirs (``reading``:
        as read before, else read now): for the corpus and the training excerpts."""
        from scipy.sparse import csr_matrix, hstack
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

        segments = segmentation.segments
        texts_all = [s.text for s in segments]
        covered = examples.covered
        tfidf = TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, sublinear_tf=True, preprocessor=_without_filler,
            stop_words=sorted(ENGLISH_STOP_WORDS | FILLER), token_pattern=r"(?u)\b[^\W\d_]{2,}\b",
        )  # fmt: skip
        tfidf.fit(texts_all + examples.texts[len(covered) :])
        words = tfidf.transform(texts_all)
        embed = embed or self._embed
        distinct = (
            reading
            if reading is not None
            else SemanticCoder(self.embedder, cache=self.cache, nlp=self.nlp).distinctiveness(segmentation, codebook)
        )
        dense = np.hstack([self._dense(segments, embed), self._rule_matches(segments, codebook)])
        outside_dense = dense[:0]
        if len(examples.texts) > len(covered):
            outside = embed(examples.texts[len(covered) :])
            outside_dense = np.hstack(
                [outside, outside, np.zeros_like(outside), np.zeros((len(outside), len(codebook)), np.float32)]
            )
        train_words = tfidf.transform(examples.texts) if examples.texts else words[:0]
        return _Features(
            vocabulary=np.array(tfidf.get_feature_names_out()),
            words=words,
            corpus=hstack([words, csr_matrix(dense)]).tocsr(),
            train=hstack([train_words, csr_matrix(np.vstack([dense[covered], outside_dense]))]).tocsr(),
            prior_corpus=distinct,
            # excerpts learned from their text are not in the corpus: the corpus mean (0) stands in for their reading
            prior_train=np.vstack([distinct[covered], np.zeros((len(examples.texts) - len(covered), len(codebook)))]),
        )

    def _adapt(self, segmentation: Segmentation) -> Callable[[list[str]], np.ndarray] | None:
        """What embeds the features with the run's model adapted to the corpus' sentences (trained, or read back
        from the cache folder), recorded in ``adapted``; ``None`` (and why, in ``adapted``) for the TF-IDF fallback,
        which is fitted on the corpus already, or a corpus of too few sentences."""
        from themekit.nlp.adapt import adapted_embedder, training_sentences
        from themekit.nlp.embed import EmbeddingCache, SentenceTransformerEmbedder

        base = getattr(self.embedder, "wrapped", self.embedder)
        if not isinstance(base, SentenceTransformerEmbedder):
            self.adapted = {"skipped": f"{self.embedder.identity} is not a sentence-transformers model"}
            return None
        segments = segmentation.segments
        if segmentation.unit == "sentence":
            sentences = [s.text for s in segments]
        else:
            transcripts = {s.transcript.id: s.transcript for s in segments}
            sentences = [
                text[start:end]
                for (tid, turn), spans in turn_sentences(segments, segmentation, self.nlp).items()
                for text in [transcripts[tid].turn_text(transcripts[tid].turns[turn])]
                for start, end in spans
            ]
        if len(training_sentences(sentences)) < MIN_ADAPT_SENTENCES:
            self.adapted = {"skipped": f"fewer than {MIN_ADAPT_SENTENCES} distinct sentences to adapt the model to"}
            return None
        directory = self.cache.directory if self.cache is not None else None
        adapted = adapted_embedder(base, sentences, directory, progress=self.report_progress)
        cache = EmbeddingCache(directory, adapted.embedder.identity) if directory is not None else None
        self.adapted = adapted.record()
        return lambda texts: embed_texts(texts, adapted.embedder, cache)

    def corpus_features(self, segmentation: Segmentation, codebook: Codebook) -> CorpusFeatures:
        """Every feature of the corpus' segments (embeddings through the cache), to learn from again and again
        with :meth:`fit_corpus` as human codings grow, without embedding the corpus again. With ``adapt``, the
        embeddings come from the adapted encoder (no fallback: the decisions to learn from come later)."""
        embed = self._adapt(segmentation) if self.adapt else None
        return CorpusFeatures(
            segmentation, self._features(segmentation, codebook, _Examples([], [], [], []), embed=embed)
        )

    def fit_corpus(self, features: CorpusFeatures, codebook: Codebook) -> SegmentFit:
        """Learn from the human codings of the corpus' own segments (rows about other transcripts are left out)
        and give each code's probabilities for every segment, with the cross-validated figures.

        As :meth:`code` learns, except the folds: grouped by transcript when the codings cover two transcripts
        or more, else by segment, so a first interview's decisions are cross-validated too."""
        segments = features.segmentation.segments
        self.report = {}
        self.skipped = []
        examples = self._examples(segments, codebook) if segments else _Examples([], [], [], [])
        n = len(examples.covered)
        groups = examples.groups[:n] if len(set(examples.groups[:n])) >= 2 else [str(row) for row in examples.covered]
        examples = _Examples(examples.covered, examples.texts[:n], groups, examples.labels[:n])
        if not n:
            return SegmentFit(
                0.5, {}, {c.id: {"positives": 0, "negatives": 0, "trained": False} for c in codebook}, {}, [],
                list(self.skipped),
            )  # fmt: skip
        data = replace(
            features.data, train=features.data.corpus[examples.covered],
            prior_train=features.data.prior_corpus[examples.covered],
        )  # fmt: skip
        self.fits = None  # decisions grow between fits: keeping each set's models on disk would only fill it
        learned = self._learn(codebook, data, examples)
        held_out = {
            code.id: (
                np.array([code.id in label for label in examples.labels], dtype=int),
                fit.predicted if fit.calibration is None else fit.calibration(fit.predicted),
            )
            for code, fit in learned
            if fit.predicted is not None
        }
        probabilities = {code.id: fit.probability() for code, fit in learned}
        return SegmentFit(
            self.decision_threshold, probabilities, self.report, held_out, list(examples.covered), list(self.skipped)
        )

    def _learn(self, codebook: Codebook, data: _Features, examples: _Examples) -> list[tuple[Any, _Learned]]:
        """A model per learnable code, cross-validated by transcript where the data allow, all codes side by side on
        the machine's cores; sets the report and the one decision threshold the cross-validated probabilities favour."""
        from joblib import Parallel, cpu_count, delayed
        from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

        groups = np.array(examples.groups)
        jobs: list[tuple[Any, np.ndarray, list]] = []
        column = {c.id: k for k, c in enumerate(codebook)}
        for code in codebook:
            y = np.array([code.id in label for label in examples.labels], dtype=int)
            entry: dict[str, Any] = {"positives": int(y.sum()), "negatives": int(len(y) - y.sum())}
            self.report[code.id] = entry
            if y.sum() < MIN_POSITIVES or (len(y) - y.sum()) < MIN_POSITIVES:
                entry["trained"] = False
                entry["reason"] = f"needs at least {MIN_POSITIVES} positive and {MIN_POSITIVES} negative human codings"
                continue
            folds = min(CV_FOLDS, int(y.sum()), len(set(groups[y == 1])))
            splits = (
                list(StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=0).split(data.train, y, groups))
                if folds >= 2
                else []
            )
            if not _trainable(splits, y):
                # the coder gave the code in one transcript only (or the folds cannot train): cross-validated by
                # segment, so the code still gets its calibration, its threshold and the codebook's say; uncalibrated,
                # a balanced model gave such codes to many times the segments the coder gives them
                splits = list(
                    StratifiedKFold(n_splits=min(CV_FOLDS, int(y.sum())), shuffle=True, random_state=0).split(
                        data.train, y
                    )
                )
                entry["cv_by"] = "segment"
            if not _trainable(splits, y):
                splits = []
            jobs.append((code, y, splits))
        n_words = data.words.shape[1]
        keys = self._fit_keys(data, jobs)
        learned: list[_Learned | None] = [self._cached_fit(key) for key in keys]
        todo = [k for k, fit in enumerate(learned) if fit is None]
        if self.report_progress is not None and len(todo) < len(jobs):
            self.report_progress("classifier", len(jobs) - len(todo), len(jobs))
        fits = Parallel(n_jobs=min(len(todo), cpu_count()) or 1, prefer="threads", return_as="generator")(
            delayed(_fit)(
                data.train,
                jobs[k][1],
                jobs[k][2],
                data.corpus,
                n_words,
                data.prior_train[:, column[jobs[k][0].id]],
                data.prior_corpus[:, column[jobs[k][0].id]],
            )
            for k in todo
        )
        for k, fit in zip(todo, fits):
            learned[k] = fit
            if self.fits is not None:
                self.fits.put(
                    keys[k], {"predicted": fit.predicted, "proba": fit.proba, "word_weights": fit.word_weights}
                )
            if self.report_progress is not None:
                self.report_progress("classifier", 1, len(jobs))
        for code, _, splits in jobs:
            self.report[code.id]["trained"] = True
            if splits:
                self.report[code.id]["cv_folds"] = len(splits)
        self._calibrate_codes(jobs, learned, examples)
        return [(code, fit) for (code, _, _), fit in zip(jobs, learned)]

    def _calibrate_codes(self, jobs: list[tuple[Any, np.ndarray, list]], learned: list, examples: _Examples) -> None:
        """Calibrate each cross-validated code's probabilities to its coder (Platt scaling on the held-out
        probabilities), choose its threshold and the most codes a segment keeps, and report them with each code's
        cross-validated figures and calibration error."""
        from sklearn.metrics import precision_recall_fscore_support

        calibrations = {
            code.id: Calibration.fit(y, fit.predicted)
            for (code, y, _), fit in zip(jobs, learned)
            if fit.predicted is not None
        }
        held = {  # each cross-validated code's held-out probabilities, calibrated
            code.id: calibrations[code.id](fit.predicted)
            for (code, _, _), fit in zip(jobs, learned)
            if code.id in calibrations
        }
        self.decision_threshold = _decision_threshold([(y, held[code.id]) for code, y, _ in jobs if code.id in held])
        self.max_codes = _max_codes(examples.labels)
        self.thresholds = {}
        honest: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for (code, y, splits), fit in zip(jobs, learned):
            if code.id not in held:
                self.thresholds[code.id] = self.decision_threshold
                continue
            fit.calibration = calibrations[code.id]
            honest[code.id] = (y, _cross_fitted(y, fit.predicted, splits))
            threshold = self.thresholds[code.id] = _code_threshold(y, held[code.id])
            p, r, f, _ = precision_recall_fscore_support(
                y, held[code.id] >= threshold, average="binary", zero_division=0
            )
            self.report[code.id].update(
                cv_precision=round(float(p), 4),
                cv_recall=round(float(r), 4),
                cv_f1=round(float(f), 4),
                threshold=threshold,
                cv_ece=round(expected_calibration_error(*honest[code.id]), 4),
                calibration=fit.calibration.describe(),
            )
        self.cv_ece = (
            round(expected_calibration_error(*map(np.concatenate, zip(*honest.values()))), 4) if honest else None
        )

    def _fit_keys(self, data: _Features, jobs: list[tuple[Any, np.ndarray, list]]) -> list[str]:
        """Each job's key in the fit cache: its features, labels, splits, the model's settings and scikit-learn's version."""
        if self.fits is None:
            return ["" for _ in jobs]
        import sklearn

        common = digest_arrays([data.train, data.corpus, data.words.shape[1], repr(sorted(_model().get_params().items())),
                                sklearn.__version__, data.prior_train, data.prior_corpus, PRIOR_WEIGHT])  # fmt: skip
        return [digest_arrays([common, y, *(part for split in splits for part in split)]) for _, y, splits in jobs]

    def _cached_fit(self, key: str) -> _Learned | None:
        stored = self.fits.get(key) if self.fits is not None else None
        if stored is None:
            return None
        return _Learned(stored["predicted"], stored["proba"], stored["word_weights"])  # type: ignore[arg-type]

    def _code_with(self, learned: list[tuple[Any, _Learned]], segments: list, data: _Features) -> list[Coding]:
        """Each model codes the corpus with its code's threshold, and a segment keeps at most as many codes as the
        coder gave such segments (:func:`_max_codes`), its most probable ones; its telling words are the evidence."""
        codings: list[Coding] = []
        probabilities = {code.id: fit.probability() for code, fit in learned}
        given = {
            code.id: _calibrate(probabilities[code.id], self.thresholds.get(code.id, self.decision_threshold))
            >= self.min_score
            for code, _ in learned
        }
        if self.suggestions_only:
            given = self._only_suggested(given, segments)
        kept = _most_probable(given, probabilities, self.max_codes)
        for code, fit in learned:
            proba = probabilities[code.id]
            scores = _calibrate(proba, self.thresholds.get(code.id, self.decision_threshold))
            for i in np.flatnonzero(kept[code.id]):
                row = data.words[i]
                contributions = row.data * fit.word_weights[row.indices]
                ranked = [row.indices[j] for j in np.argsort(-contributions) if contributions[j] > 0]
                top = [data.vocabulary[k] for k in ranked[:3]]
                terms = ", ".join(f"'{t}'" for t in top) if top else "(meaning only, no telling words)"
                codings.append(
                    Coding(
                        segment=segments[i],
                        code_id=code.id,
                        theme_id=code.theme_id,
                        method="classifier",
                        score=round(float(scores[i]), 4),
                        evidence=f"top features: {terms}; p={proba[i]:.2f}",
                        probability=round(float(proba[i]), 4),
                    )
                )
        return codings

    @property
    def suggestions_only(self) -> bool:
        """Whether the models decide only on other methods' suggestions: they learned from review decisions (not
        from a coder who read whole transcripts) and another method suggested codes."""
        return not self.human.whole_transcripts and bool(self.suggested_codings)

    def _only_suggested(self, given: dict[str, np.ndarray], segments: list) -> dict[str, np.ndarray]:
        """``given`` kept to the segments another method suggested each code for. Review decisions are decisions
        on suggestions, so a model learned from them has seen suggested segments only: let loose on every segment,
        a code learned from a few accepted suggestions (its negatives the segments decided for other codes) is
        given to a large part of the corpus."""
        row = {(s.transcript.id, s.index): i for i, s in enumerate(segments)}
        suggested = {code_id: np.zeros(len(segments), dtype=bool) for code_id in given}
        for coding in self.suggested_codings:
            i = row.get((coding.segment.transcript.id, coding.segment.index))
            if i is not None and coding.code_id in suggested:
                suggested[coding.code_id][i] = True
        return {code_id: mask & suggested[code_id] for code_id, mask in given.items()}


@dataclass
class _Learned:
    """What one code's model gave: cross-validated probabilities of the training excerpts (``None`` when not
    cross-validated), probabilities of the corpus' segments, and the weights of the word features."""

    predicted: np.ndarray | None
    proba: np.ndarray
    word_weights: np.ndarray
    #: maps the model's probabilities to calibrated ones (fitted on the held-out probabilities; none without them)
    calibration: Calibration | None = None

    def probability(self) -> np.ndarray:
        """The corpus' probabilities, calibrated where cross-validation allowed."""
        return self.proba if self.calibration is None else self.calibration(self.proba)


def _trainable(splits: list, y: np.ndarray) -> bool:
    """Whether ``splits`` can cross-validate: there are some, and no split's training part holds one class only."""
    return bool(splits) and all(0 < y[train].sum() < len(train) for train, _ in splits)


def _fit(
    train: Any, y: np.ndarray, splits: list, corpus: Any, n_words: int, prior_train: np.ndarray,
    prior_corpus: np.ndarray,
) -> _Learned:  # fmt: skip
    """Cross-validate one code's model on ``splits`` (if any), then learn from every excerpt and code the corpus;
    a cross-validated code's probabilities are then ranked with the codebook's reading (:func:`_with_prior`)."""
    predicted = None
    if splits:
        predicted = np.empty(len(y))
        for fit_rows, test_rows in splits:
            predicted[test_rows] = _model().fit(train[fit_rows], y[fit_rows]).predict_proba(train[test_rows])[:, 1]
    model = _model().fit(train, y)
    learned = _Learned(predicted, model.predict_proba(corpus)[:, 1], model.coef_[0][:n_words].copy())
    return learned if predicted is None else _with_prior(learned, prior_train, prior_corpus)


def _with_prior(learned: _Learned, prior_train: np.ndarray, prior_corpus: np.ndarray) -> _Learned:
    """The model's log-odds in standard deviations of its held-out ones, added to the codebook's reading of the
    segment (standard deviations above the corpus mean; ``PRIOR_WEIGHT``), as scores in (0, 1) that calibration
    then maps to probabilities. One transform for held-out and corpus scores, so the calibration fitted on the
    one holds for the other. A model whose held-out scores do not vary tells nothing: the reading ranks alone."""
    from scipy.special import expit

    assert learned.predicted is not None
    held = _logit(learned.predicted)
    mean, spread = held.mean(), float(held.std())

    def blend(proba: np.ndarray, prior: np.ndarray) -> np.ndarray:
        model = (_logit(proba) - mean) / spread if spread > 1e-3 else 0.0
        return expit(model + PRIOR_WEIGHT * np.asarray(prior, dtype=float))

    return _Learned(blend(learned.predicted, prior_train), blend(learned.proba, prior_corpus), learned.word_weights)


@dataclass(frozen=True)
class CorpusFeatures:
    """The features of a corpus' segments (:meth:`ClassifierCoder.corpus_features`), computed once."""

    segmentation: Segmentation
    data: _Features


@dataclass(frozen=True)
class SegmentFit:
    """What :meth:`ClassifierCoder.fit_corpus` learned: the decision threshold; per trained code its probability
    for every segment of the corpus (segmentation order); per code the counts and cross-validated figures (as
    ``stats.classifier`` reports them); per cross-validated code the labels and held-out probabilities of the
    segments learned from (``rows``: their positions in the corpus)."""

    threshold: float
    probabilities: dict[str, np.ndarray]
    report: dict[str, dict[str, Any]]
    held_out: dict[str, tuple[np.ndarray, np.ndarray]]
    rows: list[int]
    #: the human codings' rows left out, each with its row number and why (as ``stats.classifier_skipped``)
    skipped: list[str] = field(default_factory=list)

    def scores(self, code_id: str) -> np.ndarray | None:
        """The code's probabilities calibrated so the decision threshold scores 0.5 (``None``: no model)."""
        proba = self.probabilities.get(code_id)
        return None if proba is None else _calibrate(proba, self.threshold)


@dataclass
class _Examples:
    """Training excerpts: the corpus rows covered (``covered``), then excerpts from outside the corpus."""

    covered: list[int]
    texts: list[str]
    groups: list[str]
    labels: list[set[str]]


@dataclass
class _Features:
    vocabulary: np.ndarray
    words: Any  # the corpus' TF-IDF rows (sparse)
    corpus: Any  # every feature of the corpus' segments (sparse)
    train: Any  # every feature of the training excerpts (sparse)
    #: per segment and code (codebook order), the codebook's reading: standard deviations above the corpus mean
    prior_corpus: np.ndarray
    #: the same for the training excerpts
    prior_train: np.ndarray


def _model() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, class_weight="balanced", max_iter=1000)


def _without_filler(text: str) -> str:
    """Lower-cased text without the filler phrases (filler words are dropped as stop words)."""
    return _FILLER_RE.sub(" ", text.lower())


def _decision_threshold(held_out: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """The probability cut-off with the best mean cross-validated F1 over the learned codes (0.5 when none was validated).

    One cut-off for all codes: a code's own few positives would make its own
    cut-off noise. Ties go to the cut-off nearest 0.5.
    """
    if not held_out:
        return 0.5
    return _best_cut(THRESHOLD_GRID, lambda cut: float(np.mean([_f1_at(y, p, cut) for y, p in held_out])))


def _f1_at(y: np.ndarray, p: np.ndarray, cut: float) -> float:
    """F1 of giving the code where the probability ``p`` reaches ``cut``, against the coder's ``y``."""
    given = p >= cut
    total = int(given.sum()) + int(y.sum())
    return 2 * int((given & (y == 1)).sum()) / total if total else 0.0


def _best_cut(cuts: Sequence[float], f1: Callable[[float], float]) -> float:
    """The cut-off of ``cuts`` with the best ``f1``; ties go to the one nearest 0.5."""
    best, best_f1 = cuts[0], -1.0
    for cut in sorted(cuts, key=lambda c: (abs(c - 0.5), c)):
        value = f1(cut)
        if value > best_f1 + 1e-9:
            best, best_f1 = cut, value
    return best


@dataclass(frozen=True)
class Calibration:
    """Platt scaling of one code's probabilities: ``sigmoid(a * logit(p) + b)``, fitted on its held-out
    probabilities, so that of the segments scored 0.3 about 30% are ones the coder gave the code."""

    a: float
    b: float

    @classmethod
    def fit(cls, y: np.ndarray, predicted: np.ndarray) -> Calibration:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=1.0).fit(_logit(predicted)[:, None], y)
        return cls(float(model.coef_[0][0]), float(model.intercept_[0]))

    def __call__(self, proba: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.a * _logit(proba) + self.b)))

    def describe(self) -> dict[str, float]:
        return {"a": round(self.a, 4), "b": round(self.b, 4)}


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """The mean gap between predicted probability and observed share, over ``bins`` equal-width bins weighted by
    how many predictions fall in each."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if not len(y):
        return 0.0
    which = np.minimum((p * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += inside.sum() * abs(p[inside].mean() - y[inside].mean())
    return float(gap / len(y))


def _held_out_ap(learned: list[tuple[Any, _Learned]], examples: _Examples) -> float | None:
    """The mean average precision of the cross-validated codes' held-out probabilities (``None``: none was
    cross-validated): how well the models rank the coder's excerpts before any threshold."""
    from sklearn.metrics import average_precision_score

    values = [
        average_precision_score([code.id in label for label in examples.labels], fit.predicted)
        for code, fit in learned
        if fit.predicted is not None
    ]
    return float(np.mean(values)) if values else None


def _cross_fitted(y: np.ndarray, predicted: np.ndarray, splits: list) -> np.ndarray:
    """The held-out probabilities, each fold's calibrated by a calibration fitted on the other folds only: what
    the calibration's reliability is measured on (fitted and measured on the same rows, it would flatter)."""
    out = np.empty(len(y))
    for _, rows in splits:
        rest = np.setdiff1d(np.arange(len(y)), rows)
        if 0 < y[rest].sum() < len(rest):
            out[rows] = Calibration.fit(y[rest], predicted[rest])(predicted[rows])
        else:
            out[rows] = predicted[rows]
    return out


def _code_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """A code's threshold on its calibrated held-out probabilities: the cut-off that gives it as many held-out
    segments as the coder gave it, so the code is given about as often as the coder gives it (its prevalence).
    Kept within 0.01-0.99, where the scores' mapping (0.5 at the threshold) holds."""
    positives = int(y.sum())
    cut = float(np.sort(p)[-positives]) if positives else 1.0
    return min(max(float(np.floor(cut * 1e4) / 1e4), 0.01), 0.99)  # rounded down: the cut-off's own segment stays in


def _max_codes(labels: Sequence[set[str]]) -> int:
    """The most codes a segment keeps: the number of codes the coder gave ``CARDINALITY_QUANTILE`` of the segments
    they gave any code (at least 1), so no segment is coded more densely than the coder codes."""
    counts = sorted(len(label) for label in labels if label)
    if not counts:
        return 1
    return max(1, counts[min(len(counts) - 1, int(np.ceil(CARDINALITY_QUANTILE * len(counts))) - 1)])


def _most_probable(
    given: dict[str, np.ndarray], probabilities: dict[str, np.ndarray], most: int
) -> dict[str, np.ndarray]:
    """``given`` with each segment left with at most ``most`` codes, those of highest probability."""
    if not given:
        return given
    ids = list(given)
    chosen = np.stack([given[c] for c in ids], axis=1)
    proba = np.stack([probabilities[c] for c in ids], axis=1)
    keep = chosen & top_per_row(np.where(chosen, proba, -np.inf), most)
    return {c: keep[:, k] for k, c in enumerate(ids)}


def _calibrate(proba: np.ndarray, cut: float) -> np.ndarray:
    """Map probabilities so the decision cut-off scores 0.5, linearly on each side (0 → 0, 1 → 1)."""
    return np.where(proba < cut, 0.5 * proba / cut, 0.5 + 0.5 * (proba - cut) / (1.0 - cut))


def _outside_rows(
    rows: pd.DataFrame | Iterable[pd.DataFrame], codes: CodeNames
) -> tuple[list[tuple[str, str, set[str]]], list[str]]:
    """(text, transcript, codes) per excerpt of transcripts outside the corpus (the rows about them, in one table or
    a chunk at a time), and the rows left out and why."""
    import pandas as pd

    chunks = [rows] if isinstance(rows, pd.DataFrame) else rows
    problems: list[str] = []
    grouped: dict[tuple[str, str], set[str]] = {}
    for chunk in chunks:
        if chunk.empty:
            continue
        columns = {c.strip().casefold(): c for c in chunk.columns}
        text_col, code_col, t_col = columns.get("text"), columns.get("code"), columns.get("transcript")
        if text_col is None:
            problems.extend(
                f"row {row}: transcript '{tid}' is not in the corpus being coded, and the file has no 'text' column "
                "to learn from; add the excerpt's text, or code that transcript too"
                for row, tid in zip(chunk["_row"], chunk[t_col])
            )
            continue
        for row, tid, text, code in zip(
            chunk["_row"], chunk[t_col], chunk[text_col], chunk[code_col] if code_col else [""] * len(chunk)
        ):
            text, code = " ".join(str(text).split()), str(code).strip()
            if not text:
                problems.append(
                    f"row {row}: transcript '{tid}' is not in the corpus being coded, and the row has no text"
                )
                continue
            if code and codes.resolve(code) is None:
                problems.append(f"row {row}: {codes.unknown(code)}")
                continue
            code = codes.resolve(code) or ""
            label = grouped.setdefault((str(tid).strip(), text), set())
            if code:
                label.add(code)
    return [(text, tid, label) for (tid, text), label in grouped.items()], problems


def _by_row(problems: list[str]) -> list[str]:
    """Problems in the order of their rows in the file ("row 12: …" before "row 103: …")."""
    number = re.compile(r"row (\d+):")
    return sorted(problems, key=lambda p: int(m.group(1)) if (m := number.match(p)) else 0)
