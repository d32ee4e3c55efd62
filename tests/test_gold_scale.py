"""Human codings as large files have them: a giant cell, offsets past the end or below zero, many rows with progress."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

from themekit.analysis.agree import agree
from themekit.analysis.evaluate import evaluate
from themekit.cli import app
from themekit.human import gold as gold_module

from .conftest import span_of, write

runner = CliRunner()


def _text(run, tid: str) -> str:
    return next(t for t in run.corpus if t.id == tid).text


@pytest.fixture
def no_giant_patterns(monkeypatch):
    """Refuses to build a pattern of a quote of thousands of words: on a 10 MB cell that took minutes and
    gigabytes (a pattern of a quote is only needed to find it, or to compare it with a span of as many words)."""
    real = gold_module._quote_pattern

    def guarded(quote, *args, **kwargs):
        assert len(quote.split()) < 10_000, "a pattern of a giant quote was built"
        return real(quote, *args, **kwargs)

    monkeypatch.setattr(gold_module, "_quote_pattern", guarded)


def test_gold_scale_giant_quote_cell_is_judged_without_a_pattern_of_its_words(tmp_path, coded, no_giant_patterns):
    run, folder = coded
    s = span_of(run, "P01", "Honestly the isolation")
    giant = "so it goes " * 100_000  # 300,000 words, 1.1 MB in one cell
    gold = tmp_path / "gold.csv"
    with gold.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["transcript", "char_start", "char_end", "code", "text"])
        writer.writerow(["P01", s[0], s[1], "loneliness", "Honestly the isolation was the worst part of it."])
        writer.writerow(["P01", s[0], s[1], "loneliness", giant])  # the right span, a wrong text: still scored
        writer.writerow(["P02", "", "", "trust", giant])  # located by its text alone: longer than P02
    result = evaluate(folder, gold, min_support=1)
    assert result.per_code.set_index("code").loc["loneliness", "support"] == 1
    assert result.overall["skipped"] == [
        "row 3: text does not match its span: the row says 'so it goes so it goes so it goes so it goes so it goes so i…' "
        f"but characters {s[0]}-{s[1]} of P01 hold 'Honestly the isolation was the worst part of it.' (scored as "
        "located; fix the offsets or the text)",
        f"row 4: quote 'so it goes so it goes so it goes so it goes so it goes so i…' ({len(giant.strip()):,} characters) "
        f"is longer than P02 ({len(_text(run, 'P02')):,} characters), so it is not in it; check the text cell holds "
        "the quote alone",
    ]


def test_gold_scale_offsets_past_the_end_or_negative_say_so(tmp_path, coded):
    run, folder = coded
    s = span_of(run, "P02", "I trust her")
    gold = write(
        tmp_path / "gold.csv",
        "transcript,char_start,char_end,source_start,source_end,code\n"
        f"P02,{s[0]},{s[1]},,,trust\n"
        "P01,1000000000000,1000000000010,,,debt\n"
        "P01,-5,40,,,debt\n"
        "P01,-5,-1,,,debt\n"
        "P01,50,40,,,debt\n"
        "P01,,,1000000000000,1000000000010,debt\n",
    )
    result = evaluate(folder, gold, min_support=1)
    p01 = len(_text(run, "P01"))
    assert result.overall["skipped"] == [
        f"row 3: characters 1000000000000-1000000000010 lie past the end of P01, whose text is {p01:,} characters "
        "long; check the offsets were counted in this transcript",
        "row 4: char_start is negative (char_start/char_end -5, 40); offsets count characters from 0, the text's first",
        "row 5: char_start and char_end are negative (char_start/char_end -5, -1); offsets count characters from 0, "
        "the text's first",
        "row 6: span 50-40 is empty or inverted; char_end must be after char_start",
        "row 7: source characters 1000000000000-1000000000010 lie past the end of P01's speech in its source file, "
        f"which ends at source character {len((tmp_path / 'transcripts' / 'P01.txt').read_text().rstrip()):,}; "
        "check the offsets were counted in this file",
    ]
    shown = runner.invoke(app, ["evaluate", str(folder), "--gold", str(gold), "--min-support", "1"])
    assert shown.exit_code == 0, shown.output
    assert "5 gold row(s) left out or not matching their text (listed in evaluation.json" in shown.output
    assert f"  - row 3: characters 1000000000000-1000000000010 lie past the end of P01, whose text is {p01:,}" in (
        shown.output
    )


def _many_rows(path, run, rows: int):
    """A gold file of ``rows`` rows, each locating a segment of the run by its offsets."""
    units = [u for u in run.units]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["transcript", "char_start", "char_end", "code", "text"])
        for k in range(rows):
            unit = units[k % len(units)]
            writer.writerow([unit.transcript.id, unit.start, unit.end, "" if k % 3 else "loneliness", unit.text])
    return path


def test_gold_scale_evaluate_reports_reading_and_placing_as_it_goes(tmp_path, coded):
    run, folder = coded
    gold = _many_rows(tmp_path / "gold.csv", run, 50_000)
    heard: dict[str, list[tuple[int, int]]] = {}
    result = evaluate(
        folder, gold, min_support=1, progress=lambda stage, n, total: heard.setdefault(stage, []).append((n, total))
    )
    assert result.overall["skipped"] == []
    size = gold.stat().st_size  # in bytes of the file
    assert {total for _, total in heard["human:read"]} == {size} and sum(n for n, _ in heard["human:read"]) == size
    assert len(heard["human:read"]) > 1  # as it goes, not once at the end
    assert {total for _, total in heard["human:place"]} == {50_000}
    assert sum(n for n, _ in heard["human:place"]) == 50_000 and len(heard["human:place"]) > 1


class _Heard:
    """Stands in for the command line's progress bars: the stages each command reported."""

    stages: set[str] = set()

    def __init__(self, **kwargs) -> None:
        pass

    def __call__(self, stage: str, advance: int, total: int) -> None:
        _Heard.stages.add(stage)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def close(self) -> None:
        pass


def test_gold_scale_commands_reading_human_codings_show_progress(
    tmp_path, coded, tiny_corpus, tiny_codebook, monkeypatch
):
    run, folder = coded
    gold = _many_rows(tmp_path / "gold.csv", run, 30_000)
    second = _many_rows(tmp_path / "sam.csv", run, 30_000)
    for module in ("analysis", "coding"):
        monkeypatch.setattr(f"themekit.cli.{module}._Progress", _Heard)
    commands = {
        "evaluate": (["evaluate", folder, "--gold", gold, "-q"], {"human:read", "human:place"}),
        "agree": (["agree", gold, second, "--run", folder, "-q"], {"human:read:gold", "human:read:sam", "human:place:sam"}),
        "code --gold": (
            ["code", tiny_corpus, "-c", tiny_codebook, "--gold", gold, "-o", tmp_path / "r2", "--method", "rule,classifier",
             "--no-cache", "--project", tmp_path / "p.db", "-q"],
            {"human:read", "human:place"},
        ),
    }  # fmt: skip
    for name, (args, stages) in commands.items():
        _Heard.stages = set()
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, (name, result.output)
        assert stages <= _Heard.stages, (name, _Heard.stages)


def test_gold_scale_agree_reads_many_rows_per_coder(tmp_path, coded):
    run, folder = coded
    first = _many_rows(tmp_path / "alex.csv", run, 20_000)
    second = _many_rows(tmp_path / "sam.csv", run, 20_000)
    result = agree([first, second], run=folder)
    assert result.overall["percent_agreement"] == 1.0
