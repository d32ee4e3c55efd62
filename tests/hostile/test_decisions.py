"""No human decision lost or misplaced: review ids, shifted sheets, renamed transcripts, store faults, codebook locks."""

from __future__ import annotations

import csv
import hashlib
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

import themekit
from themekit.cli import app
from themekit.errors import ProjectDiskFullError, ProjectStorageError
from themekit.review.sheets import export_review, import_review, review_status
from themekit.store import Project

from ..conftest import HANG_GUARD, write

SURVEY = """\
Interviewer: How was it?

Participant: Honestly the isolation was the worst part, I was lonely every day.

Interviewer: And money?

Participant: The debts piled up and the bailiffs came twice in one month.
"""


def code(corpus, codebook, project, **options):
    """A rule-coded run, saved (and so recorded in the project) beside the project."""
    run = themekit.code(corpus, codebook, methods="rule", cache_dir=None, project=project, **options)
    folder = Path(project.path if isinstance(project, Project) else project).parent
    run.save(folder / f"run{len(list(folder.glob('run*')))}")
    return run


def read_rows(sheet: Path) -> list[dict[str, str]]:
    with sheet.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_rows(sheet: Path, rows: list[dict[str, str]]) -> Path:
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return sheet


def statuses(run) -> dict[tuple[str, str, str], str]:
    return {(c.segment.transcript.id, c.segment.text[:20], c.code_id): c.status for c in run.codings}


@pytest.fixture
def twins(tmp_path):
    """Two transcripts with the same words under two names (a transcript saved twice, a repeated survey answer)."""
    folder = tmp_path / "twins"
    write(folder / "A.txt", SURVEY)
    write(folder / "B.txt", SURVEY)
    return folder


def test_decisions_identical_transcripts_get_their_own_review_ids(tmp_path, twins, tiny_codebook):
    project = Project(tmp_path / "project.db")
    run = code(twins, tiny_codebook, project)
    export_review(run, tmp_path / "review.csv", project)
    rows = read_rows(tmp_path / "review.csv")
    ids = {(r["transcript"], r["suggested_code"]): r["id"] for r in rows}
    assert len(rows) == 4 and len(set(ids.values())) == 4
    assert ids[("A", "loneliness")] != ids[("B", "loneliness")]
    # rejecting only B's rows records them against B, never A
    decided = [{**r, "decision": "reject" if r["transcript"] == "B" else ""} for r in rows]
    result = import_review(write_rows(tmp_path / "filled.csv", decided), project, coder="alex")
    assert result.counts["reject"] == 2 and not result.problems
    status_table = review_status(project)
    assert status_table.loc["loneliness", ["codings", "suggested", "rejected"]].tolist() == [2, 1, 1]
    again = code(twins, tiny_codebook, project)
    status = statuses(again)
    assert {k: v for k, v in status.items() if k[0] == "A"} == {
        ("A", "Honestly the isolati", "loneliness"): "suggested",
        ("A", "The debts piled up a", "debt"): "suggested",
    }
    assert {v for k, v in status.items() if k[0] == "B"} == {"rejected"}
    # deciding both is accepted, and the ids are the same in the next run's sheet
    export_review(again, tmp_path / "again.csv", project, include_reviewed=True)
    assert {(r["transcript"], r["suggested_code"]): r["id"] for r in read_rows(tmp_path / "again.csv")} == ids
    both = [{**r, "decision": "accept"} for r in rows if r["transcript"] == "A"] + [
        {**r, "decision": "reject"} for r in rows if r["transcript"] == "B"
    ]
    result = import_review(write_rows(tmp_path / "both.csv", both), project, coder="sam")
    assert not result.problems and result.counts["accept"] == 2 and result.counts["reject"] == 2


