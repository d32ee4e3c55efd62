from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from themekit.cli import app

from .conftest import SAMPLE, SAMPLE_CODEBOOK, SAMPLE_GOLD, write

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_cli_code_writes_run_folder(tmp_path, tiny_corpus, tiny_codebook):
    out = tmp_path / "run"
    result = invoke("code", tiny_corpus, "--codebook", tiny_codebook, "--out", out, "--method", "rule")
    assert result.exit_code == 0, result.output
    assert f"Coded 2 transcripts with rule: 7 segments, 6 codings with 3 of 3 codes → {out}" in result.output
    record = json.loads((out / "run.json").read_text())
    assert record["counts"]["transcripts"] == 2
    assert record["counts"]["codings"] == 6


@pytest.mark.slow
def test_cli_code_sample_with_its_codings_is_the_readme_library_example(
    tmp_path, sample_run, sample_folder, embedding_cache
):
    """The README's quick start with learned coding added (--gold) codes the sample exactly as its library example
    does (every method): the same defaults (the project store, themekit.yaml if any), so the same run."""
    # the session's embeddings, copied to the default cache folder (in the working folder): nothing is embedded twice
    shutil.copytree(embedding_cache, tmp_path / ".themekit" / "cache")
    out = tmp_path / "sample"
    result = invoke("code", SAMPLE, "--codebook", SAMPLE_CODEBOOK, "--out", out, "--gold", SAMPLE_GOLD)
    assert result.exit_code == 0, result.output
    # the terminal says which methods ran, and what the classifier learned from
    assert (
        f"Classifier trained on {SAMPLE_GOLD}: 1254 human codings of 1090 excerpts, models for 36 of 36 codes"
    ) in result.output
    # trained on the transcripts it codes (run.json: stats.classifier_trained_on), and the terminal says so
    assert "Note: it learned from 8 of the 8 transcripts it coded (KW01, KW02, KW03, KW04, KW05, ...)" in result.output
    assert "Coded 8 transcripts with rule, semantic, classifier: 1090 segments" in result.output
    assert "No human codings" not in result.output
    summary = (out / "summary.md").read_text()
    assert summary.count("\n> ") >= 30
    # the library's run (themekit.code on the same folder) is the same run, byte for byte
    assert json.loads((out / "run.json").read_text())["run_id"] == sample_run.id
    assert sample_run.settings["gold"]["path"] == str(SAMPLE_GOLD)
    for name in ("excerpts.csv", "summary.md"):
        assert (out / name).read_bytes() == (sample_folder / name).read_bytes(), name
    assert set(pd.read_csv(out / "excerpts.csv")["method"]) >= {"rule+semantic+classifier", "classifier"}


@pytest.mark.slow
def test_cli_code_sample_quick_start_trains_nothing_and_says_how_to_add_codings(tmp_path, embedding_cache):
    """The README's quick start as written: the sample's human codings sit in a subfolder, so no classifier trains."""
    shutil.copytree(embedding_cache, tmp_path / ".themekit" / "cache")
    result = invoke("code", SAMPLE, "--codebook", SAMPLE_CODEBOOK, "--out", tmp_path / "sample")
    assert result.exit_code == 0, result.output
    assert "Coded 8 transcripts with rule, semantic: 1090 segments" in result.output
    assert "Classifier trained" not in result.output
    assert result.output.rstrip().endswith(
        f"No human codings: the classifier did not run (add --gold FILE, e.g. {SAMPLE_GOLD})"
    )
    record = json.loads((tmp_path / "sample" / "run.json").read_text())
    assert record["settings"]["methods"] == ["rule", "semantic"] and "gold" not in record["settings"]


