"""Participant names and times as people read them: ``QR05`` (not ``QR05_transcript_deidentified``) and ``0:01:43``
in summary.md, the Word report and quote tables, Excel, excerpts.csv, run.quotes() and the web app; names from
participants.csv; two files that would share a name keep their full file names, with a warning."""

from __future__ import annotations

import csv
import json
import re

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

import themekit
from themekit.cli import app as cli
from themekit.export import export_quote_docx, export_report, export_xlsx
from themekit.export.privacy import Privacy
from themekit.ingest import participant_name, participant_names, read_corpus
from themekit.util.clock import clock

from .conftest import write

runner = CliRunner()

#: Otter's export: the speaker and the time on one line, the speech below.
QR05 = """\
Interviewer  0:01
How have things been since you moved?

Speaker 1  1:43
Honestly the isolation was the worst part of it. I felt isolated and lonely every single day of the week.

Interviewer  2:10
And money?

Speaker 1  1:02:03
The debts piled up and I still owe 300 to the council. The bailiffs came twice in one month, which was awful.
"""
QR06 = """\
Interviewer  0:02
What helped you most?

Speaker 1  0:15
I trust her completely, she never judged me at all and she always came back when she said she would.
"""


@pytest.fixture
def otter_folder(tmp_path):
    folder = tmp_path / "interviews"
    write(folder / "QR05_transcript_deidentified.txt", QR05)
    write(folder / "QR06_transcript_deidentified.txt", QR06)
    return folder


