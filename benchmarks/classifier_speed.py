"""How long the classifier takes to learn from human codings and code a corpus, every embedding cached.

Two studies: the real PDPilot interviews in ../shared/dev-data (7 interviews coded by turn, 261 codings of
9 codes by the study's authors; skipped when the data are not there) and the bundled sample (8 interviews by
sentence, its codings/gold.csv of 1,341 rows, 1,265 of them coded). Each is coded ``--repeat`` times (after one run that fills
the embedding cache) and the median time of the classifier stage (features, cross-validation, training and
coding: ``run.timings["code:classifier"]``) is printed: with the fitted models of earlier runs removed before
each run, so every model is fitted again, and then read back from the fit cache as an identical re-run is.

    python benchmarks/classifier_speed.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import yaml

import themekit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import quality_real  # noqa: E402  (the dev data's codebook and gold, as the quality benchmark builds them)
from machine import machine  # noqa: E402


def _time(corpus, codebook, gold, repeat: int, **options) -> tuple[float, float, dict]:
    cache = ROOT / ".themekit" / "cache"

    def stage() -> tuple[float, themekit.Run]:
        run = themekit.code(
            corpus, codebook, methods="rule,classifier", gold=gold, cache_dir=cache, project=None, **options
        )
        return run.timings["code:classifier"], run

    stage()  # fills the embedding cache
    times = []
    for _ in range(repeat):
        shutil.rmtree(cache / "classifier", ignore_errors=True)  # no fitted model to read back: every fit is done
        seconds, run = stage()
        times.append(seconds)
    cached = statistics.median(stage()[0] for _ in range(repeat))
    report = run.stats["classifier"]
    trained = sum(1 for entry in report.values() if entry.get("trained"))
    examples = next((e["positives"] + e["negatives"] for e in report.values()), 0)
    return (
        statistics.median(times),
        cached,
        {
            "codes trained": trained,
            "training excerpts": examples,
            "segments": len(run.segments),
        },
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    data = quality_real.DATA
    if (data / "coded_segments.csv").is_file():
        with tempfile.TemporaryDirectory() as tmp:
            book = Path(tmp) / "codebook.yaml"
            book.write_text(yaml.safe_dump(quality_real.codebook_from_code_system(data), sort_keys=False))
            gold = quality_real.gold_from_coded_segments(data, Path(tmp) / "gold.csv")
            seconds, cached, what = _time(
                data / "transcripts", book, gold, args.repeat, unit="turn", interviewer_labels=["Dan"]
            )
        print(
            f"PDPilot interviews (261 codings, by turn): median {seconds:.1f} s, fits read back {cached:.1f} s {what}"
        )
    else:
        print(f"no real interviews at {data}: skipped")
    sample = ROOT / "transcripts_sample"
    seconds, cached, what = _time(
        sample, ROOT / "codebooks" / "ati-keyworker.yaml", sample / "codings" / "gold.csv", args.repeat
    )
    print(
        f"bundled sample (codings/gold.csv, by sentence): median {seconds:.1f} s, fits read back {cached:.1f} s {what}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