def test_decisions_sheet_exported_before_ids_named_transcripts_still_imports(tmp_path, twins, tiny_codebook):
    project = Project(tmp_path / "project.db")
    run = code(twins, tiny_codebook, project)
    export_review(run, tmp_path / "review.csv", project)
    rows = read_rows(tmp_path / "review.csv")
    # as themekit wrote sheets before: the id hashed content, offsets and code; the store kept the first name
    items = project.review_items(r["id"] for r in rows)
    old_rows = []
    with project.transaction() as conn:
        for row in rows:
            item = items[row["id"]]
            old = hashlib.sha256(
                f"{item['transcript_sha256']}:{item['start']}:{item['end']}:{item['code']}".encode()
            ).hexdigest()[:16]
            conn.execute(
                'INSERT OR IGNORE INTO review_items (id, run, transcript, transcript_sha256, start, "end", code, quote, codebook_sha256) '
                'SELECT ?, run, transcript, transcript_sha256, start, "end", code, quote, codebook_sha256 FROM review_items WHERE id = ?',
                (old, row["id"]),
            )
            old_rows.append({**row, "id": old, "decision": "reject" if row["transcript"] == "B" else "accept"})
    assert len({r["id"] for r in old_rows}) == 2  # the old ids collide across A and B
    result = import_review(write_rows(tmp_path / "old.csv", old_rows), project, coder="alex")
    assert not result.problems
    assert result.legacy == 4 and result.counts["accept"] == 2 and result.counts["reject"] == 2
    cli = CliRunner().invoke(
        app, ["review", "import", str(tmp_path / "old.csv"), "--coder", "sam", "--project", str(project.path)]
    )
    assert cli.exit_code == 0, cli.output
    assert (
        "4 row(s) carry ids from a sheet exported by an earlier themekit (ids without the transcript's name): matched "
        "through their transcript column and recorded under today's ids."
    ) in cli.output
    status = statuses(code(twins, tiny_codebook, project))
    assert {v for k, v in status.items() if k[0] == "A"} == {"accepted"}
    assert {v for k, v in status.items() if k[0] == "B"} == {"rejected"}


@pytest.fixture
def sheet(tmp_path, tiny_corpus, tiny_codebook):
    project = Project(tmp_path / "project.db")
    run = code(tiny_corpus, tiny_codebook, project)
    export_review(run, tmp_path / "review.csv", project)
    return project, read_rows(tmp_path / "review.csv")


def test_decisions_shifted_id_column_is_caught_not_recorded(tmp_path, sheet):
    project, rows = sheet
    assert len(rows) >= 4
    filled = [{**r, "decision": "accept"} for r in rows]
    # Excel "delete cell, shift up" on the id column from the second data row (sheet row 3)
    ids = [r["id"] for r in filled]
    shifted = [
        {**r, "id": (ids[0] if k == 0 else ids[k + 1] if k + 1 < len(ids) else "")} for k, r in enumerate(filled)
    ]
    result = import_review(write_rows(tmp_path / "shifted.csv", shifted), project, coder="alex")
    assert result.counts["accept"] == 1  # only the row above the shift
    numbers = [n for n, _ in result.problems]
    assert numbers == list(range(3, len(rows) + 2))
    row3 = result.problems[0][1]
    third = rows[2]
    assert row3.startswith(f'id {third["id"]} names {third["transcript"]} "')
    assert f'coded {third["suggested_code"]}, but this row shows "' in row3
    assert "has the id column shifted? Copy the row's id back from the exported sheet" in row3
    assert result.problems[-1][1].startswith("no id.")
    assert len(project.decisions()) == 1


def test_decisions_id_with_leading_apostrophe_is_accepted(tmp_path, sheet):
    project, rows = sheet
    typed = [{**rows[0], "id": "'" + rows[0]["id"], "decision": "reject"}]
    result = import_review(write_rows(tmp_path / "typed.csv", typed), project, coder="alex")
    assert not result.problems and result.counts["reject"] == 1
    assert [d.code for d in project.decisions()] == [rows[0]["suggested_code"]]


def test_decisions_rows_deciding_one_coding_both_ways_are_listed(tmp_path, tiny_codebook):
    write(
        tmp_path / "t" / "P09.txt",
        "Interviewer: Go on?\n\nP09: I was lonely and the debt kept growing with nobody to talk to.\n",
    )
    project = Project(tmp_path / "project.db")
    export_review(code(tmp_path / "t", tiny_codebook, project), tmp_path / "review.csv", project)
    rows = {r["suggested_code"]: r for r in read_rows(tmp_path / "review.csv")}
    # the debt row adds loneliness to the quote, the loneliness row rejects loneliness on the same quote
    filled = [{**rows["debt"], "decision": "add", "code": "loneliness"}, {**rows["loneliness"], "decision": "reject"}]
    result = import_review(write_rows(tmp_path / "both.csv", filled), project, coder="alex")
    message = (
        "rows 2, 3 decide code 'loneliness' of the same quote in P09 both ways (one gives it, "
        "another takes it away); keep the one you mean and import again"
    )
    assert result.problems == [(2, message), (3, message)]
    assert result.recorded == 0 and project.decisions() == []


# -- store faults: disk full, read-only, damaged -----------------------------------------------------------------------


