from __future__ import annotations

import pytest
from typer.testing import CliRunner

from themekit.cli import app

from ..conftest import write


def test_hostile_ctrl_c_exits_cleanly_and_keeps_earlier_runs(tmp_path, tiny_corpus, tiny_codebook, monkeypatch):
    runner = CliRunner()
    earlier = tmp_path / "r1"
    assert (
        runner.invoke(
            app, ["code", str(tiny_corpus), "-c", str(tiny_codebook), "-o", str(earlier), "-q", "--method", "rule"]
        ).exit_code
        == 0
    )
    before = (earlier / "excerpts.csv").read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("themekit.export.folder.summary_markdown", interrupted)
    for out in (tmp_path / "r2", earlier):
        result = runner.invoke(
            app, ["code", str(tiny_corpus), "-c", str(tiny_codebook), "-o", str(out), "--force", "--method", "rule"]
        )
        assert result.exit_code == 130
        assert "Interrupted: nothing was written; earlier runs are untouched." in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "r2").exists()
    assert (earlier / "excerpts.csv").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".r")]


def test_hostile_formula_html_and_xml_in_every_export(tmp_path, tiny_codebook):
    import docx
    import pandas as pd
    from openpyxl import load_workbook

    folder = tmp_path / "t"
    write(
        folder / "P05.txt",
        "Interviewer: Go on?\n\nP05: @SUM(A1) I felt so lonely <b>bold</b> & \x0b alone every day.\n",
    )
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["code", str(folder), "-c", str(tiny_codebook), "-o", str(tmp_path / "run"), "-q", "--method", "rule"]
        ).exit_code
        == 0
    )
    assert pd.read_csv(tmp_path / "run" / "excerpts.csv")["text"].iloc[0].startswith("'@SUM(A1)")
    run_dir = str(tmp_path / "run")
    for args in (
        ["xlsx", run_dir, "-o", str(tmp_path / "x.xlsx")],
        ["docx", run_dir, "-o", str(tmp_path / "q.docx")],
        ["report", run_dir, "-f", "html", "-o", str(tmp_path / "r.html"), "--no-charts"],
        ["report", run_dir, "-f", "docx", "-o", str(tmp_path / "r.docx"), "--no-charts"],
    ):
        result = runner.invoke(app, ["export", *args])
        assert result.exit_code == 0, result.output
    sheet = load_workbook(tmp_path / "x.xlsx").worksheets[0]
    text_column = [c.value for c in sheet[1]].index("text") + 1
    assert sheet.cell(2, text_column).value.startswith("'@SUM(A1)")
    page = (tmp_path / "r.html").read_text()
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt; &amp;" in page
    cell = docx.Document(tmp_path / "q.docx").tables[0].rows[1].cells[0].text
    assert "\x0b" not in cell and "lonely" in cell


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _live_cells(path):
    """Every cell of every sheet of a workbook (or every field of a CSV) that a spreadsheet would run as a formula."""
    import csv

    from openpyxl import load_workbook

    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            return [
                (path.name, n, v)
                for n, row in enumerate(csv.reader(fh), 1)
                for v in row
                if v.startswith(_FORMULA_STARTS)
            ]
    book = load_workbook(path)
    return [
        (f"{path.name}:{sheet.title}", cell.coordinate, cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith(_FORMULA_STARTS))
    ]


def test_hostile_no_cell_of_any_spreadsheet_runs_as_a_formula(tmp_path):
    """Codebook labels and definitions (a YAML codebook or one imported from .qdpx) and case attributes are as
    hostile as quotes: every sheet of every workbook and every spreadsheet CSV themekit writes is neutralised."""
    from themekit import code, export_xlsx
    from themekit.review.sheets import export_review
    from themekit.store import Project

    book = write(
        tmp_path / "codebook.yaml",
        """\
        schema_version: 1
        name: Hostile
        version: 0.1.0
        themes:
          - id: barriers
            label: '=HYPERLINK("http://evil.example","click")'
            codes:
              - id: loneliness
                label: "=cmd|' /C calc'!A0"
                definition: '+SUM(1,1) feeling alone'
                keywords: [lonely]
              - id: debt
                label: '@debt'
                definition: '-1+2 debts'
                keywords: [debt]
        """,
    )
    folder = tmp_path / "t"
    write(folder / "P01.txt", "Interviewer: How was it?\n\nP01: =1+1 I felt lonely and the debt grew every month.\n")
    write(folder / "participants.csv", "transcript,group\nP01,-2+3\n")
    project = Project(tmp_path / "project.db")
    run = code(folder, book, project=project, methods="rule")
    assert {c.code_id for c in run.codings} == {"loneliness", "debt"}
    run.save(tmp_path / "run")
    export_xlsx(run, tmp_path / "excerpts.xlsx")
    export_review(run, tmp_path / "review.xlsx", project)
    export_review(run, tmp_path / "review.csv", project)
    written = [
        tmp_path / "run" / "excerpts.csv",
        tmp_path / "excerpts.xlsx",
        tmp_path / "review.xlsx",
        tmp_path / "review.csv",
    ]
    assert [cell for path in written for cell in _live_cells(path)] == []
    from openpyxl import load_workbook

    codes = load_workbook(tmp_path / "review.xlsx")["codes"]
    assert [c.value for c in codes[2]] == ["loneliness", "'=cmd|' /C calc'!A0", "barriers", "'+SUM(1,1) feeling alone"]


def _code(folder, codebook, out, *extra):
    return CliRunner().invoke(
        app, ["code", str(folder), "-c", str(codebook), "-o", str(out), "-q", "--method", "rule", *extra]
    )


