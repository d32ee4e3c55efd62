from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from themekit.cli import app

from .conftest import SAMPLE, SAMPLE_CODEBOOK, write

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_cli_code_writes_run_folder(tmp_path, tiny_corpus, tiny_codebook):
    out = tmp_path / "run"
    result = invoke("code", tiny_corpus, "--codebook", tiny_codebook, "--out", out, "--method", "rule")
    assert result.exit_code == 0, result.output
    assert f"Coded 2 transcripts: 7 segments, 6 codings with 3 of 3 codes → {out}" in result.output
    record = json.loads((out / "run.json").read_text())
    assert record["counts"]["transcripts"] == 2
    assert record["counts"]["codings"] == 6


@pytest.mark.slow
def test_cli_code_sample_quick_start(tmp_path, sample_run, sample_folder, embedding_cache):
    """The README's quick start command codes the sample as the library does (every method)."""
    # the session's embeddings, copied to the default cache folder (in the working folder): nothing is embedded twice
    shutil.copytree(embedding_cache, tmp_path / ".themekit" / "cache")
    out = tmp_path / "sample"
    result = invoke("code", SAMPLE, "--codebook", SAMPLE_CODEBOOK, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    assert result.output == ""
    summary = (out / "summary.md").read_text()
    assert summary.count("\n> ") >= 30
    # the same codings as themekit.code() on the same inputs; only the run id differs where the settings do
    cli_id = json.loads((out / "run.json").read_text())["run_id"]
    assert summary == (sample_folder / "summary.md").read_text().replace(sample_run.id, cli_id)
    ours, theirs = (pd.read_csv(f / "excerpts.csv").drop(columns="run_id") for f in (out, sample_folder))
    assert ours.equals(theirs) and set(ours["method"]) >= {"rule+semantic+classifier", "classifier"}


def test_cli_code_refuses_existing_run(tmp_path, tiny_corpus, tiny_codebook):
    out = tmp_path / "run"
    assert invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", out, "-q", "--method", "rule").exit_code == 0
    result = invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", out, "--method", "rule")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {out}: a run folder already exists there. Choose a new --out path, or add --force to replace it."
    )
    assert invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", out, "--force", "-q", "--method", "rule").exit_code == 0


def test_cli_code_missing_folder_is_one_line_error(tmp_path, tiny_codebook):
    result = invoke("code", tmp_path / "nope", "-c", tiny_codebook, "-o", tmp_path / "run")
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path / 'nope'}: no such folder. Give the folder that holds the transcripts."
    assert "Traceback" not in result.output


def test_cli_code_bad_codebook_lists_problems(tmp_path, tiny_corpus):
    bad = write(tmp_path / "bad.yaml", "name: x\nversion: 1.0.0\nthemes: []\ncolour: red\n")
    result = invoke("code", tiny_corpus, "-c", bad, "-o", tmp_path / "run")
    assert result.exit_code == 1
    assert f"Error: {bad}: 2 problems in the codebook; fix them and run again:" in result.output
    assert "themes (line 3): must not be empty" in result.output
    assert "colour (line 4): unknown key 'colour'" in result.output
    assert not (tmp_path / "run").exists()


def test_cli_code_skips_bad_transcript_unless_strict(tmp_path, tiny_corpus, tiny_codebook):
    (tiny_corpus / "P03.txt").write_bytes(b"\x00\x01\x02\x03binary\x00")
    result = invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", tmp_path / "run", "--method", "rule")
    assert result.exit_code == 0
    assert f"Skipped: {tiny_corpus / 'P03.txt'}: looks like a binary file, not text." in result.output
    assert json.loads((tmp_path / "run" / "run.json").read_text())["counts"]["transcripts"] == 2
    strict = invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", tmp_path / "run2", "--strict", "--method", "rule")
    assert strict.exit_code == 1
    assert "--strict is on" in strict.output and "P03.txt" in strict.output
    assert not (tmp_path / "run2").exists()


def test_cli_code_unknown_method(tmp_path, tiny_corpus, tiny_codebook):
    result = invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", tmp_path / "run", "--method", "magic")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: unknown coding method 'magic'; choose from: rule, semantic, classifier"


def test_cli_codebook_validate(tmp_path, tiny_codebook):
    ok = invoke("codebook", "validate", tiny_codebook)
    assert ok.exit_code == 0
    assert ok.output.strip() == f"{tiny_codebook}: valid — Tiny study 0.1.0, 2 themes, 3 codes."
    bad = write(tmp_path / "bad.yaml", "name: x\nversion: 1.0.0\nthemes:\n  - id: a\n    label: A\n    codes:\n      - id: a\n        label: A\n")
    result = invoke("codebook", "validate", bad)
    assert result.exit_code == 1
    assert "themes[0].codes[0].id (line 7): duplicate id 'a' (first at line 4)" in result.output
    assert "themes[0].codes[0].definition (line 7): missing required key" in result.output


def test_cli_codebook_show_prints_tree():
    result = invoke("codebook", "show", SAMPLE_CODEBOOK)
    assert result.exit_code == 0
    assert "Barriers faced by participants (participant_barriers)" in result.output
    assert "Trauma and self-harm (trauma)" in result.output


def test_cli_version():
    from themekit import __version__

    result = invoke("--version")
    assert result.exit_code == 0 and result.output.strip() == f"themekit {__version__}"
