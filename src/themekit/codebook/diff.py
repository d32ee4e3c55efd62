"""What changed between two codebook versions: added, removed, renamed, merged, moved and redefined codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from themekit.codebook import Code, Codebook

__all__ = ["CodebookDiff", "diff_codebooks", "id_map"]

#: Fields whose change alters what a code means (and so what it should be given to).
MEANING_FIELDS = (
    "label",
    "definition",
    "include",
    "exclude",
    "keywords",
    "exclude_keywords",
    "patterns",
    "examples",
    "threshold",
    "status",
)


@dataclass(frozen=True)
class CodebookDiff:
    """Changes from ``old`` to ``new``, each list in the new codebook's order."""

    old_version: str
    new_version: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: (old id, new id) for ``renamed_from``
    renamed: list[tuple[str, str]] = field(default_factory=list)
    #: (old id, new id) for ``merged_from``
    merged: list[tuple[str, str]] = field(default_factory=list)
    #: (id, old place, new place): theme or parent code changed
    moved: list[tuple[str, str, str]] = field(default_factory=list)
    #: (id, changed fields)
    redefined: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def changed_codes(self) -> list[str]:
        """Every code id the diff touches, in order of first mention."""
        seen: dict[str, None] = {}
        for item in (
            *self.added,
            *self.removed,
            *(n for _, n in self.renamed),
            *(n for _, n in self.merged),
            *(i for i, _, _ in self.moved),
            *(i for i, _ in self.redefined),
        ):
            seen.setdefault(item, None)
        return list(seen)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.renamed or self.merged or self.moved or self.redefined)

    def summary(self) -> str:
        """One line: ``added: a, b; redefined: c (definition)``."""
        parts = []
        if self.added:
            parts.append("added: " + ", ".join(self.added))
        if self.removed:
            parts.append("removed: " + ", ".join(self.removed))
        if self.renamed:
            parts.append("renamed: " + ", ".join(f"{a} → {b}" for a, b in self.renamed))
        if self.merged:
            parts.append("merged: " + ", ".join(f"{a} → {b}" for a, b in self.merged))
        if self.moved:
            parts.append("moved: " + ", ".join(f"{i} ({a} → {b})" for i, a, b in self.moved))
        if self.redefined:
            parts.append("redefined: " + ", ".join(f"{i} ({', '.join(f)})" for i, f in self.redefined))
        return "; ".join(parts)

    def lines(self) -> list[str]:
        """One line per change, for a terminal or a changelog."""
        out = [f"+ {i}  added" for i in self.added]
        out += [f"- {i}  removed" for i in self.removed]
        out += [f"~ {a} → {b}  renamed" for a, b in self.renamed]
        out += [f"~ {a} → {b}  merged" for a, b in self.merged]
        out += [f"> {i}  moved from {a} to {b}" for i, a, b in self.moved]
        out += [f"* {i}  redefined: {', '.join(f)}" for i, f in self.redefined]
        return out


def _place(code: Code) -> str:
    return f"{code.theme_id}/{code.parent_id}" if code.parent_id else code.theme_id


def diff_codebooks(old: Codebook, new: Codebook) -> CodebookDiff:
    """Compare two codebooks code by code, following ``renamed_from`` and ``merged_from`` in ``new``."""
    old_codes = {c.id: c for c in old}
    new_codes = {c.id: c for c in new}
    diff = CodebookDiff(old.version, new.version)
    accounted: set[str] = set()
    for code in new:
        predecessor = None
        for former in code.spec.renamed_from:
            if former in old_codes and former not in new_codes:
                diff.renamed.append((former, code.id))
                accounted.add(former)
                predecessor = predecessor or old_codes[former]
        for former in code.spec.merged_from:
            if former in old_codes and former not in new_codes:
                diff.merged.append((former, code.id))
                accounted.add(former)
        if code.id in old_codes:
            predecessor = old_codes[code.id]
        if predecessor is None:
            if not any(b == code.id for _, b in diff.merged):
                diff.added.append(code.id)
            continue
        if _place(predecessor) != _place(code):
            diff.moved.append((code.id, _place(predecessor), _place(code)))
        before, after = predecessor.spec.model_dump(mode="json"), code.spec.model_dump(mode="json")
        changed = [f for f in MEANING_FIELDS if before.get(f) != after.get(f)]
        if changed:
            diff.redefined.append((code.id, changed))
    diff.removed.extend(c.id for c in old if c.id not in new_codes and c.id not in accounted)
    return diff


def id_map(codebook: Codebook) -> dict[str, str]:
    """Old code id → current id, from every ``renamed_from`` and ``merged_from`` (current ids map to themselves)."""
    mapping = {c.id: c.id for c in codebook}
    for code in codebook:
        for former in (*code.spec.renamed_from, *code.spec.merged_from):
            mapping.setdefault(former, code.id)
    return mapping