def test_cli_code_says_how_to_add_human_codings_and_learns_from_a_gold_csv_beside_the_transcripts(
    tmp_path, tiny_corpus, tiny_codebook, monkeypatch
):
    # no model package: the TF-IDF fallback embeds, so the model is never loaded (both modules look the package up)
    monkeypatch.setattr("themekit.pipeline.steps.KNOWN_MODEL_PACKAGES", ("no_such_model_package_xyz",))
    monkeypatch.setattr("themekit.nlp.embed.KNOWN_MODEL_PACKAGES", ("no_such_model_package_xyz",))
    hint = "No human codings: the classifier did not run (add --gold FILE of human codings)"
    default = invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", tmp_path / "r1")
    assert default.exit_code == 0, default.output
    assert "Coded 2 transcripts with rule, semantic: " in default.output
    assert default.output.rstrip().endswith(hint)
    chosen = invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", tmp_path / "r2", "--method", "rule,semantic")
    assert chosen.exit_code == 0 and "No human codings" not in chosen.output  # the user chose: nothing to suggest
    assert (
        "No human codings" not in invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", tmp_path / "r3", "-q").output
    )
    # a gold.csv beside the transcripts is found, and the terminal says the classifier learned from it
    write(
        tiny_corpus / "gold.csv",
        "transcript,code,text\nP01,loneliness,Honestly the isolation was the worst part of it.\n",
    )
    found = invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", tmp_path / "r4")
    assert found.exit_code == 0, found.output
    assert f"Classifier trained on {tiny_corpus / 'gold.csv'}: 1 human codings of " in found.output
    assert "No human codings" not in found.output
    # one human coding trains no model: the terminal says what ran, and that the classifier gave nothing and why
    assert "Coded 2 transcripts with rule, semantic: " in found.output
    said = " ".join(found.output.split())
    assert "Note: classifier gave no coding: it trained models for 0 of 3 codes (a code needs 5 positive" in said


def test_cli_code_refuses_existing_run(tmp_path, tiny_corpus, tiny_codebook):
    out = tmp_path / "run"
    assert invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", out, "-q", "--method", "rule").exit_code == 0
    result = invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", out, "--method", "rule")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error [E300]: {out}: a run folder already exists there. Choose a new --out path, or add --force to replace it."
    )
    assert (
        invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", out, "--force", "-q", "--method", "rule").exit_code == 0
    )


def test_cli_code_missing_folder_is_one_line_error(tmp_path, tiny_codebook):
    result = invoke("code", tmp_path / "nope", "-c", tiny_codebook, "-o", tmp_path / "run")
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == f"Error [E101]: {tmp_path / 'nope'}: no such folder. Give the folder that holds the transcripts."
    )
    assert "Traceback" not in result.output


def test_cli_code_bad_codebook_lists_problems(tmp_path, tiny_corpus):
    bad = write(tmp_path / "bad.yaml", "name: x\nversion: 1.0.0\nthemes: []\ncolour: red\n")
    result = invoke("code", tiny_corpus, "-c", bad, "-o", tmp_path / "run")
    assert result.exit_code == 1
    assert f"Error [E200]: {bad}: 2 problems in the codebook; fix them and run again:" in result.output
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
    assert "(--strict stops the run)" in strict.output and "P03.txt" in strict.output
    assert not (tmp_path / "run2").exists()


def test_cli_code_unknown_method(tmp_path, tiny_corpus, tiny_codebook):
    result = invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", tmp_path / "run", "--method", "magic")
    assert (
        result.exit_code == 1
    )  # refused by the library's check, before any work, as every choice outside its vocabulary
    assert result.output.strip() == (
        "Error [E400]: unknown coding method 'magic' (--method); choose from: rule, semantic, classifier"
    )


def test_cli_error_names_the_flags_of_the_library_parameters(tmp_path, tiny_corpus, tiny_codebook):
    result = invoke(
        "code", tiny_corpus, "-c", tiny_codebook, "-o", tmp_path / "run", "--scheduler", "tcp://127.0.0.1:8786"
    )
    assert result.exit_code == 1
    # the library says "scheduler= is for engine='dask'; ..."; the command line names its flags
    assert (
        result.output.strip()
        == "Error [E400]: --scheduler is for --engine dask; add --engine dask or leave --scheduler out"
    )
    result = invoke("code", tiny_corpus, "-c", tiny_codebook, "-o", tmp_path / "run", "--engine", "spark")
    assert result.exit_code == 1
    assert result.output.strip() == "Error [E400]: unknown engine 'spark' (--engine); choose from: local, dask"


def test_cli_debug_shows_the_cause_of_an_error(tmp_path):
    sheet = write(tmp_path / "sheet.xlsx", "not a workbook")
    plain = invoke("review", "import", sheet, "--coder", "alex")
    assert plain.exit_code == 1
    assert plain.output.startswith(f"Error [E702]: {sheet}: cannot be read as an Excel workbook (")
    assert "Traceback" not in plain.output
    debug = invoke("--debug", "review", "import", sheet, "--coder", "alex")
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.output
    assert "zipfile.BadZipFile: File is not a zip file" in debug.output  # the cause, from openpyxl
    assert "The above exception was the direct cause of the following exception" in debug.output
    assert "themekit.errors.ReviewSheetError" in debug.output
    assert debug.output.strip().splitlines()[-1] == plain.output.strip().splitlines()[-1]  # the message still ends it


