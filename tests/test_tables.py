"""The one reader of the tables users hand in: encodings, delimiters, sheets, damaged workbooks, long cells, row
numbers; and that every kind of table (transcripts, participants.csv, gold and coder files, review sheets) reads
through it the same way."""

from __future__ import annotations

import csv
import random

import pytest
from typer.testing import CliRunner

import themekit
from themekit.cli import app
from themekit.errors import CorpusError, GoldFileError, ReviewSheetError, ThemekitError, TranscriptError
from themekit.human.gold import map_gold, read_gold
from themekit.ingest.corpus import read_participants, read_transcript
from themekit.review.sheets import export_review, import_review
from themekit.store import Project
from themekit.util.tables import read_table

from .conftest import write

runner = CliRunner()
#: What every reader says of a file named .xlsx that is not a workbook.
DAMAGED = "cannot be read as an Excel workbook (File is not a zip file). Open it in Excel and save it again as .xlsx, or save it as CSV (UTF-8)"


def _workbook(path, sheets: dict[str, list[list]]):
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_tables_semicolon_cp1252_csv_reads_with_its_accents(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_bytes("transcript;code;text\nP01;dette;Le café, déjà payé\nP02;santé;Ça va\n".encode("cp1252"))
    table = read_table(path)
    assert table.header == ["transcript", "code", "text"]
    assert [(row.number, row.cells) for row in table.rows] == [
        (2, ["P01", "dette", "Le café, déjà payé"]),
        (3, ["P02", "santé", "Ça va"]),
    ]
    assert table.encoding == "cp1252" and "read as Windows-1252" in table.notes[0]
    participants = tmp_path / "participants.csv"
    participants.write_bytes("transcript;région\nP01;Île-de-France\n".encode("cp1252"))
    assert read_participants(participants) == {"p01": {"région": "Île-de-France"}}


def test_tables_xlsx_sheet_by_name_reads(tmp_path):
    path = _workbook(
        tmp_path / "coding.xlsx",
        {
            "Notes": [["anything"], ["else"]],
            "Coding": [
                ["transcript", "segment", "code"],
                ["P01", 3, "debt"],
                [None, None, None],
                ["P02", 1.0, "trust"],
            ],
        },
    )
    table = read_table(path, sheet="Coding")
    assert table.header == ["transcript", "segment", "code"]
    # numbers as Excel shows them; the empty row keeps its place, so P02 is row 4 as in Excel
    assert [(row.number, row.cells) for row in table.rows] == [
        (2, ["P01", "3", "debt"]),
        (3, ["", "", ""]),
        (4, ["P02", "1", "trust"]),
    ]
    assert read_table(path).header == ["anything"]  # no sheet named: the first
    assert read_gold(path, sheet="Coding")[["_row", "transcript", "code"]].values.tolist() == [
        [2, "P01", "debt"],
        [3, "", ""],
        [4, "P02", "trust"],
    ]
    with pytest.raises(GoldFileError) as info:
        read_gold(path, sheet="Q1")
    assert str(info.value) == f"{path}: has no sheet 'Q1' (its sheets are: Notes, Coding); give one of them as sheet="


def test_tables_damaged_xlsx_is_one_message_naming_the_file(tmp_path):
    path = tmp_path / "codes.xlsx"
    path.write_bytes(random.Random(7).randbytes(3000))
    with pytest.raises(ThemekitError) as plain:
        read_table(path)
    assert str(plain.value) == f"{path}: {DAMAGED}"
    with pytest.raises(GoldFileError) as gold:
        read_gold(path)
    assert str(gold.value) == f"{path}: {DAMAGED}"
    with pytest.raises(TranscriptError) as transcript:
        read_transcript(path)
    assert str(transcript.value) == f"{path}: {DAMAGED}"
    with Project(tmp_path / "p.db") as project, pytest.raises(ReviewSheetError) as review:
        import_review(path, project, coder="sam")
    assert str(review.value) == f"{path}: {DAMAGED}."
    result = runner.invoke(app, ["review", "import", str(path), "--coder", "sam", "--project", str(tmp_path / "p.db")])
    assert result.exit_code == 1 and result.output.startswith(f"Error [E702]: {path}: cannot be read as an Excel")
    assert "Traceback" not in result.output


def test_tables_csv_with_a_500000_character_quote_reads_whole(tmp_path):
    quote = "word " * 100_000
    path = tmp_path / "gold.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [["transcript", "code", "text"], ["P01", "debt", quote], ["P02", "trust", "short"]]
        )
    limit = csv.field_size_limit()
    rows = read_gold(path)
    assert rows["text"].tolist() == [quote, "short"] and len(quote) == 500_000
    assert csv.field_size_limit() == limit  # put back for everyone else


