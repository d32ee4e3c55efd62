"""Plots of a run for notebooks: ``run.plot.heatmap()``, ``run.plot.frequencies()``, ``run.plot.cooccurrence()``.

Each returns a :class:`matplotlib.figure.Figure` built without pyplot's
global state (nothing to close, safe with the Agg backend and in threads);
Jupyter shows it, and ``fig.savefig("chart.png")`` writes it.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal

from themekit.analysis.frames import cooccurrence, framework_matrix

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd
    from matplotlib.figure import Figure

    from themekit.runs.record import RunRecord

__all__ = ["RunPlots", "quiet_glyphs"]


def _figure(**kwargs) -> Figure:
    """A Figure that Jupyter shows as PNG even when pyplot (and its inline backend) was never imported."""
    from matplotlib.figure import Figure

    class ShownFigure(Figure):
        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            with quiet_glyphs():
                self.savefig(buffer, format="png", dpi=100)
            return buffer.getvalue()

    return ShownFigure(**kwargs)


def _only(matrix: pd.DataFrame, codes: Sequence[str] | None) -> pd.DataFrame:
    """The rows of ``matrix`` for ``codes`` (all of them when None), in the matrix's order."""
    if codes is None:
        return matrix
    wanted = set(codes)
    return matrix.loc[[c for c in matrix.index if c in wanted]]


@contextmanager
def quiet_glyphs() -> Iterator[None]:
    """Drawing without matplotlib's "Glyph … missing from font" warnings on stderr: a label in a script the font
    lacks is drawn as boxes, which the chart shows; the warning only adds noise to a command's output."""
    import logging

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from (current )?font", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"Matplotlib currently does not support", category=UserWarning)
        logger = logging.getLogger("matplotlib.font_manager")
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            logger.setLevel(level)


def _top(matrix: pd.DataFrame, top: int | None, *, axis: int = 1) -> pd.DataFrame:
    """The ``top`` rows (axis=1) or columns (axis=0) with the largest totals, in their own order; all when fewer."""
    size = matrix.shape[0] if axis == 1 else matrix.shape[1]
    if top is None or size <= top:
        return matrix
    keep = set(matrix.sum(axis=axis).sort_values(ascending=False, kind="stable").index[:top])
    if axis == 1:
        return matrix.loc[[i for i in matrix.index if i in keep]]
    return matrix[[c for c in matrix.columns if c in keep]]


def _labels(run: RunRecord, codes, label: str) -> list[str]:
    if label == "id":
        return [str(c) for c in codes]
    return [run.codebook.code(c).label for c in codes]


