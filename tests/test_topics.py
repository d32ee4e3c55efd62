"""Topic suggestions: draft codes from what the codebook misses, stable across processes, merged back in."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner

import themekit
from themekit.analysis.topics import MIN_SEGMENTS, suggest_topics
from themekit.cli import app
from themekit.codebook.edit import bump_version, read_drafts
from themekit.errors import TooFewSegmentsError

from .conftest import HANG_GUARD, ROOT, SAMPLE, SAMPLE_CODEBOOK, write

runner = CliRunner()


def _planted_generator():
    spec = importlib.util.spec_from_file_location("planted_corpus", ROOT / "benchmarks" / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sample_suggestions(embedding_cache):
    """Topic suggestions for the sample (BERTopic over the segments the rules leave uncoded): slow."""
    return suggest_topics(SAMPLE, SAMPLE_CODEBOOK, methods="rule", cache_dir=embedding_cache), embedding_cache


@pytest.mark.slow
def test_drafts_are_codes_in_the_codebook_schema(sample_suggestions, sample_rule_run, tmp_path):
    suggestions, _ = sample_suggestions
    assert 3 <= len(suggestions.drafts) <= 20
    corpus_text = {t.id: t.text for t in themekit.read_corpus(SAMPLE)}
    codebook_ids = {c.id for c in themekit.Codebook.load(SAMPLE_CODEBOOK)}
    for draft in suggestions.drafts:
        assert draft.id.startswith("draft_") and draft.id not in codebook_ids
        assert 1 <= len(draft.examples) <= 5 and len(draft.examples) == len(draft.example_sources)
        for quote, source in zip(draft.examples, draft.example_sources):
            verbatim = quote.removesuffix(" …")
            assert " ".join(verbatim.split()) in " ".join(corpus_text[source].split())
        assert draft.keywords and draft.definition.startswith("DRAFT")
        assert 1 <= draft.transcripts <= 8
    src = suggestions.source
    assert src["scope"] == "uncoded"
    assert sum(d.size for d in suggestions.drafts) + src["outliers"] + src["not_drafted"] == src["clustered"]
    # drafts a researcher would keep: 3+ interviews each, key terms without filler or a second form of a word
    from themekit.analysis.topics import FILLERS

    for draft in suggestions.drafts:
        words = [w for term, _ in draft.key_terms for w in term.split()]
        assert draft.transcripts >= 3 and not set(words) & (FILLERS | {"um", "erm", "yeah", "okay", "like", "know"})
        assert not {w + "s" for w in words} & set(words)  # no counsellor / counsellors
        assert 0 < draft.coherence <= 1
    assert all("coherence" in d["topic"] for d in suggestions.to_dict()["drafts"])
    # What was clustered is exactly what the rules left uncoded, less the small talk.
    run = sample_rule_run
    coded = {(c.segment.transcript.id, c.segment.index) for c in run.codings}
    assert src["clustered"] + src["small_talk"] == len(run.units) - len(coded) and src["small_talk"] > 0
    assert not any((s.transcript.id, s.index) in coded for s in suggestions.segments)

    folder = suggestions.save(tmp_path / "sugg")
    drafts = read_drafts(folder / "suggestions.yaml")  # every draft validates against the code schema
    assert [d["id"] for d in drafts] == [d.id for d in suggestions.drafts]
    assert all(d["status"] == "draft" for d in drafts)
    assert (folder / "suggestions.md").read_text(encoding="utf-8").startswith("# Topic suggestions:")
    table = pd.read_csv(folder / "topics.csv", keep_default_na=False)
    assert list(table.columns) == ["transcript", "segment", "start", "end", "topic", "draft", "text"]
    assert len(table) == src["clustered"]
    assert set(table.draft) - {""} == {d.id for d in suggestions.drafts}


@pytest.mark.slow
def test_library_returns_the_fitted_bertopic_model(sample_suggestions):
    suggestions, _ = sample_suggestions
    info = suggestions.model.get_topic_info()
    sizes = dict(zip(info.Topic, info.Count))
    for draft in suggestions.drafts:
        assert sizes[draft.topic] == draft.size
    assert list(suggestions.frame.columns) == ["transcript", "segment", "start", "end", "topic", "draft", "text"]


@pytest.mark.slow
def test_reuses_the_embedding_cache_of_the_coding_step(sample_suggestions):
    suggestions, cache = sample_suggestions
    again = suggest_topics(SAMPLE, SAMPLE_CODEBOOK, methods="rule", cache_dir=cache)
    assert again.cache_stats["misses"] == 0 and again.cache_stats["hits"] > 0
    assert again.to_yaml() == suggestions.to_yaml()


@pytest.mark.slow
def test_byte_identical_across_processes(sample_suggestions, tmp_path):
    """The suggestions of this process, and of the CLI in another with its own hash seed, are the same bytes."""
    suggestions, cache = sample_suggestions
    here = (suggestions.save(tmp_path / "here") / "suggestions.yaml").read_bytes()
    shutil.copytree(cache, tmp_path / "cache")  # the other process reads a copy of the session's embeddings
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "themekit",
            "suggest",
            str(SAMPLE),
            "-c",
            str(SAMPLE_CODEBOOK),
            "-o",
            str(tmp_path / "there"),
            "--method",
            "rule",
            "--cache-dir",
            str(tmp_path / "cache"),
            "-q",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "random"},
        timeout=HANG_GUARD,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "there" / "suggestions.yaml").read_bytes() == here


@pytest.mark.slow
def test_planted_themes_come_back_as_topics(tmp_path):
    """A study-sized corpus (a few hundred segments) gives topics that recover planted themes."""
    planted = _planted_generator().generate(tmp_path / "planted", transcripts=8, words=700, seed=3)
    suggestions = suggest_topics(
        tmp_path / "planted" / "transcripts", SAMPLE_CODEBOOK, methods="rule", all_segments=True
    )
    theme_at = {(p.transcript, p.start): p.theme for p in planted}
    truth = [theme_at.get((s.transcript.id, s.start), "none") for s in suggestions.segments]
    assert 250 <= len(truth) <= 600
    assert suggestions.source["outliers"] < 0.1 * len(truth)
    assert len(suggestions.drafts) >= 6
    assert adjusted_rand_score(truth, suggestions.topics) >= 0.45
    # The transport topic is recognised as overlapping the codebook's transport code.
    transport = [d for d in suggestions.drafts if {"bus", "train"} & set(" ".join(d.keywords).split())]
    assert transport and any(o.code_id == "transport" for d in transport for o in d.overlaps)


def test_too_small_corpus_says_how_many_segments_it_needs(tmp_path, tiny_codebook):
    write(
        tmp_path / "few" / "P01.txt",
        "Interviewer: Hello?\n\nP01: The bus was late again and I missed my appointment.\n",
    )
    with pytest.raises(TooFewSegmentsError) as info:
        suggest_topics(tmp_path / "few", tiny_codebook, methods="rule", all_segments=True, cache_dir=None)
    assert f"1 participant segments (1 in all); topic suggestions need at least {MIN_SEGMENTS}" in str(info.value)
    result = runner.invoke(
        app, ["suggest", str(tmp_path / "few"), "-c", str(tiny_codebook), "-o", "out", "--method", "rule"]
    )
    assert result.exit_code == 1
    assert (
        "uncoded participant segments" in result.output
        and "or cluster every participant segment (--all)" in result.output
    )
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_merge_adds_picked_drafts_bumps_version_and_keeps_comments(sample_suggestions, tmp_path):
    suggestions, _ = sample_suggestions
    folder = suggestions.save(tmp_path / "sugg")
    codebook = tmp_path / "cb.yaml"
    original = SAMPLE_CODEBOOK.read_text(encoding="utf-8")
    codebook.write_text(original, encoding="utf-8")
    picks = [d.id for d in suggestions.drafts[:2]]
    result = runner.invoke(
        app,
        [
            "codebook",
            "merge",
            str(codebook),
            str(folder / "suggestions.yaml"),
            "--pick",
            ",".join(picks),
            "--theme",
            "emergent",
            "--theme-label",
            "Emergent themes",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "version 1.0.0 → 1.1.0" in result.output
    merged_text = codebook.read_text(encoding="utf-8")
    assert merged_text.startswith(original.split("\n", 1)[0])  # the researcher's comments survive
    merged = themekit.Codebook.load(codebook)
    assert merged.version == "1.1.0"
    assert [c.id for c in merged.codes_of("emergent")] == picks
    assert all(merged.code(p).spec.status == "draft" for p in picks)
    assert merged.code(picks[0]).spec.examples == list(suggestions.drafts[0].examples)
    entry = merged.spec.changelog[-1]
    assert entry.version == "1.1.0" and picks[0] in entry.changes[0]
    # Everything that was there is unchanged: the old codes keep their exact lines.
    for line in original.splitlines():
        if line.strip().startswith(("- id:", "definition:", "keywords:")):
            assert line in merged_text
    # Drafts are coded like any other code.
    assert picks[0] in [c.id for c in merged]


@pytest.mark.slow
def test_merge_errors_name_the_fix(sample_suggestions, tmp_path):
    suggestions, _ = sample_suggestions
    sugg = suggestions.save(tmp_path / "sugg") / "suggestions.yaml"
    codebook = tmp_path / "cb.yaml"
    codebook.write_text(SAMPLE_CODEBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    before = codebook.read_bytes()
    first = suggestions.drafts[0].id

    result = runner.invoke(
        app, ["codebook", "merge", str(codebook), str(sugg), "--pick", "nope", "--theme", "learning_points"]
    )
    assert result.exit_code == 1 and "no draft 'nope'" in result.output and first in result.output

    result = runner.invoke(app, ["codebook", "merge", str(codebook), str(sugg), "--pick", first, "--theme", "emergent"])
    assert result.exit_code == 1 and "no theme 'emergent'" in result.output and "--theme-label" in result.output

    # A draft edited into something invalid is reported with its place in the file; nothing is written.
    data = yaml.safe_load(sugg.read_text(encoding="utf-8"))
    data["drafts"][0]["label"] = ""
    data["drafts"][0]["colour"] = "red"
    sugg.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(
        app, ["codebook", "merge", str(codebook), str(sugg), "--pick", first, "--theme", "learning_points"]
    )
    assert result.exit_code == 1
    assert "drafts[0].label" in result.output and "drafts[0].colour" in result.output
    assert codebook.read_bytes() == before

    # A draft whose id is already a code is refused.
    data["drafts"][0] = {**data["drafts"][0], "label": "Fine", "id": "transport"}
    del data["drafts"][0]["colour"]
    sugg.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(
        app, ["codebook", "merge", str(codebook), str(sugg), "--pick", "transport", "--theme", "learning_points"]
    )
    assert result.exit_code == 1 and "already has a code 'transport'" in result.output
    assert codebook.read_bytes() == before


def test_bump_version():
    assert bump_version("1.2.3") == "1.3.0"
    assert bump_version("1.2.3", "major") == "2.0.0"
    assert bump_version("1.2.3-rc.1", "patch") == "1.2.4"
    with pytest.raises(themekit.ThemekitError, match="MAJOR.MINOR.PATCH"):
        bump_version("v1")


def test_status_draft_is_in_the_schema_and_leaves_old_hashes_alone(tmp_path):
    text = SAMPLE_CODEBOOK.read_text(encoding="utf-8")
    plain = themekit.Codebook.load(SAMPLE_CODEBOOK)
    explicit = write(
        tmp_path / "cb.yaml",
        re.sub(r"(\n        label: Rewarding and enjoyable role\n)", r"\1        status: active\n", text, count=1),
    )
    assert themekit.Codebook.load(explicit).sha256 == plain.sha256
    bad = write(
        tmp_path / "bad.yaml",
        text.replace(
            "label: Rewarding and enjoyable role\n", "label: Rewarding and enjoyable role\n        status: maybe\n", 1
        ),
    )
    with pytest.raises(themekit.CodebookError, match="status"):
        themekit.Codebook.load(bad)


def test_merge_reports_unreadable_suggestions_yaml_without_traceback(tmp_path):
    sugg = write(
        tmp_path / "suggestions.yaml",
        "drafts:\n  - id: draft_a\n    label: A\n    definition: x\n    seen: 2024-02-30\n",
    )
    codebook = tmp_path / "cb.yaml"
    codebook.write_text(SAMPLE_CODEBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    result = runner.invoke(
        app, ["codebook", "merge", str(codebook), str(sugg), "--pick", "draft_a", "--theme", "learning_points"]
    )
    assert result.exit_code == 1
    assert "impossible date" in result.output and "Traceback" not in result.output
    # Schema problems carry the line of the draft in the file.
    write(sugg, "drafts:\n  - id: draft_a\n    label: A\n    definition: x\n    colour: red\n")
    result = runner.invoke(
        app, ["codebook", "merge", str(codebook), str(sugg), "--pick", "draft_a", "--theme", "learning_points"]
    )
    assert result.exit_code == 1 and "drafts[0].colour (line 5)" in result.output


def _analyzer():
    from themekit.analysis.topics import LemmaAnalyzer, stop_words

    return LemmaAnalyzer(stop_words())


def test_topics_key_terms_hold_no_filler_and_one_form_per_word():
    terms = _analyzer()(
        "Erm, you know, the counsellors were kind of, like, really helpful, yeah. Um, okay, XXXX took the counsellor's debts."
    )
    assert terms == ["counsellor", "helpful", "counsellor", "debt", "counsellor debt"]
    assert not {"erm", "um", "know", "kind", "like", "yeah", "okay", "xxxx", "took", "take"} & {
        w for t in terms for w in t.split()
    }
    assert "counsellors" not in terms and terms.count("counsellor") == 2


def test_topics_two_word_terms_are_words_said_side_by_side():
    # "two and a half years": no "great half"-style pair made by dropping the words between
    terms = _analyzer()("A great big signal after two and a half years of eye contact")
    assert "eye contact" in terms and "signal" in terms
    assert not [t for t in terms if t.startswith("great ") or t.endswith(" half")]


def test_topics_coherence_is_mean_pairwise_similarity():
    import numpy as np

    from themekit.analysis.topics import coherence

    same = np.tile([[1.0, 0.0]], (4, 1))
    apart = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    assert coherence(same) == 1.0 and coherence(apart) == pytest.approx(-1 / 3, abs=1e-3)


class _Topics:
    """A fitted topic model as _drafts reads it: c-TF-IDF terms per topic and the analyzer."""

    def __init__(self, terms):
        from sklearn.feature_extraction.text import CountVectorizer

        self.terms = terms
        self.vectorizer_model = CountVectorizer(analyzer=_analyzer())

    def get_topic(self, topic):
        return self.terms[topic]


def test_topics_drafts_span_three_interviews_and_name_terms_said_in_several(tmp_path):
    import numpy as np

    from themekit.analysis.topics import _drafts
    from themekit.codebook import Codebook
    from themekit.nlp.language import load_pipeline
    from themekit.nlp.segment import segment_corpus

    talk = {
        "P1": "Interviewer: Hello?\n\nP1: The housing officer found us a flat. The gentleman lad rang the gentleman lad.",
        "P2": "Interviewer: Hello?\n\nP2: The housing officer phoned twice about the flat.",
        "P3": "Interviewer: Hello?\n\nP3: My housing officer sorted the flat out in the end.",
        "P4": "Interviewer: Hello?\n\nP4: Football on Saturdays keeps me sane, football with my son.",
        "P5": "Interviewer: Hello?\n\nP5: I love football matches with the lads.",
    }
    for name, text in talk.items():
        write(tmp_path / "t" / f"{name}.txt", text)
    corpus = themekit.read_corpus(tmp_path / "t")
    pool = segment_corpus(corpus, load_pipeline("blank"), unit="turn", min_words=1).segments
    topics = [0 if s.transcript.id in ("P1", "P2", "P3") else 1 for s in pool]
    model = _Topics({0: [("gentleman lad", 0.9), ("housing officer", 0.5), ("flat", 0.4)], 1: [("football", 0.9)]})
    vectors = np.eye(len(pool))
    drafts, _ = _drafts(model, pool, topics, vectors, Codebook.load(SAMPLE_CODEBOOK), [], np.zeros((0, len(pool))), {}, 2,
                        min_coherence=-1)  # fmt: skip
    assert [d.transcripts for d in drafts] == [3]  # the football topic spans 2 of 5 interviews: no draft
    assert drafts[0].keywords[:2] == ("housing officer", "flat")  # one person's "gentleman lad" is no key term
    assert drafts[0].id == "draft_housing_officer_flat" and drafts[0].coherence == 0.0


def test_topics_a_topic_of_back_channel_alone_gives_no_draft(tmp_path):
    import numpy as np

    from themekit.analysis.topics import _drafts
    from themekit.codebook import Codebook
    from themekit.nlp.language import load_pipeline
    from themekit.nlp.segment import segment_corpus

    for name in ("P1", "P2", "P3"):
        write(
            tmp_path / "t" / f"{name}.txt",
            f"Interviewer: Right?\n\n{name}: Yeah, exactly, totally. Okay, yeah, you know.",
        )
    pool = segment_corpus(
        themekit.read_corpus(tmp_path / "t"), load_pipeline("blank"), unit="turn", min_words=1
    ).segments
    model = _Topics({0: [("exactly totally", 0.9)]})
    vectors = np.eye(len(pool))
    assert _drafts(
        model, pool, [0] * len(pool), vectors, Codebook.load(SAMPLE_CODEBOOK), [], np.zeros((0, len(pool))), {}, 2
    ) == ([], [])


def test_topics_key_terms_are_content_words_not_hedges_numbers_or_time():
    terms = _analyzer()(
        "I genuinely feel, honestly, that one gentleman eighteen months ago completely lost his housing benefit "
        "two and a half years in, and I was thinking about his glasses."
    )
    words = {w for t in terms for w in t.split()}
    assert {"housing", "benefit", "lose", "glass"} <= words
    assert not words & {
        "genuinely",
        "completely",
        "feel",
        "thinking",
        "gentleman",
        "eighteen",
        "month",
        "ago",
        "half",
        "year",
        "glasse",
    }


_SUBJECTS = {
    "housing": [
        "The council housing officer never answered about the damp flat and the rent arrears.",
        "Our landlord put the rent up again, so the housing benefit no longer covers the flat.",
        "Finding a flat with a landlord who accepts housing benefit is nearly impossible here.",
        "The damp in the bedroom of the council flat made my asthma worse every winter.",
        "Rent arrears piled up while the housing benefit claim sat with the council.",
        "Eviction notices from the landlord came after the rent went up twice.",
    ],
    "transport": [
        "The bus to the job centre runs twice a day, so missing it means missing the appointment.",
        "Train fares into the city cost more than a shift at the warehouse pays.",
        "Without a car or a driving licence the bus timetable decides which jobs are possible.",
        "The last bus leaves the village before evening shifts at the factory finish.",
        "Bus fares went up and the rural route to the college was cut.",
        "A bike from the charity got him to the warehouse when the bus route closed.",
    ],
}
_SMALL_TALK = [
    "Yeah, erm, it's, it's a big part of it, really.",
    "Um, I mean, you know, it is what it is, honestly.",
    "So that was, erm, two and a half years ago now.",
    "Oh yeah, definitely, I'd say so, yeah.",
    "Right, okay, I think that's it, basically.",
    "[laughs] Erm, yeah, it's kind of hard to say.",
]


@pytest.mark.slow
def test_topics_small_talk_is_not_clustered_and_drafts_name_the_subjects(tmp_path, embedding_cache):
    """Two subjects and filler-heavy small talk in six interviews: the drafts are the two subjects, named by content
    words, each key term one lemma with one form; the small talk is counted, not clustered."""
    import yaml as _yaml

    for n in range(6):
        lines = [f"P{n}: {_SUBJECTS['housing'][n]}", f"P{n}: {_SUBJECTS['transport'][n]}"]
        lines += [f"P{n}: {_SMALL_TALK[(n + k) % 6]}" for k in range(4)]
        lines += [f"P{n}: {_SUBJECTS[s][(n + 3) % 6]}" for s in ("housing", "transport")]
        write(
            tmp_path / "t" / f"P{n}.txt",
            "Interviewer: Tell me more?\n\n" + "\n\nInterviewer: And?\n\n".join(lines) + "\n",
        )
    suggestions = suggest_topics(tmp_path / "t", SAMPLE_CODEBOOK, methods="rule", all_segments=True, n_topics=2,
                                 cache_dir=embedding_cache)  # fmt: skip
    src = suggestions.source
    assert src["small_talk"] == 24 and src["clustered"] == 24
    assert not any(
        t.startswith(("Yeah", "Um,", "Oh", "Right", "[laughs]", "So that"))
        for t in (s.text for s in suggestions.segments)
    )
    named = {frozenset(w for term, _ in d.key_terms for w in term.split()) for d in suggestions.drafts}
    assert len(suggestions.drafts) == 2
    assert any({"housing", "rent", "landlord", "flat"} & words for words in named)
    assert any({"bus", "fare", "train", "route"} & words for words in named)
    blocked = {"erm", "yeah", "um", "part", "half", "year", "honestly", "basically", "laugh", "big"}
    for draft in suggestions.drafts:
        words = [w for term, _ in draft.key_terms for w in term.split()] + draft.label.lower().replace(",", "").split()
        assert not set(words) & blocked, draft.label
        assert "fares" not in words and "landlords" not in words  # lemmas, not word forms
        stems = [themekit.nlp.language.stem(w) for term, _ in draft.key_terms for w in term.split()]
        assert len(stems) == len(set(stems)), draft.key_terms  # no word repeated in another form
        assert draft.coherence >= 0.2
    assert "24 more segments were small talk" in suggestions.to_markdown()
    assert _yaml.safe_load(suggestions.to_yaml())["source"]["small_talk"] == 24


def test_topics_a_topic_below_the_coherence_floor_is_reported_as_dropped(tmp_path):
    import numpy as np

    from themekit.analysis.topics import MIN_COHERENCE, Suggestions, _drafts
    from themekit.codebook import Codebook
    from themekit.nlp.language import load_pipeline
    from themekit.nlp.segment import segment_corpus

    for name in ("P1", "P2", "P3"):
        write(
            tmp_path / "t" / f"{name}.txt", f"Interviewer: And?\n\n{name}: The housing officer found the flat at last."
        )
    pool = segment_corpus(
        themekit.read_corpus(tmp_path / "t"), load_pipeline("blank"), unit="turn", min_words=1
    ).segments
    model = _Topics({0: [("housing officer", 0.9), ("flat", 0.5)]})
    apart = np.eye(len(pool))  # three segments that say unrelated things: coherence 0
    codebook = Codebook.load(SAMPLE_CODEBOOK)
    drafts, dropped = _drafts(model, pool, [0] * len(pool), apart, codebook, [], np.zeros((0, len(pool))), {}, 2)
    assert drafts == [] and dropped == [
        {"size": 3, "transcripts": 3, "coherence": 0.0, "key_terms": ["housing officer", "flat"]}
    ]
    source = {"clustered": 3, "scope": "all", "transcripts": 3, "outliers": 0, "not_drafted": 3, "min_transcripts": 3,
              "small_talk": 0, "dropped": dropped, "settings": {"min_coherence": MIN_COHERENCE}}  # fmt: skip
    text = Suggestions([], model, pool, [0] * 3, apart, codebook, source).to_markdown()
    assert "1 topic was dropped as incoherent" in text and "housing officer, flat (3 segments, coherence 0.00)" in text
    together = np.tile([[1.0, 0.0, 0.0]], (3, 1))
    drafts, dropped = _drafts(model, pool, [0] * 3, together, codebook, [], np.zeros((0, 3)), {}, 2)
    assert [d.label for d in drafts] == ["Housing officer, flat"] and dropped == []
