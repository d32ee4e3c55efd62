"""Reading caption files: WebVTT (voice tags, Zoom speaker prefixes) and SRT."""

from __future__ import annotations

import pytest

from themekit import TranscriptError, read_transcript

from .conftest import speech_turns, transcript_file


def test_ingest_vtt_voice_tags(tmp_path):
    path = transcript_file(
        tmp_path,
        "teams.vtt",
        """\
        WEBVTT

        1
        00:00:01.000 --> 00:00:04.000
        <v Interviewer>How are you finding it?</v>

        2
        00:00:04.500 --> 00:00:09.000
        <v Jane Doe>Better than I expected, honestly.</v>

        3
        00:01:23.000 --> 00:01:25.000
        <v Interviewer>Good to hear.</v>
        """,
    )
    t = read_transcript(path)
    assert t.format == "vtt"
    assert t.encoding == "utf-8"
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "How are you finding it?"),
        ("Jane Doe", "participant", "Better than I expected, honestly."),
        ("Interviewer", "interviewer", "Good to hear."),
    ]
    assert [turn.timestamp for turn in t.turns] == [1.0, 4.5, 83.0]
    assert t.warnings == ()


def test_ingest_vtt_zoom_speaker_prefix(tmp_path):
    path = transcript_file(
        tmp_path,
        "zoom.vtt",
        """\
        WEBVTT

        1
        00:00:02.000 --> 00:00:05.000
        Interviewer: Can you hear me?

        2
        00:00:05.000 --> 00:00:07.000
        Speaker 1: Yes, loud and clear.
        """,
    )
    t = read_transcript(path)
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "Can you hear me?"),
        ("Speaker 1", "participant", "Yes, loud and clear."),
    ]
    assert [turn.timestamp for turn in t.turns] == [2.0, 5.0]


def test_ingest_vtt_consecutive_cues_by_same_speaker_merge(tmp_path):
    path = transcript_file(
        tmp_path,
        "merge.vtt",
        """\
        WEBVTT

        00:00:01.000 --> 00:00:03.000
        <v Interviewer>Tell me more.</v>

        00:00:03.500 --> 00:00:06.000
        <v KW06>Well, it started</v>

        00:00:06.000 --> 00:00:09.000
        <v KW06>with a phone call
        from the council.</v>

        00:00:09.500 --> 00:00:10.000
        <v Interviewer>Right.</v>
        """,
    )
    t = read_transcript(path)
    assert [turn.speaker for turn in t.turns] == ["Interviewer", "KW06", "Interviewer"]
    kw = t.turns[1]
    assert kw.timestamp == 3.5
    assert t.turn_text(kw) == "Well, it started\nwith a phone call from the council."


def test_ingest_vtt_malformed_timestamp_cue_is_skipped_with_warning(tmp_path):
    path = transcript_file(
        tmp_path,
        "bad_cue.vtt",
        """\
        WEBVTT

        1
        00:00:01.000 --> 00:00:03.000
        <v Interviewer>First question?</v>

        2
        00:00:xx.000 --> 00:00:05.000
        <v P01>This cue has a broken time.</v>

        3
        00:00:06.000 --> 00:00:08.000
        <v P01>This one is fine.</v>
        """,
    )
    t = read_transcript(path)
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "First question?"),
        ("P01", "participant", "This one is fine."),
    ]
    assert "broken time" not in t.text
    assert t.warnings == ("1 cue(s) with malformed timestamps were skipped",)


def test_ingest_vtt_without_valid_cues_is_an_error(tmp_path):
    path = transcript_file(tmp_path, "empty_cues.vtt", "WEBVTT\n\nNOTE nothing was recorded\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "empty_cues.vtt" in msg
    assert "no cues with valid timestamps" in msg
    assert "Export" in msg


def test_ingest_vtt_only_malformed_cues_is_an_error(tmp_path):
    path = transcript_file(tmp_path, "all_bad.vtt", "WEBVTT\n\n1\n00:00:zz.000 --> 00:00:02.000\nHello\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    assert "all_bad.vtt" in str(info.value)
    assert "no cues with valid timestamps" in str(info.value)


def test_ingest_vtt_without_header_is_an_error(tmp_path):
    path = transcript_file(tmp_path, "noheader.vtt", "1\n00:00:01.000 --> 00:00:02.000\nHello\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "noheader.vtt" in msg
    assert "WEBVTT" in msg


def test_ingest_srt_speaker_prefix_cues(tmp_path):
    path = transcript_file(
        tmp_path,
        "KW30.srt",
        """\
        1
        00:00:00,000 --> 00:00:02,000
        Interviewer: Okay, we're recording.

        2
        00:00:02,000 --> 00:00:04,000
        Interviewer: First question: how did you start?

        3
        00:01:23,500 --> 00:01:30,000
        KW30: Through a friend.
        Honestly, by luck.
        """,
    )
    t = read_transcript(path)
    assert t.format == "srt"
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "Okay, we're recording.\nFirst question: how did you start?"),
        ("KW30", "participant", "Through a friend. Honestly, by luck."),
    ]
    assert [turn.timestamp for turn in t.turns] == [0.0, 83.5]
