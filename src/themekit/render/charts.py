"""Charts for reports, as PNG bytes: the notebook plots (:mod:`themekit.render.plot`) rendered for a page."""

from __future__ import annotations

import io

from themekit.render.plot import RunPlots, quiet_glyphs
from themekit.run import Run

__all__ = ["MAX_CHART_CASES", "MAX_CHART_CODES", "chart_note", "frequency_chart", "heatmap_chart"]

#: A report's charts show at most this many codes (those coded most), so a codebook of thousands of codes gives a
#: readable chart in seconds instead of a page-high image after minutes; the report says so.
MAX_CHART_CODES = 40
#: ... and the heatmap at most this many participants (those with the most excerpts).
MAX_CHART_CASES = 60


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    with quiet_glyphs():
        fig.savefig(buffer, format="png", dpi=130, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def heatmap_chart(run: Run, *, rename: dict[str, str] | None = None) -> bytes:
    """A heatmap of excerpts per code and participant (participants renamed by ``rename``), as PNG bytes: the
    :data:`MAX_CHART_CODES` codes and :data:`MAX_CHART_CASES` participants with the most excerpts."""
    plots = RunPlots(run)
    return _png(plots.heatmap(rename=rename, title="Excerpts per code and participant", top=MAX_CHART_CODES, top_columns=MAX_CHART_CASES))


def frequency_chart(run: Run) -> bytes:
    """Horizontal bars: participants mentioning each code (the :data:`MAX_CHART_CODES` most mentioned), as PNG bytes."""
    return _png(RunPlots(run).frequencies(top=MAX_CHART_CODES))


def chart_note(run: Run) -> str | None:
    """What the report says when its charts leave codes or participants out, or None."""
    codes, cases = len(run.codebook), len(run.corpus)
    left_out = []
    if codes > MAX_CHART_CODES:
        left_out.append(f"the {MAX_CHART_CODES} codes coded most often of {codes:,}")
    if cases > MAX_CHART_CASES:
        left_out.append(f"the {MAX_CHART_CASES} participants with the most excerpts of {cases:,}")
    if not left_out:
        return None
    return f"The charts show {' and '.join(left_out)}; the text below covers every code."
