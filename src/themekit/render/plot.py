"""Plots of a run for notebooks: ``run.plot.heatmap()``, ``run.plot.frequencies()``, ``run.plot.cooccurrence()``.

Each returns a :class:`matplotlib.figure.Figure` built without pyplot's
global state (nothing to close, safe with the Agg backend and in threads);
Jupyter shows it, and ``fig.savefig("chart.png")`` writes it.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from themekit.analysis.frames import cooccurrence, excerpt_counts, framework_matrix, talk_share
from themekit.util.choices import check_choice

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd
    from matplotlib.figure import Figure

    from themekit.runs.record import RunRecord

__all__ = ["MEASURES", "RunPlots", "fit_labels", "frequency_measure", "quiet_glyphs", "text_width"]

#: What :meth:`RunPlots.frequencies` can show per code: participants mentioning it, its share of the participants'
#: words (:func:`themekit.analysis.frames.talk_share`), or its excerpts; "auto" chooses (:func:`frequency_measure`).
MEASURES = ("auto", "participants", "talk", "excerpts")


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


def frequency_measure(mentions: Sequence[int], total: int) -> Literal["participants", "talk"]:
    """What a chart of codes mentioned by ``mentions`` participants (of ``total``) shows: "participants" while those
    counts tell the codes apart, else "talk" (each code's share of the participants' words). They do not when every
    code has the same count, or when half the codes or more are mentioned by every participant: bars of "8 of 8"
    say only that the codes are common."""
    counts = [int(n) for n in mentions]
    if not counts or total < 1 or max(counts) == 0:
        return "participants"
    if len(set(counts)) == 1 or 2 * sum(n == total for n in counts) >= len(counts):
        return "talk"
    return "participants"


def _possessive(plural: str) -> str:
    return f"{plural}’" if plural.endswith("s") else f"{plural}’s"


def fit_labels(labels: Sequence[str], *, width: float, fontsize: float, lines: int = 2) -> list[str]:
    """Each label wrapped at spaces into at most ``lines`` lines no wider than ``width`` inches at ``fontsize``
    points (measured in the chart's font); what does not fit is cut at the end of the last line with "…"."""

    def fits(text: str) -> bool:
        return text_width(text, fontsize) <= width

    def cut(text: str) -> str:
        """``text`` cut to fit with "…": at a word while a whole word is left, else within the word."""
        while " " in text and not fits(text + "…"):
            text = text.rsplit(" ", 1)[0]
        while text and not fits(text + "…"):
            text = text[:-1]
        return text.rstrip(" ,;:-") + "…"

    fitted = []
    for label in labels:
        words, rows = str(label).split(), []
        while words and len(rows) < lines:
            row = words.pop(0)
            while words and fits(f"{row} {words[0]}"):
                row = f"{row} {words.pop(0)}"
            if not fits(row):  # one word wider than the line: cut where it stops fitting
                rows.append(cut(row))
                words = []
                break
            rows.append(row)
        if words:
            rows[-1] = cut(f"{rows[-1]} {' '.join(words)}")
        fitted.append("\n".join(rows) or str(label))
    return fitted


def _labels(run: RunRecord, codes, label: str) -> list[str]:
    if label == "id":
        return [str(c) for c in codes]
    return [run.codebook.code(c).label for c in codes]


_MEASURERS = threading.local()


def _measurer():
    """This thread's renderer for measuring text (at 72 dpi a pixel is a point)."""
    if not hasattr(_MEASURERS, "renderer"):
        from matplotlib.backends.backend_agg import RendererAgg

        _MEASURERS.renderer = RendererAgg(10, 10, 72)
    return _MEASURERS.renderer


@lru_cache(maxsize=4096)
def text_width(text: str, fontsize: float) -> float:
    """How wide ``text`` is drawn at ``fontsize`` points in the charts' font, in inches."""
    from matplotlib.font_manager import FontProperties

    with quiet_glyphs():
        return _measurer().get_text_width_height_descent(text, FontProperties(size=fontsize), ismath=False)[0] / 72


def _row_edges(labels: list[str]) -> list[float]:
    """Where each row of a chart starts and ends (in rows): a label on two lines gets a row 1.45 tall."""
    edges = [0.0]
    for label in labels:
        edges.append(edges[-1] + 1 + 0.45 * label.count("\n"))
    return edges


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
    label_width: float | None = None,
    label_lines: int = 2,
    colourbar_at: Literal["right", "top"] | None = None,
) -> Figure:
    """A heatmap with counts in its cells; ``fontsize`` for every label (cell counts one point smaller, at least 9
    when labels are 9 or more), ``size`` in inches (default: grows with the rows and columns). With
    ``diagonal=False`` (a code with itself) the diagonal is grey, its counts still written, and the colour scale
    is set by the other cells. ``label_width`` (inches) wraps row labels onto ``label_lines`` lines at most and
    cuts longer ones with "…"; a row with a two-line label is taller.

    The colour bar runs the full height of the cells on their right, or along their top when its label is longer
    than they are tall (or as ``colourbar_at`` says); column names are turned 45° only when they are wider than a column."""
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
    if label_width is not None:
        rows = fit_labels(rows, width=label_width, fontsize=fontsize, lines=label_lines)
    edges = _row_edges(rows)
    middles = [(a + b) / 2 for a, b in zip(edges, edges[1:])]
    mesh = ax.pcolormesh(np.arange(len(columns) + 1) - 0.5, edges, shown, cmap=cmap, vmin=0, vmax=max(top, 1))
    ax.set_xlim(-0.5, len(columns) - 0.5)
    ax.set_ylim(edges[-1], 0)
    turned = _wider_than_columns(columns, fig.get_size_inches()[0] - (label_width or 0.07 * widest) - 0.8, fontsize)
    ax.set_xticks(
        range(len(columns)), columns, fontsize=fontsize, **({"rotation": 45, "ha": "right"} if turned else {})
    )
    ax.set_yticks(middles, rows, fontsize=fontsize)
    small = fontsize if fontsize >= 9 else fontsize - 1
    for (i, j), v in np.ndenumerate(values):
        if v:
            dark = not (off and i == j) and v > top / 2
            ax.text(j, middles[i], str(v), ha="center", va="center", fontsize=small, color="white" if dark else "black")
    if title:
        ax.set_title(title, fontsize=fontsize + 2)
    ax.set_xlabel(xlabel, fontsize=fontsize)
    ax.set_ylabel(ylabel, fontsize=fontsize)
    label = f"{colourbar} (grey diagonal: each code's own count)" if off else colourbar
    # the cells' height, roughly: the figure less its title, column names and axis title
    tall = fig.get_size_inches()[1] - 1.3 - (0.3 if title else 0)
    at = colourbar_at or ("right" if text_width(label, fontsize) <= 0.9 * tall else "top")
    bar = fig.colorbar(mesh, ax=ax, location=at, aspect=30 if at == "right" else 40, pad=0.02)
    bar.set_label(label, fontsize=fontsize)
    bar.ax.tick_params(labelsize=fontsize)
    bar.locator = matplotlib.ticker.MaxNLocator(integer=True, nbins=6)
    bar.update_ticks()
    return fig


