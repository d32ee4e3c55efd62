"""The one reader of the tables users hand in: CSV in any common encoding, or an .xlsx workbook.

Transcripts as tables, ``participants.csv``, survey answers, gold and coder
files and review sheets are all read by :func:`read_table`, so they decode,
split, number their rows and refuse a damaged file the same way:

- CSV is decoded as transcripts are (:func:`~themekit.util.decoding.decode_bytes`:
  BOMs, UTF-16, UTF-8, Windows-1252, then a best guess) and split on ``,``,
  ``;`` or tabs, whichever the header row uses most; a cell may be as long as
  the file (Python's csv module stops at 131,072 characters unless told
  otherwise). A row with text beyond the header's last column, or a quoted
  cell never closed, is refused rather than read shifted.
- .xlsx (and .xlsm) is read with openpyxl, read-only and values only (a
  formula gives the value Excel last saved): the sheet named, else the
  first one. Numbers read as Excel shows them (``3``, not ``3.0``), error
  cells (``#N/A``) as empty.
- Every row keeps its number as a spreadsheet shows it (the first row is 1),
  so a message names the file's own row; a quoted cell spanning lines is one row.

What cannot be read raises the error the caller gives (``error=``, built from
the file, what is wrong and how to fix it), so each kind of file keeps its own
error class.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from themekit.errors import ThemekitError, TranscriptError
from themekit.util.decoding import clean_utf8, decode_bytes, normalise_text
from themekit.util.progress import ProgressCallback

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BATCH_ROWS", "TABLE_FIX", "TableErrorFactory", "TableRow", "TableStream", "UserTable", "WORKBOOK_SUFFIXES",
    "read_table", "stream_table", "unique_columns",
]  # fmt: skip

#: The fix every message about a table that cannot be read gives.
TABLE_FIX = "Re-save it as CSV (UTF-8) or .xlsx"
#: File endings read as Excel workbooks; everything else is read as CSV.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
#: The most a C long holds on every platform: the highest field size limit the csv module takes everywhere.
_MAX_FIELD_LIMIT = 2**31 - 1


class TableErrorFactory(Protocol):
    """Builds the error to raise for a table that cannot be read: ``reason`` says what is wrong (it follows the
    file's name), ``fix`` how to put it right ('' when ``reason`` says it); ``param`` names the parameter the
    message names. :class:`~themekit.errors.TranscriptError` is one."""

    def __call__(self, path: Path, reason: str, fix: str, *, param: str | None = None) -> Exception: ...


def _plain_error(path: Path, reason: str, fix: str, *, param: str | None = None) -> Exception:
    return ThemekitError(f"{path}: {reason}. {fix}" if fix else f"{path}: {reason}", param=param)


class TableRow(NamedTuple):
    """One row of a table: its number as a spreadsheet shows it (the first row is 1) and its cells as text."""

    number: int
    cells: list[str]

    @property
    def blank(self) -> bool:
        """An empty line: no cells, or one empty cell (a row of several empty cells is a row, as pandas reads it)."""
        return not self.cells or (len(self.cells) == 1 and not self.cells[0].strip())


@dataclass
class UserTable:
    """A table as a user handed it in: the header row and every row below it (blank ones included), as text."""

    path: Path
    #: the header row's cells as written ([] for a file with no rows)
    header: list[str]
    #: every row below the header, in order, with its number in the file
    rows: list[TableRow]
    #: the encoding a CSV file was decoded from (``None`` for a workbook)
    encoding: str | None = None
    #: a CSV file's decoded text, before any normalisation (``None`` for a workbook)
    text: str | None = None
    #: how the file was decoded, where that was not clean Unicode
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """The header's names made unique as pandas makes them: an empty name is ``Unnamed: 3`` (its position),
        a repeated one ``text.1``."""
        return unique_columns(self.header)

    def records(self) -> list[tuple[int, dict[str, str]]]:
        """(row number, {column: cell}) for every row that is not an empty line; short rows padded with ''."""
        columns = self.columns
        width = len(columns)
        return [
            (row.number, dict(zip(columns, row.cells + [""] * (width - len(row.cells)))))
            for row in self.rows
            if not row.blank
        ]

    def frame(self, *, row_column: str | None = None) -> pd.DataFrame:
        """The rows that are not empty lines as a DataFrame of strings ('' for empty), columns as :attr:`columns`;
        ``row_column`` adds each row's number in the file as the first column."""
        return _frame_of(self.rows, self.columns, row_column)


def unique_columns(header: list[str]) -> list[str]:
    """A header's names made unique as pandas makes them: an empty name is ``Unnamed: 3`` (its position), a
    repeated one ``text.1``."""
    names = [name if name != "" else f"Unnamed: {k}" for k, name in enumerate(header)]
    counts: dict[str, int] = {}
    for k, name in enumerate(names):
        count = counts.get(name, 0)
        while count > 0:
            counts[name] = count + 1
            name = f"{name}.{count}"
            count = counts.get(name, 0)
        names[k] = name
        counts[name] = count + 1
    return names


def _frame_of(rows: list[TableRow], columns: list[str], row_column: str | None) -> pd.DataFrame:
    """The rows that are not empty lines as a DataFrame of strings; ``row_column`` adds their numbers first."""
    import pandas as pd

    width = len(columns)
    kept = [row for row in rows if not row.blank]
    # column by column, with no dict per row: a million rows' dicts take gigabytes
    cells = {name: [row.cells[k] if k < len(row.cells) else "" for row in kept] for k, name in enumerate(columns)}
    frame = pd.DataFrame(cells, columns=columns, dtype=object) if width else pd.DataFrame(index=range(len(kept)))
    if row_column is not None:
        frame.insert(0, row_column, pd.Series([row.number for row in kept], dtype="int64"))
    return frame


@dataclass
class TableStream:
    """A table read a batch of rows at a time, for files too large to hold (a coder file of a million rows): its
    header, and its rows below it in order, each batch read from the file as it is asked for (once)."""

    path: Path
    #: the header row's cells as written ([] for a file with no rows)
    header: list[str]
    #: the rows below the header (blank ones included), a batch at a time
    batches: Iterator[list[TableRow]]
    #: the encoding a CSV file was decoded from (``None`` for a workbook)
    encoding: str | None = None
    #: how the file was decoded, where that was not clean Unicode
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """As :attr:`UserTable.columns`."""
        return unique_columns(self.header)

    def frames(self, *, row_column: str | None = None) -> Iterator[pd.DataFrame]:
        """Each batch's rows that are not empty lines as a DataFrame, as :meth:`UserTable.frame` gives them all (one
        empty DataFrame for a file with no rows below its header)."""
        columns = self.columns
        empty = True
        for batch in self.batches:
            empty = False
            yield _frame_of(batch, columns, row_column)
        if empty:  # a file of a header alone: its columns, no rows
            yield _frame_of([], columns, row_column)


#: Rows read from a streamed table at a time.
BATCH_ROWS = 50_000


def read_table(
    path: str | Path,
    *,
    sheet: str | None = None,
    preferred_sheet: str | None = None,
    data: bytes | None = None,
    normalise: bool = False,
    error: TableErrorFactory = _plain_error,
    progress: ProgressCallback | None = None,
) -> UserTable:
    """The table in a CSV or .xlsx file (see the module's notes).

    ``sheet``: the workbook's sheet to read (refused for a CSV file); ``preferred_sheet``: a sheet read when the
    workbook has it, else the first (``sheet`` wins). ``data``: the file's bytes, when the caller has read them
    (``path`` then only names the file). ``normalise``: control characters dropped and Unicode composed (NFC) before
    the CSV is split, as transcripts are (line breaks are read as ``\\n`` either way). ``error``: builds what is
    raised when the file cannot be read.
    """
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise error(path, "no such file", "Check the path") from None
        except OSError as exc:
            raise error(path, f"cannot be read ({exc.strerror})", "Check the file exists and is readable") from exc
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return _read_workbook(data, path, sheet if sheet is not None else preferred_sheet, sheet is not None, error)
    if sheet is not None:
        raise error(path, "is not an .xlsx workbook, so it has no sheets; leave sheet= out", "", param="sheet")
    try:
        text, encoding, notes = decode_bytes(data, path)
    except TranscriptError as exc:
        raise error(path, exc.reason, TABLE_FIX) from None
    split = normalise_text(text) if normalise else _universal_newlines(text)
    lines = _Lines([split], len(data), progress, per_char=len(data) / max(len(split), 1))
    records = [r for batch in _csv_batches(lines, split[:65536], path, error, limit=len(split) + 1) for r in batch]
    return _table(path, records, encoding=encoding, text=text, notes=notes)


def stream_table(
    path: str | Path,
    *,
    sheet: str | None = None,
    error: TableErrorFactory = _plain_error,
    progress: ProgressCallback | None = None,
    batch: int | None = None,
) -> TableStream:
    """The table in a CSV or .xlsx file, read ``batch`` rows at a time as they are asked for, decoded, split and
    refused as :func:`read_table` does (a damaged row is refused when it is reached). A clean UTF-8 CSV file is
    read from disk as it goes, so memory holds one batch whatever the file's size; a CSV file in another encoding
    is decoded whole first (its text held, not its rows); a workbook is read whole. ``progress`` hears the
    bytes read (stage ``human:read``); ``batch``: rows a batch (default :data:`BATCH_ROWS`)."""
    path = Path(path)
    batch = batch or BATCH_ROWS
    if path.suffix.lower() in WORKBOOK_SUFFIXES or sheet is not None:
        table = read_table(path, sheet=sheet, error=error)
        return TableStream(path, table.header, _batched(iter(table.rows), batch), table.encoding, table.notes)
    try:
        encoding = clean_utf8(path)
        size = path.stat().st_size
    except FileNotFoundError:
        raise error(path, "no such file", "Check the path") from None
    except OSError as exc:
        raise error(path, f"cannot be read ({exc.strerror})", "Check the file exists and is readable") from exc
    if encoding is None:
        table = read_table(path, error=error, progress=progress)
        return TableStream(path, table.header, _batched(iter(table.rows), batch), table.encoding, table.notes)
    with path.open(encoding=encoding) as handle:
        head = handle.read(65536)
    handle = path.open(encoding=encoding)  # newline=None: line breaks read as \n, as read_table reads them
    records = _csv_batches(_Lines(handle, size, progress), head, path, error, batch=batch, limit=size + 1)
    rows = _numbered(records, handle)
    header: list[str] = []
    for first in rows:  # the first row that is not an empty line is the header
        if not first.blank:
            header = first.cells
            break
    return TableStream(path, header, _batched(rows, batch), encoding)


def _numbered(batches: Iterator[list[list[str]]], handle) -> Iterator[TableRow]:
    """The records of a file one at a time, numbered from 1; the file is closed when they end."""
    number = 0
    try:
        for batch in batches:
            for cells in batch:
                number += 1
                yield TableRow(number, cells)
    finally:
        handle.close()


def _batched(rows: Iterator[TableRow], size: int) -> Iterator[list[TableRow]]:
    """``rows`` in lists of ``size`` (the last may be shorter)."""
    batch: list[TableRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _table(path: Path, records: list[list[str]], **kwargs) -> UserTable:
    """The table of ``records`` (the file's rows, in order): its header is the first row that is not an empty line."""
    rows = [TableRow(number, cells) for number, cells in enumerate(records, start=1)]
    first = next((k for k, row in enumerate(rows) if not row.blank), None)
    if first is None:
        return UserTable(path, [], [], **kwargs)
    return UserTable(path, rows[first].cells, rows[first + 1 :], **kwargs)


_FIELD_LIMIT_LOCK = threading.Lock()


@contextmanager
def _field_limit(chars: int) -> Iterator[None]:
    """The csv module's field size limit raised to ``chars`` for the duration, then put back (one reader at a time:
    the limit is the whole process's)."""
    with _FIELD_LIMIT_LOCK:
        before = csv.field_size_limit()
        csv.field_size_limit(max(before, min(chars, _MAX_FIELD_LIMIT)))
        try:
            yield
        finally:
            csv.field_size_limit(before)


class _Lines:
    """The lines of a text for csv.reader, each with its line break, cut one at a time from the pieces it comes in
    (a whole text, whose StringIO would hold four bytes a character, or a file read as it goes), noting when they
    run out (a record read after that is a quoted cell left open at the end of the file) and how far they have
    come, for ``progress(stage, advance, total)`` in bytes of the file (``total``; ``per_char``: bytes a
    character, on average; the last report makes up the difference)."""

    def __init__(
        self, pieces: Iterable[str], total: int, progress: ProgressCallback | None = None, *, per_char: float = 1.0
    ) -> None:
        self._pieces = iter(pieces)
        self._text = ""
        self._at = 0
        self._read = 0
        self._total = total
        self._per_char = per_char
        self._reported = 0
        self._progress = progress
        self.done = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        text, at = self._text, self._at
        if at >= len(text):
            text = next(self._pieces, None)
            if not text:
                self.done = True
                self._report(final=True)
                raise StopIteration
            self._text, at = text, 0
        end = text.find("\n", at)
        end = len(text) if end < 0 else end + 1
        self._at = end
        self._read += end - at
        if self._progress is not None and self._read * self._per_char - self._reported >= _PROGRESS_BYTES:
            self._report()
        return text[at:end]

    def _report(self, *, final: bool = False) -> None:
        if self._progress is None:
            return
        done = self._total if final else min(int(self._read * self._per_char), self._total)
        if done > self._reported or final:
            self._progress("human:read", done - self._reported, self._total)
            self._reported = done


#: How many bytes of a CSV file are read between two reports of progress.
_PROGRESS_BYTES = 1_000_000


def _universal_newlines(text: str) -> str:
    """Line breaks as ``\n``, whether written ``\r\n`` (Windows) or ``\r``: as Python reads text files."""
    if "\r" not in text:
        return text  # no copy of a large file that has none
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _csv_batches(
    lines: _Lines, head: str, path: Path, error: TableErrorFactory, *, limit: int, batch: int = BATCH_ROWS
) -> Iterator[list[list[str]]]:
    """The rows of CSV text (``lines``, whose start is ``head``), ``batch`` at a time; a row with text beyond the
    header's columns, or a quoted cell never closed, is refused. A cell may be as long as ``limit`` characters
    (the text's length, or the file's size)."""
    width: int | None = None
    number = 0
    delimiter = _delimiter(head)
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        records: list[list[str]] = []
        with _field_limit(limit):  # held for a batch, not across yields: other readers get their turn
            try:
                for record in reader:
                    number += 1
                    if lines.done:
                        raise error(
                            path, f"could not be read as CSV (a quoted cell on row {number} is never closed)", TABLE_FIX
                        )
                    if width is None and record and (len(record) > 1 or record[0].strip()):
                        width = len(record)  # the header row
                    elif width is not None and len(record) > width and any(c.strip() for c in record[width:]):
                        raise error(
                            path,
                            f"could not be read as CSV (row {number} has {len(record)} cells, the header {width}: "
                            f"a cell holding {_DELIMITER_NAMES[delimiter]} needs quotes)",
                            TABLE_FIX,
                        )
                    records.append(record[:width] if width is not None and len(record) > width else record)
                    if len(records) >= batch:
                        break
            except csv.Error as exc:
                raise error(path, f"could not be read as CSV ({exc})", TABLE_FIX) from exc
        if records:
            yield records
        if len(records) < batch:
            return


_DELIMITER_NAMES = {",": "a comma", ";": "a semicolon", "\t": "a tab"}


def _delimiter(text: str) -> str:
    """The delimiter the header row uses most, outside quotes: ``,``, ``;`` or a tab (``,`` when it has none)."""
    header = next(csv.reader(io.StringIO(text[:65536]), delimiter="\x00"), [""])
    line = header[0] if header else ""
    counts = dict.fromkeys(",;\t", 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_workbook(data: bytes, path: Path, sheet: str | None, required: bool, error: TableErrorFactory) -> UserTable:
    """A workbook's sheet (``sheet``, refused when ``required`` and missing; else the first) as a table. A sheet's
    rows are padded to its widest, so a header shorter than its rows gets unnamed columns, as pandas reads it."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        try:
            names = list(book.sheetnames)
            missing = sheet is not None and sheet not in names and required
            chosen = book[sheet] if sheet is not None and sheet in names else book.worksheets[0]
            records = [] if missing else [_row_text(row) for row in chosen.iter_rows()]
        finally:
            book.close()
    except Exception as exc:  # noqa: BLE001 - openpyxl, zipfile and lxml raise many kinds for a damaged file
        raise error(
            path,
            f"cannot be read as an Excel workbook ({exc})",
            "Open it in Excel and save it again as .xlsx, or save it as CSV (UTF-8)",
        ) from exc
    if missing:
        raise error(
            path,
            f"has no sheet '{sheet}' (its sheets are: {', '.join(names)}); give one of them as sheet=",
            "",
            param="sheet",
        )
    while records and not records[-1]:
        records.pop()  # rows below the data that Excel keeps only for their formatting
    width = max((len(r) for r in records), default=0)
    return _table(path, [r + [""] * (width - len(r)) for r in records])


def _row_text(row) -> list[str]:
    """A worksheet row as text, trailing empty cells dropped."""
    cells = [_cell_text(cell) for cell in row]
    while cells and cells[-1] == "":
        cells.pop()
    return cells


def _cell_text(cell) -> str:
    """A cell as Excel shows its value: '' for empty or an error (#N/A), a whole number without '.0'."""
    value = cell.value
    if value is None or getattr(cell, "data_type", None) == "e":
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
