from __future__ import annotations

import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from themekit import CorpusError, TranscriptError, read_corpus, read_transcript
from themekit.models import Transcript

from .conftest import ROOT, SAMPLE


def _txt(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(textwrap.dedent(text).encode(encoding))
    return path


def _turns(t: Transcript) -> list[tuple[str, str, str]]:
    """(speaker, role, speech) for every turn."""
    return [(turn.speaker, turn.role, t.turn_text(turn)) for turn in t.turns]


# --------------------------------------------------------------------------- #
# Plain text: speaker-label styles
# --------------------------------------------------------------------------- #


def test_ingest_txt_interviewer_and_participant_id_labels(tmp_path):
    path = _txt(
        tmp_path,
        "P01.txt",
        """\
        Interviewer: How did you first hear about the programme?

        P01: A friend told me about it at the food bank.

        Interviewer: And what happened next?

        P01: I rang them the same week.
        """,
    )
    t = read_transcript(path)
    assert t.id == "P01"
    assert t.format == "txt"
    assert t.encoding == "utf-8"
    assert _turns(t) == [
        ("Interviewer", "interviewer", "How did you first hear about the programme?"),
        ("P01", "participant", "A friend told me about it at the food bank."),
        ("Interviewer", "interviewer", "And what happened next?"),
        ("P01", "participant", "I rang them the same week."),
    ]
    assert [turn.index for turn in t.turns] == [0, 1, 2, 3]
    assert all(turn.timestamp is None for turn in t.turns)
    assert t.warnings == ()
    assert [t.turn_text(x) for x in t.participant_turns] == [
        "A friend told me about it at the food bank.",
        "I rang them the same week.",
    ]


def test_ingest_txt_int_and_r_labels(tmp_path):
    path = _txt(
        tmp_path,
        "r2.txt",
        """\
        INT: Can you describe a typical day?
        R: It starts early, usually with phone calls.
        INT: Who calls?
        R: Mostly the families.
        """,
    )
    t = read_transcript(path)
    assert _turns(t) == [
        ("INT", "interviewer", "Can you describe a typical day?"),
        ("R", "participant", "It starts early, usually with phone calls."),
        ("INT", "interviewer", "Who calls?"),
        ("R", "participant", "Mostly the families."),
    ]
    assert t.warnings == ()


def test_ingest_txt_i_and_keyworker_id_labels(tmp_path):
    path = _txt(
        tmp_path,
        "KW03.txt",
        """\
        I: What does the role involve?

        KW03: Honestly, a bit of everything. Housing, benefits, appointments.
        """,
    )
    t = read_transcript(path)
    assert _turns(t) == [
        ("I", "interviewer", "What does the role involve?"),
        ("KW03", "participant", "Honestly, a bit of everything. Housing, benefits, appointments."),
    ]


def test_ingest_txt_q_and_a_labels(tmp_path):
    path = _txt(
        tmp_path,
        "qa.txt",
        """\
        Q: What was hardest?
        A: Getting people to trust me at the start.
        """,
    )
    t = read_transcript(path)
    assert _turns(t) == [
        ("Q", "interviewer", "What was hardest?"),
        ("A", "participant", "Getting people to trust me at the start."),
    ]


def test_ingest_txt_participant_number_label(tmp_path):
    path = _txt(
        tmp_path,
        "p3.txt",
        """\
        Interviewer: Tell me about the group sessions.
        Participant 3: They were the best part of my week.
        """,
    )
    t = read_transcript(path)
    assert _turns(t) == [
        ("Interviewer", "interviewer", "Tell me about the group sessions."),
        ("Participant 3", "participant", "They were the best part of my week."),
    ]


def test_ingest_txt_bracketed_timestamp_before_label(tmp_path):
    path = _txt(
        tmp_path,
        "ts.txt",
        """\
        [00:00:05] Interviewer: Shall we start?
        [00:01:23] Speaker 1: Yes, I'm ready.
        [01:02:03] Interviewer: Thanks.
        """,
    )
    t = read_transcript(path)
    assert _turns(t) == [
        ("Interviewer", "interviewer", "Shall we start?"),
        ("Speaker 1", "participant", "Yes, I'm ready."),
        ("Interviewer", "interviewer", "Thanks."),
    ]
    assert [turn.timestamp for turn in t.turns] == [5.0, 83.0, 3723.0]
    assert "[00:01:23] Speaker 1: Yes, I'm ready." in t.text


def test_ingest_txt_timestamp_in_parentheses_after_label(tmp_path):
    path = _txt(
        tmp_path,
        "paren.txt",
        """\
        Interviewer (00:00:10): How long have you lived here?
        Speaker 1 (00:01:23): About six years now.
        """,
    )
    t = read_transcript(path)
    assert _turns(t) == [
        ("Interviewer", "interviewer", "How long have you lived here?"),
        ("Speaker 1", "participant", "About six years now."),
    ]
    assert [turn.timestamp for turn in t.turns] == [10.0, 83.0]


def test_ingest_txt_otter_style_label_and_time_on_own_line(tmp_path):
    path = _txt(
        tmp_path,
        "otter.txt",
        """\
        Interviewer  0:01
        Could you tell me about your background?

        Speaker 1  0:09
        I worked in retail for years.
        Then I moved into support work.

        Interviewer  1:02:03
        Thanks.
        """,
    )
    t = read_transcript(path)
    assert _turns(t) == [
        ("Interviewer", "interviewer", "Could you tell me about your background?"),
        ("Speaker 1", "participant", "I worked in retail for years. Then I moved into support work."),
        ("Interviewer", "interviewer", "Thanks."),
    ]
    assert [turn.timestamp for turn in t.turns] == [1.0, 9.0, 3723.0]


def test_ingest_txt_name_then_bracketed_time_trint_style(tmp_path):
    path = _txt(
        tmp_path,
        "trint.txt",
        """\
        Jane Smith [00:00:05] Thanks for coming. What brought you to the programme?

        Alex Brown [00:00:12] My job centre adviser sent me.

        Jane Smith [00:00:25]
        And how did the first weeks go?

        Alex Brown [00:00:30] Slowly, the bus fares were a problem.
        """,
    )
    t = read_transcript(path)
    assert _turns(t) == [
        ("Jane Smith", "interviewer", "Thanks for coming. What brought you to the programme?"),
        ("Alex Brown", "participant", "My job centre adviser sent me."),
        ("Jane Smith", "interviewer", "And how did the first weeks go?"),
        ("Alex Brown", "participant", "Slowly, the bus fares were a problem."),
    ]
    assert [turn.timestamp for turn in t.turns] == [5.0, 12.0, 25.0, 30.0]


def test_ingest_txt_teams_cue_times_above_names(tmp_path):
    path = _txt(
        tmp_path,
        "teams.txt",
        """\
        0:0:0.0 --> 0:0:5.320
        Jane Smith
        What brought you to the programme?

        0:0:6.0 --> 0:0:15.100
        Alex Brown
        My job centre adviser sent me.

        0:0:16.0 --> 0:0:19.0
        Jane Smith
        How did the first weeks go?
        """,
    )
    t = read_transcript(path)
    assert _turns(t) == [
        ("Jane Smith", "interviewer", "What brought you to the programme?"),
        ("Alex Brown", "participant", "My job centre adviser sent me."),
        ("Jane Smith", "interviewer", "How did the first weeks go?"),
    ]
    assert [turn.timestamp for turn in t.turns] == [0.0, 6.0, 16.0]


@pytest.mark.parametrize("name", ["teams", "trint"])
def test_ingest_speech_offsets_point_into_the_file_whatever_the_label_layout(tmp_path, name):
    # the first turn's label is written differently in the file and in themekit's text: speech still maps back
    source = {
        "teams": "0:0:0.0 --> 0:0:5.3\nJane Smith\nThanks: what brought you here?\n\n0:0:6.0 --> 0:0:9.0\nAlex Brown\nMy adviser.\n",
        "trint": "Jane Smith [00:00:05] Jane here: what brought you here?\n\nAlex Brown [00:00:12] My adviser, Jane.\n\n"
        "Jane Smith [00:00:20] And then?\n\nAlex Brown [00:00:22] Alex Brown started the course.\n",
    }[name]
    path = tmp_path / f"{name}.txt"
    path.write_text(source, encoding="utf-8")
    t = read_transcript(path)
    assert [turn.speaker for turn in t.turns][:2] == ["Jane Smith", "Alex Brown"]
    for turn in t.turns:
        start, end = t.to_source(turn.start, turn.end)
        assert source[start:end] == t.turn_text(turn)


def test_ingest_txt_time_then_name_on_own_line(tmp_path):
    path = _txt(
        tmp_path,
        "timefirst.txt",
        """\
        00:00:05 Jane Smith
        What brought you to the programme?

        00:00:12 Alex Brown
        My job centre adviser sent me.

        00:00:25 Jane Smith
        How did the first weeks go?

        00:00:30 Alex Brown
        Slowly.
        """,
    )
    t = read_transcript(path)
    assert [(s, r) for s, r, _ in _turns(t)] == [
        ("Jane Smith", "interviewer"), ("Alex Brown", "participant"), ("Jane Smith", "interviewer"), ("Alex Brown", "participant"),
    ]  # fmt: skip
    assert t.turn_text(t.turns[1]) == "My job centre adviser sent me."
    assert [turn.timestamp for turn in t.turns] == [5.0, 12.0, 25.0, 30.0]


def test_ingest_txt_role_and_name_in_one_label(tmp_path):
    # three speakers and no question pattern to go by: the role in the label decides
    path = _txt(
        tmp_path,
        "roles.txt",
        """\
        Interviewer (Jane): Tell me about the course.
        Alex: It was fine.
        Sam: Mostly useful.
        Interviewer (Jane): Anything else.
        Alex: The travel costs.
        Sam: Same for me.
        """,
    )
    t = read_transcript(path)
    assert [(s, r) for s, r, _ in _turns(t)][:3] == [
        ("Interviewer (Jane)", "interviewer"),
        ("Alex", "participant"),
        ("Sam", "participant"),
    ]
    path = _txt(
        tmp_path,
        "roles2.txt",
        "Jane (interviewer): Tell me more.\nAlex: It was fine.\nJane (interviewer): Anything else.\nAlex: No.\n",
    )
    assert [turn.role for turn in read_transcript(path).turns] == [
        "interviewer",
        "participant",
        "interviewer",
        "participant",
    ]


def test_ingest_txt_focus_group_speaker_who_speaks_once_is_a_speaker(tmp_path):
    # a speaker per line: Sam and Tom speak once, yet their words are theirs, not the facilitator's or Priya's
    path = _txt(
        tmp_path,
        "focus.txt",
        """\
        Facilitator: What did you all think of the training?
        Sam: It was useful, especially the interview practice.
        Priya: I found the IT sessions too basic.
        Tom: Same, but the mentor was great.
        Facilitator: And the travel?
        Priya: The bus fares were a problem.
        Note: recording paused here.
        """,
    )
    t = read_transcript(path)
    assert _turns(t) == [
        ("Facilitator", "interviewer", "What did you all think of the training?"),
        ("Sam", "participant", "It was useful, especially the interview practice."),
        ("Priya", "participant", "I found the IT sessions too basic."),
        ("Tom", "participant", "Same, but the mentor was great."),
        ("Facilitator", "interviewer", "And the travel?"),
        ("Priya", "participant", "The bus fares were a problem. Note: recording paused here."),
    ]


def test_ingest_txt_colon_inside_sentence_is_not_a_label(tmp_path):
    path = _txt(
        tmp_path,
        "colon.txt",
        """\
        Interviewer: Was the first month difficult?

        P01: Yes, very.
        The thing is: it was hard.
        Nobody told me what to expect.

        Interviewer: Why?
        """,
    )
    t = read_transcript(path)
    assert [turn.speaker for turn in t.turns] == ["Interviewer", "P01", "Interviewer"]
    assert t.turn_text(t.turns[1]) == "Yes, very. The thing is: it was hard. Nobody told me what to expect."
    assert all("The thing is" not in turn.speaker for turn in t.turns)


def test_ingest_txt_short_colon_phrase_on_its_own_line_is_not_a_label(tmp_path):
    # "The thing is:" has a label shape, but it is not a known label and
    # occurs once, so it stays part of the answer.
    path = _txt(
        tmp_path,
        "colon2.txt",
        """\
        Interviewer: Was it difficult?

        P01: Yes.

        The thing is: it was hard.
        """,
    )
    t = read_transcript(path)
    assert [turn.speaker for turn in t.turns] == ["Interviewer", "P01"]
    assert t.turn_text(t.turns[1]) == "Yes.\nThe thing is: it was hard."


def test_ingest_txt_consecutive_paragraphs_by_same_speaker_merge(tmp_path):
    path = _txt(
        tmp_path,
        "merge.txt",
        """\
        Interviewer: Tell me about the office.

        P02: It's small.

        P02: But it works for us.

        More of the same answer, continued after a blank line.

        Interviewer: Thanks.
        """,
    )
    t = read_transcript(path)
    assert [turn.speaker for turn in t.turns] == ["Interviewer", "P02", "Interviewer"]
    assert t.turn_text(t.turns[1]) == (
        "It's small.\nBut it works for us.\nMore of the same answer, continued after a blank line."
    )
    assert t.turns[2].index == 2


def test_ingest_txt_text_before_first_label_is_preamble(tmp_path):
    path = _txt(
        tmp_path,
        "pre.txt",
        """\
        Interview with KW09, recorded 3 March 2022.
        Transcribed by A. Smith.

        Interviewer: Shall we begin?
        KW09: Sure.
        """,
    )
    t = read_transcript(path)
    assert _turns(t) == [
        ("Interviewer", "interviewer", "Shall we begin?"),
        ("KW09", "participant", "Sure."),
    ]
    assert any("preamble" in w for w in t.warnings)
    assert t.text.startswith("Interview with KW09, recorded 3 March 2022.")
    for turn in t.turns:
        assert "Transcribed" not in t.turn_text(turn)


def test_ingest_txt_without_labels_is_one_participant_turn_named_after_file(tmp_path):
    path = _txt(
        tmp_path,
        "diary_07.txt",
        """\
        I kept a diary during the first month.

        Most days were quiet but some were very busy.
        """,
    )
    t = read_transcript(path)
    assert len(t.turns) == 1
    (turn,) = t.turns
    assert turn.speaker == "diary_07"
    assert turn.role == "participant"
    assert t.turn_text(turn) == "I kept a diary during the first month.\nMost days were quiet but some were very busy."
    assert len(t.warnings) == 1
    assert "no speaker labels found" in t.warnings[0]
    assert "diary_07" in t.warnings[0]


def test_ingest_txt_speaker_numbers_question_heuristic_picks_interviewer(tmp_path):
    path = _txt(
        tmp_path,
        "spk.txt",
        """\
        Speaker 1: How did you find the training?
        Speaker 2: It was useful, mostly.
        Speaker 1: What would you change?
        Speaker 2: Fewer slides and more role play.
        Speaker 1: Anything else?
        Speaker 2: No, that's it.
        """,
    )
    t = read_transcript(path)
    assert [(turn.speaker, turn.role) for turn in t.turns] == [
        ("Speaker 1", "interviewer"),
        ("Speaker 2", "participant"),
    ] * 3
    assert len(t.warnings) == 1
    assert "no interviewer label found" in t.warnings[0]
    assert "'Speaker 1'" in t.warnings[0]
    assert "interviewer labels" in t.warnings[0]


def test_ingest_txt_speaker_numbers_heuristic_picks_second_speaker_when_they_ask(tmp_path):
    path = _txt(
        tmp_path,
        "spk2.txt",
        """\
        Speaker 1: Hello, can you hear me now.
        Speaker 2: Yes. What made you apply for the job?
        Speaker 1: I wanted to help people.
        Speaker 2: Did it turn out as you expected?
        Speaker 1: Not really, it was much harder.
        """,
    )
    t = read_transcript(path)
    roles = {turn.speaker: turn.role for turn in t.turns}
    assert roles == {"Speaker 1": "participant", "Speaker 2": "interviewer"}
    assert any("'Speaker 2'" in w for w in t.warnings)


def test_ingest_txt_speaker_numbers_no_questions_no_guess(tmp_path):
    path = _txt(
        tmp_path,
        "spk3.txt",
        """\
        Speaker 1: We met on Tuesday.
        Speaker 2: That's right, at the centre.
        """,
    )
    t = read_transcript(path)
    assert {turn.role for turn in t.turns} == {"participant"}
    assert not any("interviewer" in w for w in t.warnings)


def test_ingest_txt_custom_interviewer_labels(tmp_path):
    path = _txt(
        tmp_path,
        "custom.txt",
        """\
        Jane: How long have you been in post?
        Tom: Two years in May.
        Jane: And before that.
        Tom: Retail.
        """,
    )
    t = read_transcript(path, interviewer_labels=["Jane"])
    assert _turns(t) == [
        ("Jane", "interviewer", "How long have you been in post?"),
        ("Tom", "participant", "Two years in May."),
        ("Jane", "interviewer", "And before that."),
        ("Tom", "participant", "Retail."),
    ]
    assert t.warnings == ()

    # Custom labels replace the defaults: "Interviewer" is then a participant.
    path2 = _txt(tmp_path, "custom2.txt", "Interviewer: Hi?\nJane: Hello?\nInterviewer: Well.\nJane: Go on?\n")
    t2 = read_transcript(path2, interviewer_labels=["jane"])
    assert [(turn.speaker, turn.role) for turn in t2.turns] == [
        ("Interviewer", "participant"),
        ("Jane", "interviewer"),
    ] * 2
    assert t2.warnings == ()


def test_ingest_txt_interviewer_label_with_number_is_interviewer(tmp_path):
    path = _txt(
        tmp_path,
        "two_int.txt",
        """\
        Interviewer 2: First question?
        P05: First answer.
        """,
    )
    t = read_transcript(path)
    assert [(turn.speaker, turn.role) for turn in t.turns] == [
        ("Interviewer 2", "interviewer"),
        ("P05", "participant"),
    ]


def test_ingest_txt_turn_offsets_point_into_normalised_text(tmp_path):
    path = _txt(tmp_path, "off.txt", "Interviewer: Why?\n\nP01: Because.\n")
    t = read_transcript(path)
    assert t.text == "Interviewer: Why?\n\nP01: Because.\n"
    assert (t.turns[1].start, t.turns[1].end) == (len("Interviewer: Why?\n\nP01: "), len(t.text) - 1)
    assert len(t.sha256) == 64


# --------------------------------------------------------------------------- #
# Encodings and line endings
# --------------------------------------------------------------------------- #

_ACCENTS = "Interviewer: Où étiez-vous?\nP01: Au café – c'était naïve de ma part.\n"


def test_ingest_encoding_utf8(tmp_path):
    path = _txt(tmp_path, "u8.txt", _ACCENTS, "utf-8")
    t = read_transcript(path)
    assert t.encoding == "utf-8"
    assert t.turn_text(t.turns[1]) == "Au café – c'était naïve de ma part."


def test_ingest_encoding_utf8_with_bom(tmp_path):
    path = _txt(tmp_path, "bom.txt", _ACCENTS, "utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    t = read_transcript(path)
    assert t.encoding == "utf-8-sig"
    assert t.turns[0].speaker == "Interviewer"
    assert t.turns[0].role == "interviewer"
    assert "\ufeff" not in t.text
    assert t.turn_text(t.turns[0]) == "Où étiez-vous?"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
def test_ingest_encoding_utf16_with_bom(tmp_path, codec):
    data = _ACCENTS.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    path = tmp_path / "u16.txt"
    path.write_bytes(data)
    t = read_transcript(path)
    assert t.encoding == "utf-16"
    assert _turns(t) == [
        ("Interviewer", "interviewer", "Où étiez-vous?"),
        ("P01", "participant", "Au café – c'était naïve de ma part."),
    ]


def test_ingest_encoding_utf16_without_bom(tmp_path):
    path = tmp_path / "u16le.txt"
    path.write_bytes(_ACCENTS.encode("utf-16-le"))
    t = read_transcript(path)
    assert t.encoding == "utf-16-le"
    assert t.turn_text(t.turns[1]) == "Au café – c'était naïve de ma part."


def test_ingest_encoding_windows_1252(tmp_path):
    path = tmp_path / "win.txt"
    path.write_bytes("Interviewer: Where?\r\nP01: café – naïve\r\n".encode("cp1252"))
    assert b"\x96" in path.read_bytes()  # cp1252 en dash, invalid as UTF-8
    t = read_transcript(path)
    assert t.encoding == "cp1252"
    assert t.turn_text(t.turns[1]) == "café – naïve"


def test_ingest_crlf_line_endings(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"Interviewer: First?\r\n\r\nP01: One.\r\nTwo.\r\n\r\nInterviewer: Next?\r\n")
    t = read_transcript(path)
    assert "\r" not in t.text
    assert _turns(t) == [
        ("Interviewer", "interviewer", "First?"),
        ("P01", "participant", "One. Two."),
        ("Interviewer", "interviewer", "Next?"),
    ]


def test_ingest_lone_cr_line_endings(tmp_path):
    path = tmp_path / "cr.txt"
    path.write_bytes(b"Interviewer: First?\r\rP01: One.\rTwo.\r\rInterviewer: Next?\r")
    t = read_transcript(path)
    assert "\r" not in t.text
    assert _turns(t) == [
        ("Interviewer", "interviewer", "First?"),
        ("P01", "participant", "One. Two."),
        ("Interviewer", "interviewer", "Next?"),
    ]


def test_ingest_decomposed_unicode_is_composed(tmp_path):
    path = _txt(tmp_path, "nfd.txt", "Interviewer: Q?\nP01: cafe\u0301\n")
    t = read_transcript(path)
    assert t.turn_text(t.turns[1]) == "caf\u00e9"


def test_ingest_binary_bytes_with_txt_extension_is_refused(tmp_path):
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "photo.txt" in msg
    assert "binary" in msg
    assert "plain text" in msg


# --------------------------------------------------------------------------- #
# Markdown
# --------------------------------------------------------------------------- #


def test_ingest_md_front_matter_bold_labels_and_headings(tmp_path):
    path = _txt(
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
    assert _turns(t) == [
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
    path = _txt(
        tmp_path,
        "named.md",
        """\
        **Researcher:** What's your name for the role?

        **Keyworker Jo:** Navigator, we call it.
        """,
    )
    t = read_transcript(path)
    assert _turns(t) == [
        ("Researcher", "interviewer", "What's your name for the role?"),
        ("Keyworker Jo", "participant", "Navigator, we call it."),
    ]


def test_ingest_md_without_front_matter_has_no_attributes(tmp_path):
    path = _txt(tmp_path, "plain.md", "Interviewer: Hi?\n\nP01: Hello.\n")
    t = read_transcript(path)
    assert t.attributes == {}
    assert [turn.speaker for turn in t.turns] == ["Interviewer", "P01"]


def test_ingest_md_invalid_front_matter_names_file(tmp_path):
    path = _txt(
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
    path = _txt(tmp_path, "list_meta.md", "---\n- a\n- b\n---\nInterviewer: Hi?\nP01: Hello.\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "list_meta.md" in msg
    assert "not a mapping" in msg
    assert "key: value" in msg


def test_ingest_attributes_argument_overrides_front_matter(tmp_path):
    path = _txt(tmp_path, "KW11.md", "---\nregion: City\nmode: phone\n---\nInterviewer: Hi?\nKW11: Hello.\n")
    t = read_transcript(path, attributes={"region": "Rural", "team_size": "2"})
    assert t.attributes == {"region": "Rural", "mode": "phone", "team_size": "2"}


# --------------------------------------------------------------------------- #
# Word documents
# --------------------------------------------------------------------------- #


def _docx(path: Path, paragraphs: list[list[tuple[str, bool]] | str]) -> Path:
    import docx

    document = docx.Document()
    for para in paragraphs:
        if isinstance(para, str):
            document.add_paragraph(para)
            continue
        p = document.add_paragraph()
        for text, bold in para:
            run = p.add_run(text)
            run.bold = bold
    document.save(path)
    return path


def test_ingest_docx_typed_labels(tmp_path):
    path = _docx(
        tmp_path / "KW20.docx",
        [
            "Interviewer: What does a good week look like?",
            "KW20: When nobody is in crisis.",
            "And the paperwork is done.",
            "Interviewer: How often is that?",
            "KW20: Rarely.",
        ],
    )
    t = read_transcript(path)
    assert t.format == "docx"
    assert t.encoding is None
    assert _turns(t) == [
        ("Interviewer", "interviewer", "What does a good week look like?"),
        ("KW20", "participant", "When nobody is in crisis.\nAnd the paperwork is done."),
        ("Interviewer", "interviewer", "How often is that?"),
        ("KW20", "participant", "Rarely."),
    ]


def test_ingest_docx_teams_transcript_cue_times_names_and_speech(tmp_path):
    # a Teams transcript saved as .docx: a paragraph of cue times, the speaker's name, the speech
    path = _docx(
        tmp_path / "teams.docx",
        [
            "0:0:0.0 --> 0:0:5.320", "Jane Smith", "What does a good week look like?",
            "0:0:6.0 --> 0:0:15.100", "Alex Brown", "When nobody is in crisis.",
            "0:0:16.0 --> 0:0:19.0", "Jane Smith", "How often is that?",
        ],
    )  # fmt: skip
    t = read_transcript(path)
    assert _turns(t) == [
        ("Jane Smith", "interviewer", "What does a good week look like?"),
        ("Alex Brown", "participant", "When nobody is in crisis."),
        ("Jane Smith", "interviewer", "How often is that?"),
    ]
    assert [turn.timestamp for turn in t.turns] == [0.0, 6.0, 16.0]


def test_ingest_docx_bold_labels(tmp_path):
    path = _docx(
        tmp_path / "KW04.docx",
        [
            [("Interviewer:", True), (" How did you start?", False)],
            [("KW04", True), (": Through a friend at the council.", False)],
            [("Interviewer:", True), (" ", False), ("And then?", False)],
            [("Keyworker Sam:", True), (" I just kept going.", False)],
        ],
    )
    t = read_transcript(path)
    assert _turns(t) == [
        ("Interviewer", "interviewer", "How did you start?"),
        ("KW04", "participant", "Through a friend at the council."),
        ("Interviewer", "interviewer", "And then?"),
        ("Keyworker Sam", "participant", "I just kept going."),
    ]


def test_ingest_docx_bold_sentence_is_not_a_label(tmp_path):
    path = _docx(
        tmp_path / "KW21.docx",
        [
            "Interviewer: Was it hard?",
            [("It was really hard.", True), (" But we managed.", False)],
        ],
    )
    t = read_transcript(path)
    assert [turn.speaker for turn in t.turns] == ["Interviewer"]
    assert t.turn_text(t.turns[0]) == "Was it hard?\nIt was really hard. But we managed."


def test_ingest_docx_corrupt_or_truncated(tmp_path):
    good = _docx(tmp_path / "good.docx", ["Interviewer: Hi?", "P01: Hello."])
    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(good.read_bytes()[:300])
    for path in (truncated, _txt(tmp_path, "notzip.docx", "this is just text, not a Word file")):
        with pytest.raises(TranscriptError) as info:
            read_transcript(path)
        msg = str(info.value)
        assert path.name in msg
        assert "not a readable Word document" in msg
        assert "re-save" in msg


def test_ingest_docx_reader_bug_is_not_reported_as_a_broken_file(tmp_path, monkeypatch):
    """Only the zip's, lxml's and python-docx's errors mean a damaged file; a mistake in themekit's own code surfaces."""
    from themekit.ingest import readers

    good = _docx(tmp_path / "good.docx", ["Interviewer: Hi?", "P01: Hello."])
    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(TranscriptError, match="not a readable Word document") as info:
        read_transcript(truncated)
    assert info.value.__cause__ is not None  # the zip or python-docx error, shown by themekit --debug

    def bug(*args, **kwargs):
        raise NameError("name 'speaker' is not defined")

    for helper in ("_bold_label", "_run_text", "_docx_paragraphs"):
        with monkeypatch.context() as patch:
            patch.setattr(readers, helper, bug)
            with pytest.raises(NameError, match="speaker"):
                read_transcript(good)
    monkeypatch.setattr(readers, "_docx_paragraphs", lambda zf: None)  # python-docx reads the file
    monkeypatch.setattr(readers, "_bold_label", bug)
    with pytest.raises(NameError, match="speaker"):
        read_transcript(good)


def test_ingest_docx_password_protected(tmp_path):
    path = tmp_path / "secret.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "secret.docx" in msg
    assert "password" in msg
    assert "Remove the password" in msg


# --------------------------------------------------------------------------- #
# Captions: VTT and SRT
# --------------------------------------------------------------------------- #


def test_ingest_vtt_voice_tags(tmp_path):
    path = _txt(
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
    assert _turns(t) == [
        ("Interviewer", "interviewer", "How are you finding it?"),
        ("Jane Doe", "participant", "Better than I expected, honestly."),
        ("Interviewer", "interviewer", "Good to hear."),
    ]
    assert [turn.timestamp for turn in t.turns] == [1.0, 4.5, 83.0]
    assert t.warnings == ()


def test_ingest_vtt_zoom_speaker_prefix(tmp_path):
    path = _txt(
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
    assert _turns(t) == [
        ("Interviewer", "interviewer", "Can you hear me?"),
        ("Speaker 1", "participant", "Yes, loud and clear."),
    ]
    assert [turn.timestamp for turn in t.turns] == [2.0, 5.0]


def test_ingest_vtt_consecutive_cues_by_same_speaker_merge(tmp_path):
    path = _txt(
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
    path = _txt(
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
    assert _turns(t) == [
        ("Interviewer", "interviewer", "First question?"),
        ("P01", "participant", "This one is fine."),
    ]
    assert "broken time" not in t.text
    assert t.warnings == ("1 cue(s) with malformed timestamps were skipped",)


def test_ingest_vtt_without_valid_cues_is_an_error(tmp_path):
    path = _txt(tmp_path, "empty_cues.vtt", "WEBVTT\n\nNOTE nothing was recorded\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "empty_cues.vtt" in msg
    assert "no cues with valid timestamps" in msg
    assert "Export" in msg


def test_ingest_vtt_only_malformed_cues_is_an_error(tmp_path):
    path = _txt(tmp_path, "all_bad.vtt", "WEBVTT\n\n1\n00:00:zz.000 --> 00:00:02.000\nHello\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    assert "all_bad.vtt" in str(info.value)
    assert "no cues with valid timestamps" in str(info.value)


def test_ingest_vtt_without_header_is_an_error(tmp_path):
    path = _txt(tmp_path, "noheader.vtt", "1\n00:00:01.000 --> 00:00:02.000\nHello\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "noheader.vtt" in msg
    assert "WEBVTT" in msg


def test_ingest_srt_speaker_prefix_cues(tmp_path):
    path = _txt(
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
    assert _turns(t) == [
        ("Interviewer", "interviewer", "Okay, we're recording.\nFirst question: how did you start?"),
        ("KW30", "participant", "Through a friend. Honestly, by luck."),
    ]
    assert [turn.timestamp for turn in t.turns] == [0.0, 83.5]


# --------------------------------------------------------------------------- #
# Tables: CSV and XLSX
# --------------------------------------------------------------------------- #

_ROWS = [
    ("00:00:00", "Interviewer", "How did you hear about us?"),
    ("00:00:05", "KW40", "From the job centre."),
    ("00:00:09", "", "They gave me a leaflet."),
    ("00:01:23", "Interviewer", "And what did you think?"),
    ("1:02:03", "KW40", "That it sounded right for me."),
]


def _check_table(t: Transcript) -> None:
    assert _turns(t) == [
        ("Interviewer", "interviewer", "How did you hear about us?"),
        ("KW40", "participant", "From the job centre.\nThey gave me a leaflet."),
        ("Interviewer", "interviewer", "And what did you think?"),
        ("KW40", "participant", "That it sounded right for me."),
    ]
    assert [turn.timestamp for turn in t.turns] == [0.0, 5.0, 83.0, 3723.0]


def test_ingest_csv_columns_by_header_name(tmp_path):
    import csv

    path = tmp_path / "KW40.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Time", "Speaker", "Text"])
        writer.writerows(_ROWS)
    t = read_transcript(path)
    assert t.format == "csv"
    assert t.encoding == "utf-8"
    _check_table(t)


def test_ingest_csv_column_names_case_and_order_and_extra_columns(tmp_path):
    path = _txt(
        tmp_path,
        "KW41.csv",
        """\
        Notes, TEXT ,WHO,START TIME
        greeting,"Hello, shall we start?",Interviewer,0:01
        ,"Yes, go on.",KW41,0:04
        multi,"Line one
        line two",KW41,0:06
        """,
    )
    t = read_transcript(path)
    assert _turns(t) == [
        ("Interviewer", "interviewer", "Hello, shall we start?"),
        ("KW41", "participant", "Yes, go on.\nLine one\nline two"),
    ]
    assert [turn.timestamp for turn in t.turns] == [1.0, 4.0]


def test_ingest_xlsx_columns_by_header_name(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["time", "SPEAKER", "text"])
    for time, speaker, text in _ROWS:
        ws.append([time, speaker or None, text])
    path = tmp_path / "KW40.xlsx"
    wb.save(path)
    t = read_transcript(path)
    assert t.format == "xlsx"
    assert t.encoding is None
    _check_table(t)


def test_ingest_csv_without_text_column_lists_columns(tmp_path):
    path = _txt(tmp_path, "nocol.csv", "Time,Speaker,Notes\n0:01,Interviewer,Hello\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "nocol.csv" in msg
    assert "has no text column (columns are: Time, Speaker, Notes)" in msg
    assert "'text'" in msg


def test_ingest_csv_without_speaker_column_falls_back_to_file_stem(tmp_path):
    path = _txt(tmp_path, "notes_only.csv", "text\nFirst thought.\nSecond thought.\n")
    t = read_transcript(path)
    assert len(t.turns) == 1
    assert t.turns[0].speaker == "notes_only"
    assert t.turns[0].role == "participant"
    assert t.turn_text(t.turns[0]) == "First thought.\nSecond thought."
    assert any("no speaker labels found" in w for w in t.warnings)


# --------------------------------------------------------------------------- #
# read_transcript errors
# --------------------------------------------------------------------------- #


def test_ingest_unsupported_extension_lists_supported(tmp_path):
    path = _txt(tmp_path, "notes.pdf", "Interviewer: Hi?\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "notes.pdf" in msg
    assert "unsupported extension '.pdf'" in msg
    for ext in (".csv", ".docx", ".md", ".srt", ".txt", ".vtt", ".xlsx"):
        assert ext in msg


def test_ingest_file_over_max_bytes(tmp_path):
    path = _txt(tmp_path, "big.txt", "Interviewer: Hi?\nP01: " + "word " * 400 + "\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path, max_bytes=1024)
    msg = str(info.value)
    assert "big.txt" in msg
    assert "limit" in msg
    assert "--max-file-mb" in msg

    size_limit = 3 * 2**20
    with pytest.raises(TranscriptError) as info:
        # A sparse file just over 3 MB.
        huge = tmp_path / "huge.txt"
        with huge.open("wb") as fh:
            fh.truncate(size_limit + 200_000)
        read_transcript(huge, max_bytes=size_limit)
    assert "over the 3 MB limit" in str(info.value)
    assert "--max-file-mb" in str(info.value)

    # Under the limit, the same file reads fine.
    assert read_transcript(path, max_bytes=10_000).turns


def test_ingest_empty_file(tmp_path):
    path = _txt(tmp_path, "blank.txt", "  \n\n ")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "blank.txt" in msg
    assert "is empty" in msg


def test_ingest_missing_file(tmp_path):
    with pytest.raises(TranscriptError) as info:
        read_transcript(tmp_path / "gone.txt")
    assert "gone.txt" in str(info.value)
    assert "could not be read" in str(info.value)


def test_ingest_labels_without_speech_is_an_error(tmp_path):
    path = _txt(tmp_path, "labels_only.txt", "Interviewer:\nP01:\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    assert "labels_only.txt" in str(info.value)
    assert "no speech" in str(info.value)


# --------------------------------------------------------------------------- #
# read_corpus
# --------------------------------------------------------------------------- #


def test_ingest_corpus_joins_participant_attributes(tmp_path):
    _txt(tmp_path, "KW01.txt", "Interviewer: Hi?\nKW01: Hello.\n")
    _txt(tmp_path, "kw02.md", "---\nmode: phone\nregion: Ignored\n---\n**INT:** Hi?\n\n**KW02:** Hello.\n")
    _txt(tmp_path, "KW03.txt", "Interviewer: Hi?\nKW03: Hello.\n")
    _txt(
        tmp_path,
        "participants.csv",
        """\
        Transcript,region,team_size
        kw01,City,5
        KW02,Rural,
        KW99,Coastal,2
        """,
    )
    _txt(tmp_path, "README.md", "# About these transcripts\n\nInterviewer: this is not a transcript.\n")
    (tmp_path / "codings").mkdir()  # a subfolder (the sample keeps its human codings in one) is not read
    _txt(tmp_path, "codings/gold.csv", "transcript,code,text\nKW01,trust,Hello.\n")
    _txt(tmp_path, "codings/KW09.txt", "Interviewer: Hi?\nKW09: Not read.\n")
    corpus = read_corpus(tmp_path)
    assert [t.id for t in corpus] == ["KW01", "KW03", "kw02"]  # file-name order
    assert len(corpus) == 3
    assert corpus.failures == ()
    assert corpus["KW01"].attributes == {"region": "City", "team_size": "5"}
    assert corpus["kw02"].attributes == {"mode": "phone", "region": "Rural", "team_size": ""}
    assert corpus["KW03"].attributes == {}
    assert all(t.source.name not in ("README.md", "participants.csv") for t in corpus)


def test_ingest_corpus_participants_id_column(tmp_path):
    _txt(tmp_path, "A1.txt", "Interviewer: Hi?\nA1: Hello.\n")
    _txt(tmp_path, "participants.csv", "ID,age_band\nA1,25-34\n")
    corpus = read_corpus(tmp_path)
    assert corpus["A1"].attributes == {"age_band": "25-34"}


def test_ingest_corpus_participants_without_join_column(tmp_path):
    _txt(tmp_path, "A1.txt", "Interviewer: Hi?\nA1: Hello.\n")
    _txt(tmp_path, "participants.csv", "name,age_band\nA1,25-34\n")
    with pytest.raises(CorpusError) as info:
        read_corpus(tmp_path)
    msg = str(info.value)
    assert "participants.csv" in msg
    assert "no 'transcript' or 'id' column" in msg
    assert "name, age_band" in msg


def test_ingest_corpus_broken_files_are_failures_others_still_read(tmp_path):
    _txt(tmp_path, "A_good.txt", "Interviewer: Hi?\nP01: Hello.\n")
    (tmp_path / "B_empty.txt").write_bytes(b"")
    (tmp_path / "C_binary.txt").write_bytes(b"\x00\x01\x02\x03\xff\xfe\x00\x00" * 64 + b"\x07")
    _txt(tmp_path, "D_good.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Interviewer>Hi?</v>\n")
    (tmp_path / "E_broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")  # unsupported: ignored, not a failure
    (tmp_path / ".hidden.txt").write_text("Interviewer: hidden?\n")
    (tmp_path / "~$lock.docx").write_bytes(b"lock")
    corpus = read_corpus(tmp_path)
    assert [t.id for t in corpus] == ["A_good", "D_good"]
    failures = {path.name: reason for path, reason in corpus.failures}
    assert set(failures) == {"B_empty.txt", "C_binary.txt", "E_broken.docx"}
    assert "B_empty.txt: is empty" in failures["B_empty.txt"]
    assert "C_binary.txt" in failures["C_binary.txt"] and "binary" in failures["C_binary.txt"]
    assert "not a readable Word document" in failures["E_broken.docx"]


def test_ingest_corpus_duplicate_stems_are_failures(tmp_path):
    _txt(tmp_path, "KW01.md", "Interviewer: Hi?\nKW01: Hello from md.\n")
    _txt(tmp_path, "KW01.txt", "Interviewer: Hi?\nKW01: Hello from txt.\n")
    corpus = read_corpus(tmp_path)
    assert len(corpus) == 1
    assert corpus["KW01"].source.name == "KW01.md"
    ((path, reason),) = corpus.failures
    assert path.name == "KW01.txt"
    assert "same name as KW01.md" in reason
    assert "Rename" in reason


def test_ingest_corpus_max_bytes_failure(tmp_path):
    _txt(tmp_path, "small.txt", "Interviewer: Hi?\nP01: Hello.\n")
    _txt(tmp_path, "large.txt", "Interviewer: Hi?\nP01: " + "word " * 1000 + "\n")
    corpus = read_corpus(tmp_path, max_bytes=2048)
    assert [t.id for t in corpus] == ["small"]
    ((path, reason),) = corpus.failures
    assert path.name == "large.txt"
    assert "--max-file-mb" in reason


def test_ingest_corpus_interviewer_labels_passed_through(tmp_path):
    _txt(tmp_path, "X.txt", "Jane: Q?\nTom: A.\nJane: Q2.\nTom: A2.\n")
    corpus = read_corpus(tmp_path, interviewer_labels=["Jane"])
    assert [(t.speaker, t.role) for t in corpus["X"].turns] == [("Jane", "interviewer"), ("Tom", "participant")] * 2


def test_ingest_corpus_missing_folder(tmp_path):
    missing = tmp_path / "no_such_folder"
    with pytest.raises(CorpusError) as info:
        read_corpus(missing)
    msg = str(info.value)
    assert "no_such_folder" in msg
    assert "no such folder" in msg


def test_ingest_corpus_folder_without_transcripts(tmp_path):
    _txt(tmp_path, "README.md", "# nothing here\n")
    (tmp_path / "data.pdf").write_bytes(b"%PDF")
    with pytest.raises(CorpusError) as info:
        read_corpus(tmp_path)
    msg = str(info.value)
    assert "no transcripts found" in msg
    assert ".txt" in msg and ".docx" in msg


def test_ingest_corpus_single_file_path_uses_sibling_participants(tmp_path):
    path = _txt(tmp_path, "KW05.txt", "Interviewer: Hi?\nKW05: Hello.\n")
    _txt(tmp_path, "participants.csv", "transcript,region\nKW05,Coastal\n")
    corpus = read_corpus(path)
    assert [t.id for t in corpus] == ["KW05"]
    assert corpus["KW05"].attributes == {"region": "Coastal"}


# --------------------------------------------------------------------------- #
# Bundled sample
# --------------------------------------------------------------------------- #


def test_ingest_bundled_sample_reads_cleanly():
    corpus = read_corpus(SAMPLE)
    assert corpus.failures == ()
    assert len(corpus) == 8
    assert [t.id for t in corpus] == [f"KW0{i}" for i in range(1, 9)]
    assert {t.format for t in corpus} == {"txt", "md", "docx", "vtt", "srt", "csv"}
    for t in corpus:
        interviewers = {turn.speaker for turn in t.turns if turn.role == "interviewer"}
        participants = {turn.speaker for turn in t.turns if turn.role == "participant"}
        assert len(interviewers) == 1, (t.id, interviewers)
        assert len(participants) == 1, (t.id, participants)
        assert t.participant_turns, t.id
        assert sum(len(t.turn_text(turn).split()) for turn in t.participant_turns) > 200, t.id
        for turn in t.turns:
            speech = t.turn_text(turn)
            assert speech.strip() == speech and speech, (t.id, turn)
            assert not speech.startswith(turn.speaker + ":"), (t.id, turn)
        assert t.attributes["region"], t.id
    assert corpus["KW01"].attributes["organisation_type"] == "Youth and community charity"
    assert corpus["KW03"].attributes["mode"] == "video call"
    assert corpus["KW03"].attributes["region"] == "Market town"


def test_ingest_custom_interviewer_label_counts_even_once(tmp_path):
    path = tmp_path / "P11.txt"
    path.write_text("Jane: Could you tell me how it went?\n\nP11: It went well, thanks for asking.\n", encoding="utf-8")
    t = read_transcript(path, interviewer_labels=["Jane"])
    assert [(turn.speaker, turn.role) for turn in t.turns] == [("Jane", "interviewer"), ("P11", "participant")]


def _rich_docx(path: Path) -> Path:
    """A Word file with what a transcript may hold beyond plain runs: links, tabs, breaks, tables, bold switched off."""
    import docx
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    document = docx.Document()
    p = document.add_paragraph()
    p.add_run("Interviewer").bold = True
    p.add_run(":\tWhere did you\u00a0hear of it?")
    p = document.add_paragraph()
    p._p.append(parse_xml(f'<w:r {w}><w:rPr><w:b w:val="on"/></w:rPr><w:t xml:space="preserve">KW30: </w:t></w:r>'))
    p._p.append(
        parse_xml(f"<w:hyperlink {w}><w:r><w:t>the council site</w:t></w:r><w:r><w:t>, page</w:t></w:r></w:hyperlink>")
    )
    p._p.append(
        parse_xml(
            f'<w:r {w}><w:t xml:space="preserve"> two</w:t><w:br/><w:t>next</w:t><w:br w:type="page"/><w:cr/>'
            '<w:noBreakHyphen/><w:ptab w:relativeTo="margin" w:alignment="right" w:leader="none"/><w:t/></w:r>'
        )
    )
    p = document.add_paragraph()
    p._p.append(parse_xml(f'<w:r {w}><w:rPr><w:b w:val="false"/></w:rPr><w:t>Interviewer: not bold</w:t></w:r>'))
    p._p.append(parse_xml(f'<w:r {w}><w:rPr><w:b w:val="0"/></w:rPr><w:t xml:space="preserve">   </w:t></w:r>'))
    document.add_table(rows=1, cols=1).cell(0, 0).text = "KW30: text in a table"
    p = document.add_paragraph()
    for text, bold in (("  ", None), ("KW30", True), (": fine, ", False), ("thanks", True)):
        p.add_run(text).bold = bold
    document.add_paragraph("")
    document.add_paragraph("Interviewer: Anything else?")
    document.save(path)
    return path


def test_ingest_docx_fast_reader_matches_python_docx(tmp_path, monkeypatch):
    """themekit reads Word files with lxml; python-docx is the reference for every paragraph, run and bold value."""
    import docx

    from themekit.ingest import readers
    from themekit.util import limits
    from themekit.util.zipguard import ZipGuard

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from corpus import render
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    generated = tmp_path / "P005.docx"
    generated.write_bytes(render("P005", [("Interviewer", "How is it going?"), ("P005", "Fine, thanks.")], "docx"))
    files = [
        SAMPLE / "KW04.docx",
        SAMPLE / "KW05.docx",
        _rich_docx(tmp_path / "KW30.docx"),
        generated,
        _docx(
            tmp_path / "KW04.docx", [[("Interviewer:", True), (" How?", False)], [("KW04", True), (": Well.", False)]]
        ),
        _docx(tmp_path / "KW21.docx", ["Interviewer: Was it hard?", [("It was really hard.", True), (" But.", False)]]),
    ]
    for path in files:
        with zipfile.ZipFile(path) as zf:
            fast = readers._docx_paragraphs(
                ZipGuard(zf, max_entries=limits.MAX_ZIP_ENTRIES, max_total_bytes=limits.MAX_DOCX_BYTES)
            )
        reference = docx.Document(str(path)).paragraphs
        assert fast is not None, path
        assert [(p.text, [(r.text, r.bold) for r in p.runs]) for p in fast] == [
            (p.text, [(r.text, r.bold) for r in p.runs]) for p in reference
        ], path
    read_fast = [read_transcript(path) for path in files]
    monkeypatch.setattr(readers, "_docx_paragraphs", lambda guard: None)  # python-docx reads every file
    read_reference = [read_transcript(path) for path in files]
    assert [(t.text, t.turns) for t in read_fast] == [(t.text, t.turns) for t in read_reference]
    # as python-docx gives it: a label's rest is its paragraph's runs (a link is not a run), breaks become spaces
    assert "\n\nKW30: two next -\n\nInterviewer: not bold\n\nKW30: fine, thanks\n\n" in read_fast[2].text
    assert [turn.speaker for turn in read_fast[2].turns] == [
        "Interviewer",
        "KW30",
        "Interviewer",
        "KW30",
        "Interviewer",
    ]


def test_ingest_docx_bad_bold_value_is_unreadable(tmp_path):
    import docx
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    document = docx.Document()
    document.add_paragraph()._p.append(
        parse_xml(f'<w:r {w}><w:rPr><w:b w:val="maybe"/></w:rPr><w:t>KW31: hi</w:t></w:r>')
    )
    document.save(tmp_path / "KW31.docx")
    with pytest.raises(TranscriptError, match=r"KW31.docx.*not a readable Word document.*re-save"):
        read_transcript(tmp_path / "KW31.docx")


# --------------------------------------------------------------------------- #
# Who the interviewer is, over the whole folder
# --------------------------------------------------------------------------- #


def _interview(asker: str, answerer: str, questions: bool = True, answerer_asks: bool = False) -> str:
    """A short interview; without ``questions`` the asker's turns are not phrased as questions."""
    q = "?" if questions else "."
    return (
        f"{asker}: Tell me about your first week at the centre{q}\n\n"
        f"{answerer}: It was busy and I was nervous, but the staff were patient with me.\n\n"
        f"{asker}: And how did the training go{q}\n\n"
        f"{answerer}: The training was long. Would I ever remember it all{'?' if answerer_asks else '.'}\n\n"
        f"{asker}: What would you change{q}\n\n"
        f"{answerer}: More time with the mentors, and fewer forms.\n"
    )


def test_ingest_folder_rule_makes_the_studys_interviewer_the_interviewer_everywhere(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    for n in range(1, 5):
        (folder / f"P0{n}.txt").write_text(_interview("Jane Smith", f"Alex {n}"), encoding="utf-8")
    # Jane's turns here are not phrased as questions: alone, no interviewer is found
    (folder / "P05.txt").write_text(_interview("jane smith ", "Robin", questions=False), encoding="utf-8")
    # and here the participant asks the only question, so alone they would be taken as the interviewer
    (folder / "P06.txt").write_text(
        _interview("Jane Smith", "Sam", questions=False, answerer_asks=True), encoding="utf-8"
    )
    corpus = read_corpus(folder)
    for tid, label, other in (("P05", "jane smith", "Robin"), ("P06", "Jane Smith", "Sam")):
        odd = corpus[tid]
        assert {(turn.speaker, turn.role) for turn in odd.turns} == {(label, "interviewer"), (other, "participant")}
        assert any(f"'{label}' taken as the interviewer by the folder rule" in w for w in odd.warnings)
        assert [t.speaker for t in odd.participant_turns] == [other] * 3
        assert not any("asks most of the questions" in w or "no interviewer" in w for w in odd.warnings)
    # the others were right already and are left as they were
    assert not any("folder rule" in w for t in corpus if t.id not in ("P05", "P06") for w in t.warnings)


def test_ingest_folder_rule_gives_way_to_interviewer_labels(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    for n in range(1, 5):
        (folder / f"P0{n}.txt").write_text(_interview("Jane Smith", f"Alex {n}"), encoding="utf-8")
    (folder / "P05.txt").write_text(_interview("Jane Smith", "Robin", questions=False), encoding="utf-8")
    corpus = read_corpus(folder, interviewer_labels=["Moderator"])
    odd = corpus["P05"]
    assert {turn.role for turn in odd.turns} == {"participant"}
    assert any(
        w.startswith("no interviewer identified among its speakers ('Jane Smith', 'Robin')") for w in odd.warnings
    )


def test_ingest_folder_rule_needs_three_transcripts_and_leaves_generic_labels_alone(tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    (small / "P01.txt").write_text(_interview("Jane Smith", "Alex"), encoding="utf-8")
    (small / "P02.txt").write_text(_interview("Jane Smith", "Robin", questions=False), encoding="utf-8")
    corpus = read_corpus(small)
    assert {turn.role for turn in corpus["P02"].turns} == {"participant"}
    assert any(w.startswith("no interviewer identified") for w in corpus["P02"].warnings)
    otter = tmp_path / "otter"
    otter.mkdir()
    for n in range(1, 5):
        (otter / f"P0{n}.txt").write_text(_interview("Speaker 1", "Speaker 2"), encoding="utf-8")
    # here whoever spoke first was the participant: "Speaker 1" names no person, so the rule leaves it alone
    (otter / "P05.txt").write_text(_interview("Speaker 2", "Speaker 1"), encoding="utf-8")
    roles = {(turn.speaker, turn.role) for turn in read_corpus(otter)["P05"].turns}
    assert roles == {("Speaker 2", "interviewer"), ("Speaker 1", "participant")}


def test_ingest_single_speaker_transcript_is_not_warned_about_a_missing_interviewer(tmp_path):
    path = _txt(tmp_path, "W01.txt", "I answered the written questions at home. The forms were hard to follow.\n")
    corpus = read_corpus(path)
    assert not any("interviewer" in w for w in corpus["W01"].warnings)


# --------------------------------------------------------------------------- #
# Otter exports
# --------------------------------------------------------------------------- #

_OTTER_HEADER = [
    "Centre visit interview",
    "Tue, 3/5 2:14PM • 41:07",
    "SUMMARY KEYWORDS",
    "mentors, paperwork, rota, canteen",
    "SPEAKERS",
    "Jane Smith, Alex Green",
]


def test_ingest_otter_docx_header_is_read_as_attributes_not_speech(tmp_path):
    body = [
        [("Jane Smith", True), ("  0:01", False)],
        "How did the first month go?",
        [("Alex Green", True), ("  0:09", False)],
        "It went well, I liked working with the team.",
        "Transcribed by https://otter.ai",
    ]
    header: list = [[(line, True)] if line.isupper() else line for line in _OTTER_HEADER]
    path = _docx(tmp_path / "I01.docx", header + body)
    t = read_transcript(path)
    assert t.attributes["keywords"] == "mentors, paperwork, rota, canteen"
    assert t.attributes["speakers"] == "Jane Smith, Alex Green"
    assert t.attributes["title"] == "Centre visit interview"
    assert _turns(t) == [
        ("Jane Smith", "interviewer", "How did the first month go?"),
        ("Alex Green", "participant", "It went well, I liked working with the team."),
    ]
    for word in ("mentors", "canteen", "SUMMARY", "SPEAKERS", "otter.ai", "41:07"):
        assert word not in t.text
    assert not any("preamble" in w for w in t.warnings)


def test_ingest_otter_txt_header_is_read_as_attributes(tmp_path):
    text = "\n".join(_OTTER_HEADER) + (
        "\n\nJane Smith  0:01\nHow did the first month go?\n\nAlex Green  0:09\nIt went well, I liked the rota.\n\n"
        "Transcribed by https://otter.ai\n"
    )
    t = read_transcript(_txt(tmp_path, "I02.txt", text))
    assert t.attributes["keywords"] == "mentors, paperwork, rota, canteen"
    assert [turn.timestamp for turn in t.turns] == [1.0, 9.0]
    assert "canteen" not in t.text and "otter.ai" not in t.text


def test_ingest_text_mentioning_keywords_later_is_not_a_header(tmp_path):
    text = (
        "Interviewer: Any last words?\n\nP01: Yes.\n\nInterviewer: Anything else?\n\nP01: SPEAKERS\n\nP01: Loud ones.\n"
    )
    t = read_transcript(_txt(tmp_path, "P01.txt", text))
    assert "keywords" not in t.attributes and "speakers" not in t.attributes
    assert "SPEAKERS" in t.text


# --------------------------------------------------------------------------- #
# Table speech columns
# --------------------------------------------------------------------------- #

_TURN_TABLE = (
    "timestamp,speaker,words,tags\n"
    "0:01,Interviewer,Where did you grow up?,childhood\n"
    "0:05,Narrator,On a farm by the river; we kept sheep.,farming\n"
)


def test_ingest_table_words_column_is_speech_and_tags_are_not(tmp_path):
    t = read_transcript(_txt(tmp_path, "OH01.csv", _TURN_TABLE))
    assert _turns(t) == [
        ("Interviewer", "interviewer", "Where did you grow up?"),
        ("Narrator", "participant", "On a farm by the river; we kept sheep."),
    ]
    assert [turn.timestamp for turn in t.turns] == [1.0, 5.0]
    assert "childhood" not in t.text and "farming" not in t.text


def test_ingest_table_columns_named_by_the_user(tmp_path):
    path = _txt(
        tmp_path, "OH02.csv", "who_spoke,said_text,words\nInterviewer,Where did you grow up?,5\nNarrator,On a farm.,3\n"
    )
    t = read_transcript(path, text_column="Said_Text", speaker_column="who_spoke")
    assert _turns(t) == [
        ("Interviewer", "interviewer", "Where did you grow up?"),
        ("Narrator", "participant", "On a farm."),
    ]
    with pytest.raises(TranscriptError) as info:
        read_transcript(path, text_column="utterance")
    assert str(info.value) == (
        f"{path}: has no column 'utterance' for the speech (columns are: who_spoke, said_text, words). "
        "Give one of its columns as text_column="
    )
    assert info.value.params == ("text_column",)


def test_ingest_read_corpus_passes_table_columns_to_the_reader(tmp_path):
    folder = tmp_path / "oral"
    folder.mkdir()
    (folder / "OH03.csv").write_text(
        "spoken_by,line\nInterviewer,Where did you grow up?\nNarrator,By the sea.\n", encoding="utf-8"
    )
    corpus = read_corpus(folder, text_column="line", speaker_column="spoken_by")
    assert [t.speaker for t in corpus["OH03"].turns] == ["Interviewer", "Narrator"]
    refused = read_corpus(folder, text_column="speech")
    assert not refused.transcripts
    assert "has no column 'speech' for the speech (columns are: spoken_by, line)" in refused.failures[0][1]


def test_ingest_a_file_starting_with_an_invalid_byte_is_decoded_with_a_warning(tmp_path):
    from themekit.ingest.text import decode_bytes

    text, encoding, notes = decode_bytes(b"\x80 Interviewer: hello", tmp_path / "a.txt")
    assert (text, encoding) == ("€ Interviewer: hello", "cp1252")
    assert notes and "a.txt is not UTF-8 (first invalid byte at line 1" in notes[0]