def _heat(
    matrix: pd.DataFrame,
    rows: list[str],
    columns: list[str],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    colourbar: str,
    fontsize: float = 8,
    size: tuple[float, float] | None = None,
    diagonal: bool = True,
) -> Figure:
    """A heatmap with counts in its cells; ``fontsize`` for every label (cell counts one point smaller, at least 9
    when labels are 9 or more), ``size`` in inches (default: grows with the rows and columns). With
    ``diagonal=False`` (a code with itself) the diagonal is grey, its counts still written, and the colour scale
    is set by the other cells."""
    import matplotlib
    import numpy as np

    values = matrix.to_numpy()
    off = not diagonal and values.shape[0] == values.shape[1]
    shown = np.ma.masked_array(values, mask=np.eye(len(values), dtype=bool) if off else False)
    widest = max((len(r) for r in rows), default=0)
    width = 2.0 + 0.07 * min(widest, 60) + max(2.5, 0.55 * len(columns))
    fig = _figure(figsize=size or (width, 1.5 + 0.28 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    top = shown.max() if shown.count() else 0
    cmap = matplotlib.colormaps["Blues"].with_extremes(bad="#d9d9d9")
    image = ax.imshow(shown, aspect="auto", cmap=cmap, vmin=0, vmax=max(top, 1))
    ax.set_xticks(range(len(columns)), columns, rotation=45, ha="right", fontsize=fontsize)
    ax.set_yticks(range(len(rows)), rows, fontsize=fontsize)
    small = fontsize if fontsize >= 9 else fontsize - 1
    for (i, j), v in np.ndenumerate(values):
        if v:
            dark = not (off and i == j) and v > top / 2
            ax.text(j, i, str(v), ha="center", va="center", fontsize=small, color="white" if dark else "black")
    if title:
        ax.set_title(title, fontsize=fontsize + 2)
    ax.set_xlabel(xlabel, fontsize=fontsize)
    ax.set_ylabel(ylabel, fontsize=fontsize)
    bar = fig.colorbar(image, ax=ax, shrink=0.6)
    bar.set_label(f"{colourbar} (grey diagonal: each code's own count)" if off else colourbar, fontsize=fontsize)
    bar.ax.tick_params(labelsize=fontsize)
    return fig


class RunPlots:
    """``run.plot``: charts of one run. Counts leave out negated and rejected codings."""

    def __init__(self, run: RunRecord) -> None:
        self._run = run

    def heatmap(
        self,
        *,
        by: str = "participant",
        values: Literal["segments", "present"] = "segments",
        label: Literal["label", "id"] = "label",
        rename: dict[str, str] | None = None,
        title: str | None = None,
        fontsize: float = 8,
        size: tuple[float, float] | None = None,
        codes: Sequence[str] | None = None,
        top: int | None = None,
        top_columns: int | None = None,
    ) -> Figure:
        """The framework matrix (:meth:`themekit.Run.matrix`) as a heatmap: codes down, cases (or groups) across.

        ``rename`` maps column names to the names shown (pseudonyms in a report); ``title`` replaces the default
        ("" for none); ``fontsize`` sets every label, ``size`` the figure in inches (default: grows with the matrix);
        ``codes`` keeps only those codes (a theme's, say); ``top`` and ``top_columns`` keep only the codes and the
        columns with the largest totals."""
        matrix = _only(framework_matrix(self._run, by=by, values=values), codes)
        matrix = _top(_top(matrix, top), top_columns, axis=0)
        what = "segments coded" if values == "segments" else "participants mentioning"
        if values == "present" and by in ("participant", "transcript"):
            what = "mentioned (1) or not (0)"
        return _heat(
            matrix,
            _labels(self._run, matrix.index, label),
            [(rename or {}).get(str(c), str(c)) for c in matrix.columns],
            title=f"Codes by {by}" if title is None else title,
            xlabel=by,
            ylabel="code",
            colourbar=what,
            fontsize=fontsize,
            size=size,
        )

    def frequencies(
        self,
        *,
        label: Literal["label", "id"] = "label",
        title: str = "Code frequency",
        fontsize: float = 8,
        size: tuple[float, float] | None = None,
        codes: Sequence[str] | None = None,
        top: int | None = None,
    ) -> Figure:
        """Horizontal bars: how many participants mention each code (codebook order); ``title`` ("" for none),
        ``fontsize`` for every label, ``size`` in inches (default: grows with the codes), ``codes`` to keep only
        those, ``top``: only the codes most participants mention."""
        matrix = _only(framework_matrix(self._run, values="present"), codes)
        total = len(matrix.columns)
        matrix = _top(matrix, top)
        people = matrix.sum(axis=1)
        labels = _labels(self._run, matrix.index, label)
        fig = _figure(figsize=size or (7, 1.0 + 0.28 * len(labels)), layout="constrained")
        ax = fig.add_subplot()
        ax.barh(range(len(labels)), people.to_numpy(), color="#3b6ea5")
        ax.set_yticks(range(len(labels)), labels, fontsize=fontsize)
        ax.tick_params(axis="x", labelsize=fontsize)
        ax.invert_yaxis()
        ax.set_xlim(0, max(1, total))
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_xlabel(f"participants mentioning the code (of {total})", fontsize=fontsize)
        ax.set_ylabel("code", fontsize=fontsize)
        if title:
            ax.set_title(title, fontsize=fontsize + 2)
        return fig

    def cooccurrence(
        self, *, by: Literal["segment", "participant"] = "segment", label: Literal["label", "id"] = "label"
    ) -> Figure:
        """The co-occurrence table (:meth:`themekit.Run.cooccurrence`) as a heatmap; codes never used are left out."""
        table = cooccurrence(self._run, by=by)
        used = [c for c in table.index if table.loc[c, c] > 0]
        table = table.loc[used, used]
        names = _labels(self._run, used, label)
        unit = "segments" if by == "segment" else "participants"
        return _heat(
            table,
            names,
            names,
            title=f"Codes together ({unit})",
            xlabel="code",
            ylabel="code",
            colourbar=unit,
            diagonal=False,
        )
