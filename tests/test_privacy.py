from __future__ import annotations

import csv

import docx
from openpyxl import load_workbook
from typer.testing import CliRunner

from themekit import code
from themekit.cli import app
from themekit.export.privacy import REDACTED, Privacy

from .conftest import write


def test_privacy_redacts_listed_terms_and_patterns():
    privacy = Privacy(terms=["Sarah Jones", "Scarborough", "Hope Trust"])
    text = privacy.text(
        "Sarah Jones at the hope trust in Scarborough, email sarah.j@example.org, "
        "ring 07700 900123 or +44 1632 960001, postcode YO11 2AB. Scarboroughs stay."
    )
    assert text == (
        f"{REDACTED} at the {REDACTED} in {REDACTED}, email {REDACTED}, "
        f"ring {REDACTED} or {REDACTED}, postcode {REDACTED}. Scarboroughs stay."
    )
    assert privacy.counts == {"listed terms": 3, "email": 1, "phone": 2, "postcode": 1}
    assert privacy.summary() == "redacted 7: 1 email, 3 listed terms, 2 phone, 1 postcode"


def test_privacy_pseudonyms_are_stable_and_kept_in_the_run_folder(tmp_path, tiny_corpus, tiny_codebook):
    run = code(tiny_corpus, tiny_codebook, methods="rule")
    folder = run.save(tmp_path / "run")
    redact = write(tmp_path / "redact.txt", "council\n")
    runner = CliRunner()
    result = runner.invoke(
        app, ["export", "docx", str(folder), "-o", str(tmp_path / "q.docx"), "--pseudonymise", "--redact", str(redact)]
    )
    assert result.exit_code == 0, result.output
    assert "Participants pseudonymised; redacted 1: 1 listed terms." in result.output
    with (folder / "pseudonyms.csv").open() as fh:
        mapping = {row["identifier"]: row["pseudonym"] for row in csv.DictReader(fh)}
    assert mapping == {"P01": "Participant 1", "P02": "Participant 2"}
    document = docx.Document(tmp_path / "q.docx")
    cells = [[c.text for c in row.cells] for t in document.tables for row in t.rows[1:]]
    assert {row[1] for row in cells} <= {"Participant 1", "Participant 2"}
    assert all("P01" not in row[0] and "council" not in row[0] for row in cells)
    # the mapping file wins over a new ordering: edit it and exports follow it
    (folder / "pseudonyms.csv").write_text("identifier,pseudonym\nP01,Alex\nP02,Sam\n")
    assert (
        runner.invoke(app, ["export", "xlsx", str(folder), "-o", str(tmp_path / "x.xlsx"), "--pseudonymise"]).exit_code
        == 0
    )
    sheet = load_workbook(tmp_path / "x.xlsx")["Barriers"]
    header = [c.value for c in sheet[1]]
    people = {row[header.index("transcript")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert people <= {"Alex", "Sam"}
    report = runner.invoke(
        app,
        [
            "export",
            "report",
            str(folder),
            "-f",
            "html",
            "-o",
            str(tmp_path / "r.html"),
            "--pseudonymise",
            "--no-charts",
        ],
    )
    assert report.exit_code == 0
    page = (tmp_path / "r.html").read_text()
    assert "— Alex" in page and "— P01" not in page


def test_privacy_missing_redaction_list(tmp_path, tiny_corpus, tiny_codebook):
    folder = code(tiny_corpus, tiny_codebook, methods="rule").save(tmp_path / "run")
    result = CliRunner().invoke(app, ["export", "docx", str(folder), "--redact", str(tmp_path / "none.txt")])
    assert result.exit_code == 1
    assert f"Error [E302]: {tmp_path / 'none.txt'}: cannot read the redaction list" in result.output
