"""Reading a folder of transcripts (read_corpus): participant attributes, failures that leave the
others readable, the bundled sample, and who the interviewer is across the folder."""

from __future__ import annotations

import pytest

from themekit import CorpusError, read_corpus

from .conftest import SAMPLE, transcript_file


def test_ingest_corpus_joins_participant_attributes(tmp_path):
    transcript_file(tmp_path, "KW01.txt", "Interviewer: Hi?\nKW01: Hello.\n")
    transcript_file(tmp_path, "kw02.md", "---\nmode: phone\nregion: Ignored\n---\n**INT:** Hi?\n\n**KW02:** Hello.\n")
    transcript_file(tmp_path, "KW03.txt", "Interviewer: Hi?\nKW03: Hello.\n")
    transcript_file(
        tmp_path,
        "participants.csv",
        """\
        Transcript,region,team_size
        kw01,City,5
        KW02,Rural,
        KW99,Coastal,2
        """,
    )
    transcript_file(tmp_path, "README.md", "# About these transcripts\n\nInterviewer: this is not a transcript.\n")
    (tmp_path / "codings").mkdir()  # a subfolder (the sample keeps its human codings in one) is not read
    transcript_file(tmp_path, "codings/gold.csv", "transcript,code,text\nKW01,trust,Hello.\n")
    transcript_file(tmp_path, "codings/KW09.txt", "Interviewer: Hi?\nKW09: Not read.\n")
    corpus = read_corpus(tmp_path)
    assert [t.id for t in corpus] == ["KW01", "KW03", "kw02"]  # file-name order
    assert len(corpus) == 3
    assert corpus.failures == ()
    assert corpus["KW01"].attributes == {"region": "City", "team_size": "5"}
    assert corpus["kw02"].attributes == {"mode": "phone", "region": "Rural", "team_size": ""}
    assert corpus["KW03"].attributes == {}
    assert all(t.source.name not in ("README.md", "participants.csv") for t in corpus)


def test_ingest_corpus_participants_id_column(tmp_path):
    transcript_file(tmp_path, "A1.txt", "Interviewer: Hi?\nA1: Hello.\n")
    transcript_file(tmp_path, "participants.csv", "ID,age_band\nA1,25-34\n")
    corpus = read_corpus(tmp_path)
    assert corpus["A1"].attributes == {"age_band": "25-34"}


def test_ingest_corpus_participants_without_join_column(tmp_path):
    transcript_file(tmp_path, "A1.txt", "Interviewer: Hi?\nA1: Hello.\n")
    transcript_file(tmp_path, "participants.csv", "name,age_band\nA1,25-34\n")
    with pytest.raises(CorpusError) as info:
        read_corpus(tmp_path)
    msg = str(info.value)
    assert "participants.csv" in msg
    assert "no 'transcript' or 'id' column" in msg
    assert "name, age_band" in msg


def test_ingest_corpus_broken_files_are_failures_others_still_read(tmp_path):
    transcript_file(tmp_path, "A_good.txt", "Interviewer: Hi?\nP01: Hello.\n")
    (tmp_path / "B_empty.txt").write_bytes(b"")
    (tmp_path / "C_binary.txt").write_bytes(b"\x00\x01\x02\x03\xff\xfe\x00\x00" * 64 + b"\x07")
    transcript_file(tmp_path, "D_good.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Interviewer>Hi?</v>\n")
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
    transcript_file(tmp_path, "KW01.md", "Interviewer: Hi?\nKW01: Hello from md.\n")
    transcript_file(tmp_path, "KW01.txt", "Interviewer: Hi?\nKW01: Hello from txt.\n")
    corpus = read_corpus(tmp_path)
    assert len(corpus) == 1
    assert corpus["KW01"].source.name == "KW01.md"
    ((path, reason),) = corpus.failures
    assert path.name == "KW01.txt"
    assert "same name as KW01.md" in reason
    assert "Rename" in reason


def test_ingest_corpus_max_bytes_failure(tmp_path):
    transcript_file(tmp_path, "small.txt", "Interviewer: Hi?\nP01: Hello.\n")
    transcript_file(tmp_path, "large.txt", "Interviewer: Hi?\nP01: " + "word " * 1000 + "\n")
    corpus = read_corpus(tmp_path, max_bytes=2048)
    assert [t.id for t in corpus] == ["small"]
    ((path, reason),) = corpus.failures
    assert path.name == "large.txt"
    assert "--max-file-mb" in reason


def test_ingest_corpus_interviewer_labels_passed_through(tmp_path):
    transcript_file(tmp_path, "X.txt", "Jane: Q?\nTom: A.\nJane: Q2.\nTom: A2.\n")
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
    transcript_file(tmp_path, "README.md", "# nothing here\n")
    (tmp_path / "data.pdf").write_bytes(b"%PDF")
    with pytest.raises(CorpusError) as info:
        read_corpus(tmp_path)
    msg = str(info.value)
    assert "no transcripts found" in msg
    assert ".txt" in msg and ".docx" in msg


def test_ingest_corpus_single_file_path_uses_sibling_participants(tmp_path):
    path = transcript_file(tmp_path, "KW05.txt", "Interviewer: Hi?\nKW05: Hello.\n")
    transcript_file(tmp_path, "participants.csv", "transcript,region\nKW05,Coastal\n")
    corpus = read_corpus(path)
    assert [t.id for t in corpus] == ["KW05"]
    assert corpus["KW05"].attributes == {"region": "Coastal"}


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
    path = transcript_file(
        tmp_path, "W01.txt", "I answered the written questions at home. The forms were hard to follow.\n"
    )
    corpus = read_corpus(path)
    assert not any("interviewer" in w for w in corpus["W01"].warnings)
