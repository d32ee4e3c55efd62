"""What every coder is and gives back: the :class:`Coder` protocol and :class:`Coded`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from themekit.codebook import Codebook
from themekit.models import Coding
from themekit.nlp.segment import Segmentation

__all__ = ["Coded", "Coder", "merge_stats"]


@dataclass
class Coded:
    """What a coder found: its codings, its statistics (merged into ``run.stats``) and the codes it has the last
    word on (a classifier's learned codes: another method's coding of them stands only where it agrees)."""

    codings: list[Coding]
    stats: dict[str, Any] = field(default_factory=dict)
    final_codes: frozenset[str] = frozenset()


class Coder(Protocol):
    """Gives codes to segments. ``method`` names it in outputs (rule, semantic, ...)."""

    method: str

    def code(self, segmentation: Segmentation, codebook: Codebook) -> Coded: ...


def merge_stats(total: dict[str, Any], stats: dict[str, Any]) -> None:
    """Add a coder's statistics to the run's: a count already there is summed (cache hits of every method that
    embeds), a mapping merged the same way, lists joined (warnings), anything else set."""
    for key, value in stats.items():
        old = total.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged = dict(old)
            merge_stats(merged, value)
            total[key] = merged
        elif type(old) is int and type(value) is int:
            total[key] = old + value
        elif isinstance(old, list) and isinstance(value, list):
            total[key] = [*old, *value]
        else:
            total[key] = value
