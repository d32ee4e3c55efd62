"""Charts for reports, as PNG bytes: the notebook plots (:mod:`themekit.render.plot`) drawn for a page.

A report chart is drawn at the size it is printed: :data:`CHART_WIDTH` wide and exactly as tall as its rows and
axes need (:func:`fit_height`), every label at :data:`CHART_FONT_PT`, code labels wrapped or cut with "…" to
:data:`CHART_LABEL_WIDTH`, so a Word or HTML page that shows it at that width shows readable labels and no chart is
taller than its content (a tall image Word cannot fit is pushed to the next page, leaving a gap). A report draws
one theme's codes at a time.

The bars show participants mentioning each code while those counts tell the codes apart, else each code's share
of the participants' words (:func:`bars_measure`); the report's caption says which.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from themekit.analysis.frames import framework_matrix
from themekit.render.plot import RunPlots, frequency_measure, quiet_glyphs, text_width
from themekit.runs.record import RunRecord

__all__ = [
    "CHART_DPI",
    "CHART_FONT_PT",
    "CHART_HEIGHT",
    "CHART_LABEL_WIDTH",
    "CHART_MAX_HEIGHT",
    "CHART_WIDTH",
    "MAX_CHART_CASES",
    "MAX_CHART_CODES",
    "BarsMeasure",
    "bars_measure",
    "chart_note",
    "fit_height",
    "frequency_chart",
    "frequency_figure",
    "heatmap_chart",
    "heatmap_figure",
]

#: inches: the text width of a portrait Letter or A4 page with 1.25-inch side margins
CHART_WIDTH = 6.0
#: inches: the tallest a chart is drawn, so it and its caption fit a Letter or A4 page with 1-inch margins
CHART_MAX_HEIGHT = 8.0
#: inches: the height a chart keeps to while its rows can be single-spaced (a third of a page with its caption)
CHART_HEIGHT = 3.1
#: points: the size of every label, tick and count on a report chart
CHART_FONT_PT = 9.0
#: inches: the widest a code label is drawn (longer ones wrap onto a second line, then end in "…")
CHART_LABEL_WIDTH = 2.8
CHART_DPI = 200
#: A report's chart shows at most this many codes (those coded most), so a codebook of thousands of codes gives a
#: readable chart in seconds instead of a page-high image after minutes; the report says so.
MAX_CHART_CODES = 40
#: ... and the heatmap at most this many participants (those with the most excerpts).
MAX_CHART_CASES = 60
#: inches per bar or heatmap row: a 9-point line (0.125 in) and the gap to the next (a two-line label's row is 1.45
#: rows tall); the least a row gets when a chart of many codes must fit a page
_ROW, _ROW_LEAST = 0.2, 0.15
#: codes a chart may have and still wrap their labels onto two lines
_WRAPPED_ROWS = 12
#: inches of white round a chart's content
_PAD = 0.08


@dataclass(frozen=True)
class BarsMeasure:
    """What a report's bars of some codes show, and the participant counts behind the choice."""

    #: "participants" (mentioning each code) or "talk" (each code's share of their words)
    measure: str
    #: participants mentioning each code, in the chart's order
    mentions: tuple[int, ...]
    #: participants in the run
    total: int


def bars_measure(run: RunRecord, codes: Sequence[str] | None = None) -> BarsMeasure:
    """What the report's bars of ``codes`` (default all) show, by :func:`~themekit.render.plot.frequency_measure`."""
    present = framework_matrix(run, values="present")
    if codes is not None:
        wanted = set(codes)
        present = present.loc[[c for c in present.index if c in wanted]]
    mentions = tuple(int(n) for n in present.sum(axis=1))
    total = len(present.columns)
    return BarsMeasure(frequency_measure(mentions, total), mentions, total)


def _rows(run: RunRecord, codes: Sequence[str] | None) -> tuple[int, float, int]:
    """(rows, inches per row, lines per label) of a report chart of ``codes``: labels may wrap onto a second line in
    a chart of up to :data:`_WRAPPED_ROWS` codes (about :data:`CHART_HEIGHT` with 0.2-inch rows); past that they
    keep to one line (cut with "…") and rows are as thin as that height asks, down to :data:`_ROW_LEAST`, the chart
    growing after that."""
    rows = max(1, min(MAX_CHART_CODES if codes is None else len(codes), len(run.codebook), MAX_CHART_CODES))
    if rows <= _WRAPPED_ROWS:
        return rows, _ROW, 2
    room = CHART_MAX_HEIGHT - 1.5
    return rows, max(_ROW_LEAST, min(_ROW, room / rows)), 1


#: The (width, height) in inches a report chart is laid out at first: the tallest allowed, so long column names
#: never crowd out the cells; :func:`fit_height` then sets the height its content needs.
_FIRST_SIZE = (CHART_WIDTH, CHART_MAX_HEIGHT)


