"""Human-coding files at scale: a million rows, and one giant cell.

Codes the sample (``transcripts_sample``) with the rules, then builds two gold
files from its human codings (``transcripts_sample/codings/gold.csv``): one of
``--rows`` rows (its 1,342 rows over and over, each locating its span by
offsets and quoting its text, as exports from other tools do) and one of its
own rows plus a row whose quote cell holds ``--cell-mb`` MB of text. Each case
runs in a fresh Python process, which reports its time and its own peak memory (RSS high-water mark):

- *read and place*: ``HumanCodings.from_file`` then ``map_gold`` onto the
  run's segments, as ``evaluate``, ``agree --run`` and the classifier do;
- *themekit evaluate*: the whole command (``themekit evaluate RUN --gold FILE``),
  Python's start and imports included.

    python benchmarks/human_codings.py [--rows 1000000] [--cell-mb 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmarks' own helpers
from machine import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "transcripts_sample"
CODEBOOK = ROOT / "codebooks" / "ati-keyworker.yaml"
GOLD = SAMPLE / "codings" / "gold.csv"

#: Runs one case in a fresh process and prints {"seconds": …, "peak_rss_mb": …} as its last line.
CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    case, run, gold = sys.argv[1:4]
    started = time.perf_counter()
    if case == "place":
        from themekit.human.gold import HumanCodings, map_gold
        from themekit.runs.folder import read_run

        record = read_run(run)
        started = time.perf_counter()  # the run folder's reading is not the file's
        human = HumanCodings.from_file(gold)
        mapped = map_gold(gold, record.segments, human.code_names(record.codebook), frame=human.placeable(),
                          turns=record.corpus.turns, transcripts=record.corpus)
        extra = {"held": human.frame is not None, "placed": len(mapped.codings), "skipped": len(mapped.skipped)}
    else:
        from themekit.cli import app

        try:
            app(["evaluate", run, "--gold", gold, "-q"], prog_name="themekit")
        except SystemExit as done:
            assert not done.code, done.code
        extra = {}
    seconds = time.perf_counter() - started
    try:  # this process's own high-water mark (ru_maxrss keeps the parent's across exec on Linux)
        status = open("/proc/self/status", encoding="ascii").read()
        peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": round(seconds, 2), "peak_rss_mb": round(peak), **extra}))
    """
)


def many_rows(out: Path, rows: int) -> Path:
    """The sample's gold rows repeated until the file has ``rows`` rows."""
    with GOLD.open(encoding="utf-8", newline="") as handle:
        header, *body = list(csv.reader(handle))
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for k in range(rows):
            writer.writerow(body[k % len(body)])
    return out


def giant_cell(out: Path, megabytes: float) -> Path:
    """The sample's gold rows and one more, on a real span, whose quote cell holds ``megabytes`` MB of words."""
    with GOLD.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    words = "word " * int(megabytes * 1024 * 1024 / 5)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows(rows)
        writer.writerow([*rows[1][:4], words, *rows[1][5:]])
    return out


def measure(case: str, run: Path, gold: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, case, str(run), str(gold)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])},
    )
    if done.returncode:
        raise SystemExit(f"{case} on {gold.name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cell-mb", type=float, default=10.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "src"))
    import themekit

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run = themekit.code(SAMPLE, CODEBOOK, methods="rule", cache_dir=None, project=None)
        run.save(folder / "run")
        many = many_rows(folder / "many.csv", args.rows)
        giant = giant_cell(folder / "giant.csv", args.cell_mb)
        cases = [
            (f"read and place {args.rows:,} rows", "place", many),
            (f"themekit evaluate, {args.rows:,} rows", "evaluate", many),
            ("themekit evaluate, the sample's 1,342 rows", "evaluate", GOLD),
            (f"themekit evaluate, the sample's rows and one {args.cell_mb:g} MB cell", "evaluate", giant),
        ]
        results = []
        for name, case, gold in cases:
            figures = measure(case, folder / "run", gold)
            figures.update(case=name, file_mb=round(gold.stat().st_size / 1024 / 1024, 1))
            results.append(figures)
            print(f"| {name} | {figures['file_mb']} MB | {figures['seconds']} s | {figures['peak_rss_mb']} MB |")
    report = {
        "machine": machine(),
        "rows": args.rows,
        "cell_mb": args.cell_mb,
        "cases": results,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
