"""Quote tables for report writers: Word (one table per code) and Excel (a sheet per theme)."""

from __future__ import annotations

import io
import math
import textwrap
from pathlib import Path

from themekit.analysis.summarize import ThemeSummary, summarize
from themekit.config import ReportSettings
from themekit.errors import OptionError
from themekit.export.privacy import Privacy
from themekit.export.word import (
    add_caption,
    keep_rows_whole,
    repeat_header_row,
    set_column_widths,
    text_width_inches,
)
from themekit.runs.record import RunRecord
from themekit.util.atomic import atomic_write_bytes
from themekit.util.sanitize import safe_workbook, spreadsheet_safe, xml_safe

__all__ = ["SHEET_NAME_MAX", "export_quote_docx", "export_xlsx", "quote_position", "sheet_name"]


def quote_position(quote) -> str:
    """Where a quote sits in its transcript: turn number, and time where the format has it."""
    where = f"turn {quote.turn + 1}"
    if quote.timestamp is not None:
        where += f", {quote.attribution('{timestamp}')}"
    return where


def _themes(run: RunRecord, settings: ReportSettings, theme_id: str | None, per_code: int | None) -> list[ThemeSummary]:
    themes = summarize(run, settings=settings, quotes_per_code=per_code)
    if theme_id is None:
        return themes
    chosen = [t for t in themes if t.theme_id == theme_id]
    if not chosen:
        raise OptionError(
            f"no theme '{theme_id}' in the codebook; themes are: {', '.join(t.theme_id for t in themes)}",
            param="theme_id",
        )
    return chosen


#: shares of the text width: the quote takes most of it
_QUOTE_COLUMNS = (("Quote", 0.62), ("Participant", 0.2), ("Position", 0.18))


def export_quote_docx(
    run: RunRecord,
    out: str | Path,
    *,
    settings: ReportSettings | None = None,
    theme_id: str | None = None,
    per_code: int | None = None,
    privacy: Privacy | None = None,
) -> Path:
    """A Word file: a Heading 1 per theme, a Heading 2, a numbered caption ("Table 1: …") and a table (Quote,
    Participant, Position) per code. The quote column takes most (62%) of the text width, the header row repeats
    on every page a table runs onto, and no row is split across pages."""
    import docx

    settings = settings or ReportSettings()
    privacy = privacy or Privacy()
    document = docx.Document()
    document.add_heading(xml_safe(f"{run.codebook.name}: quotes by theme"), level=0)
    document.add_paragraph(
        xml_safe(f"Codebook version {run.codebook.version}; {len(run.corpus.transcripts)} transcripts; run {run.id}.")
    )
    tables = 0
    for theme in _themes(run, settings, theme_id, per_code):
        document.add_heading(xml_safe(theme.label), level=1)
        for code in theme.codes:
            if not code.quotes:
                continue
            document.add_heading(xml_safe(f"{code.label} ({code.n_transcripts} of {code.total_transcripts})"), level=2)
            tables += 1
            add_caption(document, "Table", tables, xml_safe(f"Quotes coded {code.label}"), keep_with_next=True)
            _quote_table(document, code.quotes, settings, privacy)
    buffer = io.BytesIO()
    document.save(buffer)
    return atomic_write_bytes(Path(out), buffer.getvalue())


def _quote_table(document, quotes, settings: ReportSettings, privacy: Privacy):
    """One code's quote table, laid out for pasting: fixed widths, a repeating header, rows kept whole."""
    table = document.add_table(rows=1, cols=len(_QUOTE_COLUMNS))
    table.style = "Table Grid"
    for cell, (title, _) in zip(table.rows[0].cells, _QUOTE_COLUMNS):
        cell.text = ""
        cell.paragraphs[0].add_run(title).bold = True
    for quote in quotes:
        cells = table.add_row().cells
        who = privacy.who(quote.transcript)
        cells[0].text = xml_safe(f"“{privacy.text(quote.text)}”")
        cells[1].text = xml_safe(
            quote.attribution(settings.attribution, participant=who if who != quote.transcript else None)
        )
        cells[2].text = quote_position(quote)
    width = text_width_inches(document)
    set_column_widths(table, [round(width * share, 2) for _, share in _QUOTE_COLUMNS])
    keep_rows_whole(table)
    repeat_header_row(table)
    return table


_XLSX_COLUMNS = (
    "code",
    "code_label",
    "participant",
    "transcript",
    "speaker",
    "turn",
    "start",
    "end",
    "time",
    "seconds",
    "text",
    "method",
    "score",
    "probability",
    "evidence",
    "negated",
    "status",
)
#: column widths in characters; the text columns wrap within them
_XLSX_WIDTHS = {
    "code": 22,
    "code_label": 30,
    "participant": 14,
    "transcript": 14,
    "speaker": 14,
    "time": 9,
    "seconds": 9,
    "text": 80,
    "evidence": 50,
}
_XLSX_WRAPPED = ("code", "code_label", "participant", "transcript", "speaker", "text", "evidence")
#: Excel's limit on a sheet name, and the characters it refuses in one
SHEET_NAME_MAX = 31
_SHEET_FORBIDDEN = "[]:*?/\\"
_LINE_POINTS = 15.0  # one line of Calibri 11, as Excel spaces it