@contextmanager
def _padded() -> Iterator[None]:
    """Figures made within lay out their content :data:`_PAD` in from every edge, so nothing is drawn at the
    picture's edge, where it would look cut off."""
    import matplotlib

    with matplotlib.rc_context({"figure.constrained_layout.w_pad": _PAD, "figure.constrained_layout.h_pad": _PAD}):
        yield


def fit_height(fig, row: float) -> None:
    """Make the figure as tall as its decorations (tick labels, axis titles, colour bar, laid out by matplotlib's
    constrained layout within a margin of :data:`_PAD`) plus its rows, and no taller: no blank band in the chart.

    Rows are ``row`` inches (a two-line row 1.45 times that) while the chart stays within :data:`CHART_HEIGHT`,
    else as thin as :data:`_ROW_LEAST` allows: a chart Word cannot fit below the text is moved to the next page,
    leaving blank the height it needed, so a chart of a third of a page leaves at most that."""
    ax = fig.axes[0]
    with quiet_glyphs():
        fig.draw_without_rendering()
    width, height = fig.get_size_inches()
    around = height - ax.get_position().height * height
    rows = abs(ax.get_ylim()[0] - ax.get_ylim()[1])
    # a two-line label's row (1.45 rows) needs rows of 0.19 in or more
    least = _ROW_LEAST if rows <= len(ax.get_yticks()) else 0.19
    row = min(row, max(least, (CHART_HEIGHT - around) / rows))
    fig.set_size_inches(width, min(CHART_MAX_HEIGHT, max(1.0, around + rows * row)))


def _png(fig) -> bytes:
    """The figure at its own size (no cropping), so its labels print at the point size they were drawn."""
    buffer = io.BytesIO()
    with quiet_glyphs():
        fig.savefig(buffer, format="png", dpi=CHART_DPI, metadata={"Software": None})
    return buffer.getvalue()


def heatmap_figure(run: RunRecord, *, rename: dict[str, str] | None = None, codes: Sequence[str] | None = None):
    """The report's heatmap of excerpts per code (``codes``, default all) and participant (renamed by ``rename``),
    as a Figure of its printed size with 9-point labels and a colour bar the height of the cells beside them (along
    their top when its label is longer than they are tall)."""
    rows, row, lines = _rows(run, codes)
    label = "excerpts (segments coded)"
    # the colour bar beside the cells when its label fits their height (the least they get), else along their top
    beside = text_width(label, CHART_FONT_PT) <= 0.9 * rows * row
    with _padded():
        fig = RunPlots(run).heatmap(
            rename=rename,
            title="",
            fontsize=CHART_FONT_PT,
            size=_FIRST_SIZE,
            codes=codes,
            top=MAX_CHART_CODES,
            top_columns=MAX_CHART_CASES,
            label_width=CHART_LABEL_WIDTH,
            label_lines=lines,
            colourbar_at="right" if beside else "top",
        )
    fig.axes[0].set_ylabel("")  # the rows are plainly codes: their labels get the room
    fit_height(fig, row)
    return fig


def frequency_figure(run: RunRecord, *, codes: Sequence[str] | None = None, noun: str = "participants"):
    """The report's bars for each code (``codes``, default all): participants (``noun``, plural) mentioning it, or
    its share of their words where those counts do not tell the codes apart (:func:`bars_measure`); a Figure of its
    printed size with 9-point labels."""
    _, row, lines = _rows(run, codes)
    with _padded():
        fig = RunPlots(run).frequencies(
            measure=bars_measure(run, codes).measure,
            title="",
            fontsize=CHART_FONT_PT,
            size=_FIRST_SIZE,
            codes=codes,
            top=MAX_CHART_CODES,
            noun=noun,
            label_width=CHART_LABEL_WIDTH,
            label_lines=lines,
        )
    fig.axes[0].set_ylabel("")  # the rows are plainly codes: their labels get the room
    fit_height(fig, row)
    return fig


def heatmap_chart(run: RunRecord, *, rename: dict[str, str] | None = None, codes: Sequence[str] | None = None) -> bytes:
    """:func:`heatmap_figure` as PNG bytes."""
    return _png(heatmap_figure(run, rename=rename, codes=codes))


def frequency_chart(run: RunRecord, *, codes: Sequence[str] | None = None, noun: str = "participants") -> bytes:
    """:func:`frequency_figure` as PNG bytes."""
    return _png(frequency_figure(run, codes=codes, noun=noun))


def chart_note(run: RunRecord, codes: Sequence[str] | None = None) -> str | None:
    """What the report says when a chart of ``codes`` (default: all) leaves codes or participants out, or None."""
    count, cases = len(codes) if codes is not None else len(run.codebook), len(run.corpus)
    left_out = []
    if count > MAX_CHART_CODES:
        left_out.append(f"the {MAX_CHART_CODES} codes coded most often of {count:,}")
    if cases > MAX_CHART_CASES:
        left_out.append(f"the {MAX_CHART_CASES} participants with the most excerpts of {cases:,}")
    if not left_out:
        return None
    return f"The charts show {' and '.join(left_out)}; the text below covers every code."
