from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import themekit

from .conftest import HANG_GUARD, ROOT

STAGES = {
    "ingest",
    "reference: spacy.blank tokenisation",
    "segment",
    "code:rule",
    "code:semantic (cold)",
    "code:semantic (warm)",
    "summarize",
    "export",
    "suggest",
    "reference: BERTopic default pipeline",
    "end to end, 1 worker",
}


@pytest.mark.slow
def test_benchmarks_run_small_size_reports_every_stage(background):
    """``benchmarks/run.py --size small --workers 1``, started when the session began (conftest: BACKGROUND)."""
    proc, folder = background
    returncode = proc.wait(timeout=HANG_GUARD)
    stdout, stderr = ((folder / name).read_text(encoding="utf-8") for name in ("stdout.txt", "stderr.txt"))
    assert returncode == 0, stderr[-3000:]
    report = json.loads((folder / "report" / "small.json").read_text(encoding="utf-8"))
    assert report["words"] > 40_000 and report["transcripts"] == 10
    rows = {row["stage"]: row for row in report["stages"]}
    assert set(rows) == STAGES
    for row in rows.values():
        assert row["seconds"] > 0 and row["words_per_second"] > 0 and row["peak_rss_mb"] > 0, row
    assert rows["code:rule"]["vs_reference"] > 0 and rows["suggest"]["vs_reference"] > 0
    assert "| end to end, 1 worker |" in stdout


def _quality_real():
    """benchmarks/quality_real.py, imported as a module (its main() is what running the script calls)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import quality_real
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return quality_real


def test_benchmarks_real_interviews_say_so_when_the_data_is_absent(tmp_path, monkeypatch, capsys):
    quality_real = _quality_real()
    monkeypatch.setattr(sys, "argv", ["quality_real.py", "--data", str(tmp_path / "nowhere")])
    assert quality_real.main() == 0
    assert (
        capsys.readouterr().out.strip()
        == f"no real interviews at {tmp_path / 'nowhere'}: nothing measured (the data lives in ../shared/dev-data)."
    )


def test_benchmarks_real_interviews_codebook_comes_from_the_code_system_only(tmp_path):
    quality_real = _quality_real()
    (tmp_path / "code_system.csv").write_text(
        "code_path,top_code,memo,n_segments\n"
        "Purposes,Purposes,Why people use the plots.,0\n"
        "Purposes > Debugging,Purposes,,3\n"
        "Limits,Limits,,1\n",
        encoding="utf-8",
    )
    codebook = quality_real.codebook_from_code_system(tmp_path)
    [theme] = codebook["themes"]
    assert [(c["id"], c["label"], c["definition"], c["include"]) for c in theme["codes"]] == [
        ("purposes", "Purposes", "Why people use the plots.", ["Debugging"]),
        ("limits", "Limits", "Limits", []),
    ]
    # a codebook of the second-level codes, each named by its own name
    [theme] = quality_real.codebook_from_code_system(tmp_path, depth=2)["themes"]
    assert [(c["id"], c["label"], c["definition"], c["include"]) for c in theme["codes"]] == [
        ("purposes_debugging", "Debugging", "Debugging", [])
    ]


def test_benchmarks_review_import_records_every_row_of_a_small_sheet(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(themekit.__file__).resolve().parents[1])}
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "review_import.py"), "--rows", "200", "--decisions", "1000", "--repeats", "1",
         "--json", str(tmp_path / "review_import.json")],
        capture_output=True, text=True, env=env, timeout=HANG_GUARD, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "review_import.json").read_text(encoding="utf-8"))
    assert (report["rows"], report["decisions_in_store"]) == (200, 1000)
    assert report["csv_median_s"] > 0 and report["xlsx_median_s"] > 0


@pytest.mark.slow
def test_benchmarks_review_serve_times_a_small_transcript(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(themekit.__file__).resolve().parents[1])}
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "review_serve.py"), "--words", "1200", "--codings", "60", "--repeats", "2",
         "--json", str(tmp_path / "review_serve.json")],
        capture_output=True, text=True, env=env, timeout=HANG_GUARD, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "review_serve.json").read_text(encoding="utf-8"))
    assert report["words"] >= 1100 and 40 <= report["codings"] <= 80
    assert report["render_ms_median"] > 0 and report["decision_ms_median"] > 0
    assert "decision round trip" in result.stdout
    # the queue page answers before its cards come, and they come before the first training ends
    assert 0 < report["queue_first_s"] <= report["queue_cards_s"] <= report["queue_trained_s"]
    assert "first /queue visit, page painted" in result.stdout
