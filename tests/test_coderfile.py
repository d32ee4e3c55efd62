"""The one reader of coder and gold files: encodings, delimiters, .xlsx, wide files."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from themekit.cli import app
from themekit.errors import GoldError, GoldFileError
from themekit.human.coderfile import WideLayout, read_coder_file
from themekit.human.gold import read_gold

from .conftest import write


@pytest.mark.parametrize(("encoding", "sep"), [("utf-8", ","), ("cp1252", ";"), ("utf-16", "\t"), ("utf-8-sig", ";")])
def test_coderfile_reads_csv_in_common_encodings_and_delimiters(tmp_path, encoding, sep):
    path = tmp_path / "gold.csv"
    lines = [sep.join(["transcript", "segment", "code", "text"]), sep.join(["P01", "2", "débt", '"Café, twice; yes"'])]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    rows = read_gold(path)
    assert list(rows.columns) == ["_row", "transcript", "segment", "code", "text"]
    assert rows.iloc[0].to_dict() == {
        "_row": 2,
        "transcript": "P01",
        "segment": "2",
        "code": "débt",
        "text": "Café, twice; yes",
    }


def test_coderfile_reads_xlsx_first_sheet_or_named(tmp_path):
    import pandas as pd

    path = tmp_path / "gold.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"transcript": ["P01"], "segment": [3], "code": ["debt"]}).to_excel(
            writer, sheet_name="Coding", index=False
        )
        pd.DataFrame({"transcript": ["P02", "P02"], "segment": [1, 2], "code": ["", "trust"]}).to_excel(
            writer, sheet_name="Later", index=False
        )
    assert read_gold(path).to_dict(orient="records") == [
        {"_row": 2, "transcript": "P01", "segment": "3", "code": "debt"}
    ]
    later = read_gold(path, sheet="Later")
    assert list(later["code"]) == ["", "trust"] and list(later["_row"]) == [2, 3]
    with pytest.raises(GoldFileError, match="has no sheet 'Q1' \\(its sheets are: Coding, Later\\)"):
        read_gold(path, sheet="Q1")
    with pytest.raises(GoldFileError, match="is not an .xlsx workbook"):
        read_gold(write(tmp_path / "g.csv", "transcript,segment,code\n"), sheet="Later")


def test_coderfile_wide_rows_become_long_rows(tmp_path):
    path = write(
        tmp_path / "coder.csv",
        "ResponseId;Answer;Code 1;Code 2;Code 3;Notes\nR1;Too fast;pace;pace;feedback;x\nR2;Fine;;;;y\nR3;Loud;env->noise;;;z\n",
    )
    layout = WideLayout("responseid", "code*", "answer")
    read = read_coder_file(path, layout=layout)
    rows = read.rows.to_dict(orient="records")
    assert rows == [
        {"_row": 2, "transcript": "R1", "code": "pace", "text": "Too fast"},
        {"_row": 2, "transcript": "R1", "code": "feedback", "text": "Too fast"},
        {"_row": 4, "transcript": "R3", "code": "env->noise", "text": "Loud"},
    ]  # R2's empty cells: not coded, so left out; the Notes column is not a code column
    assert read.file_rows == 3
    kept = read_coder_file(path, layout=layout, keep_uncoded=True).rows
    assert list(kept["code"]) == ["pace", "feedback", "", "env->noise"]
    bad = write(tmp_path / "bad.csv", "ResponseId,Code 1\n,pace\nR2,\n")
    with pytest.raises(GoldError, match="row 2: codes but no ResponseId; fill in the unit id"):
        read_coder_file(bad, layout=WideLayout("ResponseId", "Code *"))


def test_coderfile_unreadable_files_are_one_message(tmp_path):
    binary = tmp_path / "coder.csv"
    binary.write_bytes(b"\x00\x01\x02\x03PK\x00\x00" * 50)
    with pytest.raises(GoldFileError, match="looks like a binary file"):
        read_gold(binary)
    with pytest.raises(GoldFileError, match="no such file"):
        read_gold(tmp_path / "none.csv")
    broken = tmp_path / "coder.xlsx"
    broken.write_bytes(b"not a workbook")
    with pytest.raises(GoldFileError, match="cannot be read as an Excel workbook \\(File is not a zip file\\)"):
        read_gold(broken)


def test_coderfile_evaluate_header_only_gold_is_one_message(tmp_path, tiny_corpus, tiny_codebook):
    from themekit import code

    folder = code(tiny_corpus, tiny_codebook, methods="rule").save(tmp_path / "run")
    runner = CliRunner()
    for name, header in (("gold.csv", "transcript,segment,code\n"), ("wide.csv", "ResponseId,Answer,Code 1\n")):
        gold = write(tmp_path / name, header)
        wide = ["--unit-column", "ResponseId", "--code-columns", "Code *"] if name == "wide.csv" else []
        result = runner.invoke(app, ["evaluate", str(folder), "--gold", str(gold), *wide])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and "nothing to score: it has no rows" in result.output


def test_coderfile_evaluate_reads_semicolon_cp1252_gold(tmp_path, tiny_corpus, tiny_codebook):
    from themekit import code

    run = code(tiny_corpus, tiny_codebook, methods="rule")
    [seg] = [s for s in run.units if s.text.startswith("The debts piled up")]
    gold = tmp_path / "gold.csv"
    gold.write_bytes(f"transcript;segment;code;note\nP01;{seg.index};debt;Sché\n".encode("cp1252"))
    folder = run.save(tmp_path / "run")
    result = CliRunner().invoke(
        app, ["evaluate", str(folder), "--gold", str(gold), "--min-support", "1", "--scope", "coded"]
    )
    assert result.exit_code == 0, result.output
    assert "1 segments scored" in result.output
