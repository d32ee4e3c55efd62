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
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["ProgressCallback", "TqdmProgress", "in_notebook", "quiet_tqdm_import"]

#: ``progress(stage, advance, total)``: called as work is done, for progress bars.
ProgressCallback = Callable[[str, int, int], None]

#: What each stage's bar says.
STAGE_LABELS = {
    "segment": "reading and segmenting",
    "embed": "embedding",
    "adapt": "adapting the encoder to the corpus",
    "cluster": "clustering topics",
    "human:read": "reading human codings (bytes)",
    "human:place": "placing human codings (rows)",
}


def stage_label(stage: str) -> str:
    """A stage as its bar names it: ``code:semantic`` → ``coding: semantic``."""
    if stage.startswith("code:"):
        return "coding: " + stage.split(":", 1)[1]
    if stage.startswith("human:") and stage.count(":") >= 2:
        kind, name = stage.split(":", 2)[1:]
        return f"{STAGE_LABELS.get('human:' + kind, kind)} of {name}"
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
    except AttributeError:
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
    """Progress drawn by tqdm: one bar at a time, for the stage that reported last (elapsed and remaining time),
    shown once it has run ``delay`` seconds. In Jupyter with ipywidgets: a notebook widget; otherwise a text bar
    on stderr."""

    def __init__(self, *, delay: float = 1.0, file: Any = None) -> None:
        self.delay = delay
        self.file = file
        self.done: dict[str, list[int]] = {}
        self.stage: str | None = None
        self.bar: Any = None

    def __call__(self, stage: str, advance: int, total: int) -> None:
        state = self.done.setdefault(stage, [0, total])
        state[0] += advance
        state[1] = total
        if stage != self.stage or self.bar is None:
            self._switch(stage)
            return
        if total != self.bar.total:
            self.bar.total = total
        self.bar.update(advance)

    def _switch(self, stage: str) -> None:
        if self.bar is not None:
            self.bar.close()
        with quiet_tqdm_import():
            if _notebook_bars():
                from tqdm.notebook import tqdm
            else:
                from tqdm.std import tqdm
        completed, total = self.done[stage]
        self.stage = stage
        self.bar = tqdm(total=total, initial=completed, desc=stage_label(stage), delay=self.delay,
                        file=self.file or sys.stderr, leave=False)  # fmt: skip

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar, self.stage = None, None


@contextmanager
def quiet_tqdm_import() -> Iterator[None]:
    """Import libraries that import ``tqdm.auto`` (sentence-transformers, transformers, BERTopic) without tqdm's
    "IProgress not found" warning, which it prints in Jupyter when ipywidgets is missing."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        yield