def _decided_sheet(tmp_path, tiny_corpus, tiny_codebook) -> tuple[Project, Path]:
    project = Project(tmp_path / "project.db")
    export_review(code(tiny_corpus, tiny_codebook, project), tmp_path / "review.csv", project)
    rows = [{**r, "decision": "reject", "note": "x" * 3000} for r in read_rows(tmp_path / "review.csv")]
    return project, write_rows(tmp_path / "filled.csv", rows)


def test_decisions_disk_full_during_import_says_so_and_records_nothing(tmp_path, tiny_corpus, tiny_codebook):
    project, sheet = _decided_sheet(tmp_path, tiny_corpus, tiny_codebook)
    # a real SQLITE_FULL: the store may not grow by a page (SQLite rolls the transaction back by itself)
    pages = project._conn.execute("PRAGMA page_count").fetchone()[0]
    project._conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(ProjectDiskFullError) as info:
        import_review(sheet, project, coder="alex")
    message = str(info.value)
    assert message == (
        f"{project.path}: disk full while recording the decisions (database or disk is full): free space on "
        f"{tmp_path} and run again; nothing was lost, the store is as it was before this command."
    )
    assert "cannot rollback" not in message
    assert project.decisions() == [] and project.integrity_check() == "ok"


def test_decisions_disk_full_on_the_command_line_is_one_message(tmp_path, tiny_corpus, tiny_codebook, monkeypatch):
    project, sheet = _decided_sheet(tmp_path, tiny_corpus, tiny_codebook)
    project.close()
    opened = Project.__init__

    def full(self, *args, **kwargs):
        opened(self, *args, **kwargs)
        self._conn.execute(f"PRAGMA max_page_count = {self._conn.execute('PRAGMA page_count').fetchone()[0]}")

    monkeypatch.setattr(Project, "__init__", full)
    result = CliRunner().invoke(
        app, ["review", "import", str(sheet), "--coder", "alex", "--project", str(project.path)]
    )
    assert result.exit_code == 1
    assert result.output.startswith(
        f"Error [E706]: {project.path}: disk full while recording the decisions (database or disk is full): "
        f"free space on {tmp_path} and run again; nothing was lost"
    )
    assert "Traceback" not in result.output


def test_decisions_read_only_store_is_one_message_with_the_fix(tmp_path, tiny_corpus, tiny_codebook):
    project, sheet = _decided_sheet(tmp_path, tiny_corpus, tiny_codebook)
    # tests run as root, which ignores file modes: SQLite's own read-only switch gives the error a read-only file gives
    project._conn.execute("PRAGMA query_only = 1")
    with pytest.raises(ProjectStorageError) as info:
        import_review(sheet, project, coder="alex")
    assert str(info.value) == (
        f"{project.path}: the project store is read-only (SQLite says: attempt to write a readonly database), and "
        "recording the decisions writes to it; nothing was changed. Make it writable (chmod u+w "
        f"{project.path} {tmp_path}: SQLite keeps its -wal and -shm files beside it), or copy the project to a "
        "writable folder and give project= the copy. Commands that only read it (history, review status) work as it is."
    )


def test_decisions_read_only_folder_is_not_called_a_foreign_file(tmp_path, monkeypatch):
    path = tmp_path / "project.db"
    Project(path).close()
    real = sqlite3.connect

    class NoWalFiles:
        """A connection in a folder where SQLite cannot create its -wal and -shm files (root ignores folder modes,
        so the error SQLite gives there is raised here)."""

        def __init__(self, conn):
            self._conn = conn

        def __getattr__(self, name):
            return getattr(self._conn, name)

        def execute(self, sql, *args):
            if "journal_mode" in sql:
                raise sqlite3.OperationalError("unable to open database file")
            return self._conn.execute(sql, *args)

    monkeypatch.setattr("themekit.store.db.sqlite3.connect", lambda *a, **k: NoWalFiles(real(*a, **k)))
    with pytest.raises(ProjectStorageError) as info:
        Project(path)
    assert "read-only (SQLite says: unable to open database file), and opening the project writes" in str(info.value)
    assert f"Make it writable (chmod u+w {path} {tmp_path}:" in str(info.value)
    assert "move this file away" not in str(info.value)


