"""Semantic coding with the real embedding model (slow: loads it). Texts are embedded through the session's
shared cache, except where a test counts the cache's hits and misses."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
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
    assert [(c.segment.text[:10], c.code_id) for c in run.codings] == [
        ("Yes, all t", "loneliness"),
        ("Yes, all t", "debt"),
    ]
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


def test_semantic_codings_say_how_likely_a_coder_gives_them(tmp_path, tiny_corpus, tiny_codebook, embedding_cache):
    from typer.testing import CliRunner

    from themekit.cli import app
    from themekit.coding.semantic import PROBABILITY_MAP, probability

    run = code(tiny_corpus, tiny_codebook, cache_dir=embedding_cache)
    meaning = sorted((c for c in run.codings if "semantic" in c.method), key=lambda c: c.score)
    assert meaning and all(0 < c.probability < 1 for c in meaning)
    # the higher the score, the likelier: one map of the score for every code, fitted on human codings
    slope, intercept = PROBABILITY_MAP
    for c in meaning:
        if c.method == "semantic":
            assert c.probability == pytest.approx(
                1 / (1 + np.exp(-(slope * np.log(c.score / (1 - c.score)) + intercept))), abs=0.01
            )
    assert np.all(np.diff(probability(np.linspace(0.2, 0.8, 50), 0.4)) > 0)
    # a segment just at its code's threshold (score 0.5) is given that code by a coder about one time in five
    assert round(float(probability(0.4, 0.4)), 2) == round(1 / (1 + np.exp(-PROBABILITY_MAP[1])), 2) == 0.19
    # a coding rules and meaning both give has the semantic probability; keywords alone give none
    both = next(c for c in meaning if c.method == "rule+semantic")
    assert both.probability < both.score
    assert all(c.probability is None for c in run.codings if c.method == "rule")
    # evaluate says how far the probabilities held against a coder (here one who gave every other one)
    folder = run.save(tmp_path / "run")
    gold = write(
        tmp_path / "gold.csv",
        "transcript,segment,code\n"
        + "".join(f"{c.segment.transcript.id},{c.segment.index},{c.code_id}\n" for c in meaning[::2]),
    )
    result = CliRunner().invoke(app, ["evaluate", str(folder), "--gold", str(gold), "--min-support", "1"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"probabilities: {sum(not c.negated for c in meaning)} codings have one" in said  # negated ones not scored
    assert "expected calibration error" in result.output


_TOPICS = {
    "debt": [
        "I owed money on three credit cards and the interest kept climbing.",
        "The council sent letters about unpaid council tax every week.",
        "We borrowed from a payday lender just to cover the bills.",
        "Paying back the loan took most of my wages for a year.",
    ],
    "loneliness": [
        "I had nobody to talk to for weeks on end.",
        "Most evenings I sat alone in the flat and felt completely isolated.",
        "My friends drifted away and I felt cut off from everyone.",
        "I felt so lonely that some days I did not speak to anyone.",
    ],
    "housing": [
        "The flat had damp on every wall and the landlord never fixed it.",
        "We moved between temporary accommodation three times that winter.",
        "The hostel room was tiny and the heating was broken.",
        "Finding somewhere affordable to rent near the school was impossible.",
    ],
    "work": [
        "I finally got an interview for a warehouse job.",
        "The employer offered me more shifts after the trial week.",
        "I was applying for jobs every day and hearing nothing back.",
        "Getting a forklift certificate helped me land the position.",
    ],
    "transport": [
        "The bus only came twice a day out in the village.",
        "Without a car I could not get to the job centre on time.",
        "Train fares into town cost more than I could afford.",
        "I cycled six miles each way because there was no bus.",
    ],
}

_NO_EXAMPLES = """\
schema_version: 1
name: life after the programme
version: 1.0.0
themes:
  - id: life
    label: Life after the programme
    codes:
      - {id: debt, label: Debt, definition: "Owing money, arrears, loans and repaying debts"}
      - {id: loneliness, label: Loneliness, definition: "Feeling alone or isolated, with nobody to talk to"}
      - {id: housing, label: Housing, definition: "Where people live: rent, landlords, damp, temporary accommodation"}
      - {id: work, label: Work, definition: "Jobs, employers, shifts and looking for work"}
      - {id: transport, label: Transport, definition: "Getting around by bus, train, car or bike"}
"""


def _topic_corpus(folder, people: int = 8) -> None:
    """Interviews of single-topic answers, each person's last answer about debt and loneliness at once."""
    topics = list(_TOPICS)
    for p in range(people):
        lines = []
        for k, topic in enumerate(topics):
            first, second = _TOPICS[topic][(p + k) % 4], _TOPICS[topic][(p + k + 1) % 4]
            lines += [f"Interviewer: Can you tell me more about that?\n\nP{p}: {first} {second}\n"]
        lines += [
            "Interviewer: Anything else?\n\n"
            f"P{p}: {_TOPICS['debt'][p % 4]} {_TOPICS['debt'][(p + 1) % 4]} On top of that, "
            f"{_TOPICS['loneliness'][(p + 2) % 4].lower()} {_TOPICS['loneliness'][(p + 3) % 4]} That is how the year went.\n"
        ]
        write(folder / f"P{p}.txt", "\n".join(lines))


