from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from themekit import EXCERPT_COLUMNS, RunFolderError, code, write_run

from .conftest import SAMPLE, SAMPLE_GOLD, write


def test_export_run_folder_contents(sample_rule_folder, sample_rule_run):
    assert sorted(p.name for p in sample_rule_folder.iterdir()) == [
        "codebook.yaml",
        "excerpts.csv",
        "excerpts.parquet",
        "run.json",
        "segments.parquet",
        "summary.md",
        "transcripts.parquet",
    ]
    csv = pd.read_csv(sample_rule_folder / "excerpts.csv")
    assert list(csv.columns) == list(EXCERPT_COLUMNS)
    parquet = pd.read_parquet(sample_rule_folder / "excerpts.parquet")
    assert len(parquet) == len(csv) == len(sample_rule_run.codings)
    assert (parquet["text"] == csv["text"]).all()
    row = csv.iloc[0]
    transcript = sample_rule_run.corpus[row["transcript"]]
    assert transcript.text[row["start"] : row["end"]] == row["text"]
    assert set(csv["codebook_version"]) == {"1.0.0"}
    assert set(csv["codebook_sha256"]) == {sample_rule_run.codebook.sha256}


def test_export_run_folder_loads_back(sample_rule_folder, sample_rule_run):
    from themekit import Run

    loaded = Run.load(sample_rule_folder)
    assert loaded.id == sample_rule_run.id
    assert len(loaded.codings) == len(sample_rule_run.codings)
    assert loaded.excerpts.drop(columns="run_id").equals(sample_rule_run.excerpts.drop(columns="run_id"))
    assert loaded.corpus["KW03"].attributes["region"] == "Market town"


def test_export_run_id_depends_on_content_not_install_paths(tiny_run):
    import dataclasses

    def with_settings(model_dir: str, weights: str, gold: str) -> str:
        settings = {
            "methods": ["rule", "semantic"],
            "embedding": {
                "identity": f"st:{Path(model_dir).name}:{weights}",
                "model": f"sentence-transformers model {model_dir} (weights sha256 {weights[:12]})",
            },
            "gold": {"path": gold, "sha256": "ab" * 32},
        }
        return dataclasses.replace(tiny_run, settings=settings)

    here = with_settings("/home/ana/models/all-MiniLM-L6-v2", "1" * 16, "/home/ana/study/gold.csv")
    there = with_settings(
        "/opt/venv/lib/python3.11/site-packages/gt/models--x/snapshots/c9745ed1", "1" * 16, "C:/study/gold.csv"
    )
    assert here.id == there.id
    other_weights = with_settings("/home/ana/models/all-MiniLM-L6-v2", "2" * 16, "/home/ana/study/gold.csv")
    assert other_weights.id != here.id
    assert dataclasses.replace(tiny_run, settings={**here.settings, "min_score": 0.5}).id != here.id
    # run.json still says where the model was
    assert here.settings["embedding"]["model"].startswith("sentence-transformers model /home/ana/models/")


def test_export_run_json_records_hashes_settings_and_timings(sample_rule_folder, sample_rule_run):
    record = json.loads((sample_rule_folder / "run.json").read_text())
    assert record["schema_version"] == 1
    assert record["codebook"]["version"] == "1.0.0"
    assert record["codebook"]["sha256"] == sample_rule_run.codebook.sha256
    by_id = {t["id"]: t for t in record["transcripts"]}
    assert len(by_id) == 8
    kw07 = by_id["KW07"]
    assert kw07["sha256"] == hashlib.sha256((SAMPLE / "KW07.srt").read_bytes()).hexdigest()
    assert kw07["encoding"] == "cp1252" and kw07["format"] == "srt"
    assert kw07["attributes"]["works_alone"] == "no"
    assert record["settings"]["unit"] == "sentence"
    assert record["settings"]["methods"] == ["rule"]
    assert {"ingest", "segment", "code:rule", "export:excerpts"} <= set(record["timings_seconds"])
    assert record["counts"]["codings"] == len(sample_rule_run.codings)