def _damage(path: Path) -> None:
    """Overwrite the store's pages after the first two with noise, as a failing disk or a careless copy would."""
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.seek(2 * 4096)
        handle.write(bytes(range(256)) * ((size - 2 * 4096) // 256))


def test_decisions_damaged_store_is_never_written_into(tmp_path, tiny_corpus, tiny_codebook):
    project, sheet = _decided_sheet(tmp_path, tiny_corpus, tiny_codebook)
    import_review(sheet, project, coder="alex")
    project._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    project.close()
    _damage(project.path)
    before = project.path.read_bytes()
    runner = CliRunner()
    for command in (
        ["review", "import", str(sheet), "--coder", "sam"],
        ["code", str(tiny_corpus), "-c", str(tiny_codebook), "-o", str(tmp_path / "r2"), "--method", "rule", "-q"],
    ):
        result = runner.invoke(app, [*command, "--project", str(project.path)])
        assert result.exit_code == 1, (command, result.output)
        assert result.output.startswith(f"Error [E703]: {project.path}: the project store is damaged ("), (
            command,
            result.output,
        )
        assert (
            f"Save what can be read into a new store with 'themekit project recover {project.path} --out "
            "recovered.db' and give --project recovered.db from then on (or restore the store from a backup)."
        ) in result.output
        assert "Traceback" not in result.output
    assert project.path.read_bytes() == before
    assert not (tmp_path / "r2").exists()


# -- concurrent codebook edits ------------------------------------------------------------------------------------------


def _bump_slowly(path: str, note: str, ready, results) -> None:
    """``codebook bump --minor`` in its own process, started with the other one and slowed between reading and
    writing, so the two overlap for sure."""
    import time

    from themekit.codebook import edit

    real = edit._write_validated

    def slow(*args, **kwargs):
        time.sleep(0.5)
        return real(*args, **kwargs)

    edit._write_validated = slow
    ready.wait()
    results.put(edit.bump_codebook(path, "minor", note).new_version)


def test_decisions_concurrent_codebook_bumps_take_turns(tmp_path, tiny_codebook):
    import multiprocessing

    import yaml

    from themekit.codebook import edit, validate_codebook

    validate_codebook(tiny_codebook)  # load what validation needs once, so the forked processes start warm
    assert edit.bump_version("0.1.0") == "0.2.0"
    context = multiprocessing.get_context("fork")
    ready, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=_bump_slowly, args=(str(tiny_codebook), note, ready, results))
        for note in ("first", "second")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(HANG_GUARD)
    assert sorted(results.get(timeout=HANG_GUARD) for _ in workers) == ["0.2.0", "0.3.0"]
    data = yaml.safe_load(tiny_codebook.read_text(encoding="utf-8"))
    assert data["version"] == "0.3.0"
    assert sorted(entry["changes"][0] for entry in data["changelog"]) == ["first", "second"]


# -- a large store ----------------------------------------------------------------------------------------------------


def test_decisions_import_looks_decisions_up_by_index_in_stores_old_and_new(tmp_path):
    from themekit.store import db

    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:  # a store as themekit wrote it before issue 20 (schema 1)
        conn.executescript(db.MIGRATIONS[0] + "; PRAGMA user_version = 1;")
        conn.execute("INSERT INTO codebooks VALUES ('c', 'cb', '1.0.0', 'x', '', '2025-01-01')")
        conn.execute("INSERT INTO runs VALUES (1, 'r', '2025-01-01', NULL, 'c', '{}', '{}', '[]')")
        conn.execute("INSERT INTO review_items VALUES ('abc', 1, 'P01', 's', 0, 5, 'trust', 'hello', 'c')")
    for path in (old, tmp_path / "new.db"):
        project = Project(path)
        assert project.schema_version == db.SCHEMA_VERSION == 4
        plan = " ".join(
            row[-1]
            for row in project._conn.execute(
                "EXPLAIN QUERY PLAN SELECT item, decision FROM decisions WHERE item IN ('a', 'b') AND coder = 'x' ORDER BY id"
            )
        )
        assert "USING INDEX decisions_item" in plan, plan
    assert Project(old).review_items(["abc"])["abc"]["scheme"] == 1  # an id written before ids named their transcript


def test_decisions_disk_full_while_writing_a_run_is_one_message(tmp_path, tiny_corpus, tiny_codebook, monkeypatch):
    import errno

    def full(*args, **kwargs):  # the disk fills up halfway through the run folder
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("themekit.export.folder.summary_markdown", full)
    out = tmp_path / "r1"
    result = CliRunner().invoke(
        app, ["code", str(tiny_corpus), "-c", str(tiny_codebook), "-o", str(out), "--method", "rule", "-q"]
    )
    assert result.exit_code == 1, result.output
    assert result.output.startswith(
        f"Error [E300]: {out}: the disk is full (No space left on device); the run folder was not "
        "written and an earlier one there is untouched. Free space on the disk holding "
    )
    assert "Traceback" not in result.output
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