def test_cli_codebook_validate(tmp_path, tiny_codebook):
    ok = invoke("codebook", "validate", tiny_codebook)
    assert ok.exit_code == 0
    assert ok.output.strip() == f"{tiny_codebook}: valid — Tiny study 0.1.0, 2 themes, 3 codes."
    bad = write(
        tmp_path / "bad.yaml",
        "name: x\nversion: 1.0.0\nthemes:\n  - id: a\n    label: A\n    codes:\n      - id: a\n        label: A\n",
    )
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


def test_cli_code_reads_named_table_columns_and_names_a_missing_one(tmp_path, tiny_codebook):
    folder = tmp_path / "oral"
    write(
        folder / "OH01.csv",
        "timestamp,who,said,tags\n0:01,Interviewer,What was hardest?,hardship\n"
        "0:04,Narrator,The bailiffs came twice and the debts kept growing.,debt\n",
    )
    out = tmp_path / "run"
    result = invoke(
        "code",
        folder,
        "-c",
        tiny_codebook,
        "-o",
        out,
        "--method",
        "rule",
        "--text-column",
        "said",
        "--speaker-column",
        "who",
    )
    assert result.exit_code == 0, result.output
    record = json.loads((out / "run.json").read_text())
    assert record["transcripts"][0]["speakers"] == ["Interviewer (interviewer)", "Narrator (participant)"]
    assert record["settings"]["table_columns"] == {"text": "said", "speaker": "who"}
    assert record["counts"]["codings"] == 1
    result = invoke(
        "code", folder, "-c", tiny_codebook, "-o", tmp_path / "run2", "--method", "rule", "--text-column", "words"
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (
        f"{folder / 'OH01.csv'}: has no column 'words' for the speech (columns are: timestamp, who, said, tags). "
        "Give one of its columns as --text-column"
    ) in " ".join(result.output.split())


def test_cli_code_warns_of_a_transcript_without_an_interviewer(tmp_path, tiny_codebook):
    folder = tmp_path / "t"
    write(folder / "P01.txt", "Interviewer: What was hardest?\n\nP01: The bailiffs came twice.\n")
    write(
        folder / "P02.txt",
        "Sam: The bailiffs came twice.\n\nKim: And the debts kept growing.\n\nSam: Yes.\n\nKim: Then they stopped.\n",
    )
    out = tmp_path / "run"
    result = invoke("code", folder, "-c", tiny_codebook, "-o", out, "--method", "rule")
    assert result.exit_code == 0, result.output
    assert "Warning: P02: no interviewer identified among its speakers ('Sam', 'Kim')" in " ".join(
        result.output.split()
    )
    record = json.loads((out / "run.json").read_text())
    assert record["stats"]["no_interviewer"] == ["P02"]
    assert any(w.startswith("no interviewer identified") for w in record["transcripts"][1]["warnings"])


def test_cli_code_warns_of_a_transcript_without_labels_in_a_folder_of_interviews(tmp_path, tiny_codebook):
    # P02's labels are written in a form themekit does not read: its questions would be coded as P02's words
    folder = tmp_path / "t"
    write(folder / "P01.txt", "Interviewer: What was hardest?\n\nP01: The bailiffs came twice.\n")
    write(folder / "P02.txt", "Interviewer - What was hardest?\nP02 - The debts kept growing.\n")
    result = invoke("code", folder, "-c", tiny_codebook, "-o", tmp_path / "run", "--method", "rule")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert (
        "Warning: P02: no speaker labels found; all text is taken as one participant turn by 'P02', while other "
        "transcripts of the folder have an interviewer; if this one has one too, write its speaker labels in a form "
        "themekit reads (README, Transcripts)"
    ) in said
    assert "P01: no speaker labels" not in said
    # a folder of monologues, none with an interviewer: nothing to warn of
    write(tmp_path / "m" / "M01.txt", "The bailiffs came twice.\n")
    write(tmp_path / "m" / "M02.txt", "The debts kept growing.\n")
    quiet = invoke("code", tmp_path / "m", "-c", tiny_codebook, "-o", tmp_path / "run2", "--method", "rule")
    assert quiet.exit_code == 0 and "no speaker labels" not in quiet.output


def test_cli_code_takes_table_columns_from_the_settings_file(tmp_path, tiny_codebook):
    write(tmp_path / "themekit.yaml", "transcripts:\n  text_column: said\n")
    write(
        tmp_path / "oral" / "OH01.csv",
        "speaker,said,tags\nInterviewer,What was hardest?,x\nNarrator,The bailiffs came twice.,debt\n",
    )
    result = invoke("code", tmp_path / "oral", "-c", tiny_codebook, "-o", tmp_path / "run", "--method", "rule")
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["settings"]["table_columns"] == {"text": "said", "speaker": None}
    assert record["counts"]["codings"] == 1
    write(tmp_path / "themekit.yaml", "transcripts:\n  text_colum: said\n")
    result = invoke("code", tmp_path / "oral", "-c", tiny_codebook, "-o", tmp_path / "run2", "--method", "rule")
    assert result.exit_code == 1 and "transcripts.text_colum" in result.output


def _plain(text: str) -> str:
    """CLI output with rich's box drawing and line wrapping taken out."""
    import re

    return re.sub(r"[│╭╮╰╯─\s]+", " ", text)


def test_cli_help_lists_the_choices_of_every_fixed_vocabulary_option():
    def helped(*command):
        return _plain(runner.invoke(app, [*command, "--help"], env={"COLUMNS": "300"}).output)

    code = helped("code")
    assert "--unit <sentence|turn|paragraph|passage>" in code and "--engine <local|dask>" in code
    assert "rule, semantic, classifier; aliases rules, embedding(s), classifiers" in code
    suggest = helped("suggest")
    assert (
        "--unit <sentence|turn|paragraph|passage>" in suggest
        and "--interviewer-label" in suggest
        and "--quiet" in suggest
    )
    assert "--format -f <docx|html|md>" in helped("export", "report")
    assert "--scope <transcript|coded>" in helped("evaluate")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["--unit", "sentences"],
            "unknown coding unit 'sentences' (--unit); choose from: sentence, turn, paragraph, passage",
        ),
        (["--method", "rule,foo"], "unknown coding method 'foo' (--method); choose from: rule, semantic, classifier"),
        (["--engine", "spark"], "unknown engine 'spark' (--engine); choose from: local, dask"),
    ],
)
def test_cli_unknown_choice_fails_before_any_work(tmp_path, args, said):
    # the transcripts folder does not exist: the choice is refused before anything is read
    result = runner.invoke(
        app, ["code", str(tmp_path / "nowhere"), "-c", str(tmp_path / "none.yaml"), "-o", str(tmp_path / "r"), *args]
    )
    assert result.exit_code == 1
    assert result.output.strip() == f"Error [E400]: {said}"
    assert not (tmp_path / "r").exists()


