"""Quote tables for report writers: Word (one table per code) and Excel (a sheet per theme)."""

from __future__ import annotations

import io
from pathlib import Path

from themekit.analysis.summarize import ThemeSummary, summarize
from themekit.config import ReportSettings
from themekit.errors import OptionError
from themekit.export.privacy import Privacy
from themekit.run import Run
from themekit.util.atomic import atomic_write_bytes
from themekit.util.sanitize import safe_workbook, spreadsheet_safe, xml_safe

__all__ = ["export_quote_docx", "export_xlsx", "quote_position"]


def quote_position(quote) -> str:
    """Where a quote sits in its transcript: turn number, and time where the format has it."""
    where = f"turn {quote.turn + 1}"
    if quote.timestamp is not None:
        where += f", {quote.attribution('{timestamp}')}"
    return where


def _themes(run: Run, settings: ReportSettings, theme_id: str | None, per_code: int | None) -> list[ThemeSummary]:
    themes = summarize(run, settings=settings, quotes_per_code=per_code)
    if theme_id is None:
        return themes
    chosen = [t for t in themes if t.theme_id == theme_id]
    if not chosen:
        raise OptionError(
            f"no theme '{theme_id}' in the codebook; themes are: {', '.join(t.theme_id for t in themes)}", param="theme_id"
        )
    return chosen


def export_quote_docx(
    run: Run,
    out: str | Path,
    *,
    settings: ReportSettings | None = None,
    theme_id: str | None = None,
    per_code: int | None = None,
    privacy: Privacy | None = None,
) -> Path:
    """A Word file: a Heading 1 per theme, a Heading 2 and a table (Quote, Participant, Position) per code."""
    import docx

    settings = settings or ReportSettings()
    privacy = privacy or Privacy()
    document = docx.Document()
    document.add_heading(xml_safe(f"{run.codebook.name}: quotes by theme"), level=0)
    document.add_paragraph(
        xml_safe(f"Codebook version {run.codebook.version}; {len(run.corpus.transcripts)} transcripts; run {run.id}.")
    )
    for theme in _themes(run, settings, theme_id, per_code):
        document.add_heading(xml_safe(theme.label), level=1)
        for code in theme.codes:
            if not code.quotes:
                continue
            document.add_heading(xml_safe(f"{code.label} ({code.n_transcripts} of {code.total_transcripts})"), level=2)
            table = document.add_table(rows=1, cols=3)
            table.style = "Table Grid"
            for cell, title in zip(table.rows[0].cells, ("Quote", "Participant", "Position")):
                cell.text = ""
                cell.paragraphs[0].add_run(title).bold = True
            for quote in code.quotes:
                cells = table.add_row().cells
                who = privacy.who(quote.transcript)
                cells[0].text = xml_safe(f"“{privacy.text(quote.text)}”")
                cells[1].text = xml_safe(
                    quote.attribution(settings.attribution, participant=who if who != quote.transcript else None)
                )
                cells[2].text = quote_position(quote)
    buffer = io.BytesIO()
    document.save(buffer)
    return atomic_write_bytes(Path(out), buffer.getvalue())


_XLSX_COLUMNS = ("code", "code_label", "transcript", "speaker", "turn", "start", "end", "timestamp", "text", "method", "score", "evidence", "negated", "status")


def export_xlsx(run: Run, out: str | Path, *, theme_id: str | None = None, privacy: Privacy | None = None) -> Path:
    """An Excel workbook: a sheet per theme with every coded participant excerpt, header frozen, filters on."""
    privacy = privacy or Privacy()
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    excerpts = run.excerpts
    excerpts = excerpts[excerpts["role"] == "participant"]  # interviewer speech is never quoted, even when coded
    themes = run.codebook.themes if theme_id is None else [t for t in run.codebook.themes if t.id == theme_id]
    if not themes:
        raise OptionError(
            f"no theme '{theme_id}' in the codebook; themes are: {', '.join(t.id for t in run.codebook.themes)}", param="theme_id"
        )
    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for theme in themes:
        title = "".join(ch for ch in theme.label if ch not in "[]:*?/\\")[:31] or theme.id[:31]
        while title in used:
            title = title[:28] + f"~{len(used)}"
        used.add(title)
        sheet = workbook.create_sheet(title)
        sheet.append(list(_XLSX_COLUMNS))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        rows = excerpts[excerpts["theme"] == theme.id]
        for record in rows[list(_XLSX_COLUMNS)].to_dict(orient="records"):
            record["transcript"] = privacy.who(record["transcript"])
            record["speaker"] = privacy.who(record["speaker"])
            record["text"] = privacy.text(record["text"])
            record["evidence"] = privacy.text(record["evidence"])
            values = [None if (isinstance(v, float) and v != v) else v for v in record.values()]
            sheet.append([spreadsheet_safe(xml_safe(v)) if isinstance(v, str) else v for v in values])
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(_XLSX_COLUMNS))}{max(1, sheet.max_row)}"
        widths = {"code": 22, "code_label": 30, "text": 80, "evidence": 50}
        for i, name in enumerate(_XLSX_COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = widths.get(name, 12)
        for cell in sheet["I"][1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    safe_workbook(workbook).save(buffer)
    return atomic_write_bytes(Path(out), buffer.getvalue())