def test_hostile_killed_replacement_never_loses_both_runs(tmp_path, tiny_corpus, tiny_codebook):
    """kill -9 between the two renames of a --force replacement left no run folder, the old one hidden as .old and
    the next run writing over its place. Now the next command puts the old one back, says so, and removes what the
    killed process left."""
    out = tmp_path / "R"
    assert _code(tiny_corpus, tiny_codebook, out).exit_code == 0
    before = (out / "excerpts.csv").read_bytes()
    # what a process killed mid-replacement leaves: the old run aside, the new one complete but still hidden
    out.rename(tmp_path / ".R.0badc0de.old")
    (tmp_path / ".R.999999999-abc.partial").mkdir()
    (tmp_path / ".R.999999999-abc.partial" / "excerpts.csv").write_text("new\n")
    result = _code(tiny_corpus, tiny_codebook, out)
    assert result.exit_code == 1
    assert f"Note: {out}: put back the earlier run that an interrupted replacement had moved aside" in result.output
    assert "a run folder already exists there" in result.output
    assert (out / "excerpts.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".R")) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["one-step-swap", "two-renames"])
def test_hostile_interrupt_after_the_swap_tells_the_truth(tmp_path, tiny_corpus, tiny_codebook, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr("themekit.util.atomic._exchange", lambda a, b: False)
    out = tmp_path / "R"
    assert _code(tiny_corpus, tiny_codebook, out).exit_code == 0
    (tiny_corpus / "P03.txt").write_text("Interviewer: And?\n\nP03: I trust her, she is the only one I trust.\n")
    import shutil

    real = shutil.rmtree

    def interrupted(path, *args, **kwargs):
        if ".partial" in str(path) or ".old" in str(path):
            real(path, *args, **kwargs)
            raise KeyboardInterrupt
        return real(path, *args, **kwargs)

    monkeypatch.setattr("themekit.util.atomic.shutil.rmtree", interrupted)
    result = _code(tiny_corpus, tiny_codebook, out, "--force")
    assert result.exit_code == 130
    assert f"Interrupted: {out} had been written in full; nothing after that was done." in " ".join(
        result.output.split()
    )
    assert "P03" in (out / "excerpts.csv").read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".R")] == []


def test_hostile_second_run_to_one_out_refuses_while_the_first_writes(tmp_path, tiny_corpus, tiny_codebook):
    import subprocess
    import sys

    lock = tmp_path / ".R.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", (f"import fcntl,os,time; fd=os.open({str(lock)!r}, os.O_RDWR|os.O_CREAT); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        result = _code(tiny_corpus, tiny_codebook, tmp_path / "R")
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert (
        f"Error [E300]: {tmp_path / 'R'}: another themekit process is writing this folder (it holds .R.lock). "
        "Wait for it to finish, or choose another --out path."
    ) in " ".join(result.output.split())
    assert not (tmp_path / "R").exists()
    assert _code(tiny_corpus, tiny_codebook, tmp_path / "R").exit_code == 0
    assert not lock.exists()


def test_hostile_nothing_is_written_to_the_system_temp_folder(tmp_path, tiny_corpus, tiny_codebook, monkeypatch):
    """Every temporary file sits beside what it becomes; the system temp folder is never used (here: it is gone)."""
    import tempfile

    from themekit.refi import import_qdc

    from ..test_refi import NVIVO_QDC

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-system-temp"))
    assert _code(tiny_corpus, tiny_codebook, tmp_path / "R").exit_code == 0
    assert _code(tiny_corpus, tiny_codebook, tmp_path / "R", "--force").exit_code == 0
    assert import_qdc(write(tmp_path / "nvivo.qdc", NVIVO_QDC)).name == "nvivo"
    assert not (tmp_path / "no-system-temp").exists()


def _png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_hostile_report_charts_of_a_huge_codebook_are_bounded_and_quiet(tmp_path, capfd):
    """A report's charts for a codebook of thousands of codes ran for minutes into page-high images, and labels in
    a script the font lacks printed matplotlib's glyph warnings on stderr."""
    import warnings

    from themekit import code
    from themekit.export.report import report_blocks
    from themekit.render.charts import MAX_CHART_CODES

    codes = "".join(
        f'      - id: c{k}\n        label: "{"信任 " if k % 5 == 0 else ""}Code {k}"\n        definition: Code {k}.\n'
        f"        keywords: [word{k}]\n"
        for k in range(120)
    )
    book = write(
        tmp_path / "big.yaml",
        f"schema_version: 1\nname: Big\nversion: 0.1.0\nthemes:\n  - id: t\n    label: T\n    codes:\n{codes}",
    )
    folder = tmp_path / "t"
    for p in range(3):
        words = " ".join(f"word{(p * 7 + i) % 120}" for i in range(90))
        write(folder / f"P0{p}.txt", f"Interviewer: Tell me.\n\nP0{p}: {words}.\n")
    run = code(folder, book, methods="rule")
    assert len({c.code_id for c in run.codings}) > MAX_CHART_CODES
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        blocks = report_blocks(run)
    assert [str(w.message) for w in seen if "Glyph" in str(w.message)] == []
    assert "Glyph" not in capfd.readouterr().err
    images = [b for b in blocks if b.kind == "image"]
    assert all(_png_size(b.image)[1] < 2500 for b in images), [_png_size(b.image) for b in images]
    notes = [b.text for b in blocks if b.kind == "note"]
    assert (
        f"The charts show the {MAX_CHART_CODES} codes coded most often of 120; the text below covers every code."
        in notes
    )