def test_tables_review_import_of_a_sheet_with_a_500000_character_note(tmp_path, tiny_corpus, tiny_codebook):
    project_path = tmp_path / "project.db"
    with Project(project_path) as project:
        run = themekit.code(tiny_corpus, tiny_codebook, methods="rule", cache_dir=None, project=project)
        run.save(tmp_path / "run")  # saving records the run in the project
        export_review(run, tmp_path / "review.csv", project)
    with (tmp_path / "review.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    note = "n" * 500_000
    rows[0].update(decision="accept", note=note)
    with (tmp_path / "filled.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = runner.invoke(
        app, ["review", "import", str(tmp_path / "filled.csv"), "--coder", "sam", "--project", str(project_path)]
    )
    assert result.exit_code == 0, result.output
    assert "field larger than field limit" not in result.output
    with Project(project_path) as project:
        [decision] = project.decisions()
    assert (decision.decision, decision.note) == ("accept", note)


def test_tables_row_numbers_in_messages_are_the_files_own(tmp_path, tiny_corpus, tiny_codebook):
    # blank lines and a quote over two lines: each message names the row a spreadsheet shows
    participants = write(
        tmp_path / "participants.csv",
        'transcript,note\n\nP01,"two\nlines"\n\n../secret,x\n',
    )
    with pytest.raises(CorpusError) as info:
        read_participants(participants)
    assert "row 5: '../secret' is not a transcript name" in str(info.value)

    gold = write(tmp_path / "gold.csv", "transcript,segment,code\n\nP01,0,debt\n\nP09,0,debt\n")
    run = themekit.code(tiny_corpus, tiny_codebook, methods="rule", cache_dir=None)
    assert map_gold(gold, run.segments).skipped == ["row 5: unknown transcript 'P09' (the run has: P01, P02)"]

    extra = write(tmp_path / "coder.csv", "transcript,code\nP01,debt\nP02,I said, well, no\n")
    with pytest.raises(GoldFileError) as info:
        read_gold(extra)
    assert str(info.value) == (
        f"{extra}: could not be read as CSV (row 3 has 4 cells, the header 2: a cell holding a comma needs quotes). "
        "Re-save it as CSV (UTF-8) or .xlsx"
    )
    unclosed = write(tmp_path / "open.csv", 'transcript,code\nP01,debt\nP02,"never closed\nP03,x\n')
    with pytest.raises(GoldFileError, match="a quoted cell on row 3 is never closed"):
        read_gold(unclosed)


def test_tables_transcript_table_with_cells_left_as_typed(tmp_path):
    # a workbook cell holding "None" or "NA" is what the participant said, not an empty cell
    path = _workbook(
        tmp_path / "P01.xlsx", {"Sheet": [["speaker", "text"], ["Interviewer", "Any worries?"], ["P01", "None"]]}
    )
    transcript = read_transcript(path)
    last = transcript.turns[-1]
    assert (last.speaker, transcript.turn_text(last)) == ("P01", "None")


def test_tables_review_xlsx_round_trip_of_a_quote_longer_than_a_cell(tmp_path, tiny_codebook):
    from openpyxl import load_workbook

    # one answer of about 40,000 characters: Excel's cells hold 32,767, so the sheet shows it cut
    long_answer = "I felt lonely every day. " + "We talked about the weather and the bus timetable. " * 800
    corpus = tmp_path / "corpus"
    write(corpus / "P01.txt", f"Interviewer: How was it?\n\nP01: {long_answer}\n")
    project_path = tmp_path / "project.db"
    with Project(project_path) as project:
        run = themekit.code(corpus, tiny_codebook, methods="rule", unit="turn", cache_dir=None, project=project)
        run.save(tmp_path / "run")
        export_review(run, tmp_path / "review.xlsx", project)
    book = load_workbook(tmp_path / "review.xlsx")
    sheet = book.active
    header = [c.value for c in sheet[1]]
    quote = sheet.cell(row=2, column=header.index("quote") + 1).value
    assert len(quote) == 32_767 and len(long_answer) > 40_000
    sheet.cell(row=2, column=header.index("decision") + 1).value = "accept"
    book.save(tmp_path / "filled.xlsx")
    result = runner.invoke(
        app, ["review", "import", str(tmp_path / "filled.xlsx"), "--coder", "sam", "--project", str(project_path)]
    )
    assert result.exit_code == 0, result.output
    assert "has the id column shifted" not in result.output
    with Project(project_path) as project:
        [decision] = project.decisions()
    assert decision.decision == "accept" and decision.code == "loneliness"
