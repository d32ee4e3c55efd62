"""Reading Markdown transcripts: YAML front matter as attributes, bold labels and headings."""

from __future__ import annotations

import pytest

from themekit import TranscriptError, read_transcript

from .conftest import speech_turns, transcript_file


def test_ingest_md_front_matter_bold_labels_and_headings(tmp_path):
    path = transcript_file(
        tmp_path,
        "KW10.md",
        """\
        ---
        interview_date: 2022-01-05
        mode: video call
        team_size: 3
        note:
        ---

        # Interview with KW10

        ## Part one

        **Interviewer:** How did you get into this work?

        **KW10:** By accident, really. I answered an advert.

        **Interviewer**: And the team?

        **KW10:** Three of us.
        """,
    )
    t = read_transcript(path)
    assert t.format == "md"
    assert t.attributes == {"interview_date": "2022-01-05", "mode": "video call", "team_size": "3", "note": ""}
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "How did you get into this work?"),
        ("KW10", "participant", "By accident, really. I answered an advert."),
        ("Interviewer", "interviewer", "And the team?"),
        ("KW10", "participant", "Three of us."),
    ]
    assert "Interview with KW10" not in t.text
    assert "Part one" not in t.text
    assert "**" not in t.text
    assert t.warnings == ()


def test_ingest_md_bold_label_not_in_known_list_is_accepted(tmp_path):
    path = transcript_file(
        tmp_path,
        "named.md",
        """\
        **Researcher:** What's your name for the role?

        **Keyworker Jo:** Navigator, we call it.
        """,
    )
    t = read_transcript(path)
    assert speech_turns(t) == [
        ("Researcher", "interviewer", "What's your name for the role?"),
        ("Keyworker Jo", "participant", "Navigator, we call it."),
    ]


def test_ingest_md_without_front_matter_has_no_attributes(tmp_path):
    path = transcript_file(tmp_path, "plain.md", "Interviewer: Hi?\n\nP01: Hello.\n")
    t = read_transcript(path)
    assert t.attributes == {}
    assert [turn.speaker for turn in t.turns] == ["Interviewer", "P01"]


def test_ingest_md_invalid_front_matter_names_file(tmp_path):
    path = transcript_file(
        tmp_path,
        "broken_meta.md",
        """\
        ---
        interview_date: [2022-01-05
        mode: video
        ---

        Interviewer: Hi?
        P01: Hello.
        """,
    )
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "broken_meta.md" in msg
    assert "front matter that is not valid YAML" in msg
    assert "'---'" in msg
    assert info.value.path == path


def test_ingest_md_front_matter_that_is_not_a_mapping(tmp_path):
    path = transcript_file(tmp_path, "list_meta.md", "---\n- a\n- b\n---\nInterviewer: Hi?\nP01: Hello.\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "list_meta.md" in msg
    assert "not a mapping" in msg
    assert "key: value" in msg


def test_ingest_attributes_argument_overrides_front_matter(tmp_path):
    path = transcript_file(tmp_path, "KW11.md", "---\nregion: City\nmode: phone\n---\nInterviewer: Hi?\nKW11: Hello.\n")
    t = read_transcript(path, attributes={"region": "Rural", "team_size": "2"})
    assert t.attributes == {"region": "Rural", "mode": "phone", "team_size": "2"}
