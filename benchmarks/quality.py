"""Coding quality on the bundled sample's hand-coded gold set, per method.

Rules, semantic and their combination are zero-shot: they see only the
codebook, so they are scored on the whole gold set. The classifier learns
from human codings, so it is scored by leave-one-transcript-out: for each
interview it is trained on the gold codings of the other seven and its
codings of the held-out interview are kept; the eight held-out parts are
scored together. Nothing of an interview is learned from before it is coded.

    python benchmarks/quality.py [--json results.json]

Prints a table: micro and macro precision / recall / F1 and mean Cohen's
kappa over codes with at least 5 gold segments.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import pandas as pd

import themekit
from themekit.analysis.evaluate import evaluate_frames

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "transcripts_sample"
CODEBOOK = ROOT / "codebooks" / "ati-keyworker.yaml"
GOLD = SAMPLE / "codings" / "gold.csv"


def score(excerpts: pd.DataFrame, segments: pd.DataFrame, codebook) -> dict:
    # the sample's gold covers nearly every segment; "coded" keeps these regression figures comparable across sessions
    result = evaluate_frames(excerpts, segments, GOLD, codebook, min_support=5, scope="coded")
    o = result.overall
    return {
        "micro": o["micro"],
        "macro": o["macro"],
        "codes_scored": o["codes_scored"],
        "segments": o["segments_scored"],
    }


def held_out(corpus, codebook, methods: str, cache: Path) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    gold = pd.read_csv(GOLD, dtype=str, keep_default_na=False)
    parts, segments, seconds = [], None, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for transcript in corpus:
            train = Path(tmp) / f"train-without-{transcript.id}.csv"
            gold[gold["transcript"] != transcript.id].to_csv(train, index=False)
            started = time.perf_counter()
            run = themekit.code(corpus, codebook, methods=methods, gold=train, cache_dir=cache, project=None)
            seconds += time.perf_counter() - started
            excerpts = run.excerpts
            parts.append(excerpts[excerpts["transcript"] == transcript.id])
            segments = run.segments
    return pd.concat(parts, ignore_index=True), segments, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--only", nargs="+", metavar="METHODS", help="only these rows, e.g. --only semantic classifier")
    args = parser.parse_args()
    wanted = lambda methods: not args.only or methods in args.only  # noqa: E731
    codebook = themekit.Codebook.load(CODEBOOK)
    corpus = themekit.read_corpus(SAMPLE)
    results = {}
    with tempfile.TemporaryDirectory() as cache:
        for methods in filter(wanted, ("rule", "semantic", "rule,semantic")):
            started = time.perf_counter()
            run = themekit.code(corpus, codebook, methods=methods, cache_dir=Path(cache), project=None)
            seconds = time.perf_counter() - started
            results[methods] = score(run.excerpts, run.segments, codebook) | {"seconds": round(seconds, 2)}
        for methods in filter(wanted, ("classifier", "rule,semantic,classifier")):
            excerpts, segments, seconds = held_out(corpus, codebook, methods, Path(cache))
            results[f"{methods} (held out)"] = score(excerpts, segments, codebook) | {
                "seconds": round(seconds / len(corpus), 2)
            }
    print(f"Sample gold set: {GOLD.relative_to(ROOT)}; machine: {platform.machine()}, {platform.python_version()}")
    header = f"{'methods':34} {'micro P':>7} {'R':>5} {'F1':>5} | {'macro P':>7} {'R':>5} {'F1':>5} {'kappa':>6} | {'s/run':>6}"
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        mi, ma = r["micro"], r["macro"]
        print(
            f"{name:34} {mi['precision']:7.2f} {mi['recall']:5.2f} {mi['f1']:5.2f} | "
            f"{ma['precision']:7.2f} {ma['recall']:5.2f} {ma['f1']:5.2f} {ma['kappa']:6.2f} | {r['seconds']:6.2f}"
        )
    some = next(iter(results.values()))
    print(
        f"({some['segments']} gold-covered segments; macro over {some['codes_scored']} codes with >= 5 gold segments)"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
