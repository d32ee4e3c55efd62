"""Decoding transcript files: UTF-8 with and without a BOM, UTF-16, Windows-1252, line endings,
Unicode normalisation, and binary bytes refused."""

from __future__ import annotations

import pytest

from themekit import TranscriptError, read_transcript

from .conftest import speech_turns, transcript_file

_ACCENTS = "Interviewer: Où étiez-vous?\nP01: Au café – c'était naïve de ma part.\n"


def test_ingest_encoding_utf8(tmp_path):
    path = transcript_file(tmp_path, "u8.txt", _ACCENTS, "utf-8")
    t = read_transcript(path)
    assert t.encoding == "utf-8"
    assert t.turn_text(t.turns[1]) == "Au café – c'était naïve de ma part."


def test_ingest_encoding_utf8_with_bom(tmp_path):
    path = transcript_file(tmp_path, "bom.txt", _ACCENTS, "utf-8-sig")
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
    assert speech_turns(t) == [
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
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "First?"),
        ("P01", "participant", "One. Two."),
        ("Interviewer", "interviewer", "Next?"),
    ]


def test_ingest_lone_cr_line_endings(tmp_path):
    path = tmp_path / "cr.txt"
    path.write_bytes(b"Interviewer: First?\r\rP01: One.\rTwo.\r\rInterviewer: Next?\r")
    t = read_transcript(path)
    assert "\r" not in t.text
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "First?"),
        ("P01", "participant", "One. Two."),
        ("Interviewer", "interviewer", "Next?"),
    ]


def test_ingest_decomposed_unicode_is_composed(tmp_path):
    path = transcript_file(tmp_path, "nfd.txt", "Interviewer: Q?\nP01: cafe\u0301\n")
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


def test_ingest_a_file_starting_with_an_invalid_byte_is_decoded_with_a_warning(tmp_path):
    from themekit.ingest.text import decode_bytes

    text, encoding, notes = decode_bytes(b"\x80 Interviewer: hello", tmp_path / "a.txt")
    assert (text, encoding) == ("€ Interviewer: hello", "cp1252")
    assert notes and "a.txt is not UTF-8 (first invalid byte at line 1" in notes[0]


def test_ingest_utf8_with_bom_and_one_bad_byte_is_read_with_a_warning(tmp_path):
    path = tmp_path / "P01.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "Interviewer: Hi.\n\nP01: The café was warm ".encode() + b"\xff and kind.\n")
    t = read_transcript(path)
    assert "The café was warm \ufffd and kind." in t.text
    assert any("is UTF-8 but for 1 invalid byte sequence at line 3" in w for w in t.warnings)


def test_ingest_one_valid_accent_and_one_bad_byte_stays_utf8(tmp_path):
    path = tmp_path / "P01.txt"
    path.write_bytes("Interviewer: Hi.\n\nP01: The café was warm".encode() + b" \x81 and kind.\n")
    t = read_transcript(path)
    assert t.encoding == "utf-8" and "The café was warm" in t.text and "cafÃ©" not in t.text


def test_ingest_encoding_notes_reach_the_terminal(tmp_path, tiny_codebook):
    from typer.testing import CliRunner

    from themekit.cli import app

    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "P01.txt").write_bytes("Interviewer: How was it?\n\nP01: The caf\xe9 was lonely.\n".encode("cp1252"))
    result = CliRunner().invoke(
        app, ["code", str(folder), "-c", str(tiny_codebook), "--method", "rule", "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Warning: P01: P01.txt is not UTF-8 (first invalid byte at line 3): read as Windows-1252" in said
