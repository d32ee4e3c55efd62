"""Charts for reports, as PNG bytes: the notebook plots (:mod:`themekit.render.plot`) drawn for a page.

A report chart is drawn at the size it is printed (:data:`CHART_WIDTH` wide, its height from the number of
codes, at most :data:`CHART_MAX_HEIGHT` while the codes fit at 9 pt; a report draws one theme's codes at a time), with every label at :data:`CHART_FONT_PT`,
so a Word or HTML page that shows it at that width shows readable labels. :func:`chart_size` gives the size.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from themekit.render.plot import RunPlots, quiet_glyphs
from themekit.runs.record import RunRecord

__all__ = [
    "CHART_DPI",
    "CHART_FONT_PT",
    "CHART_MAX_HEIGHT",
    "CHART_WIDTH",
    "MAX_CHART_CASES",
    "MAX_CHART_CODES",
    "chart_note",
    "chart_size",
    "frequency_chart",
    "frequency_figure",
    "heatmap_chart",
    "heatmap_figure",
]

#: inches: the text width of a portrait Letter or A4 page with 1.25-inch side margins
CHART_WIDTH = 6.0
#: inches: what fits below a title and a paragraph on the first page (a taller chart leaves the page nearly empty)
CHART_MAX_HEIGHT = 5.6
#: points: the size of every label, tick and count on a report chart
CHART_FONT_PT = 9.0
CHART_DPI = 200
#: A report's chart shows at most this many codes (those coded most), so a codebook of thousands of codes gives a
#: readable chart in seconds instead of a page-high image after minutes; the report says so.
MAX_CHART_CODES = 40
#: ... and the heatmap at most this many participants (those with the most excerpts).
MAX_CHART_CASES = 60
#: inches per bar or heatmap row at 9 pt (a 9-point line needs 0.125 in; the rest is the gap)
_ROW = 0.16


def chart_size(kind: str, rows: int) -> tuple[float, float]:
    """(width, height) in inches of a report chart of ``rows`` codes: ``kind`` "frequency" or "heatmap".

    The height holds every row at 9 pt plus the axes; it is at most CHART_MAX_HEIGHT unless the rows need more
    (then the chart takes a page of its own rather than shrinking its labels)."""
    axes = 0.75 if kind == "frequency" else 1.45  # x labels and axis title (the heatmap's are rotated names)
    wanted = axes + max(rows, 1) * 0.22
    needed = axes + max(rows, 1) * _ROW
    return CHART_WIDTH, round(max(2.2, needed, min(wanted, CHART_MAX_HEIGHT)), 2)


def _png(fig) -> bytes:
    """The figure at its own size (no cropping), so its labels print at the point size they were drawn."""
    buffer = io.BytesIO()
    with quiet_glyphs():
        fig.savefig(buffer, format="png", dpi=CHART_DPI, metadata={"Software": None})
    return buffer.getvalue()


def heatmap_figure(run: RunRecord, *, rename: dict[str, str] | None = None, codes: Sequence[str] | None = None):
    """The report's heatmap of excerpts per code (``codes``, default all) and participant (renamed by ``rename``),
    as a Figure of its printed size with 9-point labels."""
    size = chart_size("heatmap", min(len(codes) if codes is not None else len(run.codebook), MAX_CHART_CODES))
    return RunPlots(run).heatmap(
        rename=rename,
        title="",
        fontsize=CHART_FONT_PT,
        size=size,
        codes=codes,
        top=MAX_CHART_CODES,
        top_columns=MAX_CHART_CASES,
    )


def frequency_figure(run: RunRecord, *, codes: Sequence[str] | None = None):
    """The report's bars of participants mentioning each code (``codes``, default all), as a Figure of its printed
    size with 9-point labels."""
    size = chart_size("frequency", min(len(codes) if codes is not None else len(run.codebook), MAX_CHART_CODES))
    return RunPlots(run).frequencies(title="", fontsize=CHART_FONT_PT, size=size, codes=codes, top=MAX_CHART_CODES)


def heatmap_chart(run: RunRecord, *, rename: dict[str, str] | None = None, codes: Sequence[str] | None = None) -> bytes:
    """:func:`heatmap_figure` as PNG bytes."""
    return _png(heatmap_figure(run, rename=rename, codes=codes))


def frequency_chart(run: RunRecord, *, codes: Sequence[str] | None = None) -> bytes:
    """:func:`frequency_figure` as PNG bytes."""
    return _png(frequency_figure(run, codes=codes))


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
