"""What a run produced: the corpus, the codebook, every segment and coding, and how they were made.

:class:`RunRecord` is plain data with its two tables (``excerpts``, ``segments``).
The pipeline makes one, the run folder stores and reads one; the notebook
conveniences (``run.matrix()``, ``run.quotes()``, ``run.save()``, …) belong to
:class:`themekit.Run`, which adds them on top (``themekit/api.py``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from themekit._version import __version__
from themekit.codebook import Codebook
from themekit.models import (
    STATUSES,
    Coding,
    Corpus,
    Segment,
    categorical,
    role_categories,
)
from themekit.util.clock import clock

if TYPE_CHECKING:
    import pandas as pd

    from themekit.config.options import CodingOptions

__all__ = [
    "EXCERPT_COLUMNS",
    "SEGMENT_COLUMNS",
    "CacheStats",
    "DecisionStats",
    "EmbeddingInfo",
    "GoldSource",
    "RunRecord",
    "RunRecorder",
    "RunSettings",
    "RunStats",
    "content_settings",
    "excerpts_frame",
    "run_embedding_model",
    "run_settings",
    "segments_frame",
]

#: Columns of ``RunRecord.excerpts`` and ``excerpts.csv``, in order.
EXCERPT_COLUMNS = (
    "run_id",
    "transcript",
    "participant",
    "speaker",
    "role",
    "turn",
    "segment",
    "start",
    "end",
    "source_start",
    "source_end",
    "time",
    "seconds",
    "text",
    "theme",
    "code",
    "code_label",
    "method",
    "score",
    "probability",
    "evidence",
    "negated",
    "status",
    "codebook_version",
    "codebook_sha256",
)
#: Columns of ``RunRecord.segments`` and ``segments.parquet``, in order.
SEGMENT_COLUMNS = ("transcript", "segment", "turn", "speaker", "role", "start", "end", "timestamp", "text")


class GoldSource(TypedDict):
    """Where the classifier's human codings came from: a file path, or "project decisions"."""

    path: str
    sha256: str


class EmbeddingInfo(TypedDict, total=False):
    """The embedding model: its identity (weights hash), a description, and its folder (a sentence-embedding
    model's; not hashed into the run id)."""

    identity: str
    model: str
    path: str


class RunSettings(TypedDict, total=False):
    """What decides a run's codings, as run.json records them and the run id hashes them."""

    unit: str
    min_words: int
    methods: list[str]
    min_score: float
    spacy_model: str
    spacy_version: str
    #: the labels given, sorted, or "default"
    interviewer_labels: list[str] | str
    code_interviewer: bool
    strict: bool
    #: a table transcript's speech and speaker columns, when named (text_column=, speaker_column=)
    table_columns: dict[str, str | None]
    gold: GoldSource
    #: how many human decisions the project held, and a hash of their ids
    decisions: dict[str, Any]
    embedding: EmbeddingInfo
    #: the classifier learns its features from the embedding model adapted to the corpus (recorded when asked)
    adapt_encoder: bool


class CacheStats(TypedDict):
    """The embedding cache's file and its look-ups, summed over every method that embeds."""

    path: str
    hits: int
    misses: int


class DecisionStats(TypedDict):
    """How the project's human decisions were applied (see :class:`themekit.store.decisions.DecisionReport`)."""

    applied: dict[str, int]
    re_anchored: int
    other_transcripts: int
    orphaned: list[str]


