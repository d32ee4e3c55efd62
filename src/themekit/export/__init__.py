"""Exports of a run: the run folder (CSV, Parquet, Markdown summary, run.json)."""

from .markdown import summary_markdown
from .run_folder import RUN_SCHEMA_VERSION, check_run_folder, run_record, write_run

__all__ = ["RUN_SCHEMA_VERSION", "check_run_folder", "run_record", "summary_markdown", "write_run"]