@pytest.fixture
def otter_run(otter_folder, tiny_codebook, tmp_path):
    """``themekit code`` on two Otter transcripts named as people save them: the terminal and the run folder."""
    result = runner.invoke(
        cli,
        ["code", str(otter_folder), "--codebook", str(tiny_codebook), "--out", str(tmp_path / "run"),
         "--method", "rule", "--no-cache", "--project", str(tmp_path / "p.db")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return tmp_path / "run", result.output


@pytest.mark.parametrize(
    ("stem", "name"),
    [
        ("QR05_transcript_deidentified", "QR05"),
        ("QR05-transcript", "QR05"),
        ("QR05_deid", "QR05"),
        ("QR05_anon", "QR05"),
        ("QR05_anonymised", "QR05"),
        ("QR05_Anonymized", "QR05"),
        ("QR05_clean", "QR05"),
        ("QR05_final", "QR05"),
        ("QR05_redacted", "QR05"),
        ("QR05 (1)", "QR05"),
        ("QR05_v2", "QR05"),
        ("QR05 transcript final (2)", "QR05"),
        ("Interview with Sam_transcript", "Interview with Sam"),
        ("QR05", "QR05"),
        ("transcript", "transcript"),  # never empty: a name that is only a suffix is kept
        ("_transcript", "_transcript"),
        ("final_v2", "final"),
        ("cleanup", "cleanup"),  # a word that only starts like a suffix is kept
    ],
)
def test_names_file_name_without_suffixes(stem, name):
    assert participant_name(stem) == name


def test_names_two_files_that_would_share_a_name_keep_their_full_names():
    names = participant_names(["QR05_transcript", "QR05_transcript_v2", "qr05-deid", "QR06_transcript"])
    assert {stem: n.name for stem, n in names.items()} == {
        "QR05_transcript": "QR05_transcript",
        "QR05_transcript_v2": "QR05_transcript_v2",
        "qr05-deid": "qr05-deid",
        "QR06_transcript": "QR06",
    }
    assert names["QR05_transcript"].note == (
        "is named by its full file name, QR05_transcript, not QR05: QR05_transcript_v2, qr05-deid would be named so "
        "too. Rename the files, or name participants in participants.csv"
    )
    assert names["QR06_transcript"].note is None
    # a file already named QR05 keeps it; the other one keeps its full name
    both = participant_names(["QR05", "QR05_transcript"])
    assert [n.name for n in both.values()] == ["QR05", "QR05_transcript"]


def test_names_collision_warned_on_the_terminal_and_kept_in_the_run(tmp_path, tiny_codebook):
    folder = tmp_path / "interviews"
    write(folder / "QR05_transcript.txt", QR05)
    write(folder / "QR05_transcript_v2.txt", QR06)
    write(folder / "QR07_transcript.txt", QR06)
    result = runner.invoke(
        cli,
        ["code", str(folder), "--codebook", str(tiny_codebook), "--out", str(tmp_path / "run"), "--method", "rule",
         "--no-cache", "--project", str(tmp_path / "p.db")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert (
        "Warning: QR05_transcript: is named by its full file name, QR05_transcript, not QR05: QR05_transcript_v2 "
        "would be named so too." in out
    )
    assert "Participants are named QR05_transcript, QR05_transcript_v2, QR07 (from file names;" in out
    record = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert [(t["id"], t["participant"]) for t in record["transcripts"]] == [
        ("QR05_transcript", "QR05_transcript"),
        ("QR05_transcript_v2", "QR05_transcript_v2"),
        ("QR07_transcript", "QR07"),
    ]


def test_names_from_participants_csv(otter_folder, tiny_codebook, tmp_path):
    write(
        otter_folder / "participants.csv",
        "transcript,pseudonym,team\nQR05_transcript_deidentified,Ana,North\nQR06_transcript_deidentified,,South\n",
    )
    corpus = read_corpus(otter_folder)
    assert [(t.id, t.participant) for t in corpus] == [
        ("QR05_transcript_deidentified", "Ana"),
        ("QR06_transcript_deidentified", "QR06"),  # no pseudonym given: the file name rule
    ]
    run = themekit.code(otter_folder, tiny_codebook, methods="rule", cache_dir=None, project=tmp_path / "p.db")
    assert {c.segment.transcript.participant for c in run.codings} == {"Ana", "QR06"}
    # the transcript id stays the key of the run's data
    assert set(run.excerpts["transcript"]) <= {"QR05_transcript_deidentified", "QR06_transcript_deidentified"}


def test_names_terminal_says_how_participants_are_named(otter_run):
    _, output = otter_run
    lines = [line for line in output.splitlines() if "Participants are named" in line]
    assert lines == [
        "Participants are named QR05, QR06 (from file names; set names in participants.csv or the report's "
        "attribution setting)"
    ]


def test_names_and_times_in_summary_md_and_csv(otter_run):
    folder, _ = otter_run
    summary = (folder / "summary.md").read_text(encoding="utf-8")
    assert "— QR05" in summary and "— QR06" in summary
    assert "QR05_transcript" not in summary and "QR05\\_transcript" not in summary
    with (folder / "excerpts.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    debt = next(r for r in rows if r["code"] == "debt")
    assert (debt["transcript"], debt["participant"], debt["time"], debt["seconds"]) == (
        "QR05_transcript_deidentified",
        "QR05",
        "1:02:03",
        "3723.0",
    )
    lonely = next(r for r in rows if r["code"] == "loneliness")
    assert (lonely["participant"], lonely["time"]) == ("QR05", "0:01:43")


def test_names_and_times_in_word_quote_table_and_report(otter_run, tmp_path):
    import docx

    folder, _ = otter_run
    run = themekit.Run.load(folder)
    out = export_quote_docx(run, tmp_path / "quotes.docx")
    tables = docx.Document(str(out)).tables
    cells = {(t.rows[1].cells[1].text, t.rows[1].cells[2].text) for t in tables}
    assert ("QR05", "turn 4, 1:02:03") in cells and ("QR05", "turn 2, 0:01:43") in cells
    assert all(t.rows[0].cells[1].text == "Participant" for t in tables)
    report = docx.Document(str(export_report(run, tmp_path / "report.docx", charts=False)))
    quotes = [p.text for p in report.paragraphs if p.style.name == "Quote"]
    assert quotes and all(q.endswith("— QR05") or q.endswith("— QR06") for q in quotes)


def test_names_and_times_in_excel(otter_run, tmp_path):
    from openpyxl import load_workbook

    folder, _ = otter_run
    out = export_xlsx(themekit.Run.load(folder), tmp_path / "x.xlsx")
    sheet = load_workbook(out)["Barriers"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["code", "code_label", "participant", "transcript"]
    assert header[header.index("time") + 1] == "seconds"
    rows = [dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]
    debt = next(r for r in rows if r["code"] == "debt")
    assert (debt["participant"], debt["transcript"], debt["time"], debt["seconds"]) == (
        "QR05",
        "QR05_transcript_deidentified",
        "1:02:03",
        3723,
    )


def test_names_pseudonyms_still_replace_names(otter_run, tmp_path):
    import docx

    folder, _ = otter_run
    run = themekit.Run.load(folder)
    privacy = Privacy.for_run(run, folder, pseudonymise=True, redact=None, noun="participant")
    out = export_quote_docx(run, tmp_path / "quotes.docx", privacy=privacy)
    names = {t.rows[1].cells[1].text for t in docx.Document(str(out)).tables}
    assert names <= {"Participant 1", "Participant 2"} and names


def test_names_and_times_in_run_quotes_frame(otter_run):
    folder, _ = otter_run
    quotes = themekit.Run.load(folder).quotes("debt")
    assert set(quotes[["participant", "transcript", "time", "seconds"]].itertuples(index=False, name=None)) == {
        ("QR05", "QR05_transcript_deidentified", "1:02:03", 3723.0)
    }


def test_names_and_times_in_the_web_app(otter_run, tmp_path):
    from themekit.web import create_app

    folder, _ = otter_run
    app = create_app(tmp_path / "p.db", themekit.Run.load(folder), coder="alex", token="t")
    with TestClient(app, base_url="http://127.0.0.1") as client:
        index = client.get("/").text
        assert re.search(
            r'<a href="/t/QR05_transcript_deidentified" title="QR05_transcript_deidentified">QR05</a>', index
        )
        page = client.get("/t/QR05_transcript_deidentified").text
        assert "<h1>QR05 <small" in page
        assert '<span class="time">0:01:43</span>' in page and '<span class="time">1:02:03</span>' in page
        hits = client.get("/search", params={"q": "bailiffs"}).text
        assert 'title="QR05_transcript_deidentified">QR05</a>' in hits


@pytest.mark.parametrize(
    ("seconds", "shown"), [(103, "0:01:43"), (0, "0:00:00"), (3723.9, "1:02:03"), (None, ""), (float("nan"), "")]
)
def test_names_one_time_format(seconds, shown):
    assert clock(seconds) == shown


def test_names_open_a_transcript_in_jupyter_by_its_participant_name(otter_run):
    folder, _ = otter_run
    run = themekit.Run.load(folder)
    shown = run.transcript("QR05")
    assert shown.transcript.id == "QR05_transcript_deidentified"
    assert "<strong>QR05</strong> · QR05_transcript_deidentified" in shown.html() and "[0:01:43]" in shown.html()


def test_names_in_the_notebook_heatmap(otter_run):
    folder, _ = otter_run
    figure = themekit.Run.load(folder).plot.heatmap()
    columns = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert "QR05" in columns and "QR05_transcript_deidentified" not in columns


def test_names_in_the_review_sheet(otter_run, tmp_path):
    folder, _ = otter_run
    sheet = tmp_path / "review.csv"
    result = runner.invoke(cli, ["review", "export", str(folder), "--out", str(sheet)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(sheet.open(encoding="utf-8-sig")))
    assert {(r["transcript"], r["participant"]) for r in rows} >= {("QR05_transcript_deidentified", "QR05")}
