"""Several coders in one project: blind sheets, each coder's decisions kept, agreement, reconciliation."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

import themekit
from themekit.cli import app
from themekit.errors import OptionError
from themekit.review.reconcile import export_reconcile
from themekit.review.sheets import export_review, import_review
from themekit.store import Project

runner = CliRunner()


def code(corpus, codebook, project):
    return themekit.code(corpus, codebook, methods="rule", cache_dir=None, project=project)


def read(sheet: Path) -> list[dict[str, str]]:
    with sheet.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def fill(sheet: Path, out: Path, decisions: dict[tuple[str, str], tuple[str, str]], column: str = "decision") -> Path:
    """Fill a sheet as a person would: (quote start, code) → (decision, code to give)."""
    rows = read(sheet)
    code_column = "suggested_code" if column == "decision" else "code"
    for row in rows:
        for (start, suggested), (decision, new_code) in decisions.items():
            if row["quote"].startswith(start) and row[code_column] == suggested:
                row[column] = decision
                if column == "decision":
                    row["code"] = new_code
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


ALICE = {
    ("Honestly the isolation", "loneliness"): ("accept", ""),
    ("I felt isolated", "loneliness"): ("accept", ""),
    ("The debts piled up", "debt"): ("accept", ""),
    ("The bailiffs came", "debt"): ("reject", ""),
    ("I trust her", "trust"): ("accept", ""),
}
BOB = {
    ("Honestly the isolation", "loneliness"): ("reject", ""),  # differs from alice
    ("I felt isolated", "loneliness"): ("accept", ""),
    ("The debts piled up", "debt"): ("accept", ""),
    ("The bailiffs came", "debt"): ("reject", ""),
    ("I trust her", "trust"): ("change", "loneliness"),  # differs from alice on trust and on loneliness
    ("I never felt lonely", "loneliness"): ("accept", ""),  # a quote alice did not decide: missing for her
}


@pytest.fixture
def two_coders(tmp_path, tiny_corpus, tiny_codebook):
    """Alice reviews blind, a re-run applies her decisions, then Bob reviews the re-run blind."""
    project = Project(tmp_path / "project.db")
    run = code(tiny_corpus, tiny_codebook, project)
    run.save(tmp_path / "r1")  # a run is recorded in the project as it is saved
    export_review(run, tmp_path / "alice.csv", project, coder="alice", blind=True)
    assert not import_review(
        fill(tmp_path / "alice.csv", tmp_path / "alice-done.csv", ALICE), project, coder="alice"
    ).problems
    rerun = code(tiny_corpus, tiny_codebook, project)
    assert {c.status for c in rerun.codings} >= {"accepted", "rejected"}  # alice's decisions are applied here
    rerun.save(tmp_path / "r2")
    assert export_review(rerun, tmp_path / "bob.csv", project, coder="bob", blind=True) == 6
    return project, tmp_path, rerun


def test_reconcile_blind_sheet_shows_no_other_coders_decisions(two_coders):
    _, tmp_path, _ = two_coders
    rows = read(tmp_path / "bob.csv")
    # every machine suggestion, including those alice decided, shown as still to decide
    assert sorted((r["quote"][:15], r["suggested_code"]) for r in rows) == sorted(
        [
            ("Honestly the is", "loneliness"),
            ("I felt isolated", "loneliness"),
            ("The debts piled", "debt"),
            ("The bailiffs ca", "debt"),
            ("I trust her com", "trust"),
            ("I never felt lo", "loneliness"),
        ]
    )
    assert {r["status"] for r in rows} == {"suggested"}
    assert not any("alice" in value for r in rows for value in r.values())
    assert [r["evidence"] for r in rows if r["quote"].startswith("The bailiffs")] == ["matched: bailiffs"]


def test_reconcile_blind_sheet_leaves_out_what_the_coder_decided_and_needs_a_coder(two_coders):
    project, tmp_path, rerun = two_coders
    assert export_review(rerun, tmp_path / "alice-again.csv", project, coder="alice", blind=True) == 1
    assert [r["quote"][:15] for r in read(tmp_path / "alice-again.csv")] == ["I never felt lo"]
    with pytest.raises(OptionError, match="a blind sheet is for one coder: give coder=NAME"):
        export_review(rerun, tmp_path / "x.csv", project, blind=True)


def test_reconcile_each_coders_decisions_are_kept(two_coders):
    project, tmp_path, _ = two_coders
    result = import_review(fill(tmp_path / "bob.csv", tmp_path / "bob-done.csv", BOB), project, coder="bob")
    assert result.counts == {"accept": 3, "reject": 2, "change": 1, "add": 0} and result.unchanged == 0
    by_coder = {(d.coder, d.quote[:15], d.code): d.decision for d in project.decisions()}
    assert by_coder[("alice", "Honestly the is", "loneliness")] == "accept"
    assert by_coder[("bob", "Honestly the is", "loneliness")] == "reject"
    assert len([k for k in by_coder if k[0] == "alice"]) == 5 and len([k for k in by_coder if k[0] == "bob"]) == 6
    assert by_coder[("bob", "I trust her com", "trust")] == "change"


@pytest.fixture
def disputed(two_coders):
    project, tmp_path, rerun = two_coders
    import_review(fill(tmp_path / "bob.csv", tmp_path / "bob-done.csv", BOB), project, coder="bob")
    return project, tmp_path, rerun


def test_reconcile_rerun_applies_what_coders_agree_on_and_lists_the_rest(disputed, tiny_corpus, tiny_codebook):
    project, _, _ = disputed
    run = code(tiny_corpus, tiny_codebook, project)
    status = {(c.segment.text[:15], c.code_id): c.status for c in run.codings}
    assert status[("Honestly the is", "loneliness")] == "suggested"  # alice accepted, bob rejected: left as suggested
    assert status[("I felt isolated", "loneliness")] == "accepted"
    assert status[("The bailiffs ca", "debt")] == "rejected"
    assert status[("I trust her com", "trust")] == "suggested"
    assert ("I trust her com", "loneliness") not in status  # only bob gave it
    assert status[("I never felt lo", "loneliness")] == "accepted"  # only bob decided this quote
    assert sorted(run.stats["decisions"]["disputed"]) == [
        "P01 segment 0 code loneliness: alice: given (accept); bob: not given (reject)",
        "P02 segment 0 code loneliness: alice: not given; bob: given (change)",
        "P02 segment 0 code trust: alice: given (accept); bob: not given (change)",
    ]
    assert any("3 coding(s) were decided differently" in w and "review reconcile" in w for w in run.stats["warnings"])


def test_reconcile_agree_project_matches_sklearn(disputed, tmp_path):
    from sklearn.metrics import cohen_kappa_score

    result = runner.invoke(
        app, ["agree", "--project", str(tmp_path / "project.db"), "--out", str(tmp_path / "agreement.json")]
    )
    assert result.exit_code == 0, result.output
    assert "units coded: alice 5, bob 6; coded by all coders: 5 (of 6)" in result.output
    from themekit.analysis.agree import agree_project

    agreement = agree_project(tmp_path / "project.db")
    rows = agreement.per_code.set_index("code")
    # the five quotes both decided, in transcript order: P01 isolation, isolated, debts, bailiffs; P02 trust
    alice = {"loneliness": [1, 1, 0, 0, 0], "debt": [0, 0, 1, 0, 0], "trust": [0, 0, 0, 0, 1]}
    bob = {"loneliness": [0, 1, 0, 0, 1], "debt": [0, 0, 1, 0, 0], "trust": [0, 0, 0, 0, 0]}
    assert rows.loc["loneliness", "kappa"] == pytest.approx(
        cohen_kappa_score(alice["loneliness"], bob["loneliness"]), abs=1e-4
    )
    assert rows.loc["loneliness", "kappa"] == pytest.approx(1 / 6, abs=1e-4)
    assert rows.loc["trust", "kappa"] == pytest.approx(cohen_kappa_score(alice["trust"], bob["trust"]), abs=1e-4)
    assert rows.loc["debt", "kappa"] == 1.0
    assert rows.loc["loneliness", "percent_agreement"] == 0.6
    assert rows.loc["loneliness", "n_bob"] == 3  # the quote only bob decided counts for him, and is missing for alice
    assert sorted(agreement.disagreements["applied_by"]) == ["alice", "alice", "bob"]


def test_reconcile_agree_project_needs_two_coders(two_coders, tmp_path):
    result = runner.invoke(app, ["agree", "--project", str(tmp_path / "project.db")])
    assert result.exit_code == 1
    assert "agreement needs two coders' decisions on this run's quotes" in result.output
    assert "decisions by alice" in result.output and "--blind" in result.output


def test_reconcile_sheet_lists_each_disagreement_with_each_coders_decision(disputed, tmp_path):
    project, _, _ = disputed
    assert export_reconcile(project, tmp_path / "reconcile.csv") == 3
    rows = read(tmp_path / "reconcile.csv")
    assert list(rows[0]) == [
        "id",
        "transcript",
        "quote",
        "code",
        "code_label",
        "alice",
        "bob",
        "final_decision",
        "note",
    ]
    got = {(r["quote"][:15], r["code"]): (r["alice"], r["bob"], r["final_decision"]) for r in rows}
    assert got == {
        ("Honestly the is", "loneliness"): ("given: accept", "not given: reject", ""),
        ("I trust her com", "loneliness"): (
            "not given (decided other rows of this quote)",
            "given: change from trust",
            "",
        ),
        ("I trust her com", "trust"): ("given: accept", "not given: change to loneliness", ""),
    }


def test_reconcile_import_makes_the_final_decision_what_reruns_apply(disputed, tmp_path, tiny_corpus, tiny_codebook):
    project, _, _ = disputed
    result = runner.invoke(
        app, ["review", "reconcile", "-o", str(tmp_path / "reconcile.csv"), "--project", str(tmp_path / "project.db")]
    )
    assert result.exit_code == 0 and "3 disagreement(s) to reconcile" in result.output, result.output
    filled = fill(
        tmp_path / "reconcile.csv",
        tmp_path / "reconciled.csv",
        {
            ("Honestly the isolation", "loneliness"): ("reject", ""),
            ("I trust her", "loneliness"): ("accept", ""),
            ("I trust her", "trust"): ("accept", ""),
        },
        column="final_decision",
    )
    result = runner.invoke(
        app, ["review", "import", str(filled), "--coder", "carol", "--project", str(tmp_path / "project.db")]
    )
    assert result.exit_code == 0, result.output
    assert "Recorded 3 final decision(s), reconciled by carol: 2 accept, 1 reject" in result.output
    run = code(tiny_corpus, tiny_codebook, project)
    status = {(c.segment.text[:15], c.code_id): (c.status, c.method) for c in run.codings}
    assert status[("Honestly the is", "loneliness")] == ("rejected", "rule")
    assert status[("I trust her com", "loneliness")] == ("accepted", "human")
    assert status[("I trust her com", "trust")] == ("accepted", "rule")
    assert run.stats["decisions"]["disputed"] == []
    # the coders' own decisions are still there, beside the final ones
    assert {(d.coder, d.final) for d in project.decisions()} == {("alice", False), ("bob", False), ("carol", True)}
    # the sheet shows the final decisions once made; importing it again records nothing twice
    export_reconcile(project, tmp_path / "again.csv")
    assert sorted(r["final_decision"] for r in read(tmp_path / "again.csv")) == ["accept", "accept", "reject"]
    again = runner.invoke(
        app, ["review", "import", str(filled), "--coder", "carol", "--project", str(tmp_path / "project.db")]
    )
    assert "Recorded 0 final decision(s)" in again.output and "3 already recorded" in again.output


def test_reconcile_sheet_with_a_bad_final_decision_names_the_row(disputed, tmp_path):
    from themekit.review.reconcile import import_reconcile

    project, _, _ = disputed
    export_reconcile(project, tmp_path / "reconcile.csv")
    filled = fill(
        tmp_path / "reconcile.csv",
        tmp_path / "bad.csv",
        {("Honestly the isolation", "loneliness"): ("maybe", "")},
        column="final_decision",
    )
    result = import_reconcile(filled, project, coder="carol")
    assert result.recorded == 0
    assert result.problems == [(2, "final_decision 'maybe' is not accept (the code is given) or reject (it is not)")]


def test_reconcile_gold_from_decisions_keeps_only_what_coders_agree_on(disputed, tmp_path):
    result = runner.invoke(
        app, ["review", "gold", "-o", str(tmp_path / "gold.csv"), "--project", str(tmp_path / "project.db")]
    )
    assert result.exit_code == 0, result.output
    gold = {(r["text"][:15], r["code"]) for r in read(tmp_path / "gold.csv")}
    assert ("I felt isolated", "loneliness") in gold and ("The debts piled", "debt") in gold
    assert ("I never felt lo", "loneliness") in gold  # one coder's decision on a quote only they decided
    assert not {q for q, _ in gold} & {"Honestly the is", "I trust her com"}  # disputed: nobody's decision teaches


def test_reconcile_xlsx_sheet_has_a_drop_down_and_round_trips(disputed, tmp_path):
    from openpyxl import load_workbook

    from themekit.review.reconcile import import_reconcile, is_reconcile_sheet

    project, _, _ = disputed
    export_reconcile(project, tmp_path / "reconcile.xlsx")
    book = load_workbook(tmp_path / "reconcile.xlsx")
    sheet = book["reconcile"]
    header = [c.value for c in sheet[1]]
    assert header[-2:] == ["final_decision", "note"]
    assert [v.formula1 for v in sheet.data_validations.dataValidation] == ['"accept,reject"']
    for row in sheet.iter_rows(min_row=2):
        row[header.index("final_decision")].value = "Reject"
    book.save(tmp_path / "filled.xlsx")
    assert is_reconcile_sheet(tmp_path / "filled.xlsx") and not is_reconcile_sheet(tmp_path / "bob.csv")
    result = import_reconcile(tmp_path / "filled.xlsx", project, coder="kim")
    assert result.counts["reject"] == 3 and not result.problems


def test_reconcile_sheet_that_decides_one_quote_both_ways_records_neither(disputed, tmp_path):
    from themekit.review.reconcile import import_reconcile

    project, _, _ = disputed
    export_reconcile(project, tmp_path / "reconcile.csv")
    rows = read(tmp_path / "reconcile.csv")
    first = dict(rows[0], final_decision="reject")
    again = dict(rows[0], final_decision="accept")  # the same id pasted twice, decided both ways
    with (tmp_path / "both.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([first, again])
    result = import_reconcile(tmp_path / "both.csv", project, coder="carol")
    assert result.recorded == 0
    assert [number for number, _ in result.problems] == [2, 3]
    assert (
        "rows 2, 3 give code" in result.problems[0][1]
        and "both final decisions (accept and reject)" in result.problems[0][1]
    )
    assert not [d for d in project.decisions() if d.final]
