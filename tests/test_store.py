"""The project store: decisions survive re-runs, renames and edits; imports are checked row by row; writes are durable."""

from __future__ import annotations

import csv
import errno
import json
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import themekit
from themekit.cli import app
from themekit.errors import ProjectBusyError, ProjectError
from themekit.review.sheets import export_review, import_review, review_status
from themekit.store import SCHEMA_VERSION, Project, open_project

from .conftest import HANG_GUARD, SAMPLE, SAMPLE_CODEBOOK, TINY_CODEBOOK, write

runner = CliRunner()


def code(corpus, codebook, project, **options):
    return themekit.code(corpus, codebook, methods="rule", cache_dir=None, project=project, **options)


def fill(sheet: Path, out: Path, decisions: dict[tuple[str, str], tuple[str, str, str]]) -> Path:
    """Fill a review CSV as a reviewer would: (quote start, suggested code) → (decision, code, note)."""
    with sheet.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for (start, suggested), (decision, new_code, note) in decisions.items():
            if row["quote"].startswith(start) and row["suggested_code"] == suggested:
                row.update(decision=decision, code=new_code, note=note)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


def statuses(run) -> dict[tuple[str, str], str]:
    return {(c.segment.text[:30], c.code_id): c.status for c in run.codings}


@pytest.fixture
def reviewed(tmp_path, tiny_corpus, tiny_codebook):
    """A tiny project with one coded run and a review imported: accept, reject, add."""
    project = Project(tmp_path / "project.db")
    run = code(tiny_corpus, tiny_codebook, project)
    run.save(tmp_path / "r1")
    assert export_review(run, tmp_path / "review.csv", project) == len(run.codings)
    filled = fill(
        tmp_path / "review.csv",
        tmp_path / "filled.csv",
        {
            ("Honestly the isolation", "loneliness"): ("accept", "", "clear case"),
            ("The bailiffs came", "debt"): ("reject", "", "not about debt as such"),
            ("I trust her completely", "trust"): ("add", "loneliness", ""),
        },
    )
    result = import_review(filled, project, coder="alex")
    assert result.counts == {"accept": 1, "reject": 1, "change": 0, "add": 1} and not result.problems
    return project, run


def test_store_decisions_survive_a_rerun(reviewed, tiny_corpus, tiny_codebook, tmp_path):
    project, _ = reviewed
    run = code(tiny_corpus, tiny_codebook, project)
    status = statuses(run)
    assert status[("Honestly the isolation was the", "loneliness")] == "accepted"
    assert status[("The bailiffs came twice in one", "debt")] == "rejected"
    assert status[("I trust her completely, she ne", "loneliness")] == "human"
    assert status[("I trust her completely, she ne", "trust")] == "suggested"
    assert run.stats["decisions"]["applied"] == {"accepted": 1, "rejected": 1, "human": 1}
    frame = run.excerpts
    human = frame[frame["status"] == "human"].iloc[0]
    assert (human["method"], human["score"], human["evidence"]) == (
        "human",
        1.0,
        f"added by alex {time.strftime('%Y-%m-%d', time.gmtime())}",
    )
    # rejected codings stay out of the summary and the prevalence counts
    debt = next(c for t in themekit.summarize(run) for c in t.codes if c.code_id == "debt")
    assert all("bailiffs" not in q.text for q in debt.quotes)


def test_store_accepted_coding_stays_when_machine_no_longer_suggests_it(reviewed, tiny_corpus, tmp_path):
    project, _ = reviewed
    edited = write(
        tmp_path / "v2.yaml",
        TINY_CODEBOOK.replace("version: 0.1.0", "version: 0.2.0").replace(
            "keywords: [isolation, lonely, nobody to talk to]", "keywords: [lonely, nobody to talk to]"
        ),
    )
    run = code(tiny_corpus, edited, project)
    [kept] = [c for c in run.codings if c.segment.text.startswith("Honestly the isolation")]
    assert (kept.code_id, kept.status, kept.method) == ("loneliness", "accepted", "human")
    assert "accepted by alex" in kept.evidence


def test_store_rename_moves_decisions(reviewed, tiny_corpus, tmp_path):
    project, _ = reviewed
    renamed = TINY_CODEBOOK.replace("version: 0.1.0", "version: 0.2.0").replace(
        "      - id: loneliness\n        label: Loneliness\n",
        "      - id: feeling_alone\n        label: Feeling alone\n        renamed_from: [loneliness]\n",
    )
    run = code(tiny_corpus, write(tmp_path / "v2.yaml", renamed), project)
    status = statuses(run)
    assert status[("Honestly the isolation was the", "feeling_alone")] == "accepted"
    assert status[("I trust her completely, she ne", "feeling_alone")] == "human"
    assert not run.stats["decisions"]["orphaned"]
    result = runner.invoke(app, ["codebook", "diff", str(tmp_path / "codebook.yaml"), str(tmp_path / "v2.yaml")])
    assert result.exit_code == 0
    assert "~ loneliness → feeling_alone  renamed" in result.output
    assert "* feeling_alone  redefined: label" in result.output


