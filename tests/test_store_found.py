"""Every command about a run finds the project store the run was recorded in, wherever it is run from."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from themekit.cli import app

runner = CliRunner()


def _code_elsewhere(tmp_path, tiny_corpus, tiny_codebook, monkeypatch):
    study = tmp_path / "study"
    study.mkdir()
    monkeypatch.chdir(study)
    result = runner.invoke(app, ["code", str(tiny_corpus), "-c", str(tiny_codebook), "--method", "rule", "-o", "r1"])
    assert result.exit_code == 0, result.output
    return study


def test_store_run_json_names_the_store_the_run_is_recorded_in(tmp_path, tiny_corpus, tiny_codebook, monkeypatch):
    study = _code_elsewhere(tmp_path, tiny_corpus, tiny_codebook, monkeypatch)
    record = json.loads((study / "r1" / "run.json").read_text(encoding="utf-8"))
    assert record["project"] == str((study / ".themekit" / "project.db").resolve())


def test_store_review_export_from_another_folder_uses_the_runs_store(tmp_path, tiny_corpus, tiny_codebook, monkeypatch):
    study = _code_elsewhere(tmp_path, tiny_corpus, tiny_codebook, monkeypatch)
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    result = runner.invoke(app, ["review", "export", str(study / "r1"), "-o", "sheet.csv"])
    assert result.exit_code == 0, result.output
    assert "coding(s) to review" in result.output
    assert not (other / ".themekit").exists()  # no new, empty store where the command ran
    status = runner.invoke(app, ["review", "status", "--run", str(study / "r1")])
    assert status.exit_code == 0, status.output


def test_store_a_runs_missing_store_is_refused_not_created(tmp_path, tiny_corpus, tiny_codebook, monkeypatch):
    study = _code_elsewhere(tmp_path, tiny_corpus, tiny_codebook, monkeypatch)
    (study / ".themekit").rename(tmp_path / "moved")  # the store moved, with its journal
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    result = runner.invoke(app, ["review", "export", str(study / "r1"), "-o", "sheet.csv"])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "which is not there" in said and "Give the project the run was coded with as --project PATH" in said
    assert not (other / ".themekit").exists()
    moved = runner.invoke(
        app,
        ["review", "export", str(study / "r1"), "-o", "sheet.csv", "--project", str(tmp_path / "moved" / "project.db")],
    )
    assert moved.exit_code == 0, moved.output
