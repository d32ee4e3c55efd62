"""Exports of a run: the run folder, the report (md/html/docx), Word quote tables, Excel."""

from .markdown import summary_markdown
from .report import REPORT_FORMATS, export_report
from .run_folder import RUN_SCHEMA_VERSION, check_run_folder, read_run, run_record, write_run
from .tables import export_quote_docx, export_xlsx

__all__ = [
    "REPORT_FORMATS",
    "RUN_SCHEMA_VERSION",
    "check_run_folder",
    "export_quote_docx",
    "export_report",
    "export_xlsx",
    "read_run",
    "run_record",
    "summary_markdown",
    "write_run",
]
