"""The one way themekit writes a time in a recording for people to read: ``h:mm:ss`` (``0:01:43``)."""

from __future__ import annotations

import math

__all__ = ["clock"]


def clock(seconds: float | None) -> str:
    """``seconds`` into a recording as ``h:mm:ss`` (103 → ``0:01:43``; 3725.9 → ``1:02:05``), whole seconds, the
    hours never padded; ``""`` when there is no time (``None`` or NaN)."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return ""
    whole = max(0, int(seconds))
    return f"{whole // 3600:d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
