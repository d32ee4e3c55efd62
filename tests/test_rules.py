from __future__ import annotations

from themekit import Codebook, code, read_corpus

from .conftest import write


def _codings(tmp_path, tiny_codebook, speech: str):
    folder = tmp_path / "one"
    write(folder / "P09.txt", f"Interviewer: How was it?\n\nP09: {speech}\n")
    run = code(read_corpus(folder), Codebook.load(tiny_codebook), methods="rule")
    return [(c.segment.text, c.code_id, c.evidence, c.negated) for c in run.codings]


def test_rules_keywords_match_on_lemmas_and_word_families(tmp_path, tiny_codebook):
    codings = _codings(
        tmp_path,
        tiny_codebook,
        "I felt so isolated back then. Isolating myself was always easier for me. The isolation was crushing, honestly.",
    )
    assert [c[1] for c in codings] == ["loneliness", "loneliness", "loneliness"]
    assert codings[0][2] == "matched: isolated"
    assert codings[1][2] == "matched: Isolating"
    assert codings[2][2] == "matched: isolation"


def test_rules_multiword_keyword_and_pattern(tmp_path, tiny_codebook):
    codings = _codings(
        tmp_path, tiny_codebook, "There was nobody to talk to at all. I still owe 300 pounds to the council."
    )
    assert [(c[1], c[2]) for c in codings] == [
        ("loneliness", "matched: nobody to talk to"),
        ("debt", "matched: owe 300 (pattern 1)"),
    ]


def test_rules_exclude_keywords_veto_the_code(tmp_path, tiny_codebook):
    codings = _codings(tmp_path, tiny_codebook, "Living in a rural village I was lonely for years.")
    assert codings == []


def test_rules_negated_mentions_are_flagged(tmp_path, tiny_codebook):
    codings = _codings(tmp_path, tiny_codebook, "I never felt lonely at the group sessions, people were kind.")
    [(text, code_id, evidence, negated)] = codings
    assert code_id == "loneliness"
    assert evidence == "negated: never … lonely"
    assert negated is True


def test_rules_sample_codes_every_transcript_with_15_plus_codes(sample_rule_run):
    frame = sample_rule_run.excerpts
    assert set(frame["transcript"]) == {f"KW0{i}" for i in range(1, 9)}
    assert frame["code"].nunique() >= 15
    assert (frame["role"] == "participant").all()
    # a few codings a researcher would check by eye
    quotes = frame.set_index("code")["text"]
    assert any("bus" in q.lower() for q in quotes.loc["transport"])
    assert any("laptop" in q.lower() or "online" in q.lower() for q in quotes.loc["digital_exclusion"])
