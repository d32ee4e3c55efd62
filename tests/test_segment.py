from __future__ import annotations

from themekit import read_transcript
from themekit.nlp import load_pipeline
from themekit.segment import segment_corpus

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
