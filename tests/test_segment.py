from __future__ import annotations

import numpy as np
import pytest

from themekit import read_transcript
from themekit.errors import OptionError
from themekit.nlp.language import load_pipeline
from themekit.nlp.segment import group_passages, passage_bounds, segment_corpus

from .conftest import write


def _transcript(tmp_path):
    return read_transcript(
        write(
            tmp_path / "P07.txt",
            """\
            Interviewer: Tell me about the programme. What did you like?

            P07: Yeah. I liked that she listened to me properly. [laughs] The bus only came twice a day though.

            And the second paragraph says something else entirely about money.

            Interviewer: Thanks.
            """,
        )
    )


def test_segment_sentences_join_short_ones_and_skip_interviewer(tmp_path):
    t = _transcript(tmp_path)
    seg = segment_corpus([t], load_pipeline())
    texts = [s.text for s in seg.segments]
    assert texts == [
        "Yeah. I liked that she listened to me properly.",
        "[laughs] The bus only came twice a day though.",
        "And the second paragraph says something else entirely about money.",
    ]
    assert {s.speaker for s in seg.segments} == {"P07"}
    for s in seg.segments:
        assert t.text[s.start : s.end] == s.text


def test_segment_turn_and_paragraph_units(tmp_path):
    t = _transcript(tmp_path)
    nlp = load_pipeline()
    [turn] = segment_corpus([t], nlp, unit="turn").segments
    assert turn.text.startswith("Yeah.") and turn.text.endswith("about money.")
    paragraphs = [s.text for s in segment_corpus([t], nlp, unit="paragraph").segments]
    assert len(paragraphs) == 2 and paragraphs[1].startswith("And the second paragraph")


def test_segment_interviewer_speech_when_asked(tmp_path):
    t = _transcript(tmp_path)
    seg = segment_corpus([t], load_pipeline(), roles=("participant", "interviewer"))
    assert "interviewer" in {s.role for s in seg.segments}


# A participant turn about two things: first feeling alone, then money owed. Each half is about 90 words.
_LONELY = [
    "After the move I did not know a single person on the street, and the evenings were very long.",
    "My sister lives up north now, so there was nobody to talk to when things went wrong.",
    "I felt lonely most days and stopped answering the door because I had nothing to say.",
    "The only voice I heard some weeks was the radio presenter in the morning.",
    "Friends from the old job drifted away once I could not meet them after work any more.",
]
_DEBT = [
    "Then the letters about the council tax arrears started arriving, one after another in red.",
    "I owed the energy company for two winters of heating and the catalogue for the children's coats.",
    "A bailiff knocked twice and listed the television and the washing machine in his notebook.",
    "The debt advice service set up a payment plan of ten pounds a month against each creditor.",
    "Interest kept being added on the credit card, so the balance barely moved for a year.",
]
TWO_TOPICS = (
    "Interviewer: What changed for you last year?\n\n"
    f"P03: {' '.join(_LONELY)} {' '.join(_DEBT)}\n\n"
    "Interviewer: Thank you.\n\n"
    "P03: It was a hard year, honestly, but it is better now.\n"
)


def test_segment_passage_bounds_cut_at_the_topic_shift_and_respect_word_bounds():
    topic = np.eye(4)
    vectors = np.array([topic[0]] * 5 + [topic[1]] * 5)
    assert passage_bounds([20] * 10, vectors) == [(0, 5), (5, 10)]
    assert passage_bounds([20] * 7, vectors[:7]) == [(0, 7)]  # 140 words: one passage
    assert passage_bounds([], np.zeros((0, 4))) == [] and passage_bounds([12], vectors[:1]) == [(0, 1)]
    # a shift that would leave fewer than 40 words on one side is not taken; the run is cut elsewhere
    assert passage_bounds([30, 50, 50, 50], np.array([topic[0], topic[1], topic[1], topic[1]])) == [(0, 2), (2, 4)]
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(1, 30))
        words = rng.integers(3, 60, size=n).tolist()
        raw = rng.normal(size=(n, 8))
        bounds = passage_bounds(words, raw / np.linalg.norm(raw, axis=1, keepdims=True))
        assert [a for a, _ in bounds] == [0, *[b for _, b in bounds[:-1]]] and bounds[-1][
            1
        ] == n  # every sentence once, in order
        assert bounds == passage_bounds(words, raw / np.linalg.norm(raw, axis=1, keepdims=True))  # deterministic
        if len(bounds) > 1:
            assert all(sum(words[a:b]) >= 40 for a, b in bounds)
        for a, b in bounds:  # a passage over 150 words has no gap leaving 40 words on both sides
            total = sum(words[a:b])
            assert total <= 150 or not any(sum(words[a:g]) >= 40 and sum(words[g:b]) >= 40 for g in range(a + 1, b)), (
                words[a:b],
                bounds,
            )


def _topic_vectors(texts):
    """A stand-in embedding: how many loneliness and how many money words a sentence has."""
    lonely = {"alone", "lonely", "nobody", "friends", "person", "voice", "sister", "door", "evenings"}
    money = {"arrears", "owed", "bailiff", "debt", "interest", "balance", "pounds", "creditor", "council"}
    rows = []
    for text in texts:
        words = {w.strip(".,'").lower() for w in text.split()}
        rows.append([len(words & lonely) + 0.1, len(words & money) + 0.1])
    rows = np.array(rows)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_segment_passages_group_one_turns_sentences_with_exact_offsets(tmp_path):
    t = read_transcript(write(tmp_path / "P03.txt", TWO_TOPICS))
    sentences = segment_corpus([t], load_pipeline()).segments
    passages = group_passages(sentences, _topic_vectors([s.text for s in sentences]))
    assert [p.text for p in passages] == [
        " ".join(_LONELY),
        " ".join(_DEBT),
        "It was a hard year, honestly, but it is better now.",
    ]
    assert [(p.index, p.turn_index) for p in passages] == [(0, 1), (1, 1), (2, 3)]
    for p in passages:
        assert t.text[p.start : p.end] == p.text
    assert passages[0].start == sentences[0].start and passages[1].end == sentences[9].end


def test_segment_corpus_refuses_passage_without_vectors(tmp_path):
    with pytest.raises(OptionError, match="group_passages"):
        segment_corpus([_transcript(tmp_path)], load_pipeline(), unit="passage")


@pytest.mark.slow
def test_segment_passage_unit_through_code_splits_topics_and_codes_each(tmp_path, tiny_codebook, embedding_cache):
    import themekit

    write(tmp_path / "two" / "P03.txt", TWO_TOPICS)
    run = themekit.code(
        tmp_path / "two",
        tiny_codebook,
        unit="passage",
        methods="rule,semantic",
        cache_dir=embedding_cache,
        project=None,
    )
    assert run.settings["unit"] == "passage"
    assert [u.text for u in run.units][:2] == [" ".join(_LONELY), " ".join(_DEBT)]
    rules = {(c.segment.index, c.code_id) for c in run.codings if "rule" in c.method}
    assert rules == {(0, "loneliness"), (1, "debt")}
    frame = run.excerpts
    assert set(frame["segment"]) <= {0, 1, 2}
    text = run.corpus.transcripts[0].text
    assert all(text[a:b] == x for a, b, x in zip(frame["start"], frame["end"], frame["text"]))
