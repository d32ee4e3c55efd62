from __future__ import annotations

import json

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from typer.testing import CliRunner

from themekit import code
from themekit.analysis.agree import agree
from themekit.cli import app
from themekit.errors import GoldError

from .conftest import write

# Two coders over six excerpts (spans) of one transcript.
A = """transcript,char_start,char_end,code,text
P01,0,10,loneliness,I was so lonely
P01,0,10,debt,I was so lonely
P01,20,30,debt,The bailiffs came
P01,40,50,trust,I trust her
P01,60,70,,We met on Tuesdays
P01,80,90,loneliness,Nobody to talk to
"""
B = """transcript,char_start,char_end,code,text
P01,0,10,loneliness,I was so lonely
P01,20,30,debt,The bailiffs came
P01,40,50,,I trust her
P01,60,70,loneliness,We met on Tuesdays
P01,80,90,loneliness,Nobody to talk to
P01,100,110,trust,She listens
"""


@pytest.mark.parametrize("absent_means_no_code", [False, True])
def test_agree_matches_scikit_learn_and_krippendorff(tmp_path, absent_means_no_code):
    a, b = write(tmp_path / "coder_a.csv", A), write(tmp_path / "coder_b.csv", B)
    result = agree([a, b], absent_means_no_code=absent_means_no_code)
    rows = result.per_code.set_index("code")
    # units in order: 0-10, 100-110, 20-30, 40-50, 60-70, 80-90; coder_a did not list 100-110: missing for her,
    # unless absent means no code
    vectors = {
        "loneliness": ([1, 0, 0, 0, 0, 1], [1, 0, 0, 0, 1, 1]),
        "debt": ([1, 0, 1, 0, 0, 0], [0, 0, 1, 0, 0, 0]),
        "trust": ([0, 0, 0, 1, 0, 0], [0, 1, 0, 0, 0, 0]),
    }
    keep = [0, 1, 2, 3, 4, 5] if absent_means_no_code else [0, 2, 3, 4, 5]
    for code_id, (va, vb) in vectors.items():
        va, vb = [va[i] for i in keep], [vb[i] for i in keep]
        assert rows.loc[code_id, "kappa"] == round(cohen_kappa_score(va, vb), 4)
        expected = krippendorff.alpha(reliability_data=np.array([va, vb]), level_of_measurement="nominal")
        assert rows.loc[code_id, "alpha"] == round(expected, 4)
        assert rows.loc[code_id, "percent_agreement"] == round(np.mean(np.array(va) == np.array(vb)), 4)
    assert rows.loc["loneliness", "n_coder_a"] == 2 and rows.loc["loneliness", "n_coder_b"] == 3
    assert result.overall["units"] == 6 and result.overall["codes"] == 3
    assert result.overall["coded_units"] == {"coder_a": 6 if absent_means_no_code else 5, "coder_b": 6}
    assert result.overall["shared_units"] == len(keep)
    d = result.disagreements.query("code == 'loneliness'").iloc[0]
    assert (d["unit"], d["applied_by"], d["not_by"], d["text"]) == ("60-70", "coder_b", "coder_a", "We met on Tuesdays")
    trust = result.disagreements.query("code == 'trust'")
    assert list(trust["unit"]) == (["100-110", "40-50"] if absent_means_no_code else ["40-50"])


def test_agree_three_coders_alpha_only(tmp_path):
    c = B.replace("P01,100,110,trust,She listens\n", "")
    files = [write(tmp_path / "a.csv", A), write(tmp_path / "b.csv", B), write(tmp_path / "c.csv", c)]
    result = agree(files)
    row = result.per_code.set_index("code").loc["loneliness"]
    assert row["kappa"] is None
    nan = np.nan  # a and c did not list 100-110: missing, which alpha leaves out
    data = np.array([[1, nan, 0, 0, 0, 1], [1, 0, 0, 0, 1, 1], [1, nan, 0, 0, 1, 1]])
    assert row["alpha"] == round(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"), 4)


def test_agree_maps_spans_onto_run_segments(tmp_path, tiny_corpus, tiny_codebook):
    run = code(tiny_corpus, tiny_codebook, methods="rule")
    [seg] = [s for s in run.units if s.text.startswith("The debts piled up")]
    a = write(tmp_path / "ann.csv", f"transcript,char_start,char_end,code\nP01,{seg.start},{seg.end},debt\n")
    b = write(tmp_path / "bob.csv", f"transcript,char_start,char_end,code\nP01,{seg.start + 4},{seg.end - 2},debt\n")
    without = agree([a, b])
    assert without.overall["units"] == 2  # different spans, different units
    within = agree([a, b], run=run)
    assert within.overall["units"] == 1
    assert within.per_code.set_index("code").loc["debt", "percent_agreement"] == 1.0


def test_agree_on_a_run_leaves_out_rows_it_cannot_place_and_lists_them(tmp_path, tiny_corpus, tiny_codebook):
    run = code(tiny_corpus, tiny_codebook, methods="rule")
    [seg] = [s for s in run.units if s.text.startswith("The debts piled up")]
    row = f"P01,{seg.start},{seg.end},debt\n"
    a = write(tmp_path / "ann.csv", "transcript,char_start,char_end,code\n" + row)
    b = write(tmp_path / "bob.csv", "transcript,char_start,char_end,code\n" + row + "P77,1,10,debt\n")
    result = agree([a, b], run=run)
    assert result.overall["units"] == 1
    assert result.per_code.set_index("code").loc["debt", "percent_agreement"] == 1.0
    [warning] = [w for w in result.warnings if "bob.csv" in w]
    assert "1 problem(s) with rows placed on the run's segments" in warning
    assert "row 3: unknown transcript 'P77'" in warning
    with pytest.raises(GoldError, match="row 3: unknown transcript 'P77'"):
        agree([a, b], run=run, strict=True)


def test_agree_bad_files_and_cli(tmp_path, tiny_codebook):
    a = write(tmp_path / "ann.csv", "transcript,char_start,char_end,code\nP01,5,2,debt\nP01,1,4,nope\n")
    with pytest.raises(GoldError) as info:
        agree([a, write(tmp_path / "bob.csv", A)], codebook=tiny_codebook)
    assert "row 2: span 5-2 is empty or inverted" in str(info.value)
    assert "row 3: code 'nope' is not in the codebook" in str(info.value)
    runner = CliRunner()
    one = runner.invoke(app, ["agree", str(a)])
    assert one.exit_code == 1 and "agreement needs at least two coder files" in one.output
    good = runner.invoke(
        app,
        [
            "agree",
            str(write(tmp_path / "x.csv", A)),
            str(write(tmp_path / "y.csv", B)),
            "--out",
            str(tmp_path / "agreement.json"),
        ],
    )
    assert good.exit_code == 0, good.output
    assert "units coded: x 5, y 6; coded by all coders: 5 (of 6)" in good.output and "3 codes used" in good.output
    record = json.loads((tmp_path / "agreement.json").read_text())
    assert record["coders"] == ["x", "y"]
