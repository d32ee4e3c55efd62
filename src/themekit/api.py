"""The notebook face of a run: :class:`Run` with its tables, charts, views and saving, and :func:`code`.

:class:`themekit.runs.record.RunRecord` is the data a run produced; this :class:`Run` adds
what an analyst calls on it in Jupyter, each a thin call into the layer that
does the work (analysis, render, export). :func:`code` is
:func:`themekit.pipeline.steps.code` returning this class.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from themekit.analysis.frames import cooccurrence, framework_matrix, quotes_frame
from themekit.config import ReportSettings
from themekit.export import write_run
from themekit.pipeline import steps as pipeline
from themekit.render.display import CodedTranscript, run_html
from themekit.render.plot import RunPlots
from themekit.runs.folder import read_run
from themekit.runs.record import RunRecord
from themekit.util.progress import TqdmProgress, in_notebook

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Run", "code"]


class Run(RunRecord):
    """The result of coding a corpus with a codebook: ``run.excerpts`` and ``run.segments`` (pandas), tables,
    charts and views for notebooks, and ``run.save()`` / ``Run.load()`` for run folders."""

    @classmethod
    def load(cls, folder: str | Path) -> Run:
        """Read a run folder written by :meth:`save` (or ``themekit code``)."""
        return cls.of(read_run(folder))

    def save(self, out: str | Path, *, force: bool = False, settings: ReportSettings | None = None) -> Path:
        """Write the run folder (see :func:`themekit.export.write_run`); ``settings``: ReportSettings for summary.md."""
        return write_run(self, out, force=force, settings=settings)

    def matrix(self, *, by: str = "participant", values: str = "segments") -> pd.DataFrame:
        """Codes x cases framework matrix (see :func:`themekit.analysis.frames.framework_matrix`)."""
        return framework_matrix(self, by=by, values=values)  # type: ignore[arg-type]

    def quotes(self, code: str, *, n: int = 5, settings: ReportSettings | None = None) -> pd.DataFrame:
        """The quotes a report shows for ``code`` (see :func:`themekit.analysis.frames.quotes_frame`), shown in full
        in Jupyter (no quote cut at pandas' column width)."""
        from themekit.render.quotes import QuoteTable

        return QuoteTable(quotes_frame(self, code, n=n, settings=settings))

    def cooccurrence(self, *, by: str = "segment") -> pd.DataFrame:
        """Codes x codes co-occurrence counts (see :func:`themekit.analysis.frames.cooccurrence`)."""
        return cooccurrence(self, by=by)  # type: ignore[arg-type]

    @property
    def plot(self) -> RunPlots:
        """Plots of the run returning matplotlib Figures: ``run.plot.heatmap()``, ``run.plot.frequencies()``."""
        return RunPlots(self)

    def transcript(self, transcript_id: str) -> CodedTranscript:
        """One transcript with this run's codings, shown highlighted in Jupyter (see :class:`CodedTranscript`)."""
        return CodedTranscript.of(self, transcript_id)

    def _repr_html_(self) -> str:
        return run_html(self)


@functools.wraps(pipeline.code)
def code(*args: Any, **kwargs: Any) -> Run:
    if "progress" in kwargs or not in_notebook():
        return Run.of(pipeline.code(*args, **kwargs))
    bars = TqdmProgress()  # in Jupyter: live bars for the stages that take a while, gone when done
    try:
        return Run.of(pipeline.code(*args, progress=bars, **kwargs))
    finally:
        bars.close()
