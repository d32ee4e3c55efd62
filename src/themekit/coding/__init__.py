"""Coders: one per method, all behind the :class:`Coder` protocol."""

from __future__ import annotations

from typing import Protocol

from ..codebook import Codebook
from ..models import Coding
from ..segment import Segmentation
from .rules import RuleCoder

__all__ = ["Coder", "RuleCoder", "CODERS"]


class Coder(Protocol):
    """Gives codes to segments. ``method`` names it in outputs (rule, semantic, ...)."""

    method: str

    def code(self, segmentation: Segmentation, codebook: Codebook) -> list[Coding]: ...


#: Coders by method name, as ``themekit code --method`` accepts them.
CODERS: dict[str, type] = {"rule": RuleCoder}
