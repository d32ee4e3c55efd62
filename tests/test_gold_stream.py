"""Human-coding files longer than a chunk are read a chunk at a time, and score, teach and fail as files held whole."""

from __future__ import annotations

import csv

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from themekit import code
from themekit.analysis.evaluate import evaluate
from themekit.cli import app
from themekit.human.gold import HumanCodings
from themekit.util import tables

runner = CliRunner()
CHUNK = 100


def _gold(path, run, rows: int, *, encoding: str = "utf-8", damaged_row: int | None = None):
    """A file of ``rows`` codings of the run's segments by offsets: every third one 'loneliness', every seventh
    naming two codes in one cell, every 97th naming a transcript the run does not have."""
    units = list(run.units)
    table = [["Document", "char_start", "char_end", "Codes", "text", "memo"]]
    for k in range(rows):
        unit = units[k % len(units)]
        codes = "loneliness; debt" if k % 7 == 0 else ("" if k % 3 else "loneliness")
        tid = "P99" if k % 97 == 0 else unit.transcript.id
        row = [tid, unit.start, unit.end, codes, unit.text, "café" if encoding == "cp1252" else ""]
        table.append(row + (["a seventh cell"] if damaged_row == k + 2 else []))
    if encoding == "xlsx":
        book = Workbook()
        for row in table:
            book.active.append(row)
        book.save(path.with_suffix(".xlsx"))
        return path.with_suffix(".xlsx")
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(table)
    return path


@pytest.fixture
def small_chunks(monkeypatch):
    """Files are read ``CHUNK`` rows at a time; records the most rows any table of a file held at once."""
    held = {"most": 0}
    real = tables._frame_of

    def counted(rows, columns, row_column):
        frame = real(rows, columns, row_column)
        held["most"] = max(held["most"], len(frame))
        return frame

    monkeypatch.setattr(tables, "BATCH_ROWS", CHUNK)
    monkeypatch.setattr(tables, "_frame_of", counted)
    return held


def _figures(result):
    return result.to_dict()["per_code"], {k: v for k, v in result.overall.items() if k != "gold"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "xlsx"])
def test_gold_stream_scores_a_long_file_as_the_file_held_whole(tmp_path, coded, monkeypatch, encoding):
    run, folder = coded
    gold = _gold(tmp_path / "gold.csv", run, 1_000, encoding=encoding)
    whole = evaluate(folder, gold, min_support=1)
    assert HumanCodings.from_file(gold).frame is not None  # an ordinary file is held
    monkeypatch.setattr(tables, "BATCH_ROWS", CHUNK)
    human = HumanCodings.from_file(gold)
    assert human.frame is None  # ten chunks: read again as its rows are placed
    chunked = evaluate(folder, gold, min_support=1)
    assert _figures(chunked) == _figures(whole)
    overall = chunked.overall
    assert overall["columns_read_as"] == [
        "column 'Document' as transcript",
        "column 'Codes' as code",
        "143 rows naming several codes (a line each, or separated by ';') as one coding per code",
    ]
    skipped_rows = {line.partition(":")[0] for line in overall["skipped"]}
    assert len(skipped_rows) == 11 and overall["skipped"][0].startswith("row 2: unknown transcript 'P99'")
    assert overall["skipped"][-1].startswith("row 972: unknown transcript 'P99'")
    assert len(human.rows) == 1_143 and human.rows["_row"].iat[-1] == 1_001  # read whole when asked for


def test_gold_stream_never_holds_more_than_a_chunk_of_a_utf8_file(tmp_path, coded, small_chunks):
    run, folder = coded
    gold = _gold(tmp_path / "gold.csv", run, 1_000)
    heard: list[tuple[str, int, int]] = []
    result = evaluate(folder, gold, min_support=1, progress=lambda *report: heard.append(report))
    assert result.overall["segments_scored"] > 0
    assert small_chunks["most"] == CHUNK  # never the file's 1,000 rows in one table
    size = gold.stat().st_size  # the reading bar goes once through the file, to its end
    assert {(stage, total) for stage, _, total in heard} == {("human:read", size)}
    assert sum(advance for _, advance, _ in heard) == size


def test_gold_stream_a_damaged_row_past_the_first_chunk_is_named(tmp_path, coded, small_chunks):
    run, folder = coded
    gold = _gold(tmp_path / "gold.csv", run, 1_000, damaged_row=700)
    result = runner.invoke(app, ["evaluate", str(folder), "--gold", str(gold)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "row 700 has 7 cells, the header 6: a cell holding a comma needs quotes" in result.output


def test_gold_stream_the_classifier_learns_the_same_from_a_long_file(tmp_path, tiny_corpus, tiny_codebook, monkeypatch):
    run = code(tiny_corpus, tiny_codebook, methods="rule")
    gold = _gold(tmp_path / "gold.csv", run, 1_000)

    def codings():
        learned = code(tiny_corpus, tiny_codebook, methods="classifier", gold=gold, cache_dir=None)
        return sorted(zip(learned.excerpts["transcript"], learned.excerpts["segment"], learned.excerpts["code"]))

    whole = codings()
    monkeypatch.setattr(tables, "BATCH_ROWS", CHUNK)
    assert codings() == whole
