"""Coder and gold files as people have them: long or wide, CSV in any common encoding, or .xlsx.

A *long* file has one row per coding (``transcript``, ``code`` and a
location; see :mod:`themekit.human.gold`). A *wide* file has one row per unit (a
survey response, an excerpt): a column naming the unit, several code columns
(``Code 1`` … ``Code 8``), perhaps the unit's text; :class:`WideLayout` names
them, and :func:`read_coder_file` turns such a file into long rows (the unit
id as ``transcript``, one row per filled code cell). A wide row whose code
cells are all empty is a unit the coder did not code: it is left out, unless
``keep_uncoded`` says empty cells mean "no code" (a row with code '').

Files are read by :func:`themekit.util.tables.read_table`: CSV decoded as
transcripts are (BOMs, UTF-16, UTF-8, Windows-1252, then a best guess) and
split on ``,``, ``;`` or tabs, whichever the header uses; .xlsx read from its
first sheet, or the one named. ``_row`` is each row's number in the file.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from themekit.errors import GoldError, GoldFileError
from themekit.util import tables
from themekit.util.progress import ProgressCallback
from themekit.util.tables import WORKBOOK_SUFFIXES, UserTable, read_table, stream_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COLUMN_ALIASES", "CoderFile", "WideLayout", "column_renames", "read_coder_file",
    "several_codes_note", "split_code_cells", "split_codes", "stream_coder_file",
]  # fmt: skip


@dataclass(frozen=True)
class WideLayout:
    """Where a wide coder file keeps its units: the unit id column, the code columns (an fnmatch pattern such as
    ``"Code *"``, case ignored) and, optionally, the unit's text."""

    unit_column: str
    code_columns: str
    text_column: str | None = None


@dataclass
class CoderFile:
    """A coder file read as long rows (strings; ``_row`` is each row's number in the file, the header is row 1)."""

    rows: pd.DataFrame
    #: the layout it was read with (``None``: a long file)
    layout: WideLayout | None = None
    #: how many rows the file has below its header (a wide file's rows are units)
    file_rows: int = 0
    #: things the reader noticed that may make figures wrong (the same unit id on rows with different texts)
    notes: list[str] = field(default_factory=list)


def _gold_file_error(path: Path, reason: str, fix: str, *, param: str | None = None) -> GoldFileError:
    """What is raised for a coder or gold file that cannot be read at all."""
    return GoldFileError(path, f"{reason}. {fix}" if fix else reason, param=param)


def _read(path: str | Path, sheet: str | None, progress: ProgressCallback | None = None) -> UserTable:
    """The table in a coder or gold file: CSV split on ``,``, ``;`` or tabs (whichever its header uses), or .xlsx."""
    return read_table(path, sheet=sheet, error=_gold_file_error, progress=progress)


#: What other tools call the columns of a long file (QualCoder, NVivo, MAXQDA, ATLAS.ti exports and hand-made
#: sheets), by themekit's name, most specific first; compared without case, spaces, underscores or hyphens.
COLUMN_ALIASES = {
    "transcript": ("document", "documentname", "file", "filename", "source", "sourcename", "interview"),
    "code": ("codepath", "codename", "node", "nodes", "category", "theme", "codes", "topcode", "tag", "tags"),
    "text": (
        "codedtext",
        "codedsegment",
        "segmenttext",
        "seltext",
        "selection",
        "quote",
        "quotation",
        "quotationcontent",
        "content",
    ),
    "source_start": ("pos0",),
    "source_end": ("pos1",),
}


def _squeezed(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch not in " _-")


def column_renames(table: pd.DataFrame) -> tuple[dict[str, str], list[str]]:
    """Other tools' column names read as themekit's (``code_path`` as ``code``, ``Document`` as ``transcript``,
    QualCoder's ``pos0``/``pos1`` as source offsets…) where themekit's own is absent: the renames, and a note for
    each; ``table`` may be the file's first rows only (they tell a MAXQDA "Segment" of words from a number)."""
    have = {_squeezed(c) for c in table.columns}
    renames: dict[str, str] = {}
    for name, aliases in COLUMN_ALIASES.items():
        if _squeezed(name) in have:
            continue
        found = next(
            (c for alias in aliases for c in table.columns if _squeezed(c) == alias and c not in renames), None
        )
        if found is not None:
            renames[found] = name
    segment = next((c for c in table.columns if _squeezed(c) == "segment"), None)
    if segment is not None and "text" not in have and "text" not in renames.values() and not _numbers(table[segment]):
        renames[segment] = "text"  # MAXQDA's "Segment" holds the coded words, not a themekit segment number
    return renames, [f"column '{old}' as {new}" for old, new in renames.items()]


