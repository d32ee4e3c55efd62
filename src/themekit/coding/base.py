"""What every coder is and gives back: the :class:`Coder` protocol and :class:`Coded`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from themekit.codebook import Codebook
from themekit.models import Coding
from themekit.nlp.segment import Segmentation

__all__ = ["Coded", "Coder", "merge_stats", "top_per_row"]


@dataclass
class Coded:
    """What a coder found: its codings, its statistics (merged into ``run.stats``) and the codes it has the last
    word on (a classifier's learned codes: another method's coding of them stands only where it agrees)."""

    codings: list[Coding]
    stats: dict[str, Any] = field(default_factory=dict)
    final_codes: frozenset[str] = frozenset()
    #: per code, the most segments the other methods may give it (their highest-scoring codings): a classifier's
    #: limit from how rarely the coder gave a code it could not learn
    limits: dict[str, int] = field(default_factory=dict)
    #: per code, the intercept its semantic codings' probabilities take instead of ``PROBABILITY_MAP``'s: a
    #: classifier's refit to the rate at which the coder gave such codings
    semantic_intercepts: dict[str, float] = field(default_factory=dict)


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


def top_per_row(scores: np.ndarray, most: int) -> np.ndarray:
    """Per row of a (segments x codes) score matrix, whether each column is among the row's ``most`` highest
    (ties in column order); every column when ``most`` is 0 or covers them all. How many codes one segment keeps."""
    if most <= 0 or most >= scores.shape[1]:
        return np.ones(scores.shape, dtype=bool)
    order = np.argsort(-scores, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(scores.shape[1]), scores.shape), axis=1)
    return rank < most
