"""Human codings located by themekit's offsets, by offsets into the source file, or by their quoted text."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from themekit import code
from themekit.analysis.evaluate import evaluate
from themekit.cli import app
from themekit.errors import GoldError
from themekit.human.gold import map_gold, transcript_name
from themekit.ingest import read_transcript
from themekit.models import SourceMap
from themekit.runs.folder import read_run

# Otter's layout: the label and time alone on a line, speech below, long speech wrapped over lines
OTTER = (
    "Interviewer  0:01\n"
    "How have things been since you moved?\n"
    "\n"
    "Sam Jones  0:05\n"
    "Honestly the isolation was the worst part of it. I felt\n"
    "isolated every single day. It was hard.\n"
    "\n"
    "Interviewer  0:20\n"
    "And money?\n"
    "\n"
    "Sam Jones  0:24\n"
    "The debts piled up and I still owe 300 to\n"
    "the council. It was hard. I trust my keyworker completely.\n"
)
CRLF = (
    "Interviewer: What helped you most?\r\n"
    "\r\n"
    "P02: I trust her completely, she never judged me.\r\n"
    "The bailiffs came twice\r\n"
    "in one month.\r\n"
)


@pytest.fixture
def otter_run(tmp_path, tiny_codebook):
    folder = tmp_path / "transcripts"
    folder.mkdir()
    (folder / "O01.txt").write_bytes(OTTER.encode("utf-8"))
    (folder / "C02.txt").write_bytes(CRLF.encode("utf-8"))
    run = code(folder, tiny_codebook, methods="rule")
    return run, run.save(tmp_path / "run")


def _source(quote: str, text: str = OTTER) -> tuple[int, int]:
    start = text.index(quote)
    return start, start + len(quote)


def _gold(
    tmp_path: Path, rows: list[list[object]], header: str = "transcript,source_start,source_end,code,text"
) -> Path:
    path = tmp_path / "gold.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header.split(","))
        writer.writerows(rows)
    return path


def _codes_by_segment_text(run, gold: Path) -> dict[str, str]:
    mapped = map_gold(gold, run.segments, transcripts=run.corpus)
    text = run.segments.set_index(["transcript", "segment"])["text"]
    return {text[(t, s)]: c for t, s, c in mapped.codings.itertuples(index=False)}


def test_gold_source_offsets_score_the_segments_the_coder_meant(tmp_path, otter_run):
    run, folder = otter_run
    wrapped = "The debts piled up and I still owe 300 to\nthe council."  # spans a wrapped line in the file
    gold = _gold(
        tmp_path,
        [
            ["O01", *_source("Honestly the isolation was the worst part of it."), "loneliness", ""],
            ["O01", *_source(wrapped), "debt", ""],
            ["C02", *_source("The bailiffs came twice\r\nin one month.", CRLF), "debt", ""],
            ["C02", *_source("I trust her completely, she never judged me.", CRLF), "trust", ""],
        ],
    )
    assert _codes_by_segment_text(run, gold) == {
        "Honestly the isolation was the worst part of it.": "loneliness",
        "The debts piled up and I still owe 300 to the council.": "debt",
        "The bailiffs came twice in one month.": "debt",
        "I trust her completely, she never judged me.": "trust",
    }
    # read back from its folder, the run converts the same offsets (the map is stored in transcripts.parquet)
    result = evaluate(folder, gold, min_support=1, scope="coded")
    rows = result.per_code.set_index("code")
    assert rows.loc["debt", ["support", "tp"]].tolist() == [2, 2]
    assert rows.loc["loneliness", ["support", "tp"]].tolist() == [1, 1]
    assert rows.loc["trust", ["support", "tp"]].tolist() == [1, 1]
    assert result.overall["skipped"] == []


def test_gold_quotes_alone_are_found_and_ambiguous_or_missing_ones_listed(tmp_path, otter_run):
    run, folder = otter_run
    gold = _gold(
        tmp_path,
        [
            ["O01", "trust", "i TRUST my keyworker\n  completely."],  # case and whitespace as the coder left them
            ["O01", "loneliness", "It was hard."],  # said twice
            ["O01", "debt", "I loved the bus"],
            ["O01", "loneliness", "the isolation was … every single day"],  # an ellipsis over a wrapped line
        ],
        header="transcript,code,text",
    )
    assert _codes_by_segment_text(run, gold) == {  # segments are sentence windows: a short sentence joins its neighbour
        "It was hard. I trust my keyworker completely.": "trust",
        "Honestly the isolation was the worst part of it.": "loneliness",
        "I felt isolated every single day. It was hard.": "loneliness",
    }
    skipped = evaluate(folder, gold, min_support=1).overall["skipped"]
    assert skipped[0].startswith("row 3: quote 'It was hard.' is ambiguous: it occurs 2 times in O01 (characters ")
    assert skipped[1] == (
        "row 4: quote 'I loved the bus' is not in O01 (whitespace and case ignored); "
        "check it was copied from this transcript"
    )
    assert len(skipped) == 2
    with pytest.raises(GoldError, match="row 3: quote 'It was hard.' is ambiguous"):
        evaluate(folder, gold, strict=True)


def test_gold_text_not_matching_its_span_is_listed_and_still_scored(tmp_path, otter_run):
    _, folder = otter_run
    start, end = _source("The debts piled up and I still owe 300 to\nthe council.")
    gold = _gold(
        tmp_path,
        [
            ["O01", start, end, "debt", "The debts piled up and I still owe 300 to the council."],
            ["O01", start, end, "debt", "...debts piled up and I still owe 300…"],  # trimmed and elided: fine
            ["O01", start, end, "debt", "The debts piled up and I still owe 500 to the council."],
        ],
    )
    result = evaluate(folder, gold, min_support=1, scope="coded")
    expected = (
        "row 4: text does not match its span: the row says 'The debts piled up and I still owe 500 to the council.' "
        f"but source characters {start}-{end} of O01 hold 'The debts piled up and I still owe 300 to the council.' "
        "(scored as located; fix the offsets or the text)"
    )
    assert result.overall["skipped"] == [expected]
    assert result.per_code.set_index("code").loc["debt", ["support", "tp"]].tolist() == [1, 1]
    shown = CliRunner().invoke(app, ["evaluate", str(folder), "--gold", str(gold), "--min-support", "1"])
    assert shown.exit_code == 0
    assert "1 gold row(s) left out or not matching their text" in shown.output
    assert "row 4: text does not match its span" in shown.output
    refused = CliRunner().invoke(app, ["evaluate", str(folder), "--gold", str(gold), "--strict"])
    assert refused.exit_code == 1 and "row 4: text does not match its span" in refused.output


def test_gold_source_offsets_on_a_label_line_or_an_unmapped_transcript_are_listed(tmp_path, otter_run):
    run, _ = otter_run
    gold = _gold(tmp_path, [["O01", *_source("Sam Jones  0:05"), "trust", ""], ["O01", "x", "3", "trust", ""]])
    skipped = map_gold(gold, run.segments, transcripts=run.corpus).skipped
    start, end = _source("Sam Jones  0:05")
    assert skipped == [
        f"row 2: source characters {start}-{end} of O01 hold no speech themekit kept (a label, a timing line)",
        "row 3: source_start/source_end must be whole numbers",
    ]
    # without a source map (a run written before themekit kept one) the row says what to give instead
    bare = {t.id: t.__class__(**{**t.__dict__, "source_map": SourceMap()}) for t in run.corpus}
    gold = _gold(tmp_path, [["O01", *_source("It was hard. I trust"), "trust", ""]])
    [problem] = map_gold(gold, run.segments, transcripts=bare).skipped
    assert problem.startswith("row 2: source_start/source_end given but O01's source offsets are not known")


def test_gold_excerpts_csv_source_offsets_slice_the_file_to_the_excerpt(otter_run):
    run, folder = otter_run
    with (folder / "excerpts.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and list(rows[0])[7:11] == ["start", "end", "source_start", "source_end"]
    files = {"O01": OTTER, "C02": CRLF}
    for row in rows:
        source = files[row["transcript"]][int(row["source_start"]) : int(row["source_end"])]
        assert source.split() == row["text"].split()
    assert any(
        "\r\n" in files["C02"][int(r["source_start"]) : int(r["source_end"])] for r in rows if r["transcript"] == "C02"
    )
    assert read_run(folder).corpus["O01"].source_map == run.corpus["O01"].source_map


def test_gold_source_map_snaps_spans_to_characters_from_the_file(tmp_path):
    path = tmp_path / "O01.txt"
    path.write_bytes(OTTER.encode("utf-8"))
    t = read_transcript(path)
    assert t.text.startswith("[00:00:01] Interviewer: How have things")
    first = t.turns[0]
    # a span starting in the rendered label snaps to the speech
    assert t.to_source(0, first.end) == _source("How have things been since you moved?")
    assert t.to_source(0, 5) is None  # only rendered text
    start, end = _source("I felt\nisolated")
    assert t.text[slice(*t.from_source(start, end))] == "I felt isolated"
    assert t.from_source(*_source("Sam Jones  0:05")) is None


def test_gold_transcript_names_as_other_tools_write_them():
    known = {"P01", "KW02", "Interview 3"}
    assert transcript_name("P01", known) == "P01"
    assert transcript_name("P01.docx", known) == "P01"  # a document named with its file's extension
    assert transcript_name("kw02.TXT", known) == "KW02"  # and in another case
    assert transcript_name("interview 3", known) == "Interview 3"
    assert transcript_name("P02.txt", known) == "P02.txt"  # not in the corpus: kept as written, so it is listed
    assert transcript_name("p1", {"P1", "p1x"}) == "P1"
    assert transcript_name("ab", {"AB", "Ab"}) == "ab"  # two transcripts differ only by case: no guess