class RunStats(TypedDict, total=False):
    """What the coders and the project store reported, in run.json under ``stats``."""

    embedding_cache: CacheStats
    #: how many units were longer than the embedding model's window, so were embedded in chunks and pooled
    embedding_chunked: int
    #: per code, the semantic coder's similarity threshold
    semantic_thresholds: dict[str, float]
    #: how the semantic thresholds were set (corpus calibration or floor and margin)
    semantic_calibration: str
    #: the most codes the semantic coder gives one segment
    semantic_max_codes: int
    #: per code, the classifier's training counts and cross-validated figures
    classifier: dict[str, dict[str, Any]]
    classifier_threshold: float
    #: the most codes the classifier leaves a segment: as many as the training coder gave 99% of coded segments
    classifier_max_codes: int
    #: expected calibration error of the classifier's probabilities, measured by cross-validation on its training
    classifier_cv_ece: float | None
    #: the transcripts whose human codings trained the classifier: id → sha256 of its source (None: learned from text)
    classifier_trained_on: dict[str, str | None]
    #: the human codings' rows the classifier left out (unknown transcript or code, a span matching no segment…)
    #: or learned from though their text does not match their span, each as "row N: why" (N: the row in the file)
    classifier_skipped: list[str]
    #: set when the classifier learned from review decisions: it decides only on the other methods' suggestions
    classifier_scope: str
    #: fitted classifier models read back from the fit cache (``hits``) or trained (``misses``)
    classifier_fit_cache: CacheStats
    decisions: DecisionStats
    warnings: list[str]
    #: transcripts with two speakers or more where no interviewer was identified (all their speakers are coded)
    no_interviewer: list[str]


class RunRecorder(Protocol):
    """Where a saved run is recorded: the project store (:class:`themekit.store.Project`)."""

    #: the store's database file; run.json names it, so every command finds the store the run is recorded in
    path: Path

    def record_run(self, run: RunRecord, *, folder: Path | None = None) -> Any: ...


def run_settings(
    options: CodingOptions,
    *,
    methods: list[str],
    spacy_version: str,
    gold: GoldSource | None = None,
    decisions: dict[str, Any] | None = None,
    embedding: EmbeddingInfo | None = None,
) -> RunSettings:
    """The settings of a run coded with ``options`` by ``methods`` as run.json records them (and the run id hashes
    them): only what decides its codings, each recorded only when it can (a table's columns, the human codings
    learned from, the project's decisions, the embedding model), so earlier runs keep their ids."""
    ingest, segment = options.ingest, options.segment
    labels = ingest.interviewer_labels
    settings: RunSettings = {
        "unit": options.unit,
        "min_words": segment.min_words,
        "methods": methods,
        "min_score": options.coding.min_score,
        "spacy_model": segment.spacy_model,
        "spacy_version": spacy_version,
        "interviewer_labels": sorted(labels) if labels is not None else "default",
        "code_interviewer": segment.code_interviewer,
        "strict": ingest.strict,
    }
    if ingest.text_column or ingest.speaker_column or ingest.unit_column:
        settings["table_columns"] = {"text": ingest.text_column, "speaker": ingest.speaker_column}
        if ingest.unit_column:  # survey responses as units
            settings["table_columns"]["unit"] = ingest.unit_column
    if gold is not None:
        settings["gold"] = gold
    if decisions is not None:
        settings["decisions"] = decisions
    if embedding is not None:
        settings["embedding"] = embedding
    if options.embedding.adapt:  # asked for: the classifier, and evaluate --cv's folds, learn from the adapted model
        settings["adapt_encoder"] = True
    return settings


def run_embedding_model(settings: RunSettings) -> str | None:
    """The folder of the sentence-embedding model a run embedded with, where run.json records it and it is still
    there (``None``: the default model, the TF-IDF fallback, or a run written before runs recorded it)."""
    path = (settings.get("embedding") or {}).get("path")
    return path if path and Path(path).is_dir() else None


def content_settings(settings: RunSettings) -> dict[str, Any]:
    """The settings as the run id hashes them: descriptions of where files sit left out.

    ``embedding.model`` (the model's folder) and ``gold.path`` are dropped, and the embedding ``identity``
    (``kind:folder name:weights hash``) is kept as its kind and weights hash."""
    basis: dict[str, Any] = dict(settings)
    if "embedding" in settings:
        identity = settings["embedding"]["identity"]
        kind, _, rest = identity.partition(":")
        basis["embedding"] = {"identity": f"{kind}:{rest.rpartition(':')[2]}"}
    if "gold" in settings:
        basis["gold"] = {"sha256": settings["gold"]["sha256"]}
    return basis


