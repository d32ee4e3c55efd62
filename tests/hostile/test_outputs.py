from __future__ import annotations

from typer.testing import CliRunner

from themekit.cli import app

from ..conftest import write


def test_hostile_ctrl_c_exits_cleanly_and_keeps_earlier_runs(tmp_path, tiny_corpus, tiny_codebook, monkeypatch):
    runner = CliRunner()
    earlier = tmp_path / "r1"
    assert runner.invoke(app, ["code", str(tiny_corpus), "-c", str(tiny_codebook), "-o", str(earlier), "-q", "--method", "rule"]).exit_code == 0
    before = (earlier / "excerpts.csv").read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("themekit.export.folder.summary_markdown", interrupted)
    for out in (tmp_path / "r2", earlier):
        result = runner.invoke(app, ["code", str(tiny_corpus), "-c", str(tiny_codebook), "-o", str(out), "--force", "--method", "rule"])
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
    write(folder / "P05.txt", "Interviewer: Go on?\n\nP05: @SUM(A1) I felt so lonely <b>bold</b> & \x0b alone every day.\n")
    runner = CliRunner()
    assert runner.invoke(app, ["code", str(folder), "-c", str(tiny_codebook), "-o", str(tmp_path / "run"), "-q", "--method", "rule"]).exit_code == 0
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
    assert sheet.cell(2, 9).value.startswith("'@SUM(A1)")
    page = (tmp_path / "r.html").read_text()
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt; &amp;" in page
    cell = docx.Document(tmp_path / "q.docx").tables[0].rows[1].cells[0].text
    assert "\x0b" not in cell and "lonely" in cell
