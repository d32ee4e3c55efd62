"""Text made safe for the formats themekit writes: spreadsheets, Word, HTML and REFI-QDA XML."""

from __future__ import annotations

import re

__all__ = ["spreadsheet_safe", "xml_safe"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def spreadsheet_safe(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def xml_safe(text: str) -> str:
    """Drop characters XML 1.0 (and so Word and REFI-QDA files) cannot hold: C0 controls other than tab, line feed
    and carriage return, U+FFFE and U+FFFF, and lone surrogates, which UTF-8 cannot encode."""
    return _XML_INVALID.sub("", text)
