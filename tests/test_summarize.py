from __future__ import annotations

import pytest

from themekit import code, prevalence_word, summarize


@pytest.mark.parametrize(
    ("count", "total", "word"),
    [(13, 13, "all"), (9, 13, "most"), (6, 13, "many"), (4, 13, "some"), (3, 13, "several"), (2, 13, "a few"), (1, 13, "one"), (0, 13, "no")],
)
def test_summarize_prevalence_words(count, total, word):
    assert prevalence_word(count, total) == word


def test_summarize_counts_transcripts_not_excerpts_and_skips_negated(tiny_corpus, tiny_codebook):
    run = code(tiny_corpus, tiny_codebook, methods="rule")
    themes = {t.theme_id: t for t in summarize(run)}
    codes = {c.code_id: c for c in themes["barriers"].codes}
    lonely = codes["loneliness"]
    # P01 speaks of isolation; P02's "lonely" is vetoed by "rural" or negated ("never felt lonely")
    assert lonely.transcripts == ("P01",)
    assert lonely.prevalence == "one"
    assert [q.transcript for q in lonely.quotes] == ["P01"]
    assert codes["debt"].key_terms[0] in {"debts", "bailiffs", "owe 300"}
    trust = {c.code_id: c for c in themes["support"].codes}["trust"]
    assert trust.transcripts == ("P02",)
    assert trust.quotes[0].text.startswith("I trust her completely")
