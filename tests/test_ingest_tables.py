"""Reading table transcripts (CSV and XLSX): columns found by header name or named by the user."""

from __future__ import annotations

import pytest

from themekit import TranscriptError, read_corpus, read_transcript
from themekit.models import Transcript

from .conftest import speech_turns, transcript_file

_ROWS = [
    ("00:00:00", "Interviewer", "How did you hear about us?"),
    ("00:00:05", "KW40", "From the job centre."),
    ("00:00:09", "", "They gave me a leaflet."),
    ("00:01:23", "Interviewer", "And what did you think?"),
    ("1:02:03", "KW40", "That it sounded right for me."),
]


def _check_table(t: Transcript) -> None:
    assert speech_turns(t) == [
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
    path = transcript_file(
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
    assert speech_turns(t) == [
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
    path = transcript_file(tmp_path, "nocol.csv", "Time,Speaker,Notes\n0:01,Interviewer,Hello\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "nocol.csv" in msg
    assert "has no text column (columns are: Time, Speaker, Notes)" in msg
    assert "'text'" in msg


def test_ingest_csv_without_speaker_column_falls_back_to_file_stem(tmp_path):
    path = transcript_file(tmp_path, "notes_only.csv", "text\nFirst thought.\nSecond thought.\n")
    t = read_transcript(path)
    assert len(t.turns) == 1
    assert t.turns[0].speaker == "notes_only"
    assert t.turns[0].role == "participant"
    assert t.turn_text(t.turns[0]) == "First thought.\nSecond thought."
    assert any("no speaker labels found" in w for w in t.warnings)


_TURN_TABLE = (
    "timestamp,speaker,words,tags\n"
    "0:01,Interviewer,Where did you grow up?,childhood\n"
    "0:05,Narrator,On a farm by the river; we kept sheep.,farming\n"
)


def test_ingest_table_words_column_is_speech_and_tags_are_not(tmp_path):
    t = read_transcript(transcript_file(tmp_path, "OH01.csv", _TURN_TABLE))
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "Where did you grow up?"),
        ("Narrator", "participant", "On a farm by the river; we kept sheep."),
    ]
    assert [turn.timestamp for turn in t.turns] == [1.0, 5.0]
    assert "childhood" not in t.text and "farming" not in t.text


def test_ingest_table_columns_named_by_the_user(tmp_path):
    path = transcript_file(
        tmp_path, "OH02.csv", "who_spoke,said_text,words\nInterviewer,Where did you grow up?,5\nNarrator,On a farm.,3\n"
    )
    t = read_transcript(path, text_column="Said_Text", speaker_column="who_spoke")
    assert speech_turns(t) == [
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