def split_code_cells(table: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The table with a row per code where a ``code`` cell names several (a line each, as ATLAS.ti lists a
    quotation's codes, or "a; b" as people write them), and how many rows named several."""
    code = next((c for c in table.columns if _squeezed(c) == "code"), None)
    if code is None or not table[code].str.contains(r"[\n;]").any():
        return table, 0
    parts = table[code].map(split_codes)
    several = int((parts.map(len) > 1).sum())
    return table.assign(**{code: parts}).explode(code, ignore_index=False), several


def several_codes_note(rows: int) -> str:
    """What is said of ``rows`` rows that each named several codes."""
    return (
        f"{rows} row{'s' if rows != 1 else ''} naming several codes (a line each, or separated by ';') as one coding "
        "per code"
    )


def split_codes(cell: str) -> list[str]:
    """The codes a cell names: one, or several a line each or separated by ';' (empty parts left out; a cell
    naming none gives one empty code, "read, no code")."""
    parts = [p for p in re.split(r"\s*(?:\n|;)\s*", cell.strip()) if p]
    return list(dict.fromkeys(parts)) or [""]


def _numbers(column: pd.Series) -> bool:
    """Whether the column's filled cells are mostly whole numbers (themekit's segment numbers)."""
    filled = column[column.str.strip() != ""]
    return filled.empty or bool(filled.str.strip().str.fullmatch(r"\d+").mean() >= 0.5)


def read_coder_file(
    path: str | Path,
    *,
    layout: WideLayout | None = None,
    sheet: str | None = None,
    keep_uncoded: bool = False,
    progress: ProgressCallback | None = None,
) -> CoderFile:
    """A coder file as long rows: as it is for a long file (other tools' column names read as themekit's, see
    :func:`column_renames`; a cell naming several codes gives a row per code), converted for a wide one
    (``layout``). ``progress(stage, advance, total)`` hears how much of a CSV file is read (stage ``human:read``)."""
    read = _read(path, sheet, progress)
    if layout is None:
        frame = read.frame(row_column="_row")
        renames, notes = column_renames(frame)
        table, several = split_code_cells(frame.rename(columns=renames) if renames else frame)
        table = table.reset_index(drop=True)
        # carried with the rows, so whoever scores them can say how they were read
        table.attrs.update(read_as=notes, several_codes=several)
        notes = [*notes, *([several_codes_note(several)] if several else [])]
        return CoderFile(table, None, len(table), notes)
    return _unpivot(Path(path), read, layout, keep_uncoded)


def stream_coder_file(
    path: str | Path,
    *,
    layout: WideLayout | None = None,
    sheet: str | None = None,
    keep_uncoded: bool = False,
    progress: ProgressCallback | None = None,
) -> Iterator[pd.DataFrame]:
    """A coder file's long rows as :func:`read_coder_file` gives them, a chunk of at most
    :data:`~themekit.util.tables.BATCH_ROWS` file rows at a time, read from the file as they are asked for (a
    long CSV file in UTF-8 is never held whole; a wide file or a workbook is read whole, then cut). Each chunk's
    ``attrs`` hold ``read_as`` (the columns read as themekit's) and ``several_codes`` (its rows naming several
    codes, each given a row per code). A file with no rows gives one empty chunk with its columns."""
    if layout is not None or Path(path).suffix.lower() in WORKBOOK_SUFFIXES:
        rows = read_coder_file(path, layout=layout, sheet=sheet, keep_uncoded=keep_uncoded, progress=progress).rows
        batch = tables.BATCH_ROWS
        for start in range(0, max(len(rows), 1), batch):
            chunk = rows.iloc[start : start + batch]
            chunk.attrs = {**rows.attrs, "several_codes": rows.attrs.get("several_codes", 0) if not start else 0}
            yield chunk
        return
    stream = stream_table(path, sheet=sheet, error=_gold_file_error, progress=progress)
    renames: dict[str, str] | None = None
    notes: list[str] = []
    for frame in stream.frames(row_column="_row"):
        if renames is None:  # the first rows tell how the columns are read, for the whole file
            renames, notes = column_renames(frame)
        chunk, several = split_code_cells(frame.rename(columns=renames) if renames else frame)
        chunk.attrs["read_as"] = notes
        chunk.attrs["several_codes"] = several
        yield chunk


def _column(path: Path, columns: list[str], name: str, param: str, what: str) -> str:
    wanted = name.strip().casefold()
    found = next((c for c in columns if c.strip().casefold() == wanted), None)
    if found is None:
        raise GoldFileError(
            path,
            f"has no column '{name}' for the {what} (columns are: {', '.join(columns) or 'none'}); give one of them as {param}=",
            param=param,
        )
    return found


def _unpivot(path: Path, table: UserTable, layout: WideLayout, keep_uncoded: bool) -> CoderFile:
    """A wide table as long rows: transcript (the unit id), code, text, _row."""
    import pandas as pd

    columns = table.columns
    records = table.records()
    unit = _column(path, columns, layout.unit_column, "unit_column", "unit ids")
    text = _column(path, columns, layout.text_column, "text_column", "units' text") if layout.text_column else None
    pattern = layout.code_columns.strip().casefold()
    codes = [c for c in columns if c != unit and fnmatch.fnmatchcase(c.strip().casefold(), pattern)]
    if not codes:
        raise GoldFileError(
            path,
            f"no column matches '{layout.code_columns}' for the codes (columns are: {', '.join(columns)}); "
            "give a pattern such as code_columns='Code *'",
            param="code_columns",
        )
    rows, problems, texts = [], [], {}
    for number, record in records:
        uid = record[unit].strip()
        given = list(dict.fromkeys(part for c in codes if record[c].strip() for part in split_codes(record[c])))
        said = record[text].strip() if text else ""
        if not uid:
            if given:
                problems.append(f"row {number}: codes but no {unit}; fill in the unit id")
            continue
        if text and said:
            texts.setdefault(uid, []).append((number, said))
        for code in given or ([""] if keep_uncoded else []):
            rows.append({"_row": number, "transcript": uid, "code": code, "text": said})
    if problems:
        raise GoldError(path, problems)
    notes = [
        f"{path.name}: {unit} '{uid}' is on rows {', '.join(str(n) for n, _ in seen)} with different {text} texts, so their "
        f"codes were merged as one unit; give each answer its own {unit}"
        for uid, seen in texts.items()
        if len({" ".join(s.split()) for _, s in seen}) > 1
    ]
    frame = pd.DataFrame.from_records(rows, columns=["_row", "transcript", "code", "text"])
    return CoderFile(frame, layout, len(records), notes)
