from __future__ import annotations

import io
import zipfile

import docx
import pytest

from themekit import TranscriptError, code, read_corpus, read_transcript

from ..conftest import write


def _docx_bytes(text: str = "Interviewer: Hello?\n") -> bytes:
    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "is empty"),
        ("blank.txt", b"  \n\t\r\n  ", "is empty"),
        ("binary.txt", bytes(range(256)) * 20, "looks like a binary file, not text"),
        ("truncated.docx", _docx_bytes()[:700], "is not a readable Word document (corrupt or truncated)"),
        ("locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "is password-protected"),
        ("broken.vtt", b"WEBVTT\n\n00:00:xx.000 --> 00:00:02.000\nhello\n", "has no cues with valid timestamps"),
        ("nocues.vtt", b"WEBVTT\n\n", "has no cues with valid timestamps"),
        ("notvtt.vtt", b"just some words\n", "is not a WebVTT file"),
        ("labels.txt", b"Interviewer:\n\nP01:\n", "has no speech in it"),
    ],
)
def test_hostile_transcripts_are_reported_with_reason(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    assert str(info.value).startswith(f"{path}: {reason}")


def test_hostile_zip_bomb_docx_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\x00" * (210 * 1024 * 1024))
    path = tmp_path / "bomb.docx"
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(TranscriptError, match="unpacks to more than 200 MB or 10000 parts"):
        read_transcript(path)


def test_hostile_tightly_packed_docx_is_read(tmp_path):
    """Word XML of repeated paragraphs packs far tighter than 100 to 1; only a REFI-QDA project is held to that ratio."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    turns = (
        "<w:p><w:r><w:t>Interviewer: And then?</w:t></w:r></w:p><w:p><w:r><w:t>P01: The same again.</w:t></w:r></w:p>"
        * 12_000
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        zf.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
            "</Relationships>",
        )
        zf.writestr("word/document.xml", f'<w:document xmlns:w="{w}"><w:body>{turns}</w:body></w:document>')
        part = zf.getinfo("word/document.xml")
    assert part.file_size > 2**20 and part.file_size > 100 * part.compress_size
    path = tmp_path / "P01.docx"
    path.write_bytes(buffer.getvalue())
    transcript = read_transcript(path)
    assert len(transcript.turns) == 24_000
    assert transcript.turn_text(transcript.turns[-1]) == "The same again."


def test_hostile_oversized_text_is_refused_with_the_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"P01: " + b"word " * (11 * 1024 * 1024 // 5))
    with pytest.raises(TranscriptError) as info:
        read_transcript(path, max_bytes=10 * 1024 * 1024)
    assert "is 11.0 MB, over the 10 MB limit. Split it, or raise the limit with --max-file-mb" in str(info.value)


def test_hostile_control_characters_line_endings_rtl_and_emoji(tmp_path):
    text = (
        "Interviewer: Hi?\r\nP01: I felt\x00 so lonely \u202e\u05e9\u05dc\u05d5\u05dd and 😢 every day.\rSecond line.\n"
    )
    path = tmp_path / "P01.txt"
    path.write_bytes(text.encode("utf-8"))
    t = read_transcript(path)
    speech = t.turn_text(t.turns[1])
    assert "\x00" not in t.text and "\r" not in t.text
    assert "😢" in speech and "\u05e9\u05dc\u05d5\u05dd" in speech
    assert speech.endswith("Second line.")


def test_hostile_one_bad_file_does_not_stop_the_others(tmp_path, tiny_corpus, tiny_codebook):
    (tiny_corpus / "bomb.docx").write_bytes(b"PK\x03\x04garbage")
    (tiny_corpus / "noise.txt").write_bytes(bytes(range(256)) * 4)
    run = code(tiny_corpus, tiny_codebook, methods="rule")
    assert [t.id for t in run.corpus] == ["P01", "P02"]
    assert sorted(p.name for p, _ in run.corpus.failures) == ["bomb.docx", "noise.txt"]


def test_hostile_speaker_labels_that_never_appear(tmp_path):
    t = read_transcript(write(tmp_path / "P09.txt", "I just talked for ages without anyone labelling anything.\n"))
    assert [(u.speaker, u.role) for u in t.turns] == [("P09", "participant")]
    assert t.warnings == ("no speaker labels found; all text is taken as one participant turn by 'P09'",)


def test_hostile_participant_ids_cannot_name_paths(tmp_path, tiny_corpus):
    write(tiny_corpus / "participants.csv", "transcript,region\n../../etc/passwd,North\nP01,South\n")
    from themekit import CorpusError

    with pytest.raises(CorpusError) as info:
        read_corpus(tiny_corpus)
    assert "row 2: '../../etc/passwd' is not a transcript name" in str(info.value)


def test_hostile_front_matter_alias_bomb_is_refused(tmp_path):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    prev = "a"
    for level in "bcdefgh":
        levels.append(f"{level}: &{level} [{', '.join(['*' + prev] * 9)}]")
        prev = level
    path = write(tmp_path / "P01.md", "---\n" + "\n".join(levels) + "\n---\n\nP01: Hello there, this is my answer.\n")
    with pytest.raises(TranscriptError, match="has front matter with more than 20 YAML aliases"):
        read_transcript(path)


def test_hostile_utf8_with_a_bad_byte_stays_utf8_with_a_warning(tmp_path):
    """One invalid byte in a UTF-8 file must not turn 'café' into 'cafÃ©' by reading it all as Windows-1252."""
    path = tmp_path / "P01.txt"
    good = "Interviewer: Où était le café?\n\nP01: Au coin, naïve que j'étais.\n\n"
    path.write_bytes(good.encode() + b"Interviewer: Et \xff puis?\n\nP01: Fin.\n")
    t = read_transcript(path)
    assert t.encoding == "utf-8"
    assert "café" in t.text and "naïve" in t.text and "Ã" not in t.text
    assert "Et \ufffd puis?" in t.text
    assert any("P01.txt is UTF-8 but for 1 invalid byte sequence at line 5" in w for w in t.warnings)


def test_hostile_utf8_with_a_lone_surrogate_stays_utf8_with_a_warning(tmp_path):
    path = tmp_path / "P02.txt"
    path.write_bytes("Interviewer: Déjà vu?\n\nP02: Oui, ".encode() + b"\xed\xa0\x80" + " très.\n".encode())
    t = read_transcript(path)
    assert t.encoding == "utf-8"
    assert "Déjà" in t.text and "très" in t.text
    assert any("P02.txt is UTF-8 but for" in w and "line 3" in w for w in t.warnings)


def test_hostile_windows_1252_fallback_is_never_silent(tmp_path):
    path = tmp_path / "P03.txt"
    path.write_bytes("Interviewer: Le café?\n\nP03: Très bon.\n".encode("cp1252"))
    t = read_transcript(path)
    assert t.encoding == "cp1252"
    assert "café" in t.text
    assert any("P03.txt is not UTF-8 (first invalid byte at line 1): read as Windows-1252" in w for w in t.warnings)


def test_hostile_turn_longer_than_spacy_limit_is_coded_in_pieces(tmp_path, tiny_corpus, tiny_codebook):
    """A 1.1 MB notes file without speaker labels is one turn over spaCy's 1,000,000 characters: it is coded, and so
    are the other transcripts (before: spaCy's E088 ended the whole run in a traceback)."""
    filler = "We talked about the weather and the garden for a while. " * 20_000
    write(tiny_corpus / "N01.txt", filler + "In the end the debts piled up again and I felt so isolated.\n")
    assert (tiny_corpus / "N01.txt").stat().st_size > 1_100_000
    run = code(tiny_corpus, tiny_codebook, methods="rule")
    assert run.corpus.failures == ()
    long = [c for c in run.codings if c.segment.transcript.id == "N01"]
    assert {c.code_id for c in long} >= {"debt", "loneliness"}
    for c in long:
        assert c.segment.text == c.segment.transcript.text[c.segment.start : c.segment.end]
    assert "debts piled up again" in next(c for c in long if c.code_id == "debt").segment.text
    assert {c.segment.transcript.id for c in run.codings} >= {"P01", "P02", "N01"}


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE w:document [<!ENTITY name "Alex">]>',
        '<!DOCTYPE w:document [<!ENTITY name SYSTEM "file:///etc/passwd">]>',
    ],
)
def test_hostile_docx_with_a_dtd_entity_is_refused_not_cut_short(tmp_path, doctype):
    """lxml keeps an entity it does not expand as a node, so the words after it were silently lost."""
    data = io.BytesIO(_docx_bytes("Interviewer: Who helped?\nP01: It was &name; who helped me most.\n"))
    out = io.BytesIO()
    with zipfile.ZipFile(data) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "word/document.xml":
                head, sep, rest = body.partition(b"?>")
                body = head + sep + doctype.encode() + rest.replace(b"&amp;name;", b"&name;")
            dst.writestr(info, body)
    path = tmp_path / "P01.docx"
    path.write_bytes(out.getvalue())
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    assert str(info.value) == (
        f"{path}: declares a DTD or entities in word/document.xml, which Word documents never need; refused for safety "
        "(nothing was read). Open it in Word and save it as a new .docx"
    )


def test_hostile_link_to_a_file_outside_the_folder_is_skipped_with_a_message(tmp_path, tiny_corpus, tiny_codebook):
    outside = tmp_path / "elsewhere" / "secret.txt"
    write(outside, "Interviewer: Private?\n\nP09: These are someone else's private notes about debt.\n")
    (tiny_corpus / "P09.txt").symlink_to(outside)
    (tiny_corpus / "P02-copy.txt").symlink_to(tiny_corpus / "P02.txt")  # a link inside the folder is read
    corpus = read_corpus(tiny_corpus)
    assert sorted(t.id for t in corpus) == ["P01", "P02", "P02-copy"]
    assert [reason for _, reason in corpus.failures] == [
        f"{tiny_corpus / 'P09.txt'}: is a link to {outside}, outside the folder; skipped. Copy the file into the folder to read it"
    ]
    run = code(tiny_corpus, tiny_codebook, methods="rule")
    assert "P09" not in {c.segment.transcript.id for c in run.codings}
    assert [p.name for p, _ in run.corpus.failures] == ["P09.txt"]
