"""Agreement on coder files as people have them: wide survey sheets, double coding of a subset, hierarchies, traps."""

from __future__ import annotations

import json
import random
from collections import Counter

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from typer.testing import CliRunner

from themekit.analysis.agree import agree, code_at_level, near_duplicate_codes
from themekit.cli import app
from themekit.errors import GoldError
from themekit.human.coderfile import WideLayout

from .conftest import write

CHILDREN = {
    "teaching": ["clear_explanations", "pace", "feedback"],
    "environment": ["students_select_environment", "quiet_space"],
    "assessment": ["exams", "coursework"],
}
CODES = [f"{p}->{c}" for p, kids in CHILDREN.items() for c in kids]
WIDE = WideLayout("ResponseId", "Code *", "Answer")


def _survey(seed: int = 7, responses: int = 60, double: int = 24) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Coder A codes every response; coder B double-codes every other of the first ``2 * double`` responses,
    agreeing with A on most codes: each a dict of response id -> codes."""
    rng = random.Random(seed)
    a = {f"R_{i:03d}": rng.sample(CODES, rng.randint(1, 3)) for i in range(responses)}
    b = {}
    for rid in list(a)[: 2 * double : 2]:
        codes = [c if rng.random() < 0.8 else rng.choice(CODES) for c in a[rid]]
        if rng.random() < 0.3:
            codes.append(rng.choice(CODES))
        b[rid] = list(dict.fromkeys(codes))
    return a, b


def _wide_csv(codings: dict[str, list[str]], ids: list[str], sep: str = ",") -> str:
    """The survey export: ResponseId, Answer, Code 1..Code 8; a response the coder did not code has empty cells."""
    lines = [sep.join(["ResponseId", "Answer", *(f"Code {k}" for k in range(1, 9))])]
    for rid in ids:
        codes = codings.get(rid, [])
        lines.append(sep.join([rid, f"Answer {rid} about the café", *codes, *[""] * (8 - len(codes))]))
    return "\n".join(lines) + "\n"


def _reference(a: dict[str, list[str]], b: dict[str, list[str]], level: int | None) -> dict[str, tuple[float, float]]:
    """Per code, scikit-learn's kappa and the krippendorff package's alpha on the responses both coders coded."""
    shared = sorted(set(a) & set(b))
    sets = {n: {r: {code_at_level(c, level) for c in d[r]} for r in shared} for n, d in (("a", a), ("b", b))}
    found = {}
    for code in sorted({c for s in sets.values() for codes in s.values() for c in codes}):
        va = [int(code in sets["a"][r]) for r in shared]
        vb = [int(code in sets["b"][r]) for r in shared]
        if len(set(va) | set(vb)) < 2:
            continue
        alpha = krippendorff.alpha(reliability_data=np.array([va, vb]), level_of_measurement="nominal")
        found[code] = (round(cohen_kappa_score(va, vb), 4), round(alpha, 4))
    return found


@pytest.mark.parametrize("level", [None, 1])
def test_agree_wide_survey_double_coded_subset_matches_references(tmp_path, level):
    a, b = _survey()
    ids = sorted(a)
    first = write(tmp_path / "coder_a.csv", _wide_csv(a, ids))
    # the second coder's sheet lists every response but coded only some; saved from Excel: Windows-1252 and ;
    second = tmp_path / "coder_b.csv"
    second.write_bytes(_wide_csv(b, ids, sep=";").encode("cp1252"))
    out = tmp_path / "agreement.json"
    args = [
        "agree",
        str(first),
        str(second),
        "--unit-column",
        "ResponseId",
        "--code-columns",
        "Code *",
        "--text-column",
        "Answer",
    ]
    result = CliRunner().invoke(app, [*args, "--out", str(out), *(["--level", str(level)] if level else [])])
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    rows = {r["code"]: r for r in record["per_code"]}
    expected = _reference(a, b, level)
    assert expected and set(expected) <= set(rows)
    for code, (kappa, alpha) in expected.items():
        assert (rows[code]["kappa"], rows[code]["alpha"]) == (kappa, alpha), code
    assert all(rows[c]["units_with_code"] == 0 for c in set(rows) - set(expected))
    assert record["overall"]["coded_units"] == {"coder_a": 60, "coder_b": 24}
    assert record["overall"]["shared_units"] == 24 and record["warnings"] == []
    assert record["overall"]["mean_kappa"] == pytest.approx(np.mean([k for k, _ in expected.values()]), abs=1e-4)
    if level:
        assert set(rows) == set(CHILDREN) and "(codes at level 1)" in result.output
    assert "units coded: coder_a 60, coder_b 24; coded by all coders: 24 (of 60)" in result.output
    # empty cells meaning "no code" instead: every response counts for coder_b, and the figures drop
    absent = agree([first, second], layout=WIDE, level=level, absent_means_no_code=True)
    assert absent.overall["shared_units"] == 60
    assert absent.overall["mean_kappa"] < record["overall"]["mean_kappa"]


def test_agree_wide_xlsx_sheet_and_level_separator(tmp_path):
    import pandas as pd

    a = {"R1": ["Teaching/pace", "Env/quiet"], "R2": ["Teaching/feedback"], "R3": ["Env/quiet"]}
    b = {"R1": ["Teaching/feedback"], "R2": ["Teaching/feedback"], "R3": ["Env/quiet"]}
    paths = []
    for name, codings in (("ann", a), ("bob", b)):
        frame = pd.DataFrame(
            [{"Id": r, "Code A": c[0], "Code B": c[1] if len(c) > 1 else None} for r, c in codings.items()]
        )
        path = tmp_path / f"{name}.xlsx"
        with pd.ExcelWriter(path) as writer:
            pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Notes", index=False)
            frame.to_excel(writer, sheet_name="Q1", index=False)
        paths.append(path)
    layout = WideLayout("id", "code *")
    top = agree(paths, layout=layout, sheet="Q1", level=1, separator="/").per_code.set_index("code")
    assert list(top.index) == ["Env", "Teaching"] and top.loc["Teaching", "percent_agreement"] == 1.0
    full = agree(paths, layout=layout, sheet="Q1").per_code.set_index("code")
    assert full.loc["Teaching/pace", "n_ann"] == 1 and full.loc["Teaching/pace", "n_bob"] == 0
    missing = CliRunner().invoke(
        app, ["agree", *map(str, paths), "--unit-column", "id", "--code-columns", "Code *", "--sheet", "Q2"]
    )
    assert missing.exit_code == 1
    assert "has no sheet 'Q2' (its sheets are: Notes, Q1); give one of them as --sheet" in missing.output


def test_agree_code_at_level():
    assert code_at_level("teaching->pace", 1) == "teaching"
    assert code_at_level("a -> b -> c", 2) == "a->b"
    assert code_at_level("a > b", 1, ">") == "a"
    assert code_at_level("flat", 3) == "flat"
    assert code_at_level("teaching->pace", None) == "teaching->pace"


LONG = "transcript,segment,code\n"


def _long(tmp_path, name, rows):
    return write(tmp_path / f"{name}.csv", LONG + "".join(f"{t},{s},{c}\n" for t, s, c in rows))


def test_agree_warns_header_only_coder_and_strict_refuses(tmp_path):
    a = _long(tmp_path, "ann", [("P01", i, "debt") for i in range(12)])
    b = write(tmp_path / "bob.csv", LONG)
    result = agree([a, b])
    assert result.overall["coded_units"] == {"ann": 12, "bob": 0}
    assert any(f"{b} has no rows (a header only), so bob coded nothing" in w for w in result.warnings)
    assert result.per_code.set_index("code").loc["debt", "kappa"] is None  # nothing to compare, not kappa 0
    cli = CliRunner().invoke(app, ["agree", str(a), str(b), "--strict"])
    assert cli.exit_code == 1 and "Traceback" not in cli.output
    assert "bob coded nothing" in cli.output and "--strict refuses these" in cli.output


def test_agree_warns_no_shared_and_few_shared_units(tmp_path):
    a = _long(tmp_path, "ann", [("P01", i, "debt") for i in range(5)])
    b = _long(tmp_path, "bob", [("P02", i, "debt") for i in range(5)])
    [none] = [w for w in agree([a, b]).warnings if "share no unit" in w]
    assert (
        "ann coded 5, bob coded 5" in none and "ann's look like 'P01 0'" in none and "bob's look like 'P02 0'" in none
    )
    c = _long(tmp_path, "cat", [("P01", i, "debt" if i % 2 else "") for i in range(3)])
    few = agree([a, c]).warnings
    assert few == [
        "only 3 unit(s) are coded by every coder; agreement on fewer than 10 units says little: have more units double-coded"
    ]
    with pytest.raises(GoldError, match="only 3 unit"):
        agree([a, c], strict=True)


def test_agree_warns_id_case_clashes_and_mixed_locations(tmp_path):
    a = _long(tmp_path, "ann", [("P01", i, "debt") for i in range(11)])
    b = _long(tmp_path, "bob", [("p01" if i == 3 else "P01", i, "debt") for i in range(11)])
    [clash] = agree([a, b]).warnings
    assert (
        clash.startswith("1 unit id(s) differ only in case ('P01 3' and 'p01 3')")
        and "write each id the same way" in clash
    )
    spans = write(
        tmp_path / "cat.csv",
        "transcript,char_start,char_end,code\n" + "".join(f"P01,{i * 10},{i * 10 + 9},debt\n" for i in range(10)),
    )
    cli = CliRunner().invoke(app, ["agree", str(a), str(spans)])
    assert cli.exit_code == 0
    assert "the files locate units in different ways (ann.csv by segment, cat.csv by span)" in cli.output
    assert "or give --run to map spans and segments" in cli.output


def test_agree_warns_one_unit_id_on_different_answers(tmp_path):
    text = "ResponseId,Answer,Code 1\nR1,I liked it,pace\nR1,Too slow for me,pace\n" + "".join(
        f"R{i},fine,pace\n" for i in range(2, 12)
    )
    a, b = write(tmp_path / "ann.csv", text), write(tmp_path / "bob.csv", text)
    result = agree([a, b], layout=WIDE)
    assert "ann.csv: ResponseId 'R1' is on rows 2, 3 with different Answer texts" in result.warnings[0]
    assert result.overall["coded_units"]["ann"] == 11


def test_agree_flags_near_duplicate_codes_and_never_truncates_them(tmp_path):
    long_a, long_b = "students_select_enviroment_for_group_work", "students_select_environment_for_group_work"
    a = _long(
        tmp_path,
        "ann",
        [("P01", i, c) for i, c in enumerate([long_a] * 4 + ["Debt"] * 3 + ["self care"] * 3 + ["pace"] * 2)],
    )
    b = _long(
        tmp_path,
        "bob",
        [("P01", i, c) for i, c in enumerate([long_b] * 4 + ["debt"] * 3 + ["self_care"] * 3 + ["race"] * 2)],
    )
    near = {tuple(n["codes"]): n for n in agree([a, b]).near_duplicates}
    assert near[("Debt", "debt")]["kind"] == "case"
    assert near[("Debt", "debt")]["counts"] == {"ann": {"Debt": 3, "debt": 0}, "bob": {"Debt": 0, "debt": 3}}
    assert near[("self care", "self_care")]["kind"] == "whitespace"
    assert near[(long_a, long_b)]["kind"] == "spelling (1 edit)"
    assert ("pace", "race") not in near  # too short to call a slip
    numbered = near_duplicate_codes(
        {
            "ann": Counter(["question_1->pace", "question_2->pace", "teaching->feedbak"]),
            "bob": Counter(["teaching->feedback"]),
        }
    )
    assert [n["codes"] for n in numbered] == [["teaching->feedback", "teaching->feedbak"]]  # Q1 and Q2 are not a slip
    cli = CliRunner().invoke(app, ["agree", str(a), str(b)], env={"COLUMNS": "60"})
    assert (
        f"'{long_a}' and '{long_b}' differ only in spelling (1 edit) (given ann 4 and 0; bob 0 and 4 times)"
        in cli.output
    )
    cells: list[str] = []
    for line in cli.output.splitlines():
        if line.startswith("│"):
            parts = [p.strip() for p in line.strip("│").split("│")]
            if parts[1] or not cells:
                cells.append(parts[0])
            else:
                cells[-1] += parts[0]  # a code folded onto the next line
    assert long_a in cells and long_b in cells
    assert "…" not in "".join(cells)


def test_agree_wide_file_errors_name_the_flags(tmp_path):
    a = write(tmp_path / "ann.csv", "ResponseId,Answer,Code 1\nR1,x,pace\n")
    runner = CliRunner()
    b = write(tmp_path / "bob.csv", "ResponseId,Answer,Code 1\nR1,x,pace\n")
    wrong = runner.invoke(app, ["agree", str(a), str(b), "--unit-column", "Id", "--code-columns", "Code *"])
    assert (
        "has no column 'Id' for the unit ids (columns are: ResponseId, Answer, Code 1); give one of them as --unit-column"
        in wrong.output
    )
    pattern = runner.invoke(app, ["agree", str(a), str(b), "--unit-column", "ResponseId", "--code-columns", "Theme*"])
    assert "no column matches 'Theme*' for the codes" in pattern.output and "--code-columns" in pattern.output
    half = runner.invoke(app, ["agree", str(a), str(b), "--unit-column", "ResponseId"])
    assert (
        half.exit_code == 1 and "a wide file needs both --unit-column (the unit id) and --code-columns" in half.output
    )
    long = runner.invoke(app, ["agree", str(a), str(b)])
    assert long.exit_code == 1 and "missing column(s): transcript, code" in long.output
    assert "several code columns give --unit-column and --code-columns" in long.output
