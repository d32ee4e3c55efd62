"""Exports of a run: the run folder with its summary, the report (md/html/docx), Word quote tables, Excel."""

from themekit.export.folder import write_run
from themekit.export.markdown import summary_markdown
from themekit.export.report import REPORT_FORMATS, export_report
from themekit.export.tables import export_quote_docx, export_xlsx

__all__ = [
    "REPORT_FORMATS",
    "export_quote_docx",
    "export_report",
    "export_xlsx",
    "summary_markdown",
    "write_run",
]
