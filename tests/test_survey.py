"""Survey answers as units: a table of open-ended responses coded one response per unit."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

import themekit
from themekit.analysis.frames import framework_matrix
from themekit.cli import app
from themekit.review.sheets import export_review, import_review
from themekit.runs.folder import read_run
from themekit.store import Project

runner = CliRunner()

RESPONSES = """\
ResponseId,Question,Answer,Group
R1,What was hard?,"Honestly the isolation was the worst part, I had nobody to talk to.",rural
R2,What was hard?,,urban
R3,What was hard?,The debts piled up and the bailiffs came twice.,urban
R4,What helped?,I trust my keyworker completely.,rural
"""


def test_survey_code_makes_each_response_a_unit_with_its_attributes(tmp_path, tiny_codebook):
    (tmp_path / "responses.csv").write_text(RESPONSES, encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "code",
            str(tmp_path / "responses.csv"),
            "-c",
            str(tiny_codebook),
            "--method",
            "rule",
            "--unit-column",
            "ResponseId",
            "--text-column",
            "Answer",
            "--out",
            str(tmp_path / "run"),
            "--project",
            str(tmp_path / "project.db"),
        ],
    )
    assert result.exit_code == 0, result.output
    excerpts = pd.read_csv(tmp_path / "run" / "excerpts.csv")
    assert sorted(zip(excerpts["transcript"], excerpts["code"])) == [
        ("R1", "loneliness"),
        ("R3", "debt"),
        ("R4", "trust"),
    ]
    assert set(excerpts["text"]) >= {"I trust my keyworker completely."}
    record = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert record["settings"]["table_columns"] == {"text": "Answer", "speaker": None, "unit": "ResponseId"}
    run = read_run(tmp_path / "run")
    assert [t.id for t in run.corpus] == ["R1", "R3", "R4"]  # R2 has no answer
    assert run.corpus.transcripts[0].attributes == {"Question": "What was hard?", "Group": "rural"}
    by_group = framework_matrix(run, by="Group")  # the other columns are case attributes, as participants.csv's are
    assert set(by_group.columns) == {"rural", "urban"}


def test_survey_ids_missing_are_one_message(tmp_path, tiny_codebook):
    (tmp_path / "responses.csv").write_text(
        "ResponseId,Answer\nR1,one answer here\n,a second answer\n,a third answer\n", encoding="utf-8"
    )
    result = runner.invoke(
        app,
        ["code", str(tmp_path / "responses.csv"), "-c", str(tiny_codebook), "--method", "rule", "--unit-column",
         "ResponseId", "--out", str(tmp_path / "run"), "--project", str(tmp_path / "p.db")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "2 row(s) have no id in column 'ResponseId'" in result.output
    assert "row 3: no id in column 'ResponseId'" in result.output and "row 4: no id" in result.output
    assert "Traceback" not in result.output


def test_survey_a_repeated_id_is_a_warning_and_no_answer_is_lost(tmp_path, tiny_codebook):
    (tmp_path / "responses.csv").write_text(
        "ResponseId,Answer\nR1,I trust my keyworker.\nR1,The debts piled up.\nR1,Nobody to talk to and so lonely.\n",
        encoding="utf-8",
    )
    run = themekit.code(
        tmp_path / "responses.csv", tiny_codebook, methods="rule", unit_column="ResponseId", project=None
    )
    assert [t.id for t in run.corpus] == ["R1", "R1-2", "R1-3"]
    warnings = [w for t in run.corpus for w in t.warnings]
    assert "row 3: id 'R1' is already on row 2; this answer is coded as 'R1-2'" in warnings[0]
    # a whole response is the unit: one segment per answer, each its own row's text
    assert run.settings["unit"] == "turn"
    assert [s.text for s in run.units] == [
        "I trust my keyworker.",
        "The debts piled up.",
        "Nobody to talk to and so lonely.",
    ]


def test_survey_a_chosen_unit_still_wins(tmp_path, tiny_codebook):
    (tmp_path / "responses.csv").write_text(
        "ResponseId,Answer\nR1,I trust my keyworker with everything. The debts piled up very fast though.\n",
        encoding="utf-8",
    )
    whole = themekit.code(
        tmp_path / "responses.csv", tiny_codebook, methods="rule", unit_column="ResponseId", project=None
    )
    assert [s.text for s in whole.units] == [
        "I trust my keyworker with everything. The debts piled up very fast though."
    ]
    split = themekit.code(
        tmp_path / "responses.csv",
        tiny_codebook,
        methods="rule",
        unit_column="ResponseId",
        unit="sentence",
        project=None,
    )
    assert split.settings["unit"] == "sentence"
    assert [s.text for s in split.units] == [
        "I trust my keyworker with everything.",
        "The debts piled up very fast though.",
    ]


def test_survey_unit_column_needs_one_table_not_a_folder(tmp_path, tiny_corpus, tiny_codebook):
    result = runner.invoke(
        app,
        [
            "code",
            str(tiny_corpus),
            "-c",
            str(tiny_codebook),
            "--unit-column",
            "ResponseId",
            "--out",
            str(tmp_path / "run"),
            "--project",
            str(tmp_path / "p.db"),
        ],
    )
    assert result.exit_code == 1
    assert "--unit-column reads one table of responses; give its .csv or .xlsx file (not a folder)" in result.output
    (tmp_path / "r.csv").write_text("Id,Answer\nR1,text\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "code",
            str(tmp_path / "r.csv"),
            "-c",
            str(tiny_codebook),
            "--unit-column",
            "ResponseId",
            "--out",
            str(tmp_path / "run"),
            "--project",
            str(tmp_path / "p.db"),
        ],
    )
    assert (
        result.exit_code == 1
        and "has no column 'ResponseId' for the response ids (columns are: Id, Answer)" in result.output
    )


def test_survey_xlsx_in_cp1252_csv_and_review_decisions_follow_each_answer(tmp_path, tiny_codebook):
    frame = pd.read_csv(__import__("io").StringIO(RESPONSES), dtype=str, keep_default_na=False)
    frame.to_excel(tmp_path / "responses.xlsx", index=False)
    project = Project(tmp_path / "project.db")
    run = themekit.code(
        tmp_path / "responses.xlsx",
        tiny_codebook,
        methods="rule",
        cache_dir=None,
        project=project,
        unit_column="ResponseId",
        text_column="Answer",
    )
    run.save(tmp_path / "r1")
    export_review(run, tmp_path / "review.csv", project)
    with (tmp_path / "review.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["decision"] = "accept" if row["transcript"] == "R1" else "reject" if row["transcript"] == "R3" else ""
    with (tmp_path / "filled.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert import_review(tmp_path / "filled.csv", project, coder="alex").counts["accept"] == 1
    # the same answers in a Windows-1252 CSV, one answer (R4) edited: the decisions on R1 and R3 still apply
    edited = RESPONSES.replace("I trust my keyworker completely.", "I trust my keyworker completely – café chats.")
    (tmp_path / "responses.csv").write_bytes(edited.encode("cp1252"))
    again = themekit.code(
        tmp_path / "responses.csv",
        tiny_codebook,
        methods="rule",
        cache_dir=None,
        project=project,
        unit_column="ResponseId",
        text_column="Answer",
    )
    status = {(c.segment.transcript.id, c.code_id): c.status for c in again.codings}
    assert status == {("R1", "loneliness"): "accepted", ("R3", "debt"): "rejected", ("R4", "trust"): "suggested"}
    assert "café" in again.corpus.transcripts[2].text


@pytest.mark.slow
def test_survey_code_gold_reads_a_wide_coder_file_per_response(tmp_path, tiny_codebook, embedding_cache):
    debt = [
        "The debts piled up and the bailiffs came.",
        "I owed money on every card I had.",
        "Bills and arrears kept me awake at night.",
        "The loan payments took all my wages.",
        "We were in debt to three different lenders.",
        "Money troubles and debt were constant.",
    ]
    other = ["The garden at the centre was lovely.", "I started a course at the college.",
             "My sister visits on Sundays now.", "We went walking by the river often.",
             "The staff were friendly at the office.", "I like cooking for my family."]  # fmt: skip
    rows = [f"R{n},{text}" for n, text in enumerate(debt + other, start=1)]
    (tmp_path / "responses.csv").write_text("ResponseId,Answer\n" + "\n".join(rows) + "\n", encoding="utf-8")
    wide = ["ResponseId,Code 1,Code 2"] + [f"R{n}," + ("debt," if n <= 6 else ",") for n in range(1, 13)]
    (tmp_path / "coder.csv").write_text("\n".join(wide) + "\n", encoding="utf-8")
    result = runner.invoke(
        app,
        ["code", str(tmp_path / "responses.csv"), "-c", str(tiny_codebook), "--method", "classifier",
         "--unit-column", "ResponseId", "--gold", str(tmp_path / "coder.csv"), "--code-columns", "Code *",
         "--cache-dir", str(embedding_cache), "-o", str(tmp_path / "run"), "--project", str(tmp_path / "p.db")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    # counted per response: 6 responses coded debt, 6 read and given no code
    assert record["stats"]["classifier"]["debt"]["positives"] == 6
    assert record["stats"]["classifier"]["debt"]["negatives"] == 6
    assert record["settings"]["unit"] == "turn"
