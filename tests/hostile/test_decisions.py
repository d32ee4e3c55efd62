"""No human decision lost or misplaced: review ids, shifted sheets, renamed transcripts, store faults, codebook locks."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

import themekit
from themekit.store import Project, export_review, import_review

from ..conftest import write

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
    both = [{**r, "decision": "accept"} for r in rows if r["transcript"] == "A"] + [{**r, "decision": "reject"} for r in rows if r["transcript"] == "B"]
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
            old = hashlib.sha256(f"{item['transcript_sha256']}:{item['start']}:{item['end']}:{item['code']}".encode()).hexdigest()[:16]
            conn.execute(
                'INSERT OR IGNORE INTO review_items (id, run, transcript, transcript_sha256, start, "end", code, quote, codebook_sha256) '
                "SELECT ?, run, transcript, transcript_sha256, start, \"end\", code, quote, codebook_sha256 FROM review_items WHERE id = ?",
                (old, row["id"]),
            )
            old_rows.append({**row, "id": old, "decision": "reject" if row["transcript"] == "B" else "accept"})
    assert len({r["id"] for r in old_rows}) == 2  # the old ids collide across A and B
    result = import_review(write_rows(tmp_path / "old.csv", old_rows), project, coder="alex")
    assert not result.problems
    assert result.legacy == 4 and result.counts["accept"] == 2 and result.counts["reject"] == 2
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
    shifted = [{**r, "id": (ids[0] if k == 0 else ids[k + 1] if k + 1 < len(ids) else "")} for k, r in enumerate(filled)]
    result = import_review(write_rows(tmp_path / "shifted.csv", shifted), project, coder="alex")
    assert result.counts["accept"] == 1  # only the row above the shift
    numbers = [n for n, _ in result.problems]
    assert numbers == list(range(3, len(rows) + 2))
    row3 = result.problems[0][1]
    third = rows[2]
    assert row3.startswith(f"id {third['id']} names {third['transcript']} \"")
    assert f"coded {third['suggested_code']}, but this row shows \"" in row3
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
    write(tmp_path / "t" / "P09.txt", "Interviewer: Go on?\n\nP09: I was lonely and the debt kept growing with nobody to talk to.\n")
    project = Project(tmp_path / "project.db")
    export_review(code(tmp_path / "t", tiny_codebook, project), tmp_path / "review.csv", project)
    rows = {r["suggested_code"]: r for r in read_rows(tmp_path / "review.csv")}
    # the debt row adds loneliness to the quote, the loneliness row rejects loneliness on the same quote
    filled = [{**rows["debt"], "decision": "add", "code": "loneliness"}, {**rows["loneliness"], "decision": "reject"}]
    result = import_review(write_rows(tmp_path / "both.csv", filled), project, coder="alex")
    message = ("rows 2, 3 decide code 'loneliness' of the same quote in P09 both ways (one gives it, "
               "another takes it away); keep the one you mean and import again")
    assert result.problems == [(2, message), (3, message)]
    assert result.recorded == 0 and project.decisions() == []
