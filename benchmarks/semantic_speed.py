"""Semantic coding speed: 100,000 words cold, then a re-run after one definition changes.

A seeded generator builds interviews from the sample's own participant
sentences, each joined with a varied clause so that no two segments are the
same text (a cache could otherwise answer from repeats). The cold run starts
from an empty embedding cache in a fresh process's first call, so it pays
for loading the model too; the warm run changes one code's definition and
codes again with the same cache.

    python benchmarks/semantic_speed.py [--words 100000]
"""

from __future__ import annotations

import argparse
import platform
import random
import tempfile
import time
from pathlib import Path

import themekit

ROOT = Path(__file__).resolve().parents[1]
CLAUSES = [
    "to be honest with you",
    "if that makes sense",
    "at least that's how I see it",
    "most weeks anyway",
    "from what I've seen",
    "and that's the reality of it",
    "which surprised me at first",
    "more often than you'd think",
]


def make_corpus(folder: Path, words: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    sample = themekit.read_corpus(ROOT / "transcripts_sample")
    sentences = [
        s.strip()
        for t in sample
        for turn in t.participant_turns
        for s in t.turn_text(turn).replace("?", ".").split(". ")
        if len(s.split()) >= 6
    ]
    folder.mkdir(parents=True, exist_ok=True)
    total, n = 0, 0
    while total < words:
        n += 1
        turns = []
        for _ in range(40):
            answer = ". ".join(
                f"{rng.choice(sentences).rstrip('.')}, {rng.choice(CLAUSES)} ({rng.randrange(10**6)})"
                for _ in range(rng.randint(2, 5))
            )
            turns.append(f"Interviewer: Could you say more about that?\n\nP{n:03d}: {answer}.\n")
            total += len(answer.split())
        (folder / f"P{n:03d}.txt").write_text("\n".join(turns), encoding="utf-8")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        words = make_corpus(tmp / "corpus", args.words)
        codebook = (ROOT / "codebooks" / "ati-keyworker.yaml").read_text(encoding="utf-8")
        cb_path = tmp / "codebook.yaml"
        cb_path.write_text(codebook, encoding="utf-8")
        corpus = themekit.read_corpus(tmp / "corpus")
        started = time.perf_counter()
        cold = themekit.code(corpus, cb_path, methods="semantic", cache_dir=tmp / "cache", project=None)
        cold_s = time.perf_counter() - started
        cb_path.write_text(
            codebook.replace(
                "Limited, infrequent or expensive public transport", "Scarce, slow or costly public transport"
            ),
            encoding="utf-8",
        )
        started = time.perf_counter()
        warm = themekit.code(corpus, cb_path, methods="semantic", cache_dir=tmp / "cache", project=None)
        warm_s = time.perf_counter() - started
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, {words:,} participant words, "
        f"{len(cold.units):,} segments"
    )
    print(
        f"cold (empty cache, model load included): {cold_s:6.1f} s  ({words / cold_s:,.0f} words/s); "
        f"cache {cold.stats['embedding_cache']}"
    )
    print(
        f"warm (one definition changed):           {warm_s:6.1f} s; cache hits {warm.stats['embedding_cache']['hits']:,}, "
        f"new {warm.stats['embedding_cache']['misses']}"
    )


if __name__ == "__main__":
    main()
