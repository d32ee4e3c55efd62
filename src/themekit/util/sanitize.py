"""Text made safe for the formats themekit writes: spreadsheets, Word, HTML and REFI-QDA XML."""

from __future__ import annotations

import re

__all__ = ["safe_frame", "safe_workbook", "spreadsheet_safe", "xml_safe"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def spreadsheet_safe(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_workbook(book):
    """Neutralise every text cell of every sheet of an openpyxl workbook (labels, definitions and attributes
    included, not only quotes) and drop characters Excel cannot hold; returns the workbook. themekit writes no
    formulas of its own, so a cell openpyxl would store as one is text that must not run."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = spreadsheet_safe(xml_safe(cell.value))
    return book


def safe_frame(frame):
    """A copy of a pandas frame for a CSV a spreadsheet will open: every text cell and column name neutralised."""
    from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

    frame = frame.copy()
    for column in frame.columns:
        kind = frame[column].dtype
        if not (is_numeric_dtype(kind) or is_bool_dtype(kind) or is_datetime64_any_dtype(kind)):
            frame[column] = frame[column].map(spreadsheet_safe)
    frame.columns = [spreadsheet_safe(c) for c in frame.columns]
    return frame


def xml_safe(text: str) -> str:
    """Drop characters XML 1.0 (and so Word and REFI-QDA files) cannot hold: C0 controls other than tab, line feed
    and carriage return, U+FFFE and U+FFFF, and lone surrogates, which UTF-8 cannot encode."""
    return _XML_INVALID.sub("", text)
