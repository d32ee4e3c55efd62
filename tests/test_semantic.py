"""Semantic coding with the real embedding model (slow: loads it). Texts are embedded through the session's
shared cache, except where a test counts the cache's hits and misses."""

from __future__ import annotations

import json

import pytest

from themekit import code

from .conftest import write

pytestmark = pytest.mark.slow


def test_semantic_codes_meaning_without_keywords(tmp_path, tiny_codebook, embedding_cache):
    folder = tmp_path / "t"
    write(
        folder / "P20.txt",
        """\
        Interviewer: What was the hardest part?

        P20: I just didn't have anyone to talk to, week after week, and it wore me down.
        """,
    )
    rules_only = code(folder, tiny_codebook, methods="rule")
    assert rules_only.codings == []
    run = code(folder, tiny_codebook, methods="rule,semantic", cache_dir=embedding_cache)
    codes = {c.code_id: c for c in run.codings}
    assert "loneliness" in codes
    coding = codes["loneliness"]
    assert coding.method == "semantic"
    assert coding.score >= 0.5
    assert coding.evidence.startswith(("nearest example: ", "definition: "))
    assert "similarity" in coding.evidence and "threshold" in coding.evidence
    assert "debt" not in codes


def test_semantic_reads_an_answer_with_its_question(tmp_path, tiny_codebook, embedding_cache):
    # Two near-identical answers mean different things: each question decides the code.
    folder = tmp_path / "t"
    write(
        folder / "P30.txt",
        """\
        Interviewer: Did you feel lonely, with nobody to talk to?

        P30: Yes, all the time, it got really bad towards the end of that year.

        Interviewer: What about money, were there debts or arrears?

        P30: Yes, all the time, it got really bad towards the end, honestly.
        """,
    )
    run = code(folder, tiny_codebook, methods="semantic", cache_dir=embedding_cache)
    by_answer = {c.segment.index: c for c in run.codings}
    assert [(c.segment.text[:10], c.code_id) for c in run.codings] == [("Yes, all t", "loneliness"), ("Yes, all t", "debt")]
    first = by_answer[min(by_answer)]
    assert "in context" in first.evidence and first.score >= 0.5


def test_semantic_cache_is_reused_after_codebook_edit(tmp_path, tiny_corpus, tiny_codebook):
    cache = tmp_path / "cache"
    first = code(tiny_corpus, tiny_codebook, methods="semantic", cache_dir=cache)
    assert first.stats["embedding_cache"]["hits"] == 0
    edited = tiny_codebook.read_text().replace("Debts and arrears.", "Debts, arrears and money worries.")
    tiny_codebook.write_text(edited)
    second = code(tiny_corpus, tiny_codebook, methods="semantic", cache_dir=cache)
    stats = second.stats["embedding_cache"]
    assert stats["misses"] == 1  # only the edited definition is new
    assert stats["hits"] == first.stats["embedding_cache"]["misses"] - 1
    out = second.save(tmp_path / "run")
    record = json.loads((out / "run.json").read_text())
    assert record["stats"]["embedding_cache"]["misses"] == 1
    assert record["settings"]["embedding"]["identity"].startswith("st:")


def test_semantic_threshold_from_yaml_overrides_default(tmp_path, tiny_corpus, tiny_codebook, embedding_cache):
    text = tiny_codebook.read_text().replace(
        "        keywords: [trust, rapport]\n", "        keywords: [trust, rapport]\n        threshold: 0.99\n"
    )
    tiny_codebook.write_text(text)
    run = code(tiny_corpus, tiny_codebook, methods="semantic", cache_dir=embedding_cache)
    assert run.stats["semantic_thresholds"]["trust"] == 0.99
    assert all(c.code_id != "trust" for c in run.codings)


def test_semantic_and_rule_agreement_is_combined(tmp_path, tiny_corpus, tiny_codebook, embedding_cache):
    run = code(tiny_corpus, tiny_codebook, cache_dir=embedding_cache)
    both = [c for c in run.codings if c.method == "rule+semantic"]
    assert both, [(c.code_id, c.method, c.segment.text) for c in run.codings]
    for c in both:
        assert c.evidence.startswith("rule: ") and " | semantic: " in c.evidence
        assert c.score > 0.75
    never = [c for c in both if c.segment.text.startswith("I never felt lonely")]
    assert [c.code_id for c in never] == ["loneliness"]
    assert never[0].negated and "rule: negated: never … lonely" in never[0].evidence