def test_semantic_gives_every_theme_a_long_answer_holds(tmp_path, embedding_cache):
    # A turn about debt and loneliness gets both codes; codes without examples are calibrated on the corpus.
    folder = tmp_path / "t"
    _topic_corpus(folder)
    codebook = write(tmp_path / "codebook.yaml", _NO_EXAMPLES)
    run = code(folder, codebook, methods="semantic", unit="turn", cache_dir=embedding_cache)
    assert run.stats["semantic_calibration"] == "corpus (48 segments)"
    thresholds = run.stats["semantic_thresholds"]
    assert all(value > 0.2 for value in thresholds.values()) and len(set(thresholds.values())) == 5
    codes: dict[tuple[str, int], set[str]] = {}
    for c in run.codings:
        codes.setdefault((c.segment.transcript.id, c.segment.index), set()).add(c.code_id)
    text = {(s.transcript.id, s.index): s.text for c in run.codings for s in [c.segment]}
    mixed = [key for key in codes if text[key].endswith("That is how the year went.")]
    assert len(mixed) == 8 and all(codes[key] & {"debt", "loneliness"} for key in mixed)
    # one code per answer was the rule before: now at least half of the two-theme answers get both themes
    assert sum({"debt", "loneliness"} <= codes[key] for key in mixed) >= 4
    housing = [key for key in codes if any(text[key].startswith(s) for s in _TOPICS["housing"])]
    assert len(housing) >= 6 and all(codes[key] == {"housing"} for key in housing)


def test_semantic_on_a_corpus_too_small_to_calibrate(tmp_path, embedding_cache):
    folder = tmp_path / "t"
    _topic_corpus(folder, people=1)
    codebook = write(tmp_path / "codebook.yaml", _NO_EXAMPLES)
    run = code(folder, codebook, methods="semantic", unit="turn", cache_dir=embedding_cache)
    assert run.stats["semantic_calibration"].startswith("none (6 segments, fewer than 30)")
    assert set(run.stats["semantic_thresholds"].values()) == {0.2}


def test_semantic_gives_a_segment_at_most_its_three_most_distinctive_codes():
    from themekit.coding.semantic import CorpusScale, _most_distinctive

    rng = np.random.default_rng(1)
    mixed = rng.normal(0.3, 0.05, size=(40, 6))
    mixed[0] = 0.9  # one long answer that resembles every code
    scale = CorpusScale.of(mixed)
    kept = _most_distinctive(mixed, scale, 3)
    assert kept[0].sum() == 3
    assert kept.sum(axis=1).max() == 3
    # its three kept are the codes it stands out on most against each code's corpus spread
    z = (mixed[0] - scale.mean) / scale.spread
    assert set(np.flatnonzero(kept[0])) == set(np.argsort(-z)[:3])


@pytest.mark.slow
def test_semantic_codes_no_sample_segment_with_more_than_three_codes(sample_run):
    per_segment = Counter(
        (c.segment.transcript.id, c.segment.index) for c in sample_run.codings if "semantic" in c.method
    )
    assert max(per_segment.values()) <= 3
    assert sample_run.stats["semantic_max_codes"] == 3


_GENERIC = [
    "Yeah, I think so, it was fine really.",
    "Um, yeah, I suppose it was alright, nothing more to say.",
    "Not really, no, I think I've covered everything.",
    "Yes, that's about it, it was okay I guess.",
]

_GENERIC_CRITERION = """\
schema_version: 1
name: life
version: 1.0.0
themes:
  - id: life
    label: Life after the programme
    codes:
      - {id: debt, label: Debt, definition: "Owing money, arrears, loans and repaying debts",
         include: ["It was fine in the end", "Paying back what I owe"]}
      - {id: loneliness, label: Loneliness, definition: "Feeling alone or isolated, with nobody to talk to",
         include: ["Nobody to talk to"]}
      - {id: housing, label: Housing, definition: "Where people live: rent, landlords, damp, temporary accommodation",
         include: ["Problems with the landlord"]}
      - {id: work, label: Work, definition: "Jobs, employers, shifts and looking for work", include: ["Looking for a job"]}
      - {id: transport, label: Transport, definition: "Getting around by bus, train, car or bike", include: ["Getting the bus"]}
"""


def test_semantic_a_criterion_that_resembles_small_talk_does_not_code_the_small_talk(tmp_path, embedding_cache):
    # "It was fine in the end" resembles every "yeah, it was fine" answer more than any debt talk does: it must not
    # pull those answers into debt (real interviews had "Um, yeah, I think I've spoken about pretty much
    # everything" coded with a theme), and it must not keep debt from the answers about debt.
    folder = tmp_path / "t"
    for p in range(8):
        lines = []
        for k, topic in enumerate(_TOPICS):
            first, second = _TOPICS[topic][(p + k) % 4], _TOPICS[topic][(p + k + 1) % 4]
            lines.append(f"Interviewer: Can you tell me more about that?\n\nP{p}: {first} {second}\n")
            lines.append(f"Interviewer: Anything else on that?\n\nP{p}: {_GENERIC[(p + k) % 4]}\n")
        write(folder / f"P{p}.txt", "\n".join(lines))
    codebook = write(tmp_path / "codebook.yaml", _GENERIC_CRITERION)
    run = code(folder, codebook, methods="semantic", unit="turn", cache_dir=embedding_cache)
    small_talk = [c for c in run.codings if c.segment.text in _GENERIC]
    assert small_talk == []  # was 30 of the 40 such answers coded debt
    debt = {(c.segment.transcript.id, c.segment.index) for c in run.codings if c.code_id == "debt"}
    about_debt = {(s.transcript.id, s.index) for s in run.units if any(s.text.startswith(t) for t in _TOPICS["debt"])}
    assert debt == about_debt and len(about_debt) == 8  # was 4 of the 8
