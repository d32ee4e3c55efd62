from __future__ import annotations

import json

import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from themekit import code
from themekit.cli import app
from themekit.analysis.evaluate import evaluate
from themekit.errors import GoldError

from .conftest import write


@pytest.fixture
def coded(tmp_path, tiny_corpus, tiny_codebook):
    run = code(tiny_corpus, tiny_codebook, methods="rule")
    return run, run.save(tmp_path / "run")


def _span(run, tid, startswith):
    [seg] = [s for s in run.units if s.transcript.id == tid and s.text.startswith(startswith)]
    return seg.start, seg.end


def test_evaluate_scores_per_code_against_span_gold(tmp_path, coded):
    run, folder = coded
    s1 = _span(run, "P01", "Honestly the isolation")
    s2 = _span(run, "P01", "The debts piled up")
    s3 = _span(run, "P02", "I trust her")
    s4 = _span(run, "P02", "I never felt lonely")
    gold = write(
        tmp_path / "gold.csv",
        "transcript,char_start,char_end,code\n"
        f"P01,{s1[0]},{s1[1]},loneliness\n"
        f"P01,{s2[0] + 4},{s2[1] - 3},debt\n"  # a span inside the segment still matches it
        f"P02,{s3[0]},{s3[1]},trust\n"
        f"P02,{s3[0]},{s3[1]},loneliness\n"  # the rules miss this one (vetoed by 'rural')
        f"P02,{s4[0]},{s4[1]},\n",  # read, and nothing in it
    )
    result = evaluate(folder, gold, min_support=1)
    rows = result.per_code.set_index("code")
    assert rows.loc["loneliness", ["support", "tp", "fp", "fn"]].tolist() == [2, 1, 0, 1]
    assert rows.loc["loneliness", "recall"] == 0.5 and rows.loc["loneliness", "precision"] == 1.0
    assert rows.loc["debt", "f1"] == 1.0 and rows.loc["trust", "f1"] == 1.0
    # kappa agrees with scikit-learn on the same vectors
    y_true, y_pred = [1, 0, 1, 0], [1, 0, 0, 0]
    assert rows.loc["loneliness", "kappa"] == round(cohen_kappa_score(y_true, y_pred), 4)
    assert result.overall["segments_scored"] == 4
    misses = result.errors.query("kind == 'miss'")
    assert misses[["code", "transcript"]].values.tolist() == [["loneliness", "P02"]]
    assert misses["text"].iloc[0].startswith("I trust her completely")


def test_evaluate_bad_gold_lists_every_problem_with_rows(tmp_path, coded):
    _, folder = coded
    gold = write(
        tmp_path / "gold.csv",
        "transcript,char_start,char_end,code\n"
        "P99,0,10,debt\n"
        "P01,0,10,no_such_code\n"
        "P01,50,40,debt\n"
        "P01,10000,10010,debt\n",
    )
    with pytest.raises(GoldError) as info:
        evaluate(folder, gold)
    message = str(info.value)
    assert message.startswith(f"{gold}: 4 problems; fix them and run again:")
    assert "row 2: unknown transcript 'P99' (the run has: P01, P02)" in message
    assert "row 3: code 'no_such_code' is not in the codebook" in message
    assert "row 4: span 50-40 is empty or inverted" in message
    assert "row 5: span 10000-10010 of P01 matches no coded participant segment" in message


def test_evaluate_overlapping_spans_and_missing_columns(tmp_path, coded):
    run, folder = coded
    s = _span(run, "P01", "Honestly the isolation")
    gold = write(tmp_path / "g.csv", f"transcript,char_start,char_end,code\nP01,{s[0]},{s[1]},loneliness\nP01,{s[0] + 2},{s[1]},loneliness\n")
    with pytest.raises(GoldError, match=r"row 3: span .* overlaps row 2"):
        evaluate(folder, gold)
    bad = write(tmp_path / "b.csv", "transcript,quote\nP01,hello\n")
    with pytest.raises(GoldError, match=r"missing column\(s\): code, char_start and char_end \(or segment\)"):
        evaluate(folder, bad)


def test_evaluate_cli_writes_evaluation_json(tmp_path, coded):
    from typer.testing import CliRunner

    run, folder = coded
    s = _span(run, "P02", "I trust her")
    gold = write(tmp_path / "gold.csv", f"transcript,segment,code\nP02,{[x for x in run.units if x.start == s[0]][0].index},trust\n")
    result = CliRunner().invoke(app, ["evaluate", str(folder), "--gold", str(gold), "--min-support", "1"])
    assert result.exit_code == 0, result.output
    assert "1 segments scored" in result.output
    record = json.loads((folder / "evaluation.json").read_text())
    trust = [r for r in record["per_code"] if r["code"] == "trust"][0]
    assert trust["f1"] == 1.0
    (tmp_path / "empty").mkdir()
    not_run = CliRunner().invoke(app, ["evaluate", str(tmp_path / "empty"), "--gold", str(gold)])
    assert not_run.exit_code == 1
    assert "not a complete themekit run folder (missing run.json, codebook.yaml, transcripts.parquet, segments.parquet, excerpts.parquet)" in not_run.output


def test_evaluate_sample_gold_maps_onto_the_sample(sample_rule_run):
    from .conftest import SAMPLE

    result = evaluate(sample_rule_run, SAMPLE / "gold.csv")
    gold = pd.read_csv(SAMPLE / "gold.csv", keep_default_na=False)
    assert len(gold) >= 300 and gold["transcript"].nunique() == 8
    assert result.overall["segments_scored"] >= 300
    assert result.overall["codes_scored"] >= 25
