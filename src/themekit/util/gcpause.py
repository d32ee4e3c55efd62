"""Pausing Python's cyclic garbage collector around allocation-heavy steps."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_gc"]


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a step builds many objects.

    A batch of the pipeline, or a run folder being written, allocates hundreds
    of thousands of small objects (segments, codings, rows), and each full
    collection they trigger walks every object in the process (spaCy's,
    pandas' and torch's modules included): more work than the step itself. What it leaves is freed by reference counting;
    collection resumes, as it was, at the end. Also a decorator: ``@paused_gc()``.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