@pytest.mark.slow
def test_export_run_json_of_the_default_run_records_every_method(sample_folder, sample_run):
    """The sample coded with its human codings (--gold): the classifier trains, and run.json says so."""
    record = json.loads((sample_folder / "run.json").read_text())
    assert record["settings"]["methods"] == ["rule", "semantic", "classifier"]
    gold = SAMPLE_GOLD
    assert record["settings"]["gold"] == {"path": str(gold), "sha256": hashlib.sha256(gold.read_bytes()).hexdigest()}
    assert record["settings"]["embedding"]["identity"].startswith("st:")
    assert set(record["stats"]["classifier"]) == {c.id for c in sample_run.codebook}
    assert record["counts"]["codings"] == len(sample_run.codings)
    methods = set(pd.read_csv(sample_folder / "excerpts.csv")["method"])
    assert {"rule+semantic+classifier", "classifier"} <= methods


def test_export_summary_md_has_prevalence_and_attributed_quotes(sample_rule_folder, sample_rule_run):
    text = (sample_rule_folder / "summary.md").read_text()
    assert text.startswith("# Keyworker perspectives on employability support: theme summary")
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == [t.label for t in sample_rule_run.codebook.themes] + ["Notes on transcripts"]
    assert "- KW04: text before the first speaker label is kept as a preamble and not coded" in text
    section = text.split("### Public transport\n", 1)[1].split("###", 1)[0]
    count = sample_rule_run.excerpts.query("code == 'transport' and not negated")["transcript"].nunique()
    assert f"({count} of 8) mentioned this" in section
    quotes = [line for line in section.splitlines() if line.startswith("> ")]
    assert len(quotes) == 2
    attributions = [q.rsplit(" — ", 1)[1] for q in quotes]
    assert len(set(attributions)) == 2 and all(a.startswith("KW0") for a in attributions)


def test_export_refuses_existing_run_and_force_replaces(tmp_path, tiny_corpus, tiny_codebook):
    run = code(tiny_corpus, tiny_codebook, methods="rule")
    out = run.save(tmp_path / "r1")
    excerpts = (out / "excerpts.csv").read_bytes()
    (out / "note.txt").write_text("mine")
    with pytest.raises(RunFolderError, match="a run folder already exists there.*force=True"):
        run.save(out)
    assert (out / "note.txt").read_text() == "mine"
    run.save(out, force=True)
    assert not (out / "note.txt").exists()
    assert (out / "excerpts.csv").read_bytes() == excerpts and b"The bailiffs came twice in one month." in excerpts
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".") and p.name != ".themekit"] == []


def test_export_interrupted_write_leaves_no_folder_and_old_run_intact(
    tmp_path, tiny_corpus, tiny_codebook, monkeypatch
):
    run = code(tiny_corpus, tiny_codebook, methods="rule")
    old = run.save(tmp_path / "r1")
    before = (old / "excerpts.csv").read_bytes()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("themekit.export.folder.summary_markdown", boom)
    with pytest.raises(KeyboardInterrupt):
        write_run(run, tmp_path / "r2")
    with pytest.raises(KeyboardInterrupt):
        write_run(run, old, force=True)
    assert not (tmp_path / "r2").exists()
    assert (old / "excerpts.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".themekit") == ["codebook.yaml", "r1", "transcripts"]


def test_export_bad_transcript_is_listed_and_others_coded(tmp_path, tiny_corpus, tiny_codebook):
    (tiny_corpus / "P03.txt").write_bytes(b"")
    (tiny_corpus / "P04.docx").write_bytes(b"PK\x03\x04 truncated")
    run = code(tiny_corpus, tiny_codebook, methods="rule")
    assert [t.id for t in run.corpus] == ["P01", "P02"]
    reasons = [r for _, r in run.corpus.failures]
    assert any("P03.txt: is empty" in r for r in reasons)
    assert any("P04.docx: is not a readable Word document" in r for r in reasons)
    out = run.save(tmp_path / "r")
    record = json.loads((out / "run.json").read_text())
    assert [f["path"].rsplit("/", 1)[1] for f in record["failures"]] == ["P03.txt", "P04.docx"]
    assert "## Transcripts not coded" in (out / "summary.md").read_text()


def test_export_strict_fails_on_any_bad_transcript(tiny_corpus, tiny_codebook):
    from themekit import CorpusError

    write(tiny_corpus / "P03.txt", "")
    with pytest.raises(CorpusError, match=r"1 transcript\(s\) could not be read \(strict=True stops the run\)"):
        code(tiny_corpus, tiny_codebook, strict=True)
