"""``review import`` of a large sheet into a large project store.

Builds a project store holding ``--decisions`` human decisions (by three
coders, on as many review items) and a filled review sheet of ``--rows`` rows
on other items of the same store, then times ``import_review`` as
``themekit review import`` runs it: open the store (its ``quick_check``
included), read the sheet, check every row against the coding its id names,
record the decisions. Each repeat imports into a fresh copy of the store;
figures are medians of ``--repeats``, for a CSV and an Excel sheet.

    python benchmarks/review_import.py [--rows 10000] [--decisions 100000] [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmarks' own helpers
from machine import machine  # noqa: E402

CODEBOOK = """\
schema_version: 1
name: Benchmark
version: 1.0.0
themes:
  - id: services
    label: Services
    codes:
      - id: waiting
        label: Waiting
        definition: Waiting lists and delays.
      - id: staff
        label: Staff
        definition: How staff treated people.
      - id: money
        label: Money
        definition: Costs, debts and benefits.
"""
CODES = ("waiting", "staff", "money")


def build_store(folder: Path, *, items: int, decisions: int) -> tuple[Path, list[dict[str, str]]]:
    """A project store with ``decisions`` decisions on the first items, and the review rows of the others."""
    from themekit.codebook import validate_codebook
    from themekit.review.sheets import _item_id
    from themekit.store import Project

    codebook = validate_codebook("codebook.yaml", text=CODEBOOK)
    path = folder / "project.db"
    project = Project(path)
    project.record_codebook(codebook)
    rng = random.Random(20)
    records = []
    for k in range(items):
        transcript, start = f"P{k // 100:04d}", (k % 100) * 80
        code = CODES[k % 3]
        sha = f"{k // 100:064x}"
        quote = f"Participant {k} said the waiting list was long and the staff were kind to them {rng.random():.6f}."
        records.append(
            {
                "id": _item_id(transcript, sha, start, start + len(quote), code),
                "run": 1,
                "transcript": transcript,
                "transcript_sha256": sha,
                "start": start,
                "end": start + len(quote),
                "code": code,
                "quote": quote,
                "codebook_sha256": codebook.sha256,
            }
        )
    with project.transaction() as conn:
        conn.execute(
            "INSERT INTO runs (id, run_id, created, codebook_sha256, settings, counts, warnings) "
            "VALUES (1, 'bench', '2026-01-01', ?, '{}', '{}', '[]')",
            (codebook.sha256,),
        )
        conn.executemany(
            'INSERT INTO review_items (id, run, transcript, transcript_sha256, start, "end", code, quote, '
            "codebook_sha256, scheme) VALUES (:id, :run, :transcript, :transcript_sha256, :start, :end, :code, "
            ":quote, :codebook_sha256, 2)",
            records,
        )
    decided = [
        {
            **{k: r[k] for k in ("transcript", "transcript_sha256", "start", "end", "quote", "code")},
            "decision": rng.choice(("accept", "reject")),
            "item": r["id"],
        }
        for r in records[:decisions]
    ]
    for k, coder in enumerate(("alex", "sam", "kim")):
        project.add_decisions(decided[k::3], coder=coder)
    project._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    project.close()
    sheet = [
        {
            "id": r["id"],
            "transcript": r["transcript"],
            "speaker": r["transcript"],
            "before": "",
            "quote": r["quote"],
            "after": "",
            "suggested_code": r["code"],
            "code_label": r["code"].title(),
            "score": "0.8",
            "evidence": "",
            "status": "suggested",
            "decision": rng.choice(("accept", "reject", "change")),
            "code": "",
            "note": "",
        }
        for r in records[decisions:]
    ]
    for row in sheet:
        if row["decision"] == "change":
            row["code"] = next(c for c in CODES if c != row["suggested_code"])
    return path, sheet


def write_sheets(folder: Path, rows: list[dict[str, str]]) -> dict[str, Path]:
    from openpyxl import Workbook

    paths = {"csv": folder / "sheet.csv", "xlsx": folder / "sheet.xlsx"}
    with paths["csv"].open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    book = Workbook()
    sheet = book.active
    sheet.title = "review"
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    book.save(paths["xlsx"])
    return paths


def time_import(store: Path, sheet: Path, work: Path) -> tuple[float, int]:
    from themekit.review.sheets import import_review
    from themekit.store import open_project

    copy = work / "copy.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(store, copy)
    started = time.perf_counter()
    with open_project(copy) as project:
        result = import_review(sheet, project, coder="bench")
    elapsed = time.perf_counter() - started
    if result.problems:
        raise SystemExit(f"benchmark sheet has problems: {result.problems[:3]}")
    return elapsed, result.recorded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        store, rows = build_store(work, items=args.decisions + args.rows, decisions=args.decisions)
        sheets = write_sheets(work, rows)
        built = time.perf_counter() - started
        report = {
            "rows": args.rows,
            "decisions_in_store": args.decisions,
            "repeats": args.repeats,
            "store_mb": round(store.stat().st_size / 2**20, 1),
            "build_s": round(built, 1),
            "machine": machine(),
        }
        for kind, sheet in sheets.items():
            times = []
            for _ in range(args.repeats):
                elapsed, recorded = time_import(store, sheet, work)
                times.append(elapsed)
            assert recorded == args.rows
            report[f"{kind}_median_s"] = round(statistics.median(times), 2)
            report[f"{kind}_runs_s"] = [round(t, 2) for t in times]
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
