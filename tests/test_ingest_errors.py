"""What read_transcript refuses: unsupported extensions, files too large, empty or missing files,
labels without speech."""

from __future__ import annotations

import pytest

from themekit import TranscriptError, read_transcript

from .conftest import transcript_file


def test_ingest_unsupported_extension_lists_supported(tmp_path):
    path = transcript_file(tmp_path, "notes.pdf", "Interviewer: Hi?\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "notes.pdf" in msg
    assert "unsupported extension '.pdf'" in msg
    for ext in (".csv", ".docx", ".md", ".srt", ".txt", ".vtt", ".xlsx"):
        assert ext in msg


def test_ingest_file_over_max_bytes(tmp_path):
    path = transcript_file(tmp_path, "big.txt", "Interviewer: Hi?\nP01: " + "word " * 400 + "\n")
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
    path = transcript_file(tmp_path, "blank.txt", "  \n\n ")
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
    path = transcript_file(tmp_path, "labels_only.txt", "Interviewer:\nP01:\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    assert "labels_only.txt" in str(info.value)
    assert "no speech" in str(info.value)
