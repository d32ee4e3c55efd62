"""One speaker however an interview writes their label ("DB", "DB:", "DB :", "Devin Becker:"), and a warning when
a speaker coded as a participant asks most of the questions."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from themekit import read_corpus, read_transcript
from themekit.cli import app
from themekit.ingest.text import Block, build_turns, speaker_names

from .conftest import write

BECKER = (
    "DB: So how did you start in this work?\n\n"
    "Maria Lopez: I was a nurse first, for years.\n\n"
    "DB : And then what happened after that?\n\n"
    "Maria Lopez: I moved into youth work when the ward closed.\n\n"
    "Devin Becker: Why youth work, of all things?\n\n"
    "Maria Lopez: It felt right. The bailiffs had come for my brother once.\n"
)


def _turns(transcript) -> list[tuple[str, str, str]]:
    return [(t.speaker, t.role, transcript.turn_text(t)) for t in transcript.turns]


def test_ingest_speakers_initials_and_colon_variants_are_one_speaker_named_in_full(tmp_path):
    t = read_transcript(write(tmp_path / "A01.txt", BECKER))
    assert _turns(t) == [
        ("Devin Becker", "interviewer", "So how did you start in this work?"),
        ("Maria Lopez", "participant", "I was a nurse first, for years."),
        ("Devin Becker", "interviewer", "And then what happened after that?"),
        ("Maria Lopez", "participant", "I moved into youth work when the ward closed."),
        ("Devin Becker", "interviewer", "Why youth work, of all things?"),
        ("Maria Lopez", "participant", "It felt right. The bailiffs had come for my brother once."),
    ]
    assert t.text.startswith("Devin Becker: So how did you start in this work?\n\nMaria Lopez: ")
    assert "speaker labels 'DB' and 'Devin Becker' are taken as one speaker, 'Devin Becker'" in t.warnings
    # the speech still points into the file, whatever label it was written under
    source = (tmp_path / "A01.txt").read_text()
    start, end = t.to_source(t.turns[2].start, t.turns[2].end)
    assert source[start:end] == "And then what happened after that?"


def test_ingest_speakers_initials_said_once_are_read_as_a_label(tmp_path):
    text = (
        "Devin Becker: How did you start?\n\nMaria Lopez: As a nurse.\n\n"
        "DB: And then?\n\nMaria Lopez: Youth work.\n\nDevin Becker: Why?\n\nMaria Lopez: It felt right.\n"
    )
    t = read_transcript(write(tmp_path / "A02.txt", text))
    assert [x.speaker for x in t.turns] == ["Devin Becker", "Maria Lopez"] * 3
    assert t.turn_text(t.turns[2]) == "And then?"  # not folded into Maria Lopez's answer before it


def test_ingest_speakers_variants_in_a_table_and_consecutive_blocks_merge():
    blocks = [
        Block("DB:", ["How did you start?"]),
        Block("DB :", ["In this job, I mean."]),
        Block("Maria Lopez", ["As a nurse."]),
        Block("devin becker", ["And then?"]),
        Block("Maria Lopez:", ["Youth work."]),
    ]
    text, turns, _ = build_turns(blocks, fallback_speaker="A03")
    assert [(t.speaker, text[t.start : t.end]) for t in turns] == [
        ("DB", "How did you start?\nIn this job, I mean."),
        ("Maria Lopez", "As a nurse."),
        ("devin becker", "And then?"),
        ("Maria Lopez", "Youth work."),
    ]


def test_ingest_speakers_role_abbreviations_and_unclear_initials_stay_apart():
    names, notes = speaker_names(["IV", "Ian Vance", "SJ", "Sam Jones", "Sara Jacobs", "KW", "Kim Wu", "K W"])
    assert names["IV"] == "IV"  # an interviewer's role, not Ian Vance's initials
    assert names["SJ"] == "SJ"  # Sam Jones or Sara Jacobs: left as written
    assert names["KW"] == names["K W"] == "Kim Wu"
    assert notes == ["speaker labels 'KW', 'K W' and 'Kim Wu' are taken as one speaker, 'Kim Wu'"]


def test_ingest_speakers_interviewer_label_given_as_initials_names_the_whole_speaker(tmp_path):
    t = read_transcript(write(tmp_path / "A01.txt", BECKER), interviewer_labels=["DB"])
    assert {(x.speaker, x.role) for x in t.turns} == {("Devin Becker", "interviewer"), ("Maria Lopez", "participant")}


ASKING = (
    "Interviewer: Welcome, and thank you for coming.\n\n"
    "Sam: Can I ask what this is for?\n\n"
    "Interviewer: It is a study of keyworkers.\n\n"
    "Sam: Who will read it?\n\n"
    "Interviewer: Only the team.\n\n"
    "Sam: Will my name be used?\n\n"
    "Interviewer: No, never.\n"
)
WARNING = (
    "A02: 'Sam' asks most of the questions but is coded as a participant (3 of 3 turns end with '?'), so those "
    "questions are coded and quoted as answers; if this speaker interviews, name them with interviewer labels"
)


def test_ingest_speakers_a_participant_asking_most_questions_is_warned_of(tmp_path, tiny_codebook):
    folder = tmp_path / "t"
    write(folder / "A02.txt", ASKING)
    write(folder / "A01.txt", BECKER)  # the interviewer asks: nothing to warn of
    corpus = read_corpus(folder)
    [a01, a02] = corpus.transcripts
    assert not any("asks most of the questions but" in w for w in a01.warnings)
    assert [w for w in a02.warnings if "asks most" in w] == [WARNING.removeprefix("A02: ")]
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["code", str(folder), "-c", str(tiny_codebook), "-o", str(out), "--method", "rule",
                                      "--project", str(tmp_path / "p.db")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Warning: {WARNING}" in " ".join(result.output.split())
    assert WARNING in json.loads((out / "run.json").read_text())["stats"]["warnings"]


def test_ingest_speakers_a_participant_with_few_questions_is_not_warned_of(tmp_path):
    folder = tmp_path / "t"
    # two questions only: too few turns to say
    write(folder / "A03.txt", "Interviewer: Hello.\n\nSam: Is this on?\n\nInterviewer: Yes.\n\nSam: Shall I start?\n")
    # most of Kim's turns are questions, but the interviewer asks more
    write(
        folder / "A04.txt",
        "Interviewer: How are you?\n\nKim: Fine, why?\n\nInterviewer: And work?\n\nKim: Do you mean now?\n\n"
        "Interviewer: Yes, now?\n\nKim: Busy. Is that enough?\n\nInterviewer: What about home?\n\nKim: Quiet.\n",
    )
    assert not any("asks most" in w for t in read_corpus(folder) for w in t.warnings)
