from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import themekit

from .conftest import ROOT

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
def test_benchmarks_run_small_size_reports_every_stage(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(themekit.__file__).resolve().parents[1])}
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--size", "small", "--workers", "1", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "small.json").read_text(encoding="utf-8"))
    assert report["words"] > 40_000 and report["transcripts"] == 10
    rows = {row["stage"]: row for row in report["stages"]}
    assert set(rows) == STAGES
    for row in rows.values():
        assert row["seconds"] > 0 and row["words_per_second"] > 0 and row["peak_rss_mb"] > 0, row
    assert rows["code:rule"]["vs_reference"] > 0 and rows["suggest"]["vs_reference"] > 0
    assert "| end to end, 1 worker |" in result.stdout
