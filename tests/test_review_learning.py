"""The classifier learning from review decisions: they are decisions on suggestions, so it decides on suggestions."""

from __future__ import annotations

import pytest

import themekit
from themekit.review.decide import coding_record, decide
from themekit.store import Project

from .conftest import SAMPLE, SAMPLE_CODEBOOK


@pytest.mark.slow
def test_classifier_learned_from_a_few_accepted_suggestions_codes_only_suggested_segments(tmp_path, embedding_cache):
    project = tmp_path / "project.db"
    first = themekit.code(SAMPLE, SAMPLE_CODEBOOK, methods="rule,semantic", cache_dir=embedding_cache, project=project)
    store = Project(project)
    accepted = 0
    for c in first.codings:  # a reviewer's first sitting: a few accepted suggestions of two codes, nothing rejected
        if c.code_id in ("transport", "debt") and c.segment.transcript.id in ("KW01", "KW02", "KW03"):
            decide(store, first.codebook, {**coding_record(c, first.codebook), "item": None}, "accept", coder="alex")
            accepted += 1
    store.close()
    assert accepted >= 20
    again = themekit.code(
        SAMPLE, SAMPLE_CODEBOOK, methods="rule,semantic,classifier", cache_dir=embedding_cache, project=project
    )
    assert again.settings["gold"]["path"] == "project decisions"
    assert again.stats["classifier_scope"].startswith("suggestions")
    for code_id in ("debt", "transport"):
        suggested = {(c.segment.transcript.id, c.segment.index) for c in first.codings if c.code_id == code_id}
        given = {(c.segment.transcript.id, c.segment.index) for c in again.codings if c.code_id == code_id}
        # the model learned "debt, not transport" from decided segments only: it may keep or drop suggestions,
        # never give the code to the rest of the corpus (it gave debt to 872 of 1,090 segments before)
        assert given <= suggested, (code_id, len(given - suggested))
