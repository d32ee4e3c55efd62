"""Progress of long stages, for the library and notebooks: ``progress(stage, advance, total)`` callbacks.

The pipeline reports every stage that can take more than a second through one
callback, ``progress(stage, advance, total)``: ``advance`` units of ``stage``
are done, out of ``total`` (a total may grow while a stage runs, as the
embedding step learns of more texts to embed). The CLI draws these with rich;
:class:`TqdmProgress` draws them with tqdm: a notebook bar in Jupyter when
ipywidgets is installed, else a text bar on stderr, never tqdm's "IProgress
not found" warning.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["ProgressCallback", "TqdmProgress", "in_notebook"]

#: ``progress(stage, advance, total)``: called as work is done, for progress bars.
ProgressCallback = Callable[[str, int, int], None]

#: What each stage's bar says.
STAGE_LABELS = {
    "segment": "reading and segmenting",
    "embed": "embedding",
    "cluster": "clustering topics",
}


def stage_label(stage: str) -> str:
    """A stage as its bar names it: ``code:semantic`` → ``coding: semantic``."""
    if stage.startswith("code:"):
        return "coding: " + stage.split(":", 1)[1]
    if stage.startswith("classifier"):
        return "classifier: " + stage.split(":", 1)[1] if ":" in stage else "training classifier"
    return STAGE_LABELS.get(stage, stage)


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (IPython's ZMQ shell)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except Exception:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _notebook_bars() -> bool:
    """Whether tqdm can draw notebook widgets here (Jupyter with ipywidgets installed)."""
    if not in_notebook():
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


class TqdmProgress:
    """Progress bars drawn by tqdm, one per stage, each shown once its stage has run ``delay`` seconds: elapsed
    and remaining time. In Jupyter with ipywidgets: notebook widgets; otherwise text bars on stderr."""

    def __init__(self, *, delay: float = 1.0, file: Any = None) -> None:
        self.delay = delay
        self.file = file
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, advance: int, total: int) -> None:
        bar = self.bars.get(stage)
        if bar is None:
            if _notebook_bars():
                from tqdm.notebook import tqdm
            else:
                from tqdm.std import tqdm
            bar = tqdm(total=total, desc=stage_label(stage), delay=self.delay, file=self.file or sys.stderr, leave=False)
            self.bars[stage] = bar
        if total != bar.total:
            bar.total = total
            bar.refresh()
        bar.update(advance)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()
