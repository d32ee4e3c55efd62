"""Charts for reports, as PNG bytes: the notebook plots (:mod:`themekit.render.plot`) rendered for a page."""

from __future__ import annotations

import io

from themekit.render.plot import RunPlots
from themekit.run import Run

__all__ = ["frequency_chart", "heatmap_chart"]


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=130, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def heatmap_chart(run: Run, *, rename: dict[str, str] | None = None) -> bytes:
    """A heatmap of excerpts per code and participant (participants renamed by ``rename``), as PNG bytes."""
    return _png(RunPlots(run).heatmap(rename=rename, title="Excerpts per code and participant"))


def frequency_chart(run: Run) -> bytes:
    """Horizontal bars: participants mentioning each code, as PNG bytes."""
    return _png(RunPlots(run).frequencies())
