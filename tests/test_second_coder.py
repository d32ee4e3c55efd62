"""Can the machine take a code over? Its agreement with the coder beside a second coder's."""

from __future__ import annotations

import csv
import json

import pytest

from themekit.analysis.evaluate import TAKE_OVER_MARGIN, evaluate

from .conftest import SAMPLE_GOLD


def _second_coder(tmp_path, *, drop: str, only: tuple[str, ...] = ()) -> str:
    """The sample's human codings as a second coder who never gives ``drop`` (and codes only ``only``, if given)."""
    rows = list(csv.DictReader(SAMPLE_GOLD.open(encoding="utf-8")))
    path = tmp_path / "second.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            if only and row["transcript"] not in only:
                continue
            if row["code"] == drop:
                row["code"] = ""
            writer.writerow(row)
    return str(path)


def test_second_coder_kappa_beside_the_machines(sample_rule_run, tmp_path):
    second = _second_coder(tmp_path, drop="keyworker_wellbeing")
    result = evaluate(sample_rule_run, SAMPLE_GOLD, second_coder=second)
    codes = result.per_code.set_index("code")
    # the second coder agrees with the first on every code but the one they never give
    assert codes.loc["keyworker_wellbeing", "second_coder_kappa"] == 0.0
    assert codes.loc["professional_background", "second_coder_kappa"] == 1.0
    # the machine takes a code over only within 0.1 kappa of the second coder
    for code, row in codes.iterrows():
        if row["support"] >= 5:
            expected = row["machine_kappa_both"] >= row["second_coder_kappa"] - TAKE_OVER_MARGIN
            assert row["takes_over"] == expected, code
    beside = result.overall["second_coder"]
    assert "keyworker_wellbeing" in beside["takes_over"]  # the rules beat a coder who never gives it
    assert "professional_background" not in beside["takes_over"]
    assert beside["macro_kappa_second_coder"] > beside["macro_kappa_machine"]


def test_second_coder_compared_on_the_interviews_both_coded(sample_rule_run, tmp_path):
    second = _second_coder(tmp_path, drop="", only=("KW01", "KW02", "KW03"))
    result = evaluate(sample_rule_run, SAMPLE_GOLD, second_coder=second)
    assert result.overall["second_coder"]["transcripts"] == ["KW01", "KW02", "KW03"]
    # identical codings on those three: kappa 1 for every code the coder gave there
    scored = result.per_code.dropna(subset=["second_coder_kappa"])
    assert set(scored["second_coder_kappa"]) == {1.0}
    # the machine's own figures over all eight interviews are unchanged
    assert result.overall["transcripts"] == [f"KW0{n}" for n in range(1, 9)]


def test_second_coder_who_coded_other_interviews_is_refused_with_a_reason(sample_rule_run, tmp_path):
    from themekit.errors import GoldError

    path = tmp_path / "other.csv"
    path.write_text("transcript,char_start,char_end,code,text\nKW99,0,5,keyworker_wellbeing,hello\n", encoding="utf-8")
    with pytest.raises(GoldError, match="no interview is coded in both files"):
        evaluate(sample_rule_run, SAMPLE_GOLD, second_coder=str(path))


def test_second_coder_on_the_command_line(sample_rule_folder, tmp_path):
    from typer.testing import CliRunner

    from themekit.cli import app

    second = _second_coder(tmp_path, drop="keyworker_wellbeing")
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            str(sample_rule_folder),
            "-g",
            str(SAMPLE_GOLD),
            "--second-coder",
            second,
            "-o",
            str(tmp_path / "e.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "on 8 interviews both coded" in said
    assert "keyworker_wellbeing" in said.split("the machine is within 0.1 kappa of the second coder on:")[1]
    written = json.loads((tmp_path / "e.json").read_text())
    assert written["overall"]["second_coder"]["transcripts"] == [f"KW0{n}" for n in range(1, 9)]
    assert {row["code"]: row["second_coder_kappa"] for row in written["per_code"]}["keyworker_wellbeing"] == 0.0
