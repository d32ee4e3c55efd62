"""Reading plain-text transcripts: the speaker-label styles of typed, Otter, Trint and Teams
transcripts, preambles, unlabelled text, who the interviewer is within one file, and Otter's header."""

from __future__ import annotations

import pytest

from themekit import read_transcript

from .conftest import OTTER_HEADER, speech_turns, transcript_file


def test_ingest_txt_interviewer_and_participant_id_labels(tmp_path):
    path = transcript_file(
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
    assert speech_turns(t) == [
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
    path = transcript_file(
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
    assert speech_turns(t) == [
        ("INT", "interviewer", "Can you describe a typical day?"),
        ("R", "participant", "It starts early, usually with phone calls."),
        ("INT", "interviewer", "Who calls?"),
        ("R", "participant", "Mostly the families."),
    ]
    assert t.warnings == ()


def test_ingest_txt_i_and_keyworker_id_labels(tmp_path):
    path = transcript_file(
        tmp_path,
        "KW03.txt",
        """\
        I: What does the role involve?

        KW03: Honestly, a bit of everything. Housing, benefits, appointments.
        """,
    )
    t = read_transcript(path)
    assert speech_turns(t) == [
        ("I", "interviewer", "What does the role involve?"),
        ("KW03", "participant", "Honestly, a bit of everything. Housing, benefits, appointments."),
    ]


def test_ingest_txt_q_and_a_labels(tmp_path):
    path = transcript_file(
        tmp_path,
        "qa.txt",
        """\
        Q: What was hardest?
        A: Getting people to trust me at the start.
        """,
    )
    t = read_transcript(path)
    assert speech_turns(t) == [
        ("Q", "interviewer", "What was hardest?"),
        ("A", "participant", "Getting people to trust me at the start."),
    ]


def test_ingest_txt_participant_number_label(tmp_path):
    path = transcript_file(
        tmp_path,
        "p3.txt",
        """\
        Interviewer: Tell me about the group sessions.
        Participant 3: They were the best part of my week.
        """,
    )
    t = read_transcript(path)
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "Tell me about the group sessions."),
        ("Participant 3", "participant", "They were the best part of my week."),
    ]


def test_ingest_txt_bracketed_timestamp_before_label(tmp_path):
    path = transcript_file(
        tmp_path,
        "ts.txt",
        """\
        [00:00:05] Interviewer: Shall we start?
        [00:01:23] Speaker 1: Yes, I'm ready.
        [01:02:03] Interviewer: Thanks.
        """,
    )
    t = read_transcript(path)
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "Shall we start?"),
        ("Speaker 1", "participant", "Yes, I'm ready."),
        ("Interviewer", "interviewer", "Thanks."),
    ]
    assert [turn.timestamp for turn in t.turns] == [5.0, 83.0, 3723.0]
    assert "[00:01:23] Speaker 1: Yes, I'm ready." in t.text


def test_ingest_txt_timestamp_in_parentheses_after_label(tmp_path):
    path = transcript_file(
        tmp_path,
        "paren.txt",
        """\
        Interviewer (00:00:10): How long have you lived here?
        Speaker 1 (00:01:23): About six years now.
        """,
    )
    t = read_transcript(path)
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "How long have you lived here?"),
        ("Speaker 1", "participant", "About six years now."),
    ]
    assert [turn.timestamp for turn in t.turns] == [10.0, 83.0]


def test_ingest_txt_otter_style_label_and_time_on_own_line(tmp_path):
    path = transcript_file(
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
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "Could you tell me about your background?"),
        ("Speaker 1", "participant", "I worked in retail for years. Then I moved into support work."),
        ("Interviewer", "interviewer", "Thanks."),
    ]
    assert [turn.timestamp for turn in t.turns] == [1.0, 9.0, 3723.0]


