"""A notebook's Run.load shows the decisions now in the project store, or says they may be stale."""

from __future__ import annotations

import shutil

import pytest

import themekit
from themekit.review.decide import coding_record, decide
from themekit.store import Project


def _coded(tmp_path, corpus, codebook):
    project = tmp_path / "project.db"
    run = themekit.code(corpus, codebook, methods="rule", cache_dir=None, project=project)
    folder = run.save(tmp_path / "run")
    return project, folder


def test_run_load_shows_decisions_made_since_the_run_was_written(tmp_path, tiny_corpus, tiny_codebook):
    project, folder = _coded(tmp_path, tiny_corpus, tiny_codebook)
    before = themekit.Run.load(folder)
    assert before.decisions_note is None  # nothing decided since
    suggested = [c for c in before.codings if c.status == "suggested"]
    rejected, accepted = suggested[0], suggested[1]
    store = Project(project)
    decide(store, before.codebook, {**coding_record(rejected, before.codebook), "item": None}, "reject", coder="alex")
    decide(store, before.codebook, {**coding_record(accepted, before.codebook), "item": None}, "accept", coder="alex")
    store.close()

    after = themekit.Run.load(folder)
    status = {(c.segment.transcript.id, c.segment.start, c.code_id): c.status for c in after.codings}
    assert status[(rejected.segment.transcript.id, rejected.segment.start, rejected.code_id)] == "rejected"
    assert status[(accepted.segment.transcript.id, accepted.segment.start, accepted.code_id)] == "accepted"
    assert after.decisions_note.startswith("2 decisions made since this run was written are shown (from ")
    excerpts = after.excerpts
    assert (excerpts["status"] == "rejected").sum() == 1 and (excerpts["status"] == "accepted").sum() == 1
    # the run folder as it was written, when asked
    written = themekit.Run.load(folder, decisions=False)
    assert {c.status for c in written.codings} == {"suggested"}


def test_run_load_warns_when_its_project_store_is_gone(tmp_path, tiny_corpus, tiny_codebook):
    project, folder = _coded(tmp_path, tiny_corpus, tiny_codebook)
    shutil.move(project, tmp_path / "elsewhere.db")
    with pytest.warns(UserWarning, match=r"is not there, so decisions made since the run was written are not shown"):
        run = themekit.Run.load(folder)
    assert "its statuses may be stale" in run.decisions_note


def test_run_load_reads_decisions_from_a_read_only_store(tmp_path, tiny_corpus, tiny_codebook):
    project, folder = _coded(tmp_path, tiny_corpus, tiny_codebook)
    run = themekit.Run.load(folder)
    store = Project(project)
    coding = next(c for c in run.codings if c.status == "suggested")
    decide(store, run.codebook, {**coding_record(coding, run.codebook), "item": None}, "reject", coder="alex")
    store.close()
    project.chmod(0o444)
    try:
        after = themekit.Run.load(folder)
    finally:
        project.chmod(0o644)
    assert after.decisions_note.startswith("1 decision made since this run was written is shown")
    assert sum(c.status == "rejected" for c in after.codings) == 1
