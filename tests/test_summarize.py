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
    # only P01 speaks of it, so both quotes are P01's, and they differ
    assert [q.transcript for q in lonely.quotes] == ["P01", "P01"]
    assert lonely.quotes[0].text != lonely.quotes[1].text
    assert codes["debt"].key_terms[0] in {"debts", "bailiffs", "owe 300"}
    trust = {c.code_id: c for c in themes["support"].codes}["trust"]
    assert trust.transcripts == ("P02",)
    assert trust.quotes[0].text.startswith("I trust her completely")


def test_summarize_quotes_spread_trim_and_skip_duplicates(sample_rule_run):
    from themekit.analysis.summarize import trim_quote

    spread = 0
    for theme in summarize(sample_rule_run, quotes_per_code=3):
        for summary in theme.codes:
            people = [q.transcript for q in summary.quotes]
            if summary.n_transcripts >= 3:
                assert len(set(people)) == len(people), (summary.code_id, people)
                spread += len(people) == 3
            for q in summary.quotes:
                assert len(q.text.split()) <= 61
                segment_text = sample_rule_run.corpus[q.transcript].text[q.start : q.end]
                if q.trimmed:
                    assert q.text.endswith(" …") and " ".join(segment_text.split()).startswith(q.text[:-2])
                else:
                    assert q.text == " ".join(segment_text.split())
    assert spread >= 10  # many codes have three quotes from three different keyworkers
    text, trimmed = trim_quote("One two three four five. Six seven eight nine ten eleven twelve", 9)
    assert (text, trimmed) == ("One two three four five. …", True)
    text, _ = trim_quote("alpha beta gamma delta epsilon zeta", 4)
    assert text == "alpha beta gamma delta …"


def test_summarize_cooccurrence_and_configured_prevalence(sample_rule_run):
    from themekit.config import ReportSettings

    settings = ReportSettings(prevalence=[("every", 1.0), ("over half", 0.5), ("a handful", 1)])
    themes = {t.theme_id: t for t in summarize(sample_rule_run, settings=settings)}
    transport = {c.code_id: c for c in themes["participant_barriers"].codes}["transport"]
    assert transport.prevalence in {"every", "over half", "a handful"}
    assert transport.cooccurring and transport.cooccurring[0][1] >= 1
    assert "transport" not in dict(transport.cooccurring)
    assert transport.cooccurring == tuple(sorted(transport.cooccurring, key=lambda kv: (-kv[1], kv[0])))
