"""The coding pipeline: corpus + codebook → RunRecord (ingest → segment → code), as a short sequence of named steps.

Transcripts are read, segmented and coded by the methods that need one
transcript at a time (the rules) in batches of ``batch_size`` (default: chosen
from the corpus size) by ``engine``: ``"local"`` with ``workers`` processes
(default: one per core; 1 runs in this process; by default a corpus under
:data:`PARALLEL_MIN_BYTES` runs here), ``"dask"`` on the cluster at
``scheduler`` (default: a LocalCluster), or any
:class:`themekit.pipeline.engine.Engine`. The result is the same whichever runs it.
The other methods (embedding, the semantic coder and the classifier) then
run once in this process over the whole corpus, so the embedding cache has
one writer. Every method is a registered coder (:data:`themekit.coding.METHODS`);
nothing here knows one method from another.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from themekit.codebook import Codebook
from themekit.coding import (
    METHODS,
    Coded,
    CoderContext,
    combine,
    merge_stats,
    method_names,
    with_semantic_intercepts,
    within_limits,
)
from themekit.config import Settings, load_settings
from themekit.config.options import CodingOptions, coding_options, with_option_keywords
from themekit.errors import CorpusError, EmbeddingError, GoldFileError, OptionError
from themekit.human.gold import HumanCodings
from themekit.ingest import (
    CorpusGatherer,
    corpus_files,
    interviewer_notes,
    lacks_interviewer,
    participant_names,
)
from themekit.ingest.names import FULL_NAME_NOTE
from themekit.models import Coding, Corpus, Segment
from themekit.nlp.embed import (
    FALLBACK_MODEL,
    KNOWN_MODEL_PACKAGES,
    Embedder,
    TfidfSvdEmbedder,
    embed_texts,
    installed_model_package,
    load_embedder,
    unloadable,
)
from themekit.nlp.language import load_pipeline, uses_torch
from themekit.nlp.segment import Segmentation, group_passages, segmentation_of
from themekit.pipeline.batch import BatchJob, Outcome, batched
from themekit.pipeline.engine import Engine, SerialEngine, make_engine
from themekit.runs.record import RunRecord, RunStats, run_settings
from themekit.store import DEFAULT_PROJECT
from themekit.util.decoding import UTF8_HINT
from themekit.util.progress import ProgressCallback

if TYPE_CHECKING:
    from themekit.store import Project

__all__ = ["code", "ProgressCallback"]


@with_option_keywords
def code(
    corpus: Corpus | str | Path,
    codebook: Codebook | str | Path,
    *,
    options: CodingOptions | None = None,
    gold: HumanCodings | str | Path | None = None,
    project: Project | str | Path | None = DEFAULT_PROJECT,
    config: Settings | str | Path | None = None,
    progress: ProgressCallback | None = None,
    **option_values: Any,
) -> RunRecord:
    """Code every participant segment of ``corpus`` with ``codebook``.

    How is set by ``options`` (a :class:`themekit.config.options.CodingOptions`) or by its options by name, which
    change it: ``code(corpus, codebook, unit="turn", methods="rule")``. Every value is checked before any work.

    ``corpus`` and ``codebook`` may be paths (a transcript folder, a YAML file); ``text_column`` and
    ``speaker_column`` name a table transcript's speech and speaker columns (default: found by name).
    ``unit_column``: ``corpus`` is one table of survey responses, a unit per row (:mod:`themekit.ingest.survey`).
    ``methods`` chooses coders (default: all: rule, semantic); the semantic
    coder embeds with ``embedding_model`` (a model folder or an installed
    package; default: the first known installed package, else a TF-IDF + SVD
    fallback), caching vectors under ``cache_dir`` (``None``: no cache).
    Codings scoring below ``min_score`` (0-1, calibrated per method so 0.5 is
    each method's own threshold) are dropped. ``gold`` is a file of human
    codings the classifier learns from; when the transcript folder (``corpus``,
    or the folder a Corpus was read from) holds a ``gold.csv`` and no ``gold``
    is given, that file is used.
    ``config`` is a :class:`themekit.config.Settings` or the path of a
    settings file (default: ``themekit.yaml`` in the working folder, if any);
    its embedding model and weights hash apply where ``embedding_model`` and
    ``embedding_sha256`` are not given (and its table columns where ``text_column``/``speaker_column`` are not).
    With ``strict=True`` any transcript that could not be read fails the run;
    otherwise it is listed in the run's failures and the rest are coded.

    ``project`` (a :class:`themekit.store.Project` or the path of its
    database; default: found as git finds its repository, see :func:`themekit.store.find_project`;
    ``None``: no project) applies the human decisions stored there — accepted codings
    stay, rejected ones never come back, human codings are kept; decisions on
    text that changed are reported as orphaned in ``run.stats["decisions"]`` —
    and, when no ``gold`` is given, trains the classifier on them. Saving the run records it in the project.

    ``batch_size``, ``engine``, ``workers`` and ``scheduler`` say where the batches run (see the module's
    documentation); the result is the same whichever runs them.
    """
    options = coding_options(options, **option_values)
    gold = _gold_file(gold, corpus)
    config = config if isinstance(config, Settings) else load_settings(config)
    options = options.with_settings(config)
    ingest, segment, execution = options.ingest, options.segment, options.execution
    if ingest.unit_column is not None:
        corpus = _responses(corpus, ingest.unit_column, ingest.text_column, ingest.max_file_bytes)
    if not isinstance(codebook, Codebook):
        codebook = Codebook.load(codebook)
    decided = _project_decisions(project, codebook, corpus)
    names = method_names(
        options.coding.methods, have_gold=gold is not None or (decided is not None and decided.human is not None)
    )
    human = _human_codings(gold, decided, progress) if any(METHODS[name].needs_human for name in names) else None
    timings: dict[str, float] = {}
    started = time.perf_counter()
    nlp = load_pipeline(segment.spacy_model)
    timings["load_pipeline"] = time.perf_counter() - started

    passages = options.unit == "passage"  # grouped from sentence vectors after the batches, then coded here
    job = BatchJob(
        codebook, segment.spacy_model, "sentence" if passages else options.unit, segment.min_words,
        ("participant", "interviewer") if segment.code_interviewer else ("participant",),
        coders=() if passages else _batch_methods(names),
        interviewer_labels=ingest.interviewer_labels,
        max_bytes=ingest.max_file_bytes, text_column=ingest.text_column, speaker_column=ingest.speaker_column,
    )  # fmt: skip
    batches = _run_batches(
        job, corpus, nlp, engine=execution.engine, workers=execution.workers, scheduler=execution.scheduler,
        batch_size=execution.batch_size, progress=progress,
    )  # fmt: skip
    timings.update(batches.timings)
    corpus = _checked_corpus(batches.corpus, strict=ingest.strict)
    segmentation = Segmentation(segments=batches.segments, unit=job.unit)

    cache_dir = options.embedding.cache_dir
    embedding = _LazyEmbedder(options.embedding.model, options.embedding.sha256, segmentation)
    context = CoderContext(nlp=nlp, embedder=embedding, cache_dir=Path(cache_dir) if cache_dir else None,
                           min_score=options.coding.min_score, human=human, progress=progress,
                           adapt=options.embedding.adapt)  # fmt: skip
    stats: RunStats = {"warnings": batches.warnings} if batches.warnings else {}
    if passages:
        segmentation = _passages(segmentation, nlp, context, stats, timings)
    raw, final, limits, intercepts = _run_coders(
        names, context, segmentation, codebook, batches.codings, timings, progress, stats
    )
    _count_chunked(stats, embedding.loaded, segmentation.segments)
    if intercepts:  # semantic probabilities moved to the rate at which the coder gave such codings
        raw = with_semantic_intercepts(raw, intercepts)
    codings = combine(raw, codebook, min_score=options.coding.min_score, final=final)
    if limits:  # codes the coder gave too rarely to learn: suggested about as rarely
        codings, dropped = within_limits(codings, limits)
        stats["rate_limited"] = {"limits": limits, "dropped": dropped}
    if decided is not None:
        codings = decided.apply(segmentation.segments, codings, stats)
    _note_roles(corpus, stats)

    loaded = embedding.loaded
    settings = run_settings(
        options,
        methods=names,
        spacy_version=_spacy_version(),
        gold={"path": human.source, "sha256": human.sha256} if human is not None else None,
        decisions=decided.fingerprint if decided is not None else None,
        embedding=_embedding_record(loaded),
    )
    return RunRecord(
        corpus,
        codebook,
        segmentation.segments,
        codings,
        settings,
        timings,
        stats,
        project=decided.project if decided else None,
    )


def _responses(corpus: Corpus | str | Path, unit_column: str, text_column: str | None, max_bytes: int) -> Corpus:
    """A table of survey responses (one per row) read as a corpus of one unit per response."""
    from themekit.ingest.survey import read_responses

    if isinstance(corpus, Corpus):
        raise OptionError(
            "unit_column= reads a table of responses: give the path of its .csv or .xlsx file", param="unit_column"
        )
    return read_responses(corpus, unit_column=unit_column, text_column=text_column, max_bytes=max_bytes)


def _passages(
    sentences: Segmentation, nlp: Any, context: CoderContext, stats: RunStats, timings: dict[str, float]
) -> Segmentation:
    """The sentences grouped into passages by their embeddings (through the run's cache), with each turn's Doc."""
    started = time.perf_counter()
    embedder, cache = context.embedding()
    vectors = embed_texts([s.text for s in sentences.segments], embedder, cache)
    if cache is not None:
        stats["embedding_cache"] = cache.stats()  # type: ignore[typeddict-item]
    grouped = segmentation_of(group_passages(sentences.segments, vectors), nlp, unit="passage")
    timings["passages"] = time.perf_counter() - started
    return grouped


def _count_chunked(stats: RunStats, embedder: Embedder | None, segments: Sequence[Segment]) -> None:
    """When the run embedded: how many units are longer than the model's window, so were embedded in chunks and pooled."""
    if embedder is not None:
        count = getattr(embedder, "chunked", None)  # an embedder without a window reads every text whole
        stats["embedding_chunked"] = int(count([s.text for s in segments])) if count is not None else 0


def _note_roles(corpus: Corpus, stats: RunStats) -> None:
    """The folder rule's role warnings in ``stats["warnings"]`` (the terminal shows them), and the transcripts where
    no interviewer was identified among several speakers in ``stats["no_interviewer"]``."""
    stats["no_interviewer"] = [t.id for t in corpus if lacks_interviewer(t)]
    notes = interviewer_notes(corpus)
    # how a file was decoded, where it was not clean UTF-8: a guessed encoding shows in every quote
    notes += [f"{t.id}: {w}" for t in corpus for w in t.warnings if UTF8_HINT in w]
    # two files that would have the same participant name keep their full file names
    notes += [f"{t.id}: {w}" for t in corpus for w in t.warnings if w.startswith(FULL_NAME_NOTE)]
    if notes:
        stats["warnings"] = [*stats.get("warnings", []), *notes]


def _gold_file(gold: HumanCodings | str | Path | None, corpus: Corpus | str | Path) -> HumanCodings | str | Path | None:
    """The human codings file: as given, or a ``gold.csv`` in the transcript folder; checked to exist."""
    if isinstance(gold, HumanCodings):
        return gold
    folder = corpus.root if isinstance(corpus, Corpus) else Path(corpus)
    if gold is None and folder.is_dir() and (folder / "gold.csv").is_file():
        gold = folder / "gold.csv"
    if gold is not None and not Path(gold).is_file():
        raise GoldFileError(gold, "no such gold/decisions file. Check the path given as gold=", param="gold")
    return gold


def _human_codings(
    gold: HumanCodings | str | Path | None, decided: _ProjectDecisions | None, progress: ProgressCallback | None = None
) -> HumanCodings | None:
    """What the classifier learns from: the gold file when there is one, else the project's decisions."""
    if isinstance(gold, HumanCodings):
        return gold
    if gold is not None:
        return HumanCodings.from_file(gold, source=str(gold), progress=progress)
    return decided.human if decided is not None else None


def _batch_methods(names: list[str]) -> tuple[str, ...]:
    """The chosen methods, and those they read, that run in the batches (one transcript at a time)."""
    wanted = set(names) | {used for name in names for used in METHODS[name].uses}
    return tuple(name for name, spec in METHODS.items() if spec.in_batches and name in wanted)


@dataclass
class _Batches:
    """What the batches gave: the transcripts read (and files that were not), segments, in-batch codings by method."""

    corpus: Corpus
    segments: list[Segment] = field(default_factory=list)
    codings: dict[str, list[Coding]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _run_batches(
    job: BatchJob,
    corpus: Corpus | str | Path,
    nlp: Any,
    *,
    engine: str | Engine,
    workers: int | None,
    scheduler: str | None,
    batch_size: int | None,
    progress: ProgressCallback | None,
) -> _Batches:
    """Read, segment and code in batches (see :class:`~themekit.pipeline.batch.BatchJob`) on the chosen engine."""
    started = time.perf_counter()
    skipped: list[tuple[Path, str]] = []
    if isinstance(corpus, Corpus):
        root, items, sizes = corpus.root, list(corpus.transcripts), [len(t.text) for t in corpus.transcripts]
    else:
        root, items, job.participants, skipped = corpus_files(corpus)
        job.names = participant_names((p.stem for p in items), job.participants)
        sizes = [_file_size(p) for p in items]
    # local workers that never run a PyTorch model start without importing torch (seconds per worker)
    blocked = () if uses_torch(nlp) else ("torch",)
    runner = _choose_engine(engine, workers=workers, scheduler=scheduler, input_bytes=sum(sizes), block_imports=blocked)
    size = batch_size or max(1, min(16, -(-len(items) // (4 * runner.workers))))
    given = corpus if isinstance(corpus, Corpus) else None
    gathered = CorpusGatherer(root, given.failures if given else skipped, interviewer_labels=job.interviewer_labels)
    result = _Batches(given if given is not None else Corpus(root, ()), codings={name: [] for name in job.coders})
    kept: list[Outcome] = []
    try:
        for outcomes, seconds in runner.map(job, batched(items, size)):
            for key, value in seconds.items():
                result.timings[key] = result.timings.get(key, 0.0) + value
            for outcome in outcomes:
                result.warnings.extend(w for w in outcome.warnings if w not in result.warnings)
                if (given is not None or not gathered.refuse_duplicate(outcome.path)) and gathered.add(
                    outcome.path, outcome.transcript, error=outcome.error
                ):
                    kept.append(outcome)
                if progress:
                    progress("segment", 1, len(items))
    finally:
        if runner is not engine:
            runner.close()
    if given is None:
        result.corpus = gathered.corpus()
        kept = _with_folder_roles(job, kept, result.corpus, result.timings)
    for outcome in kept:
        result.segments.extend(outcome.segments)
        for name, codings in outcome.codings.items():
            result.codings[name].extend(codings)
    result.timings["batches"] = time.perf_counter() - started
    return result


def _with_folder_roles(
    job: BatchJob, outcomes: list[Outcome], corpus: Corpus, timings: dict[str, float]
) -> list[Outcome]:
    """The outcomes, those of transcripts whose roles the folder rule changed segmented and coded again (here:
    they are few) from the corpus's transcripts, so no interviewer speech is coded as a participant's."""
    final = {t.id: t for t in corpus}
    changed = [
        o.transcript for o in outcomes if o.transcript is not None and final[o.transcript.id] is not o.transcript
    ]
    if not changed:
        return outcomes
    redone, seconds = job([final[t.id] for t in changed])  # type: ignore[union-attr]
    for key, value in seconds.items():
        timings[key] = timings.get(key, 0.0) + value
    by_id = {o.transcript.id: o for o in redone if o.transcript is not None}
    return [by_id.get(o.transcript.id, o) if o.transcript is not None else o for o in outcomes]


def _checked_corpus(corpus: Corpus, *, strict: bool) -> Corpus:
    """The corpus, unless ``strict`` and a file could not be read, or nothing could be read at all."""
    listed = "\n".join(f"  - {reason}" for _, reason in corpus.failures)
    if corpus.failures and strict:
        raise CorpusError(
            f"{len(corpus.failures)} transcript(s) could not be read (strict=True stops the run):\n{listed}\n"
            "Fix or remove them, or run without strict=True to code the others.",
            param=("strict", "text_column", "speaker_column"),
        )
    if not corpus.transcripts:
        raise CorpusError(
            f"{corpus.root}: no transcript could be read:\n{listed}", param=("text_column", "speaker_column")
        )
    return corpus


def _run_coders(
    names: list[str],
    context: CoderContext,
    segmentation: Segmentation,
    codebook: Codebook,
    batch_codings: dict[str, list[Coding]],
    timings: dict[str, float],
    progress: ProgressCallback | None,
    stats: RunStats,
) -> tuple[list[Coding], dict[str, str], dict[str, int], dict[str, float]]:
    """Every chosen method's codings, in registry order (their statistics added to ``stats``); which method has
    the last word on which code; the most segments other methods may give a code (:attr:`Coded.limits`); the
    intercepts of codes' semantic probabilities (:attr:`Coded.semantic_intercepts`). A method that ran in the
    batches has its codings already; the others code the whole corpus here, once, so the embedding cache has one
    writer."""
    raw: list[Coding] = []
    final: dict[str, str] = {}
    limits: dict[str, int] = {}
    intercepts: dict[str, float] = {}
    for name in names:
        if METHODS[name].in_batches and name in batch_codings:
            coded = Coded(batch_codings[name])
        else:
            if progress:
                progress(f"code:{name}", 0, 1)  # its bar shows elapsed time while it runs
            started = time.perf_counter()
            coder = METHODS[name].build(context)
            coded = coder.code(segmentation, codebook)
            timings[f"code:{name}"] = time.perf_counter() - started
        context.earlier[name] = coded.codings
        raw.extend(coded.codings)
        merge_stats(stats, coded.stats)
        final.update(dict.fromkeys(coded.final_codes, name))
        limits.update(coded.limits)
        intercepts.update(coded.semantic_intercepts)
        if progress:
            progress(f"code:{name}", 1, 1)
    return raw, final, limits, intercepts


class _LazyEmbedder:
    """The run's embedder, loaded on first use (a run whose methods do not embed never loads a model)."""

    def __init__(self, model: str | Path | None, sha256: str | None, segmentation: Segmentation) -> None:
        self.model, self.sha256, self.segmentation = model, sha256, segmentation
        self.loaded: Embedder | None = None

    def __call__(self) -> Embedder:
        if self.loaded is None:
            texts = tuple(s.text for s in self.segmentation.segments)
            self.loaded = resolve_embedder(self.model, self.sha256, texts)
        return self.loaded


class _ProjectDecisions:
    """The project's decisions for one coding: as human codings for the classifier, then applied to the codings."""

    def __init__(self, project: Project, codebook: Codebook) -> None:
        from themekit.store import decisions_gold, settled
        from themekit.store.decisions import decisions_fingerprint

        self.project = project
        self.codebook = codebook
        self.warnings = project.record_codebook(codebook)
        self.decisions = project.decisions()
        self.fingerprint = decisions_fingerprint(self.decisions)
        self.history = project.other_codebooks(codebook)
        human = HumanCodings.from_frame(
            decisions_gold(project, codebook, decisions=settled(self.decisions)), "project decisions"
        )
        self.human: HumanCodings | None = human if human.has_codes else None

    def apply(self, units: list[Segment], codings: list[Coding], stats: RunStats) -> list[Coding]:
        from themekit.store import apply_decisions

        codings, report = apply_decisions(units, codings, self.codebook, self.decisions, history=self.history)
        stats["decisions"] = report.as_dict()
        notes = [*self.warnings, *report.notes()]
        if notes:
            stats["warnings"] = [*stats.get("warnings", []), *notes]
        return codings


def _project_decisions(
    project: Project | str | Path | None, codebook: Codebook, corpus: Corpus | str | Path
) -> _ProjectDecisions | None:
    """The project's decisions; the default project is found from the working folder up, or beside the transcripts."""
    if project is None:
        return None
    from themekit.store import Project, open_project

    beside = corpus if isinstance(corpus, (str, Path)) else getattr(corpus, "root", None)
    return _ProjectDecisions(
        project if isinstance(project, Project) else open_project(project, beside=beside), codebook
    )


#: Below this many bytes of input (about 3 million words), default local runs stay in this process: starting
#: worker processes (each imports spaCy and themekit) costs more than it saves on smaller corpora.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _choose_engine(
    engine: str | Engine,
    *,
    workers: int | None,
    scheduler: str | None,
    input_bytes: int,
    block_imports: tuple[str, ...] = (),
) -> Engine:
    if engine == "local" and workers is None and not scheduler and input_bytes < PARALLEL_MIN_BYTES:
        return SerialEngine()  # the default for a small corpus; an explicit workers count is obeyed
    return make_engine(engine, workers=workers, scheduler=scheduler, block_imports=block_imports)


@lru_cache(maxsize=4)
def _model_embedder(model: str, sha256: str | None) -> Embedder:
    return load_embedder(model, sha256=sha256)


def resolve_embedder(model: str | Path | None, sha256: str | None, texts: tuple[str, ...]) -> Embedder:
    """The run's embedder (:func:`~themekit.nlp.embed.load_embedder`'s choice); loaded models are kept for the
    life of the process."""
    if model is not None and str(model) == FALLBACK_MODEL:
        return load_embedder(FALLBACK_MODEL, fit_texts=texts)
    package = installed_model_package(KNOWN_MODEL_PACKAGES) if model is None else None
    if model is None and package is None:
        return TfidfSvdEmbedder(texts)  # no model installed: the fallback says so
    try:
        return _model_embedder(str(model) if model is not None else package, sha256)
    except EmbeddingError as exc:
        if package is None:
            raise  # a model the user named: its error stands
        return unloadable(package, exc, sha256=sha256, fit_texts=texts)


def _embedding_record(loaded: Embedder | None) -> dict | None:
    """run.json's ``embedding``: the embedder's identity and description, the model's folder (``path``, so the
    run's cross-validation and review queue embed with the same model), and ``fallback`` (why) when the TF-IDF
    fallback coded instead of a sentence-embedding model."""
    if loaded is None:
        return None
    record = {"identity": loaded.identity, "model": loaded.description}
    folder = getattr(loaded, "model_dir", None)
    if folder is not None:
        record["path"] = str(folder)
    reason = getattr(loaded, "reason", None)
    return {**record, "fallback": reason} if reason else record


def _spacy_version() -> str:
    import spacy

    return spacy.__version__
