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
    def load(cls, folder: str | Path, *, decisions: bool = True) -> Run:
        """Read a run folder written by :meth:`save` (or ``themekit code``).

        With ``decisions`` (the default), the run shows the decisions now in the project store it is recorded in:
        a coding accepted, rejected or changed since the run was written (in the web app or a review sheet) has
        its status now, and :attr:`decisions_note` says how many decisions were made since. When that store is
        not there, a warning says the statuses may be stale; ``decisions=False`` reads the run as it was written.
        """
        run = cls.of(read_run(folder))
        if decisions:
            _show_current_decisions(run, Path(folder))
        return run

    @property
    def decisions_note(self) -> str | None:
        """What :meth:`load` did with the project's decisions, when the run folder's statuses were not current
        (``None``: they were, or the run was not recorded in a project)."""
        return self.stats.get("decisions_on_load", {}).get("note")

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


def _stale(run: Run, note: str, path: Path) -> None:
    """Warn that the run's statuses may be stale (``note`` says why), and note it in ``run.stats``."""
    import warnings

    warnings.warn(note, stacklevel=4)
    run.stats = {**run.stats, "decisions_on_load": {"note": note, "project": str(path), "stale": True}}


def _show_current_decisions(run: Run, folder: Path) -> None:
    """Apply the decisions now in the run's project store to its codings, noting it in ``run.stats``."""
    import warnings

    from themekit.errors import ThemekitError
    from themekit.runs.folder import read_run_project
    from themekit.store import Project, current_codings

    recorded = read_run_project(folder)
    if recorded is None:
        return
    path = Path(recorded)
    if not path.is_file():
        note = (
            f"{folder}: the project store this run is recorded in ({path}) is not there, so decisions made since "
            "the run was written are not shown and its statuses may be stale. Load it where that store is, or "
            "code the transcripts again with --project."
        )
        _stale(run, note, path)
        return
    try:
        project = Project(path, read_only=True)  # read as it stands: a read-only or damaged store still shows
        try:
            current = current_codings(run.units, run.codings, run.codebook, run.settings.get("decisions"), project)
        finally:
            project.close()
    except ThemekitError as exc:
        note = f"{folder}: the decisions in {path} could not be read ({exc}); the statuses are as the run was written."
        _stale(run, note, path)
        return
    for problem in project.warnings:
        warnings.warn(f"{path}: {problem}", stacklevel=3)
    if current is None:
        return
    run.codings, report, since = current
    news = (
        f"{since} decision{'s' if since != 1 else ''} made since this run was written {'are' if since != 1 else 'is'}"
        if since > 0
        else "The project's decisions changed since this run was written; they are"
    )
    note = f"{news} shown (from {path}); 'themekit code' writes them into the run folder."
    run.stats = {
        **run.stats,
        "decisions_on_load": {"note": note, "project": str(path), "since": since, "applied": report.as_dict()},
    }


@functools.wraps(pipeline.code)
def code(*args: Any, **kwargs: Any) -> Run:
    if "progress" in kwargs or not in_notebook():
        return Run.of(pipeline.code(*args, **kwargs))
    bars = TqdmProgress()  # in Jupyter: live bars for the stages that take a while, gone when done
    try:
        return Run.of(pipeline.code(*args, progress=bars, **kwargs))
    finally:
        bars.close()