@dataclass
class RunRecord:
    """The result of coding a corpus with a codebook."""

    corpus: Corpus
    codebook: Codebook
    units: list[Segment]
    codings: list[Coding]
    settings: RunSettings
    timings: dict[str, float] = field(default_factory=dict)
    stats: RunStats = field(default_factory=RunStats)  # type: ignore[assignment]
    #: the project store the run was coded with (``code(project=...)``); saving the run records it there
    project: RunRecorder | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, run: RunRecord) -> RunRecord:
        """This class's view of ``run``: the same data, shared, not copied."""
        if type(run) is cls:
            return run
        return cls(**{f.name: getattr(run, f.name) for f in fields(RunRecord)})

    @property
    def id(self) -> str:
        """A content hash of what the run depends on: same inputs and settings, same id.

        Only content counts: the codebook's and transcripts' hashes, the settings, and the embedding model by its
        weights hash. Where things sit on disk (the model's install folder, the gold file's path) is described in
        run.json but left out, so the same run on two machines gets the same id."""
        basis = {
            "codebook": self.codebook.sha256,
            "transcripts": sorted(t.sha256 for t in self.corpus),
            "settings": content_settings(self.settings),
            "themekit": __version__,
        }
        return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def excerpts(self) -> pd.DataFrame:
        """One row per (segment, code), columns as in :data:`EXCERPT_COLUMNS` (see :func:`excerpts_frame`)."""
        return excerpts_frame(self)

    @property
    def segments(self) -> pd.DataFrame:
        """Every coding unit of the run, coded or not: one row per segment (``units`` holds the Segment objects).

        ``transcript`` (corpus order), ``speaker`` and ``role`` are categoricals.
        """
        return segments_frame(self)

    def embedding_fallback(self) -> str | None:
        """Why semantic coding used the TF-IDF + SVD fallback instead of a sentence-embedding model (asked for, none
        installed, or the installed one could not load); ``None`` when a model coded or nothing was embedded."""
        embedding = self.settings.get("embedding") or {}
        if not str(embedding.get("identity", "")).startswith("tfidf-svd:"):
            return None
        return embedding.get("fallback") or embedding.get("model") or "TF-IDF + SVD fallback"

    def methods_that_coded(self) -> tuple[list[str], list[tuple[str, str]]]:
        """The run's methods that gave codings, and each that gave none with why, as far as the run tells (so a
        report says what ran, not what was only asked for)."""
        counts = dict.fromkeys(self.settings["methods"], 0)
        for coding in self.codings:
            for method in coding.method.split("+"):
                if method in counts:
                    counts[method] += 1
        silent = [(method, self._why_no_codings(method)) for method, n in counts.items() if not n]
        return [method for method, n in counts.items() if n], silent

    def _why_no_codings(self, method: str) -> str:
        if method == "rule" and not any(c.spec.keywords or c.spec.patterns for c in self.codebook):
            return "the codebook has no keywords or patterns (add keywords: to its codes, or use the semantic method)"
        if method == "rule":
            return "no keyword or pattern of the codebook matched a participant segment"
        if method == "classifier" and not any(e.get("trained") for e in (self.stats.get("classifier") or {}).values()):
            return (
                f"it trained models for 0 of {len(self.codebook)} codes (a code needs 5 positive and 5 negative human "
                "codings)"
            )
        if method == "classifier":
            return "no segment reached a trained code's threshold"
        return "no segment reached a code's threshold"

    def __repr__(self) -> str:
        return (
            f"Run({self.id}: {len(self.corpus)} transcripts, {len(self.units)} segments, "
            f"{len(self.codings)} codings, codebook {self.codebook.version})"
        )


