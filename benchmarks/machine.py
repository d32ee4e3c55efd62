"""What machine a benchmark ran on, as the benchmark scripts record it beside their figures."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo on Linux), else what the platform module knows."""
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine() -> str:
    """ "<CPU>, <N> cores, Python <version>"."""
    return f"{cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}"
