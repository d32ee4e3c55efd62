"""The run folder's ``summary.md``: the report in Markdown, without charts."""

from __future__ import annotations

from themekit.analysis.summarize import ThemeSummary
from themekit.config import ReportSettings
from themekit.export.report import report_blocks, to_markdown
from themekit.runs.record import RunRecord

__all__ = ["summary_markdown"]


def summary_markdown(
    run: RunRecord, themes: list[ThemeSummary] | None = None, *, settings: ReportSettings | None = None
) -> str:
    """Render ``summary.md``: themes in codebook order, prevalence, key terms, quotes, notes."""
    return to_markdown(report_blocks(run, settings=settings, themes=themes, charts=False, notes=True))
