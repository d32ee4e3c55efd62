"""The run folder a researcher opens: the run's data files (:mod:`themekit.runs.folder`) and its summary.md."""

from __future__ import annotations

import errno
from pathlib import Path

from themekit.config import ReportSettings, load_settings
from themekit.errors import RunFolderError
from themekit.export.markdown import summary_markdown
from themekit.runs.folder import write_run_folder
from themekit.runs.record import RunRecord

__all__ = ["write_run"]


def write_run(run: RunRecord, out: str | Path, *, force: bool = False, settings: ReportSettings | None = None) -> Path:
    """Write excerpts.csv, excerpts.parquet, segments.parquet, transcripts.parquet, codebook.yaml, summary.md and
    run.json into ``out``, atomically (see :func:`themekit.runs.folder.write_run_folder`).

    ``settings`` (report settings) shape summary.md; by default those of ``themekit.yaml`` in the working folder,
    if there is one, as for ``themekit code``.
    """
    if settings is None:
        settings = load_settings().report
    summary = ("summarize+export:summary", lambda: summary_markdown(run, settings=settings))
    try:
        return write_run_folder(run, out, force=force, extra={"summary.md": summary})
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise RunFolderError(
            f"{out}: the disk is full ({exc.strerror}); the run folder was not written and an earlier one there is "
            f"untouched. Free space on the disk holding {Path(out).resolve().parent} and run again."
        ) from exc
