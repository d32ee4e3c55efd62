"""Pausing the cyclic garbage collector around allocation-heavy steps."""

from __future__ import annotations

import gc

import pytest

from themekit.util.gcpause import paused_gc


def test_gc_paused_inside_and_restored_after_an_error():
    assert gc.isenabled()
    with pytest.raises(ValueError):
        with paused_gc():
            assert not gc.isenabled()
            raise ValueError("boom")
    assert gc.isenabled()


def test_gc_paused_leaves_a_disabled_collector_disabled():
    gc.disable()
    try:
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_gc_paused_while_a_batch_runs(tmp_path, tiny_codebook, monkeypatch):
    from themekit.codebook import Codebook
    from themekit.pipeline.batch import BatchJob

    seen = []
    import themekit.nlp.segment as segment

    real = segment.segment_corpus

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(segment, "segment_corpus", spy)
    path = tmp_path / "P1.txt"
    path.write_text(
        "Interviewer: How was it?\nP1: I felt isolated and alone after the move to the new flat.\n", encoding="utf-8"
    )
    job = BatchJob(Codebook.load(tiny_codebook), "blank", "sentence", 5, ("participant",), coders=("rule",))
    [outcome], _ = job([path])
    assert seen == [False]
    assert gc.isenabled()
    assert outcome.segments and outcome.segments[0].text.startswith("I felt isolated")
