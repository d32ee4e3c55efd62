"""The coding pipeline: corpus + codebook → Run (ingest → segment → code)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import time
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from themekit.batch import BatchJob, batched
from themekit.codebook import Codebook
from themekit.coding import CODERS, CoderContext, combine, method_names
from themekit.embed import (
    DEFAULT_CACHE_DIR,
    KNOWN_MODEL_PACKAGES,
    Embedder,
    load_embedder,
)
from themekit.engine import Engine, SerialEngine, make_engine
from themekit.errors import CorpusError, ThemekitError
from themekit.ingest import MAX_FILE_BYTES, corpus_files
from themekit.models import Coding, Corpus, Segment
from themekit.nlp import BLANK, load_pipeline, uses_torch
from themekit.run import Run
from themekit.segment import UNITS, Segmentation, Unit

if TYPE_CHECKING:

    from themekit.store import Project

__all__ = ["code", "ProgressCallback"]

#: ``progress(stage, advance, total)``: called as work is done, for progress bars.
ProgressCallback = Callable[[str, int, int], None]


def code(
    corpus: Corpus | str | Path,
    codebook: Codebook | str | Path,
    *,
    unit: Unit = "sentence",
    min_words: int = 5,
    methods: str | Sequence[str] | None = None,
    spacy_model: str = BLANK,
    interviewer_labels: Iterable[str] | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
    embedding_model: str | Path | None = None,
    embedding_sha256: str | None = None,
    cache_dir: str | Path | None = DEFAULT_CACHE_DIR,
    min_score: float = 0.5,
    gold: str | Path | None = None,
    code_interviewer: bool = False,
    strict: bool = False,
    project: Project | str | Path | None = None,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    engine: str | Engine = "local",
    scheduler: str | None = None,
    batch_size: int | None = None,
) -> Run:
    """Code every participant segment of ``corpus`` with ``codebook``.

    ``corpus`` and ``codebook`` may be paths (a transcript folder, a YAML file).
    ``methods`` chooses coders (default: all: rule, semantic); the semantic
    coder embeds with ``embedding_model`` (a model folder or an installed
    package; default: the first known installed package, else a TF-IDF + SVD
    fallback), caching vectors under ``cache_dir`` (``None``: no cache).
    Codings scoring below ``min_score`` (0-1, calibrated per method so 0.5 is
    each method's own threshold) are dropped. ``gold`` is a file of human
    codings the classifier learns from; when ``corpus`` is a folder holding a
    ``gold.csv`` and no ``gold`` is given, that file is used.
    With ``strict=True`` any transcript that could not be read fails the run;
    otherwise it is listed in the run's failures and the rest are coded.

    ``project`` (a :class:`themekit.store.Project` or the path of its
    database) applies the human decisions stored there — accepted codings
    stay, rejected ones never come back, human codings are kept; decisions on
    text that changed are reported as orphaned in ``run.stats["decisions"]`` —
    and, when no ``gold`` is given, trains the classifier on them. Saving the
    run records it in the project.

    Transcripts are read, segmented and rule-coded in batches of
    ``batch_size`` (default: chosen from the corpus size) by ``engine``:
    ``"local"`` with ``workers`` processes (default: one per core; 1 runs in
    this process; by default a corpus under :data:`PARALLEL_MIN_BYTES` runs here),
    ``"dask"`` on the cluster at ``scheduler`` (default: a LocalCluster), or
    any :class:`themekit.engine.Engine`. The result is the same whichever
    runs it. Embedding, the semantic coder and the classifier run once in
    this process over the whole corpus, so the embedding cache has one writer.
    """
    timings: dict[str, float] = {}
    if unit not in UNITS:
        raise ThemekitError(f"unknown coding unit {unit!r} (--unit); choose from: {', '.join(UNITS)}")
    if gold is None and not isinstance(corpus, Corpus) and Path(corpus).is_dir() and (Path(corpus) / "gold.csv").is_file():
        gold = Path(corpus) / "gold.csv"
    if gold is not None and not Path(gold).is_file():
        raise ThemekitError(f"{gold}: no such gold/decisions file. Check the path given to --gold.")
    if not isinstance(codebook, Codebook):
        codebook = Codebook.load(codebook)
    decided = _project_decisions(project, codebook)
    if gold is None and decided is not None and decided.gold is not None:
        gold = decided.gold
    names = method_names(methods, have_gold=gold is not None)
    started = time.perf_counter()
    nlp = load_pipeline(spacy_model)
    timings["load_pipeline"] = time.perf_counter() - started

    started = time.perf_counter()
    roles = ("participant", "interviewer") if code_interviewer else ("participant",)
    job = BatchJob(
        codebook,
        spacy_model,
        unit,
        min_words,
        roles,  # type: ignore[arg-type]
        rule="rule" in names or "classifier" in names,  # the classifier learns from rule matches too
        interviewer_labels=tuple(interviewer_labels) if interviewer_labels is not None else None,
        max_bytes=max_file_bytes,
    )
    if isinstance(corpus, Corpus):
        root, items, sizes = corpus.root, list(corpus.transcripts), [len(t.text) for t in corpus.transcripts]
    else:
        root, items, job.participants = corpus_files(corpus)
        sizes = [_file_size(p) for p in items]
    # local workers that never run a PyTorch model start without importing torch (seconds per worker)
    blocked = () if uses_torch(nlp) else ("torch",)
    runner = _choose_engine(engine, workers=workers, scheduler=scheduler, input_bytes=sum(sizes), block_imports=blocked)
    size = batch_size or max(1, min(16, -(-len(items) // (4 * runner.workers))))
    transcripts, failures, segments, rule_codings = [], list(corpus.failures) if isinstance(corpus, Corpus) else [], [], []
    seen: dict[str, Path] = {}
    try:
        for outcomes, seconds in runner.map(job, batched(items, size)):
            for key, value in seconds.items():
                timings[key] = timings.get(key, 0.0) + value
            for outcome in outcomes:
                t, path = outcome.transcript, outcome.path
                if not isinstance(corpus, Corpus) and path.stem in seen:
                    name = seen[path.stem].name
                    failures.append((path, f"{path}: has the same name as {name}. Rename one so each transcript id is unique."))
                elif t is None:
                    failures.append((path, outcome.error))
                else:
                    seen[path.stem] = path
                    transcripts.append(t)
                    segments.extend(outcome.segments)
                    rule_codings.extend(outcome.codings)
                if progress:
                    progress("segment", 1, len(items))
    finally:
        if runner is not engine:
            runner.close()
    if not isinstance(corpus, Corpus):
        corpus = Corpus(root=root, transcripts=tuple(transcripts), failures=tuple(failures))
    timings["batches"] = time.perf_counter() - started
    if corpus.failures and strict:
        listed = "\n".join(f"  - {reason}" for _, reason in corpus.failures)
        raise CorpusError(
            f"{len(corpus.failures)} transcript(s) could not be read and --strict is on:\n{listed}\n"
            "Fix or remove them, or run without --strict to code the others."
        )
    if not corpus.transcripts:
        listed = "\n".join(f"  - {reason}" for _, reason in corpus.failures)
        raise CorpusError(f"{corpus.root}: no transcript could be read:\n{listed}")
    segmentation = Segmentation(segments=segments)

    embedders: list[Embedder] = []

    def embedder() -> Embedder:
        if not embedders:
            embedders.append(
                resolve_embedder(embedding_model, embedding_sha256, tuple(s.text for s in segmentation.segments))
            )
        return embedders[0]

    context = CoderContext(
        nlp=nlp,
        embedder=embedder,
        cache_dir=Path(cache_dir) if cache_dir else None,
        min_score=min_score,
        gold=Path(gold) if gold is not None else None,
        rule_codings=rule_codings,
    )
    raw: list[Coding] = []
    stats: dict[str, Any] = {}
    learned: list[str] = []  # codes the classifier has a model for: its decision on them is final
    for name in names:
        if name == "rule":
            raw.extend(rule_codings)  # coded batch by batch above
            if progress:
                progress("code:rule", 1, 1)
            continue
        started = time.perf_counter()
        coder = CODERS[name](context)
        raw.extend(coder.code(segmentation, codebook))
        timings[f"code:{name}"] = time.perf_counter() - started
        cache = getattr(coder, "cache", None)
        if cache is not None:
            # every method that embeds counts its own look-ups: the run reports their sum
            seen = stats.get("embedding_cache", {"hits": 0, "misses": 0})
            stats["embedding_cache"] = {"path": str(cache.path), "hits": seen["hits"] + cache.hits, "misses": seen["misses"] + cache.misses}
        if name == "semantic":
            stats["semantic_thresholds"] = {k: round(v, 4) for k, v in coder.thresholds.items()}  # type: ignore[attr-defined]
        if name == "classifier":
            stats["classifier"] = coder.report  # type: ignore[attr-defined]
            stats["classifier_threshold"] = coder.decision_threshold  # type: ignore[attr-defined]
            learned = coder.trained_codes  # type: ignore[attr-defined]
        if progress:
            progress(f"code:{name}", 1, 1)
    codings = combine(raw, codebook, min_score=min_score, learned=learned)
    if decided is not None:
        codings = decided.apply(segmentation.segments, codings, stats)

    settings = {
        "unit": unit,
        "min_words": min_words,
        "methods": names,
        "min_score": min_score,
        "spacy_model": spacy_model,
        "spacy_version": _spacy_version(),
        "interviewer_labels": sorted(interviewer_labels) if interviewer_labels is not None else "default",
        "code_interviewer": code_interviewer,
        "strict": strict,
    }
    if gold is not None and "classifier" in names:
        source = "project decisions" if decided is not None and gold == decided.gold else str(gold)
        settings["gold"] = {"path": source, "sha256": hashlib.sha256(Path(gold).read_bytes()).hexdigest()}
    if decided is not None:
        settings["decisions"] = decided.fingerprint
        decided.close()
    if embedders:
        settings["embedding"] = {"identity": embedders[0].identity, "model": embedders[0].description}
    return Run(corpus, codebook, segmentation.segments, codings, settings, timings, stats, project=decided.project if decided else None)


class _ProjectDecisions:
    """The project's decisions for one coding: as gold for the classifier, then applied to the codings."""

    def __init__(self, project: Project, codebook: Codebook) -> None:
        import tempfile

        from themekit.store import decisions_gold

        self.project = project
        self.codebook = codebook
        self.warnings = project.record_codebook(codebook)
        self.decisions = project.decisions()
        digest = hashlib.sha256(json.dumps([d.id for d in self.decisions]).encode()).hexdigest()[:16]
        self.fingerprint = {"count": len(self.decisions), "sha256": digest}
        self.history = [project.codebook(row["sha256"]) for row in project.codebooks() if row["sha256"] != codebook.sha256]
        self._scratch = tempfile.TemporaryDirectory(prefix="themekit-decisions-")
        self.gold: Path | None = None
        frame = decisions_gold(project, codebook, decisions=self.decisions)
        if (frame["code"] != "").any():
            self.gold = Path(self._scratch.name) / "decisions-gold.csv"
            frame.to_csv(self.gold, index=False)

    def apply(self, units: list[Segment], codings: list[Coding], stats: dict[str, Any]) -> list[Coding]:
        from themekit.store import apply_decisions

        codings, report = apply_decisions(units, codings, self.codebook, self.decisions, history=self.history)
        stats["decisions"] = report.as_dict()
        if self.warnings:
            stats["warnings"] = list(self.warnings)
        return codings

    def close(self) -> None:
        self._scratch.cleanup()


def _project_decisions(project: Project | str | Path | None, codebook: Codebook) -> _ProjectDecisions | None:
    if project is None:
        return None
    from themekit.store import Project, open_project

    return _ProjectDecisions(project if isinstance(project, Project) else open_project(project), codebook)


#: Below this many bytes of input (about 3 million words), default local runs stay in this process: starting
#: worker processes (each imports spaCy and themekit) costs more than it saves on smaller corpora.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _choose_engine(
    engine: str | Engine, *, workers: int | None, scheduler: str | None, input_bytes: int, block_imports: tuple[str, ...] = ()
) -> Engine:
    if engine == "local" and workers is None and not scheduler and input_bytes < PARALLEL_MIN_BYTES:
        return SerialEngine()  # the default for a small corpus; an explicit workers count is obeyed
    return make_engine(engine, workers=workers, scheduler=scheduler, block_imports=block_imports)


@lru_cache(maxsize=4)
def _model_embedder(model: str, sha256: str | None) -> Embedder:
    return load_embedder(model, sha256=sha256)


def resolve_embedder(model: str | Path | None, sha256: str | None, texts: tuple[str, ...]) -> Embedder:
    """The run's embedder; loaded models are kept for the life of the process."""
    if model is None:
        for package in KNOWN_MODEL_PACKAGES:
            if importlib.util.find_spec(package) is not None:
                return _model_embedder(package, sha256)
        return load_embedder(None, fit_texts=texts)
    return _model_embedder(str(model), sha256)


def _spacy_version() -> str:
    import spacy

    return spacy.__version__