def test_ingest_txt_name_then_bracketed_time_trint_style(tmp_path):
    path = transcript_file(
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
    assert speech_turns(t) == [
        ("Jane Smith", "interviewer", "Thanks for coming. What brought you to the programme?"),
        ("Alex Brown", "participant", "My job centre adviser sent me."),
        ("Jane Smith", "interviewer", "And how did the first weeks go?"),
        ("Alex Brown", "participant", "Slowly, the bus fares were a problem."),
    ]
    assert [turn.timestamp for turn in t.turns] == [5.0, 12.0, 25.0, 30.0]


def test_ingest_txt_teams_cue_times_above_names(tmp_path):
    path = transcript_file(
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
    assert speech_turns(t) == [
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
    path = transcript_file(
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
    assert [(s, r) for s, r, _ in speech_turns(t)] == [
        ("Jane Smith", "interviewer"), ("Alex Brown", "participant"), ("Jane Smith", "interviewer"), ("Alex Brown", "participant"),
    ]  # fmt: skip
    assert t.turn_text(t.turns[1]) == "My job centre adviser sent me."
    assert [turn.timestamp for turn in t.turns] == [5.0, 12.0, 25.0, 30.0]


def test_ingest_txt_role_and_name_in_one_label(tmp_path):
    # three speakers and no question pattern to go by: the role in the label decides
    path = transcript_file(
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
    assert [(s, r) for s, r, _ in speech_turns(t)][:3] == [
        ("Interviewer (Jane)", "interviewer"),
        ("Alex", "participant"),
        ("Sam", "participant"),
    ]
    path = transcript_file(
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
    path = transcript_file(
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
    assert speech_turns(t) == [
        ("Facilitator", "interviewer", "What did you all think of the training?"),
        ("Sam", "participant", "It was useful, especially the interview practice."),
        ("Priya", "participant", "I found the IT sessions too basic."),
        ("Tom", "participant", "Same, but the mentor was great."),
        ("Facilitator", "interviewer", "And the travel?"),
        ("Priya", "participant", "The bus fares were a problem. Note: recording paused here."),
    ]


def test_ingest_txt_colon_inside_sentence_is_not_a_label(tmp_path):
    path = transcript_file(
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
    path = transcript_file(
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
    path = transcript_file(
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
    path = transcript_file(
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
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "Shall we begin?"),
        ("KW09", "participant", "Sure."),
    ]
    assert any("preamble" in w for w in t.warnings)
    assert t.text.startswith("Interview with KW09, recorded 3 March 2022.")
    for turn in t.turns:
        assert "Transcribed" not in t.turn_text(turn)


def test_ingest_txt_without_labels_is_one_participant_turn_named_after_file(tmp_path):
    path = transcript_file(
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
    path = transcript_file(
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
    path = transcript_file(
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
    path = transcript_file(
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
    path = transcript_file(
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
    assert speech_turns(t) == [
        ("Jane", "interviewer", "How long have you been in post?"),
        ("Tom", "participant", "Two years in May."),
        ("Jane", "interviewer", "And before that."),
        ("Tom", "participant", "Retail."),
    ]
    assert t.warnings == ()

    # Custom labels replace the defaults: "Interviewer" is then a participant.
    path2 = transcript_file(
        tmp_path, "custom2.txt", "Interviewer: Hi?\nJane: Hello?\nInterviewer: Well.\nJane: Go on?\n"
    )
    t2 = read_transcript(path2, interviewer_labels=["jane"])
    assert [(turn.speaker, turn.role) for turn in t2.turns] == [
        ("Interviewer", "participant"),
        ("Jane", "interviewer"),
    ] * 2
    assert t2.warnings == ()


def test_ingest_txt_interviewer_label_with_number_is_interviewer(tmp_path):
    path = transcript_file(
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
    path = transcript_file(tmp_path, "off.txt", "Interviewer: Why?\n\nP01: Because.\n")
    t = read_transcript(path)
    assert t.text == "Interviewer: Why?\n\nP01: Because.\n"
    assert (t.turns[1].start, t.turns[1].end) == (len("Interviewer: Why?\n\nP01: "), len(t.text) - 1)
    assert len(t.sha256) == 64


def test_ingest_custom_interviewer_label_counts_even_once(tmp_path):
    path = tmp_path / "P11.txt"
    path.write_text("Jane: Could you tell me how it went?\n\nP11: It went well, thanks for asking.\n", encoding="utf-8")
    t = read_transcript(path, interviewer_labels=["Jane"])
    assert [(turn.speaker, turn.role) for turn in t.turns] == [("Jane", "interviewer"), ("P11", "participant")]


def test_ingest_otter_txt_header_is_read_as_attributes(tmp_path):
    text = "\n".join(OTTER_HEADER) + (
        "\n\nJane Smith  0:01\nHow did the first month go?\n\nAlex Green  0:09\nIt went well, I liked the rota.\n\n"
        "Transcribed by https://otter.ai\n"
    )
    t = read_transcript(transcript_file(tmp_path, "I02.txt", text))
    assert t.attributes["keywords"] == "mentors, paperwork, rota, canteen"
    assert [turn.timestamp for turn in t.turns] == [1.0, 9.0]
    assert "canteen" not in t.text and "otter.ai" not in t.text


def test_ingest_text_mentioning_keywords_later_is_not_a_header(tmp_path):
    text = (
        "Interviewer: Any last words?\n\nP01: Yes.\n\nInterviewer: Anything else?\n\nP01: SPEAKERS\n\nP01: Loud ones.\n"
    )
    t = read_transcript(transcript_file(tmp_path, "P01.txt", text))
    assert "keywords" not in t.attributes and "speakers" not in t.attributes
    assert "SPEAKERS" in t.text