def test_cli_method_aliases_and_case_are_accepted(tiny_corpus, tiny_codebook, tmp_path):
    result = runner.invoke(
        app,
        [
            "code",
            str(tiny_corpus),
            "-c",
            str(tiny_codebook),
            "-o",
            str(tmp_path / "r"),
            "--method",
            "Rules",
            "--unit",
            "TURN",
            "--no-cache",
            "--project",
            str(tmp_path / "p.db"),
        ],
    )
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "r" / "run.json").read_text())
    assert record["settings"]["methods"] == ["rule"] and record["settings"]["unit"] == "turn"


def test_cli_says_which_method_gave_nothing_and_why(tmp_path, tiny_corpus):
    codebook = write(
        tmp_path / "bare.yaml",
        "schema_version: 1\nname: Bare\nversion: 1.0.0\nthemes:\n  - id: t\n    label: T\n    codes:\n"
        "      - id: trust\n        label: Trust\n        definition: Trusting the keyworker.\n",
    )
    result = runner.invoke(
        app, ["code", str(tiny_corpus), "-c", str(codebook), "--method", "rule", "-o", str(tmp_path / "run")]
    )
    assert result.exit_code == 0, result.output
    assert "Coded 2 transcripts with no method: " in result.output
    said = " ".join(result.output.split())
    assert "Note: rule gave no coding: the codebook has no keywords or patterns (add keywords: to its codes" in said