def _room_for_values(fig: Figure, ax, values, texts: list[str], limit: float, fontsize: float) -> None:
    """Widen the x axis so each bar's value, written after its end, stays inside the axes (and so the figure)."""
    with quiet_glyphs():
        fig.draw_without_rendering()
    across = ax.get_window_extent().width / fig.dpi  # inches
    right = limit * 1.02
    for value, text in zip(values, texts):
        room = across - text_width(text, fontsize) - 0.1  # the value and its 3-point gap, with a margin
        if room > 0:
            right = max(right, value * across / room)
    ax.set_xlim(0, right)


def _wider_than_columns(columns: list[str], width: float, fontsize: float) -> bool:
    """Whether a column name is wider than its share of ``width`` inches (with a little space between names)."""
    if not columns:
        return False
    share = max(width, 1.0) / len(columns)
    return fit_labels(columns, width=max(share - 0.08, 0.01), fontsize=fontsize, lines=1) != [str(c) for c in columns]


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
        label_width: float | None = None,
        label_lines: int = 2,
        colourbar_at: Literal["right", "top"] | None = None,
    ) -> Figure:
        """The framework matrix (:meth:`themekit.Run.matrix`) as a heatmap: codes down, cases (or groups) across.

        ``rename`` maps column names to the names shown (pseudonyms in a report; by participant, the participants'
        names by default); ``title`` replaces the default
        ("" for none); ``fontsize`` sets every label, ``size`` the figure in inches (default: grows with the matrix);
        ``codes`` keeps only those codes (a theme's, say); ``top`` and ``top_columns`` keep only the codes and the
        columns with the largest totals; ``label_width`` (inches) wraps code labels onto ``label_lines`` lines at
        most and cuts longer ones with "…"; ``colourbar_at`` puts the colour bar on the "right" or the "top" (default:
        right when its label fits the cells' height)."""
        matrix = _only(framework_matrix(self._run, by=by, values=values), codes)
        matrix = _top(_top(matrix, top), top_columns, axis=0)
        what = "excerpts (segments coded)" if values == "segments" else "participants mentioning"
        names = rename
        if names is None and by == "participant":
            names = {t.id: t.participant for t in self._run.corpus}
        if values == "present" and by in ("participant", "transcript"):
            what = "mentioned (1) or not (0)"
        return _heat(
            matrix,
            _labels(self._run, matrix.index, label),
            [(names or {}).get(str(c), str(c)) for c in matrix.columns],
            title=f"Codes by {by}" if title is None else title,
            xlabel=by,
            ylabel="code",
            colourbar=what,
            fontsize=fontsize,
            size=size,
            label_width=label_width,
            label_lines=label_lines,
            colourbar_at=colourbar_at,
        )

    def frequencies(
        self,
        *,
        measure: Literal["auto", "participants", "talk", "excerpts"] = "auto",
        label: Literal["label", "id"] = "label",
        title: str = "Code frequency",
        fontsize: float = 8,
        size: tuple[float, float] | None = None,
        codes: Sequence[str] | None = None,
        top: int | None = None,
        noun: str = "participants",
        label_width: float | None = None,
        label_lines: int = 2,
    ) -> Figure:
        """Horizontal bars, one per code (codebook order), its value written at its end.

        ``measure``: "participants" mentioning each code, "talk" (each code's share of the participants' words, in
        %), "excerpts" (segments coded), or "auto" (default): participants while their counts tell the codes apart,
        else talk (:func:`frequency_measure`); the axis title says which. ``title`` ("" for none), ``fontsize`` for
        every label, ``size`` in inches (default: grows with the codes), ``codes`` to keep only those, ``top``: only
        the codes with the largest values, ``noun``: what the participants are called (plural), ``label_width``
        (inches): code labels wrapped onto ``label_lines`` lines at most and cut with "…" past that."""
        check_choice(measure, MEASURES, what="frequency measure", param="measure")
        present = _only(framework_matrix(self._run, values="present"), codes)
        total = len(present.columns)
        mentions = present.sum(axis=1)
        chosen = frequency_measure(mentions.tolist(), total) if measure == "auto" else measure
        if chosen == "participants":
            values, limit, shown = mentions, max(1, total), "{:,.0f}"
            axis = f"{noun} mentioning the code (of {total})"
        elif chosen == "talk":
            values = talk_share(self._run).reindex(mentions.index) * 100
            limit, shown = max(float(values.max()), 0.1), "{:.1f}%"
            axis = f"share of {_possessive(noun)} words coded (%)"
        else:
            values = excerpt_counts(self._run).reindex(mentions.index)
            limit, shown = max(1, int(values.max())), "{:,.0f}"
            axis = "excerpts (segments coded)"
        values = _top(values.to_frame(), top).iloc[:, 0] if top is not None else values
        labels = _labels(self._run, values.index, label)
        if label_width is not None:
            labels = fit_labels(labels, width=label_width, fontsize=fontsize, lines=label_lines)
        if label_width is not None and size is not None:  # the axis title within the bars' width (a long noun)
            axis = fit_labels([axis], width=max(1.0, size[0] - label_width - 0.5), fontsize=fontsize)[0]
        fig = _figure(figsize=size or (7, 1.0 + 0.28 * len(labels)), layout="constrained")
        ax = fig.add_subplot()
        edges = _row_edges(labels)
        middles = [(a + b) / 2 for a, b in zip(edges, edges[1:])]
        bars = ax.barh(middles, values.to_numpy(), height=0.8, color="#3b6ea5")
        ax.bar_label(bars, labels=[shown.format(v) for v in values], padding=3, fontsize=fontsize)
        ax.set_yticks(middles, labels, fontsize=fontsize)
        ax.tick_params(axis="x", labelsize=fontsize)
        ax.set_xlim(0, limit * 1.15)
        _room_for_values(fig, ax, values.to_numpy(), [shown.format(v) for v in values], limit, fontsize)
        if chosen == "participants":  # whole numbers, none past the number of participants
            step = -(-limit // 8)
            ax.set_xticks(range(0, limit + 1, step))
        ax.set_ylim(edges[-1], 0)
        ax.set_xlabel(axis, fontsize=fontsize)
        ax.set_ylabel("code", fontsize=fontsize)
        ax.spines[["top", "right"]].set_visible(False)
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
