"""Decoding the bytes of a text file a user hands in (a transcript, a CSV table): BOMs, UTF-16, UTF-8, Windows-1252,
then charset-normalizer's best guess, each choice but clean Unicode said in a warning; and the one normalisation of
line endings, control characters and Unicode composition every reader applies."""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

from themekit.errors import TranscriptError

__all__ = ["MAX_REPLACED_BYTES", "UTF8_HINT", "decode_bytes", "normalise_text"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")


#: at most this many runs of invalid bytes let a file that is otherwise UTF-8 stay UTF-8
MAX_REPLACED_BYTES = 100
#: How every note on a file that is not clean UTF-8 ends: what to do about it.
UTF8_HINT = "re-save it as UTF-8"


def decode_bytes(data: bytes, path: Path) -> tuple[str, str, list[str]]:
    """Decode transcript bytes, detecting the encoding; returns (text, encoding, warnings).

    BOMs are honoured (UTF-8, UTF-16, UTF-32); otherwise UTF-16 without BOM
    is recognised by its NUL pattern, binary data is refused, and strict UTF-8
    is tried. A file that is UTF-8 but for a few invalid bytes (or an encoded
    lone surrogate) stays UTF-8 with those bytes replaced by U+FFFD; otherwise
    Windows-1252, then charset-normalizer's best guess, are used. Anything but
    clean UTF-8, UTF-16 or UTF-32 gives a warning naming the file and the
    line, so the choice is never silent.
    """
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(name), name, []
            except UnicodeDecodeError as exc:
                bad = _invalid_utf8(data[len(bom) :]) if name == "utf-8-sig" else []
                if bad and len(bad) <= MAX_REPLACED_BYTES:  # UTF-8 by its mark, with a few damaged bytes
                    text = data[len(bom) :].decode("utf-8", errors="replace")
                    return text, name, [_replaced_note(path, data[len(bom) :], bad)]
                raise TranscriptError(
                    path,
                    f"starts with a {name} byte-order mark but is not valid {name} (byte {exc.start})",
                    "Re-save the file as UTF-8",
                ) from None
    sample = data[:4096]
    if len(sample) >= 4 and len(data) % 2 == 0:
        even_nuls = sample[0::2].count(0) / (len(sample) / 2)
        odd_nuls = sample[1::2].count(0) / (len(sample) / 2)
        if odd_nuls > 0.3 and even_nuls < 0.05:
            return _strict(data, "utf-16-le", path), "utf-16-le", []
        if even_nuls > 0.3 and odd_nuls < 0.05:
            return _strict(data, "utf-16-be", path), "utf-16-be", []
    if _looks_binary(sample):
        raise TranscriptError(
            path,
            "looks like a binary file, not text",
            "Export the transcript as plain text, Word (.docx), VTT or SRT",
        )
    bad = _invalid_utf8(data)
    if not bad:
        return data.decode("utf-8"), "utf-8", []
    if len(bad) <= MAX_REPLACED_BYTES:
        text = data.decode("utf-8", errors="replace")
        if _mostly_utf8(text, bad):
            return text, "utf-8", [_replaced_note(path, data, bad)]
    fallback = f"{path.name} is not UTF-8 (first invalid byte at {_lines_of(data, bad[:1])})"
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    else:
        return text, "cp1252", [f"{fallback}: read as Windows-1252; {UTF8_HINT} if accents look wrong"]
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise TranscriptError(path, "has an encoding that could not be detected", "Re-save the file as UTF-8")
    return str(best), best.encoding, [f"{fallback}: read as {best.encoding} (a guess); {UTF8_HINT}"]


def clean_utf8(path: Path, *, block: int = 1 << 20) -> str | None:
    """How to stream a file that :func:`decode_bytes` would read as clean UTF-8: ``"utf-8"``, or ``"utf-8-sig"``
    when it starts with UTF-8's byte-order mark; checked a block at a time, never holding the file's text.
    ``None`` for anything else (another byte-order mark, UTF-16 without one, binary data, a byte that is not
    UTF-8): decode that whole with :func:`decode_bytes`, which warns and chooses."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        sample = handle.read(4096)
        if any(
            sample.startswith(bom)
            for bom in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        ) and not sample.startswith(codecs.BOM_UTF8):
            return None
        if sample.count(0) or _looks_binary(sample):
            return None  # UTF-16 without a mark, or not text: decode_bytes says which
        encoding = "utf-8-sig" if sample.startswith(codecs.BOM_UTF8) else "utf-8"
        chunk = sample
        try:
            while chunk:
                decoder.decode(chunk)
                chunk = handle.read(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
    return encoding


def _invalid_utf8(data: bytes) -> list[int]:
    """Offsets of the runs of invalid UTF-8 bytes in ``data`` (at most ``MAX_REPLACED_BYTES`` + 1 of them)."""
    bad: list[int] = []
    view = memoryview(data)
    pos, end = 0, -1  # end of the last run of bad bytes (none yet)
    while len(bad) <= MAX_REPLACED_BYTES:
        try:
            codecs.utf_8_decode(view[pos:], "strict", True)
            return bad
        except UnicodeDecodeError as exc:
            if pos + exc.start != end:  # a run of bad bytes (an encoded lone surrogate) counts once
                bad.append(pos + exc.start)
            pos += exc.end
            end = pos
    return bad


def _replaced_note(path: Path, data: bytes, bad: list[int]) -> str:
    n = "sequence" if len(bad) == 1 else "sequences"
    return (
        f"{path.name} is UTF-8 but for {len(bad)} invalid byte {n} at {_lines_of(data, bad)}, replaced with U+FFFD; "
        f"{UTF8_HINT} to keep those characters"
    )


def _mostly_utf8(text: str, bad: list[int]) -> bool:
    """A few invalid sequences (``text``: the bytes decoded with them replaced) beside at least as many valid
    multi-byte UTF-8 characters: UTF-8 with damage, not Windows-1252 (where a lone accented byte is never valid
    UTF-8, and two in a row almost never)."""
    return sum(1 for ch in text if ord(ch) > 0x7F and ch != "\ufffd") >= len(bad)


def _lines_of(data: bytes, offsets: list[int], shown: int = 5) -> str:
    """'line 3' or 'lines 3, 9, 12 and more' for byte offsets."""
    lines = sorted({data.count(b"\n", 0, o) + 1 for o in offsets})
    text = ", ".join(str(n) for n in lines[:shown]) + (" and more" if len(lines) > shown else "")
    return f"line {text}" if len(lines) == 1 else f"lines {text}"


def _strict(data: bytes, encoding: str, path: Path) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise TranscriptError(
            path, f"looks like {encoding} but byte {exc.start} is invalid", "Re-save the file as UTF-8"
        ) from None


def _looks_binary(sample: bytes) -> bool:
    """Many NULs or control bytes: a binary file (a stray NUL in text is tolerated)."""
    if not sample:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return sample.count(0) > max(3, len(sample) // 100) or controls / len(sample) > 0.05


def normalise_text(text: str) -> str:
    """Unify line endings, drop control characters and compose Unicode (NFC)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)
