"""Cheap checks run before PyYAML sees untrusted text (codebooks, Markdown front matter)."""

from __future__ import annotations

import re

import yaml

__all__ = ["alias_count", "bracket_depth"]

_BRACKETS = re.compile(r"[\[\]{}]")


def bracket_depth(text: str) -> int:
    """The deepest nesting of flow brackets; PyYAML's scanner slows down sharply with depth."""
    depth = deepest = 0
    for ch in _BRACKETS.findall(text):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return deepest


def alias_count(text: str) -> int:
    """How many aliases (*name) the YAML text uses; parsing events only, nothing is built."""
    if "*" not in text:
        return 0
    return sum(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader))