def excerpts_frame(run: RunRecord) -> pd.DataFrame:
    """One row per (segment, code), columns as in :data:`EXCERPT_COLUMNS`.

    ``code`` and ``theme`` are categoricals in codebook order (every code,
    coded or not), ``transcript`` (the id: the file name) and ``participant`` (the name people read, see
    :mod:`themekit.ingest.names`) in corpus order; ``speaker`` and ``method`` the values seen, sorted; ``status``
    and ``role`` every value they can take. ``time`` is where the turn starts in the recording as ``h:mm:ss``
    text and ``seconds`` the same as a number, to sort by (both empty where the format has no times).
    """
    import pandas as pd

    run_id, version, sha = run.id, run.codebook.version, run.codebook.sha256
    labels = {c.id: c.label for c in run.codebook}
    sources = _source_spans(run)
    rows = [
        (
            run_id,
            c.segment.transcript.id,
            c.segment.transcript.participant,
            c.segment.speaker,
            c.segment.role,
            c.segment.turn_index,
            c.segment.index,
            c.segment.start,
            c.segment.end,
            *sources.get(c.segment, _NO_SOURCE),
            clock(c.segment.timestamp) or None,
            c.segment.timestamp,
            c.segment.text,
            c.theme_id,
            c.code_id,
            labels[c.code_id],
            c.method,
            c.score,
            c.probability,
            c.evidence,
            c.negated,
            c.status,
            version,
            sha,
        )
        for c in run.codings
    ]
    frame = pd.DataFrame.from_records(rows, columns=list(EXCERPT_COLUMNS))
    frame = frame.astype(
        {
            "turn": "int64",
            "segment": "int64",
            "start": "int64",
            "end": "int64",
            "source_start": "Int64",
            "source_end": "Int64",
            "seconds": "float64",
            "score": "float64",
            "probability": "float64",
            "negated": "bool",
        }
    )
    frame["code"] = categorical(frame["code"], [c.id for c in run.codebook])
    frame["theme"] = categorical(frame["theme"], [t.id for t in run.codebook.themes])
    frame["transcript"] = categorical(frame["transcript"], [t.id for t in run.corpus])
    frame["participant"] = categorical(frame["participant"], [t.participant for t in run.corpus])
    frame["speaker"] = categorical(frame["speaker"], sorted(set(frame["speaker"])))
    frame["method"] = categorical(frame["method"], sorted(set(frame["method"])))
    frame["status"] = categorical(frame["status"], STATUSES + tuple(sorted(set(frame["status"]) - set(STATUSES))))
    frame["role"] = categorical(frame["role"], role_categories(frame["role"]))
    return frame


_NO_SOURCE = (None, None)


def _source_spans(run: RunRecord) -> dict[Segment, tuple[int, int] | tuple[None, None]]:
    """Each coded segment's offsets into its source file's decoded text (``None``s where they are not known)."""
    spans: dict[Segment, tuple[int, int] | tuple[None, None]] = {}
    for c in run.codings:
        s = c.segment
        if s not in spans:
            spans[s] = s.transcript.to_source(s.start, s.end) or _NO_SOURCE
    return spans


def segments_frame(run: RunRecord) -> pd.DataFrame:
    """Every segment of ``run``: columns as in :data:`SEGMENT_COLUMNS`; ``transcript``, ``speaker``, ``role`` categoricals."""
    import pandas as pd

    rows = [
        (s.transcript.id, s.index, s.turn_index, s.speaker, s.role, s.start, s.end, s.timestamp, s.text)
        for s in run.units
    ]
    frame = pd.DataFrame.from_records(rows, columns=list(SEGMENT_COLUMNS))
    frame = frame.astype(
        {"segment": "int64", "turn": "int64", "start": "int64", "end": "int64", "timestamp": "float64"}
    )
    frame["transcript"] = categorical(frame["transcript"], [t.id for t in run.corpus])
    frame["speaker"] = categorical(frame["speaker"], sorted(set(frame["speaker"])))
    frame["role"] = categorical(frame["role"], role_categories(frame["role"]))
    return frame