def test_store_edited_transcript_orphans_changed_text_only(reviewed, tiny_corpus, tiny_codebook, tmp_path):
    project, _ = reviewed
    p01 = tiny_corpus / "P01.txt"
    text = p01.read_text(encoding="utf-8")
    text = "Interviewer: (recording restarted)\n\n" + text.replace(
        "Honestly the isolation was the worst part of it.", "Honestly the isolation was hard."
    )
    p01.write_text(text, encoding="utf-8")
    run = code(tiny_corpus, tiny_codebook, project)
    report = run.stats["decisions"]
    assert len(report["orphaned"]) == 1
    assert report["orphaned"][0].startswith(
        'P01 "Honestly the isolation was the worst part of it." (accept loneliness, by alex'
    )
    assert report["orphaned"][0].endswith("the transcript changed and this text is no longer in it")
    assert report["re_anchored"] == 1  # the bailiffs sentence moved down but is unchanged
    assert statuses(run)[("The bailiffs came twice in one", "debt")] == "rejected"
    assert len(project.decisions()) == 3  # orphans stay in the store
    result = runner.invoke(
        app,
        [
            "code",
            str(tiny_corpus),
            "-c",
            str(tiny_codebook),
            "-o",
            str(tmp_path / "r3"),
            "--method",
            "rule",
            "--no-cache",
            "--project",
            str(project.path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Orphaned: 1 stored decision(s) could not be placed in this run" in result.output
    assert 'P01 "Honestly the isolation was the worst part of it."' in result.output


def test_store_review_import_reports_bad_rows_and_keeps_good_ones(tmp_path, tiny_corpus, tiny_codebook):
    project_path = tmp_path / "project.db"
    assert (
        runner.invoke(
            app,
            [
                "code",
                str(tiny_corpus),
                "-c",
                str(tiny_codebook),
                "-o",
                str(tmp_path / "r1"),
                "--method",
                "rule",
                "--no-cache",
                "--project",
                str(project_path),
            ],
        ).exit_code
        == 0
    )
    result = runner.invoke(
        app,
        [
            "review",
            "export",
            str(tmp_path / "r1"),
            "--to",
            str(tmp_path / "review.csv"),
            "--project",
            str(project_path),
        ],
    )
    assert result.exit_code == 0, result.output
    with (tmp_path / "review.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    rows[0].update(decision="accept")
    rows[1].update(decision="maybe")
    rows[2].update(decision="change", code="lonelyness")
    rows[3].update(decision="reject", id="")
    rows[4].update(decision="Reject", note="=1+1")
    rows.append({**rows[0], "id": "0000000000000000", "decision": "accept"})
    with (tmp_path / "filled.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = runner.invoke(
        app, ["review", "import", str(tmp_path / "filled.csv"), "--coder", "sam", "--project", str(project_path)]
    )
    assert result.exit_code == 1
    assert "Recorded 2 decision(s) by sam: 1 accept, 1 reject, 0 change, 0 add" in result.output
    assert "4 row(s) not imported (2 decision(s) from the other rows were recorded)" in result.output
    assert "row 3: decision 'maybe' is not one of: accept, reject, change, add" in result.output
    assert "row 4: code 'lonelyness' is not in codebook Tiny study 0.1.0; did you mean loneliness?" in result.output
    assert "row 5: no id." in result.output
    assert "row 8: id '0000000000000000' is not from a review sheet exported from this project" in result.output
    assert "Traceback" not in result.output
    with Project(project_path) as project:
        decisions = project.decisions()
    assert sorted(d.decision for d in decisions) == ["accept", "reject"]
    assert [d.note for d in decisions if d.decision == "reject"] == ["=1+1"]
    # the same sheet again records nothing twice
    again = runner.invoke(
        app, ["review", "import", str(tmp_path / "filled.csv"), "--coder", "sam", "--project", str(project_path)]
    )
    assert "Recorded 0 decision(s)" in again.output and "2 already recorded" in again.output


def test_store_review_import_names_the_problem_of_every_bad_row(tmp_path, tiny_corpus, tiny_codebook):
    project = Project(tmp_path / "project.db")
    run = code(tiny_corpus, tiny_codebook, project)
    run.save(tmp_path / "r1")
    export_review(run, tmp_path / "review.csv", project)
    with (tmp_path / "review.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    first, second, third = rows[0], rows[1], rows[2]
    filled = [
        {**first, "decision": "Accepted", "note": "fine"},  # a synonym, recorded
        {**first, "decision": "reject"},  # the same id twice, decided the other way: neither row is recorded
        {**second, "note": "hmm"},  # a note without a decision
        {**second, "decision": "change"},  # change without a code
        {**third, "decision": "add", "code": third["suggested_code"]},  # add the suggested code itself
        {**third, "decision": "accept", "code": "debt" if third["suggested_code"] != "debt" else "trust"},
        {**rows[3], "decision": "add", "code": "trust" if rows[3]["suggested_code"] != "trust" else "debt"},  # recorded
        {**rows[4], "decision": "", "code": "", "note": ""},  # blank: left for later
    ]
    sheet = tmp_path / "filled.csv"
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(filled)
    result = import_review(sheet, project, coder="sam")
    other = filled[5]["code"]
    both_ways = f"rows 2, 3 decide code {first['suggested_code']!r} of the same quote in {first['transcript']} both ways (one gives it, another takes it away); keep the one you mean and import again"
    assert result.problems == [
        (2, both_ways),
        (3, both_ways),
        (4, "code or note given but no decision. Choose one of: accept, reject, change, add"),
        (5, "decision change needs the code to give in the 'code' column"),
        (6, f"add to the suggested code {third['suggested_code']!r} itself; use accept"),
        (7, f"decision accept with code {other!r}: to give a different code use change"),
    ]
    assert result.counts == {"accept": 0, "reject": 0, "change": 0, "add": 1}
    assert (result.blank, result.unchanged) == (1, 0)
    added = [d for d in project.decisions() if d.decision == "add"]
    assert [(d.code, d.new_code) for d in added] == [(filled[6]["code"], None)]
    assert import_review(sheet, project, coder="sam").unchanged == 1


def test_store_review_sheet_missing_columns_is_one_message(tmp_path):
    sheet = write(tmp_path / "sheet.csv", "id,quote\nabc,hello\n")
    with Project(tmp_path / "p.db") as project, pytest.raises(themekit.ThemekitError) as info:
        import_review(sheet, project, coder="sam")
    assert str(info.value) == (
        f"{sheet}: missing column(s) decision, code, note in the header row (found: id, quote). "
        "Import the sheet 'themekit review export' wrote, with its header row intact."
    )


def test_store_review_xlsx_has_dropdowns_and_round_trips(reviewed, tmp_path):
    from openpyxl import load_workbook

    project, run = reviewed
    path = tmp_path / "review.xlsx"
    export_review(run, path, project, include_reviewed=True)
    book = load_workbook(path)
    sheet = book["review"]
    header = [c.value for c in sheet[1]]
    assert header[-3:] == ["decision", "code", "note"]
    rules = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    decision, code = (chr(ord("A") + header.index(name)) for name in ("decision", "code"))
    assert rules[f"{decision}2:{decision}7"] == '"accept,reject,change,add"'
    assert rules[f"{code}2:{code}7"] == "codes!$A$2:$A$4"
    assert [r[0].value for r in book["codes"].iter_rows(min_row=2)] == ["loneliness", "debt", "trust"]
    quotes = {r[header.index("quote")].value for r in sheet.iter_rows(min_row=2)}
    assert "The bailiffs came twice in one month." in quotes
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("suggested_code")].value == "trust")
    row[header.index("decision")].value = "change"
    row[header.index("code")].value = "debt"
    book.save(path)
    result = import_review(path, project, coder="kim")
    assert result.counts["change"] == 1 and result.blank == 5
    frame = review_status(project)
    assert frame.loc["trust", "rejected"] == 1 and frame.loc["loneliness", "accepted"] == 1


@pytest.mark.slow
def test_store_decisions_train_the_classifier(reviewed, tiny_corpus, tiny_codebook, tmp_path):
    project, _ = reviewed
    run = themekit.code(
        tiny_corpus, tiny_codebook, methods="rule,semantic,classifier", cache_dir=tmp_path / "cache", project=project
    )
    assert run.settings["gold"]["path"] == "project decisions"
    assert run.settings["decisions"]["count"] == 3
    # a fresh cache: the semantic coder embeds everything new, the classifier finds it cached; the run reports both
    cache = run.stats["embedding_cache"]
    assert cache["misses"] > 0 and cache["hits"] >= len(run.units)


def test_store_codebook_changed_without_version_bump_warns(reviewed, tiny_corpus, tmp_path):
    project, _ = reviewed
    edited = write(
        tmp_path / "same-version.yaml", TINY_CODEBOOK.replace("Debts and arrears.", "Money owed, arrears, bailiffs.")
    )
    run = code(tiny_corpus, edited, project)
    [warning] = run.stats["warnings"]
    assert warning.startswith(
        "codebook 'Tiny study' version 0.1.0 differs from the one this project first saw under that version "
        "(redefined: debt (definition))"
    )
    assert "themekit codebook bump" in warning


def test_store_history_lists_runs(reviewed, tiny_corpus, tiny_codebook, tmp_path):
    project, _ = reviewed
    code(tiny_corpus, tiny_codebook, project).save(tmp_path / "r2")
    runs = project.runs()
    assert [r["codebook_version"] for r in runs] == ["0.1.0", "0.1.0"]
    assert runs[0]["counts"]["suggested"] == 6 and runs[1]["counts"]["accepted"] == 1
    result = runner.invoke(app, ["history", "--project", str(project.path)])
    assert result.exit_code == 0 and "r2" in result.output


def test_store_codebook_bump_keeps_comments(tmp_path):
    path = write(tmp_path / "cb.yaml", "# our codebook\n" + TINY_CODEBOOK)
    result = runner.invoke(app, ["codebook", "bump", str(path), "--minor", "-m", "Split debt into arrears and loans."])
    assert result.exit_code == 0, result.output
    assert "version 0.1.0 → 0.2.0" in result.output
    text = path.read_text()
    assert text.startswith("# our codebook\n")
    book = themekit.Codebook.load(path)
    assert book.version == "0.2.0" and book.spec.changelog[-1].changes == ["Split debt into arrears and loans."]
    assert (
        runner.invoke(app, ["codebook", "bump", str(path), "-m", "x"])
        .output.strip()
        .endswith("say which part to bump: exactly one of --major, --minor or --patch.")
    )


def test_store_codebook_diff_lists_each_kind_of_change(tmp_path):
    old = themekit.Codebook.load(write(tmp_path / "old.yaml", TINY_CODEBOOK))
    new_text = (
        TINY_CODEBOOK.replace("version: 0.1.0", "version: 1.0.0")
        .replace("keywords: [debt, bailiff]", "keywords: [debt, bailiff, arrears]")
        .replace(
            "      - id: trust\n        label: Trust\n",
            "      - id: rapport\n        label: Trust\n        renamed_from: [trust]\n",
        )
        + "      - id: hope\n        label: Hope\n        definition: Looking forward.\n"
    )
    # move loneliness under support: cut it from barriers
    block = TINY_CODEBOOK[TINY_CODEBOOK.index("      - id: loneliness") : TINY_CODEBOOK.index("      - id: debt")]
    new_text = new_text.replace(block, "") + block
    from themekit.codebook.diff import diff_codebooks

    diff = diff_codebooks(old, themekit.Codebook.load(write(tmp_path / "new.yaml", new_text)))
    assert diff.added == ["hope"]
    assert diff.renamed == [("trust", "rapport")]
    assert diff.moved == [("loneliness", "barriers", "support")]
    assert diff.redefined == [("debt", ["keywords"])]
    assert diff.removed == []


def test_store_merged_from_moves_decisions(reviewed, tiny_corpus, tmp_path):
    project, _ = reviewed
    merged = TINY_CODEBOOK.replace("version: 0.1.0", "version: 0.3.0").replace(
        '        examples: ["Once they trust you, things move."]\n',
        '        examples: ["Once they trust you, things move."]\n        merged_from: [debt]\n',
    )
    merged = merged.replace(merged[merged.index("      - id: debt") : merged.index("  - id: support")], "")
    run = code(tiny_corpus, write(tmp_path / "v3.yaml", merged), project)
    assert (
        statuses(run).get(("The bailiffs came twice in one", "trust")) is None
    )  # rejection moved to trust: nothing to reject
    assert not run.stats["decisions"]["orphaned"]


def test_store_busy_project_waits_then_says_so(tmp_path):
    path = tmp_path / "project.db"
    holder = Project(path)
    other = Project(path, wait=0.2)
    with holder.transaction():
        with pytest.raises(ProjectBusyError) as info:
            other.add_decisions([], coder="x")
    assert str(info.value) == (
        f"{path}: another themekit process is writing to this project and did not finish within 0 s. "
        "Wait for it to finish and run again, or use a different project=."
    )


def test_store_refuses_newer_schema_and_foreign_files(tmp_path):
    newer = tmp_path / "newer.db"
    Project(newer).close()
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(ProjectError, match="written by a newer themekit \\(project schema 99"):
        Project(newer)
    junk = write(tmp_path / "junk.db", "this is not a database at all, just some text " * 100)
    with pytest.raises(ProjectError, match="not a themekit project database"):
        Project(junk)
    with pytest.raises(ProjectError) as info:
        Project(junk / "project.db")
    assert str(info.value).startswith(f"{junk / 'project.db'}: cannot create the project's folder (")
    assert str(info.value).endswith("Give project= a path in a writable folder.")


# -- durability: kill -9 and concurrent processes ---------------------------------------------

KILL_AT = textwrap.dedent(
    """
    # Runs the themekit CLI and kills its own process with SIGKILL (no cleanup: as kill -9 or a power cut would)
    # at one point, argv[1]: "writing:TABLE" (half of the rows of TABLE inserted), "commit:TABLE" (the rows are
    # written and COMMIT is next), "committed:TABLE" (just after COMMIT), or "swap" (a new run folder is complete
    # in its hidden temporary folder and about to replace the old one).
    import os, signal, sys
    from contextlib import contextmanager

    from themekit.store import db as _db
    from themekit.util import atomic

    point, _, table = sys.argv[1].partition(":")


    def die():
        os.kill(os.getpid(), signal.SIGKILL)


    class HalfWritten:
        def __init__(self, conn):
            self._conn = conn

        def __getattr__(self, name):
            return getattr(self._conn, name)

        def executemany(self, sql, rows):
            rows = list(rows)

            def feed():
                for k, row in enumerate(rows):
                    if k == len(rows) // 2 and f"INSERT INTO {table} " in sql:
                        die()
                    yield row

            return self._conn.executemany(sql, feed())


    real = _db.Project.transaction


    @contextmanager
    def dying(self, *args):
        count = lambda conn: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        with real(self, *args) as conn:
            before = count(conn)
            yield HalfWritten(conn) if point == "writing" else conn
            wrote = count(conn) > before
            if wrote and point == "commit":
                die()
        if wrote and point == "committed":
            die()


    if point == "swap":
        atomic.replace_folder = lambda tmp, out: die()
    else:
        _db.Project.transaction = dying
    from themekit.cli import main
    sys.argv = ["themekit", *sys.argv[2:]]
    main()
    """
)


def _themekit(*args, cwd, kill_at=None):
    """``themekit ARGS`` in a new process; with ``kill_at``, killed at that point (see KILL_AT)."""
    code = ["-c", KILL_AT, kill_at] if kill_at else ["-c", "from themekit.cli import main; main()"]
    return subprocess.Popen(
        [sys.executable, *code, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture(scope="module")
def sample_project(tmp_path_factory):
    """The sample coded with rules into a project, with a review sheet of every coding marked accept."""
    folder = tmp_path_factory.mktemp("durable")
    project = Project(folder / "project.db")
    run = themekit.code(SAMPLE, SAMPLE_CODEBOOK, methods="rule", cache_dir=None, project=project)
    run.save(folder / "r1")
    export_review(run, folder / "review.csv", project)
    with (folder / "review.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["decision"] = "accept"
    with (folder / "all-accept.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    project.close()
    return folder, len(rows)


def _copy_project(sample_project, tmp_path) -> Path:
    import shutil

    folder, _ = sample_project
    for name in ("project.db", "all-accept.csv"):
        shutil.copy(folder / name, tmp_path / name)
    shutil.copytree(folder / "r1", tmp_path / "r1")
    return tmp_path / "project.db"


@pytest.mark.slow
def test_store_kill_during_import_leaves_store_whole(sample_project, tmp_path):
    db = _copy_project(sample_project, tmp_path)
    _, rows = sample_project
    with Project(db) as project:
        assert import_review(tmp_path / "all-accept.csv", project, coder="first").counts["accept"] == rows
        earlier = project.decisions()
    # killed half-way through writing the rows, between the last row and COMMIT, and just after COMMIT:
    # all of the sheet or none of it lands, never part, and what was there before stays as it was
    for point, landed in (("writing:decisions", 0), ("commit:decisions", 0), ("committed:decisions", rows)):
        coder = point.split(":")[0]
        proc = _themekit(
            "review", "import", "all-accept.csv", "--coder", coder, "--project", db, cwd=tmp_path, kill_at=point
        )
        _, stderr = proc.communicate(timeout=HANG_GUARD)
        assert proc.returncode == -signal.SIGKILL, stderr
        with Project(db) as project:
            assert project.integrity_check() == "ok"
            decisions = project.decisions()
        assert sum(1 for d in decisions if d.coder == coder) == landed, point
        assert [d for d in decisions if d.coder == "first"] == earlier
    assert len(decisions) == 2 * rows
    # and a clean import afterwards works
    result = runner.invoke(
        app, ["review", "import", str(tmp_path / "all-accept.csv"), "--coder", "final", "--project", str(db)]
    )
    assert result.exit_code == 0, result.output
    assert f"Recorded {rows} decision(s) by final" in result.output
    with Project(db) as project:
        assert len(project.decisions()) == 3 * rows


@pytest.mark.slow
def test_store_kill_during_run_keeps_a_whole_run_folder(sample_project, tmp_path):
    db = _copy_project(sample_project, tmp_path)
    old = {name: (tmp_path / "r1" / name).read_bytes() for name in ("excerpts.csv", "run.json", "summary.md")}
    # the new run codes paragraphs, not sentences, so the folder shows which run it holds
    rerun = (
        "code",
        SAMPLE,
        "-c",
        SAMPLE_CODEBOOK,
        "-o",
        "r1",
        "--force",
        "--method",
        "rule",
        "--unit",
        "paragraph",
        "--no-cache",
        "--quiet",
        "--project",
        db,
    )

    # killed with the new folder complete, just before it replaces the old one: the old run stays
    proc = _themekit(*rerun, cwd=tmp_path, kill_at="swap")
    _, stderr = proc.communicate(timeout=HANG_GUARD)
    assert proc.returncode == -signal.SIGKILL, stderr
    assert {name: (tmp_path / "r1" / name).read_bytes() for name in old} == old
    with Project(db) as project:
        assert project.integrity_check() == "ok"
        assert len(project.runs()) == 1

    # killed half-way through recording the new run in the project (its folder is in place): the folder holds
    # the whole new run, and the project the runs it had
    proc = _themekit(*rerun, cwd=tmp_path, kill_at="writing:codings")
    _, stderr = proc.communicate(timeout=HANG_GUARD)
    assert proc.returncode == -signal.SIGKILL, stderr
    record = json.loads((tmp_path / "r1" / "run.json").read_text())
    assert record["settings"]["unit"] == "paragraph"
    new = themekit.Run.load(tmp_path / "r1")
    assert len(new.codings) == record["counts"]["codings"] == len(pd.read_csv(tmp_path / "r1" / "excerpts.csv"))
    assert record["counts"]["codings"] != json.loads(old["run.json"])["counts"]["codings"]
    with Project(db) as project:
        assert project.integrity_check() == "ok"
        [only] = project.runs()
        recorded = project.run_codings()
    before = json.loads(old["run.json"])
    assert only["run_id"] == before["run_id"] and len(recorded) == before["counts"]["codings"]


@pytest.mark.slow
def test_store_two_concurrent_runs_both_land(sample_project, tmp_path):
    db = _copy_project(sample_project, tmp_path)
    procs = [
        _themekit(
            "code",
            SAMPLE,
            "-c",
            SAMPLE_CODEBOOK,
            "-o",
            f"run{k}",
            "--method",
            "rule",
            "--no-cache",
            "--quiet",
            "--project",
            db,
            cwd=tmp_path,
        )
        for k in (1, 2)
    ]
    results = [p.communicate(timeout=HANG_GUARD) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    with Project(db) as project:
        assert project.integrity_check() == "ok"
        runs = project.runs()
    assert len(runs) == 3
    assert {Path(r["folder"]).name for r in runs[1:]} == {"run1", "run2"}
    assert (tmp_path / "run1" / "excerpts.csv").read_bytes() == (tmp_path / "run2" / "excerpts.csv").read_bytes()


# -- issue 20: decisions follow a renamed transcript; the project store is found as git finds its repository --------


def test_store_renamed_transcript_keeps_its_decisions_and_says_so(reviewed, tiny_corpus, tiny_codebook, tmp_path):
    project, _ = reviewed
    (tiny_corpus / "P01.txt").rename(tiny_corpus / "P01_final.txt")
    moved = tiny_corpus / "2024" / "P02.txt"
    moved.parent.mkdir()
    (tiny_corpus / "P02.txt").rename(moved)
    run = code(tiny_corpus, tiny_codebook, project)
    status = {(c.segment.transcript.id, c.segment.text[:22], c.code_id): c.status for c in run.codings}
    assert status[("P01_final", "Honestly the isolation", "loneliness")] == "accepted"
    assert status[("P01_final", "The bailiffs came twic", "debt")] == "rejected"
    assert run.stats["decisions"]["followed"] == {"P01": "P01_final"}
    assert (
        "decisions on transcript 'P01' follow its text to 'P01_final' (renamed or moved, same content)"
        in run.stats["warnings"]
    )
    result = runner.invoke(
        app,
        [
            "code",
            str(tiny_corpus),
            "-c",
            str(tiny_codebook),
            "-o",
            str(tmp_path / "r9"),
            "--method",
            "rule",
            "--no-cache",
            "--project",
            str(project.path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Warning: decisions on transcript 'P01' follow its text to 'P01_final'" in result.output


def test_store_run_applying_none_of_its_decisions_says_so(reviewed, tiny_corpus, tiny_codebook):
    project, _ = reviewed
    for name in ("P01.txt", "P02.txt"):
        path = tiny_corpus / name
        path.write_text(
            path.read_text(encoding="utf-8").replace(" ", "  "), encoding="utf-8"
        )  # every quote's words re-spaced
    run = code(tiny_corpus, tiny_codebook, project)
    assert run.stats["decisions"]["for_this_run"] == 3
    assert (
        "0 of 3 stored decision(s) on these transcripts were applied (3 orphaned, listed below)"
        in run.stats["warnings"]
    )


def test_store_project_is_found_from_a_subfolder_or_beside_the_transcripts(
    tmp_path, tiny_corpus, tiny_codebook, monkeypatch
):
    study = tmp_path
    args = ["-c", str(tiny_codebook), "--method", "rule", "--no-cache", "-q"]
    assert runner.invoke(app, ["code", str(tiny_corpus), "-o", str(study / "r1"), *args]).exit_code == 0
    assert runner.invoke(app, ["review", "export", str(study / "r1"), "--to", str(study / "review.csv")]).exit_code == 0
    filled = fill(study / "review.csv", study / "filled.csv", {("The bailiffs came", "debt"): ("reject", "", "")})
    assert runner.invoke(app, ["review", "import", str(filled), "--coder", "alex"]).exit_code == 0
    for cwd in (study / "notes" / "deep", study / "transcripts"):
        cwd.mkdir(parents=True, exist_ok=True)
        monkeypatch.chdir(cwd)
        result = runner.invoke(app, ["code", str(tiny_corpus), "-o", str(study / f"r-{cwd.name}"), *args])
        assert result.exit_code == 0, result.output
        excerpts = pd.read_csv(study / f"r-{cwd.name}" / "excerpts.csv")
        assert excerpts.loc[excerpts["text"].str.startswith("The bailiffs came"), "status"].tolist() == ["rejected"]
        assert not (cwd / ".themekit" / "project.db").exists()
    # from a folder outside the study, the store beside the transcripts is used
    elsewhere = study / "elsewhere"
    elsewhere.mkdir()
    (study / ".themekit").rename(tiny_corpus / ".themekit")
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("THEMEKIT_CEILING_DIRECTORIES", str(study))
    run = themekit.code(tiny_corpus, tiny_codebook, methods="rule", cache_dir=None)
    assert statuses(run)[("The bailiffs came twice in one", "debt")] == "rejected"
    assert run.project.path == tiny_corpus / ".themekit" / "project.db"


def test_store_review_status_reports_the_run_asked_for(reviewed, tiny_corpus, tiny_codebook, tmp_path):
    project, _ = reviewed
    code(tiny_corpus / "P01.txt", tiny_codebook, project).save(tmp_path / "r2")  # the latest run: P01 only
    where = ["--project", str(project.path)]
    latest = runner.invoke(app, ["review", "status", *where])
    assert latest.exit_code == 0, latest.output
    assert "Run #2 (" in latest.output and "2 of 4 codings reviewed." in latest.output
    for ref in (str(tmp_path / "r1"), "1", project.runs()[0]["run_id"]):
        first = runner.invoke(app, ["review", "status", "--run", ref, *where])
        assert first.exit_code == 0, first.output
        assert "Run #1 (" in first.output and "2 of 6 codings reviewed." in first.output
    missing = runner.invoke(app, ["review", "status", "--run", "7", *where])
    assert missing.exit_code == 1
    assert "no run #7 is recorded; 'themekit history' lists the runs" in missing.output


def test_store_review_export_writes_with_out_and_still_takes_to(reviewed, tmp_path):
    project, _ = reviewed
    where = ["--project", str(project.path)]
    new = runner.invoke(
        app, ["review", "export", str(tmp_path / "r1"), "-o", str(tmp_path / "new.csv"), "--all", *where]
    )
    old = runner.invoke(
        app, ["review", "export", str(tmp_path / "r1"), "--to", str(tmp_path / "old.csv"), "--all", *where]
    )
    assert new.exit_code == 0 and old.exit_code == 0, new.output + old.output
    assert (tmp_path / "new.csv").read_bytes() == (tmp_path / "old.csv").read_bytes()
    helped = runner.invoke(app, ["review", "export", "--help"])
    assert "--out" in helped.output and "--to" not in helped.output
    none = runner.invoke(app, ["review", "export", str(tmp_path / "r1"), *where])
    said = re.sub(r"[│╭╮╰╯─\s]+", " ", none.output)
    assert none.exit_code == 2 and "give the review sheet to write, such as --out review.xlsx" in said


def test_store_review_sheet_shows_one_score_for_a_classifier_coding():
    from themekit.review.sheets import sheet_evidence

    evidence = "classifier: top features: 'bailiffs', 'council'; p=0.39 | rule: keyword 'debt'"
    assert sheet_evidence(evidence) == "classifier: top features: 'bailiffs', 'council' | rule: keyword 'debt'"
    semantic = 'definition: "Money owed" (similarity 0.41, in context 0.44, threshold 0.40)'
    assert sheet_evidence(semantic) == semantic


def test_store_a_run_folder_not_recorded_can_be_recorded_later(tmp_path, tiny_corpus, tiny_codebook, monkeypatch):
    # the store is busy when the finished run is to be recorded: the folder is whole, the message says how to record it
    from themekit.errors import ProjectBusyError
    from themekit.store.db import Project

    project_path, folder = tmp_path / "project.db", tmp_path / "r1"
    original = Project.record_run

    def busy(self, run, *, folder=None):
        raise ProjectBusyError(f"{self.path}: another themekit process is using the project store.")

    monkeypatch.setattr(Project, "record_run", busy)
    result = runner.invoke(
        app,
        [
            "code",
            str(tiny_corpus),
            "-c",
            str(tiny_codebook),
            "-o",
            str(folder),
            "--method",
            "rule",
            "--no-cache",
            "--project",
            str(project_path),
        ],
    )
    assert result.exit_code == 1
    assert "is complete but not recorded in the project" in result.output
    assert f"themekit history --record {folder}" in " ".join(result.output.split()).replace(" \n", "")
    assert (folder / "run.json").is_file() and (folder / "excerpts.csv").is_file()
    monkeypatch.setattr(Project, "record_run", original)
    result = runner.invoke(app, ["history", "--record", str(folder), "--project", str(project_path)])
    assert result.exit_code == 0, result.output
    assert "Recorded run " in result.output and "r1" in result.output
    again = runner.invoke(app, ["history", "--record", str(folder), "--project", str(project_path)])
    assert "is already recorded" in again.output
    with open_project(project_path) as store:
        assert [r["folder"] for r in store.runs()] == [str(folder.resolve())]


def test_store_latest_records_names_the_latest_record_on_each_coding_withdrawals_included(tmp_path):
    def row(code, decision, start=0):
        return {"transcript": "P01", "transcript_sha256": "s", "start": start, "end": 9, "quote": "the debts",
                "code": code, "decision": decision}  # fmt: skip

    with Project(tmp_path / "project.db") as store:
        store.add_decisions([row("debt", "accept"), row("trust", "reject")], coder="alex")
        store.add_decisions([row("debt", "withdraw")], coder="alex")
        store.add_decisions([row("debt", "reject", start=1)], coder="sam")
        latest = store.latest_records()
        assert {key[4]: (d.decision, d.coder) for key, d in latest.items() if key[2] == 0} == {
            "debt": ("withdraw", "alex"),  # the undo is news to a page that saw the accept
            "trust": ("reject", "alex"),
        }
        assert latest[("P01", "s", 1, 9, "debt")].coder == "sam"
        assert set(store.latest_records(coder="sam")) == {("P01", "s", 1, 9, "debt")}
        assert store.latest_records(transcript="P02") == {}
        assert latest[("P01", "s", 0, 9, "debt")].id > latest[("P01", "s", 0, 9, "trust")].id


# -- store faults: a full disk, a damaged file, an overwritten header, a read-only store ---------------------------


@pytest.fixture
def decided_store(sample_project, tmp_path) -> Path:
    """A copy of the sample's store with every coding accepted by one coder, written through to the file."""
    db = _copy_project(sample_project, tmp_path)
    with Project(db) as project:
        import_review(tmp_path / "all-accept.csv", project, coder="alex")
        project._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def _table_rows(db: Path, table: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid").fetchall()


def _damage_leaf(db: Path, table: str) -> int:
    """Overwrite one leaf page in the middle of ``table`` with noise, as a failing disk would; the rows it held."""
    with sqlite3.connect(db) as conn:
        leaves = conn.execute(
            "SELECT pageno, ncell FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno", (table,)
        ).fetchall()
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    page, cells = leaves[len(leaves) // 2]
    with db.open("r+b") as handle:
        handle.seek((page - 1) * size)
        handle.write(bytes(range(256)) * (size // 256))
    return cells


def _cli(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_store_damaged_store_is_read_with_a_warning_and_never_written(decided_store, sample_project):
    _, codings = sample_project
    lost = _damage_leaf(decided_store, "decisions")
    before = decided_store.read_bytes()
    hint = (
        f"Save what can be read into a new store with 'themekit project recover {decided_store} --out recovered.db' "
        "and give --project recovered.db from then on (or restore the store from a backup)."
    )
    warning = f"Warning: {decided_store}: the project store is damaged (database disk image is malformed); shown here is what can still be read. {hint}"
    history = _cli("history", "--project", decided_store)
    assert history.exit_code == 0, history.output
    assert warning in history.output and "│ 1 │" in history.output
    status = _cli("review", "status", "--project", decided_store)
    assert status.exit_code == 0, status.output
    assert warning in status.output
    # the decisions on the damaged page are not shown: their codings count as not reviewed, and the warning says so
    assert "decisions stopped at a damaged page after" in status.output
    kept = int(re.search(r"(\d+) of (\d+) codings reviewed", status.output).group(1))
    assert 0 < kept <= codings - lost and f"of {codings} codings reviewed." in status.output
    # a command that writes refuses, with the same way out, and writes nothing
    written = _cli(
        "review", "import", decided_store.parent / "all-accept.csv", "--coder", "sam", "--project", decided_store
    )
    assert written.exit_code == 1
    assert written.output.startswith(f"Error [E703]: {decided_store}: the project store is damaged (")
    assert hint in written.output and "Traceback" not in written.output
    assert decided_store.read_bytes() == before


def test_store_recover_saves_every_row_it_can_read_of_a_damaged_store(decided_store, tmp_path):
    whole = {t: _table_rows(decided_store, t) for t in ("runs", "codings", "segments", "decisions", "review_items")}
    lost = _damage_leaf(decided_store, "decisions")
    result = _cli("project", "recover", decided_store, "--out", tmp_path / "recovered.db")
    assert result.exit_code == 0, result.output
    assert (
        f"  decisions: {len(whole['decisions']) - lost} row(s) (1 damaged stretch(es) of rows could not be read)"
        in result.output
    )
    assert f"  codings: {len(whole['codings'])} row(s)\n" in result.output
    assert "SQLite's check of the new store: ok. It holds what could be read; the rest is lost." in result.output
    saved = _table_rows(tmp_path / "recovered.db", "decisions")
    assert len(saved) == len(whole["decisions"]) - lost and set(saved) < set(whole["decisions"])
    for table in ("runs", "codings", "segments", "review_items"):
        assert _table_rows(tmp_path / "recovered.db", table) == whole[table], table
    # the recovered store is a project store like any other: review status reads it with no warning
    status = _cli("review", "status", "--project", tmp_path / "recovered.db")
    assert status.exit_code == 0 and "Warning" not in status.output


def test_store_zeroed_header_is_recoverable_and_recovered_whole(decided_store, tmp_path):
    whole = {t: _table_rows(decided_store, t) for t in ("codebooks", "runs", "codings", "decisions", "imports")}
    with Project(decided_store) as project:
        decisions = project.decisions()
    with decided_store.open("r+b") as handle:
        handle.write(bytes(100))
    before = decided_store.read_bytes()
    message = (
        f"{decided_store}: the project store's header (its first 100 bytes) is overwritten, but the data after it is "
        f"whole and can be recovered: run 'themekit project recover {decided_store} --out recovered.db' and give "
        "--project recovered.db from then on. themekit writes nothing into this file; commands that only read it "
        "(history, review status) show it as it is."
    )
    written = _cli(
        "review", "import", decided_store.parent / "all-accept.csv", "--coder", "sam", "--project", decided_store
    )
    assert written.exit_code == 1 and written.output == f"Error [E703]: {message}\n"
    assert "start a new project" not in written.output
    status = _cli("review", "status", "--project", decided_store)
    assert status.exit_code == 0 and f"Warning: {message}" in status.output
    assert f"{len(decisions)} of {len(decisions)} codings reviewed." in status.output
    result = _cli("project", "recover", decided_store, "--out", tmp_path / "recovered.db")
    assert result.exit_code == 0, result.output
    assert "through a rebuilt header (its first 100 bytes were overwritten)" in result.output
    assert "It holds everything the store held." in result.output
    for table, rows in whole.items():
        assert _table_rows(tmp_path / "recovered.db", table) == rows, table
    with Project(tmp_path / "recovered.db") as recovered:
        assert recovered.schema_version == SCHEMA_VERSION and recovered.integrity_check() == "ok"
        assert recovered.decisions() == decisions
    assert decided_store.read_bytes() == before


def test_store_read_only_file_or_folder_is_read_and_writes_say_how_to_fix(decided_store):
    # tests run as root, whom the system lets write anything: themekit takes a file or folder that no one may
    # write (chmod 444 / 555) as read-only for everyone, root included
    folder = decided_store.parent
    before = decided_store.read_bytes()
    for locked, why in ((decided_store, "file mode 0444"), (folder, f"its folder {folder} is read-only")):
        locked.chmod(0o444 if locked.is_file() else 0o555)
        try:
            status = _cli("review", "status", "--project", decided_store)
            assert status.exit_code == 0, status.output
            assert "codings reviewed." in status.output and "Warning" not in status.output
            written = _cli("review", "import", folder / "all-accept.csv", "--coder", "sam", "--project", decided_store)
        finally:
            locked.chmod(0o644 if locked.is_file() else 0o755)
        assert written.exit_code == 1
        assert written.output == (
            f"Error [E704]: {decided_store}: the project store is read-only ({why}), and this command writes to it; "
            f"nothing was changed. Make it writable (chmod u+w {decided_store} {folder}: SQLite keeps its -wal and "
            "-shm files beside it), or copy the project to a writable folder and give --project the copy. Commands "
            "that only read it (history, review status) work as it is.\n"
        )
        # read-only, it was read as it stands: SQLite left no -wal or -shm file beside it
        assert sorted(p.name for p in folder.glob("project.db*")) == ["project.db"]
    assert decided_store.read_bytes() == before


class _FullDisk:
    """SQLite on a disk with a few KB left: it cannot grow its -shm file, and says "disk I/O error" (a read-only
    connection, which SQLite opens beside nothing, still reads)."""

    def __init__(self, conn):
        self._conn = conn

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def execute(self, sql, *args):
        raise sqlite3.OperationalError("disk I/O error")


def test_store_full_disk_is_not_called_damaged(decided_store, monkeypatch):
    real = sqlite3.connect
    monkeypatch.setattr(
        "themekit.store.db.sqlite3.connect", lambda *a, **k: real(*a, **k) if k.get("uri") else _FullDisk(real(*a, **k))
    )
    monkeypatch.setattr("themekit.store.db._free_bytes", lambda path: 24 * 1024)
    folder = decided_store.parent
    full = (
        f"Error [E706]: {decided_store}: disk full while opening the project (disk I/O error): free space on {folder} "
        "and run again; nothing was lost, the store is as it was before this command.\n"
    )
    written = _cli("review", "import", folder / "all-accept.csv", "--coder", "sam", "--project", decided_store)
    assert written.exit_code == 1 and written.output == full
    history = _cli("history", "--project", decided_store)
    assert history.exit_code == 0 and "│ 1 │" in history.output
    assert (
        f"Warning: {decided_store}: the disk is full, so the store was read as it stands on disk; free space on "
        f"{folder} before recording anything in it." in history.output
    )
    # with room on the disk, the same error is a disk that fails, still not a damaged store
    monkeypatch.setattr("themekit.store.db._free_bytes", lambda path: 10 * 1024**3)
    failing = _cli("review", "import", folder / "all-accept.csv", "--coder", "sam", "--project", decided_store)
    assert failing.output.startswith(f"Error [E704]: {decided_store}: the disk failed while opening the project")
    assert "damaged" not in failing.output.replace("not known to be damaged", "")


def test_store_full_disk_while_writing_or_making_the_folder_is_disk_full(decided_store, tmp_path, monkeypatch):
    opened = Project.__init__

    def full(self, *args, **kwargs):
        opened(self, *args, **kwargs)
        self._conn = _Full(self._conn)

    class _Full(_FullDisk):
        def execute(self, sql, *args):
            if sql.startswith(("INSERT", "BEGIN")):
                raise sqlite3.OperationalError("database or disk is full")
            return self._conn.execute(sql, *args)

    monkeypatch.setattr(Project, "__init__", full)
    result = _cli("review", "import", tmp_path / "all-accept.csv", "--coder", "sam", "--project", decided_store)
    assert result.output.startswith(
        f"Error [E706]: {decided_store}: disk full while recording the decisions (database or disk is full): "
        f"free space on {tmp_path} and run again; nothing was lost"
    )
    monkeypatch.setattr(Project, "__init__", opened)

    def no_space(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "mkdir", no_space)
    result = _cli("history", "--project", tmp_path / "new" / "project.db")
    assert result.exit_code == 1
    assert result.output.startswith(
        f"Error [E706]: {tmp_path / 'new' / 'project.db'}: disk full while creating the project's folder ("
    )