def sheet_name(label: str, taken: set[str], *, fallback: str = "Sheet") -> str:
    """An Excel sheet name for ``label``: at most 31 characters, cut at a word boundary, unique among ``taken``
    (compared as Excel does, ignoring case), which it is added to.

    "Barriers faced by participants in rural areas" → "Barriers faced by participants"; a second sheet that
    would get the same name gets " (2)" within the limit."""
    clean = " ".join("".join(" " if ch in _SHEET_FORBIDDEN else ch for ch in label).split()).strip("'") or fallback
    name, n = _shorten(clean, SHEET_NAME_MAX), 1
    while name.casefold() in {t.casefold() for t in taken}:
        n += 1
        suffix = f" ({n})"
        name = _shorten(clean, SHEET_NAME_MAX - len(suffix)) + suffix
    taken.add(name)
    return name


def _shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at the last word boundary (mid-word only for a single long word)."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0].rstrip(" ,;:-–—&(")
    return cut if cut and len(cut) <= limit else text[:limit].rstrip()


def _row_height(values: dict[str, object]) -> float:
    """Points for a row whose wrapped cells hold ``values``: enough lines for the longest (Excel does not fit rows itself)."""
    lines = 1
    for name in _XLSX_WRAPPED:
        value = values.get(name)
        if not isinstance(value, str) or not value:
            continue
        # a column's width counts digits of the default font; prose is a little narrower, the cell's padding one digit
        width = max(1, int(_XLSX_WIDTHS.get(name, 12)) - 1)
        needed = sum(max(1, len(textwrap.wrap(part, width, break_long_words=True))) for part in value.split("\n"))
        lines = max(lines, needed)
    return round(min(409.0, lines * _LINE_POINTS + 3), 1)


def export_xlsx(
    run: RunRecord, out: str | Path, *, theme_id: str | None = None, privacy: Privacy | None = None
) -> Path:
    """An Excel workbook: a sheet per theme (named by its label, shortened at a word), every coded participant excerpt
    with text wrapped and rows tall enough to show it, header frozen, filters on. ``participant`` is the name people
    read and ``transcript`` the file it came from; ``time`` is ``h:mm:ss`` text and ``seconds`` the same number to
    sort by."""
    privacy = privacy or Privacy()
    from openpyxl import Workbook

    excerpts = run.excerpts
    excerpts = excerpts[excerpts["role"] == "participant"]  # interviewer speech is never quoted, even when coded
    themes = run.codebook.themes if theme_id is None else [t for t in run.codebook.themes if t.id == theme_id]
    if not themes:
        raise OptionError(
            f"no theme '{theme_id}' in the codebook; themes are: {', '.join(t.id for t in run.codebook.themes)}",
            param="theme_id",
        )
    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for theme in themes:
        sheet = workbook.create_sheet(sheet_name(theme.label, used, fallback=theme.id))
        rows = excerpts[excerpts["theme"] == theme.id]
        records = []
        for record in rows[list(_XLSX_COLUMNS)].to_dict(orient="records"):
            record["participant"] = privacy.pseudonyms.get(record["transcript"], record["participant"])
            record["transcript"] = privacy.who(record["transcript"])
            record["speaker"] = privacy.who(record["speaker"])
            record["text"] = privacy.text(record["text"])
            record["evidence"] = privacy.text(record["evidence"])
            records.append({k: None if (isinstance(v, float) and math.isnan(v)) else v for k, v in record.items()})
        _fill_sheet(sheet, records)
    buffer = io.BytesIO()
    safe_workbook(workbook).save(buffer)
    return atomic_write_bytes(Path(out), buffer.getvalue())


def _fill_sheet(sheet, records: list[dict[str, object]]) -> None:
    """The header and one row per record: text columns wrapped and top-aligned, each row as tall as its text."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet.append(list(_XLSX_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    wrapped = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    wrap_columns = {i for i, name in enumerate(_XLSX_COLUMNS) if name in _XLSX_WRAPPED}
    for row_number, record in enumerate(records, start=2):
        sheet.append([spreadsheet_safe(xml_safe(v)) if isinstance(v, str) else v for v in record.values()])
        for i, cell in enumerate(sheet[row_number]):
            cell.alignment = wrapped if i in wrap_columns else top
        sheet.row_dimensions[row_number].height = _row_height(record)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(_XLSX_COLUMNS))}{max(1, sheet.max_row)}"
    for i, name in enumerate(_XLSX_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = _XLSX_WIDTHS.get(name, 12)
