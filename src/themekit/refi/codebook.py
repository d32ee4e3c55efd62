"""themekit codebooks ⇄ REFI-QDA code trees."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from themekit._version import __version__
from themekit.codebook import Codebook, validate_codebook
from themekit.codebook.schema import SCHEMA_VERSION, CodeSpec
from themekit.errors import CodebookError, OutputError, RefiError
from themekit.refi.standard import CodeNode, guid, slug_id
from themekit.util.atomic import atomic_write_text
from themekit.util.sanitize import xml_safe

__all__ = [
    "NO_DESCRIPTION",
    "ImportedCodebook",
    "build_codebook",
    "checked_codebook",
    "codes_element",
    "item_guid",
    "write_codebook_yaml",
]

#: The definition given to a code whose source had no description (the schema needs one).
NO_DESCRIPTION = "(no description in the source codebook)"
#: The theme that holds top-level codes without sub-codes.
IMPORTED_THEME = "imported"


def item_guid(codebook_name: str, item_id: str) -> str:
    """The GUID of a theme or code: the same codebook name and id always give the same GUID."""
    return guid("code", codebook_name, item_id)


def codes_element(parent: ET.Element, codebook: Codebook) -> ET.Element:
    """``<Codes>`` under ``parent``: themes as parent codes (not codable themselves), codes and sub-codes nested.

    Elements are named without a namespace: the root element declares the
    REFI-QDA namespace as the default (``xmlns="urn:QDA-XML:..."``).
    """
    codes = ET.SubElement(parent, "Codes")

    def add(under: ET.Element, item_id: str, label: str, description: str, codable: bool) -> ET.Element:
        element = ET.SubElement(
            under,
            "Code",
            {
                "guid": item_guid(codebook.name, item_id),
                "name": xml_safe(label),
                "isCodable": "true" if codable else "false",
            },
        )
        if description.strip():
            ET.SubElement(element, "Description").text = xml_safe(description.strip())
        return element

    def add_code(under: ET.Element, spec: CodeSpec) -> None:
        element = add(under, spec.id, spec.label, spec.definition, True)
        for child in spec.codes:
            add_code(element, child)

    for theme in codebook.themes:
        theme_element = add(codes, theme.id, theme.label, theme.description, False)
        for code in theme.codes:
            add_code(theme_element, code)
    return codes


@dataclass
class ImportedCodebook:
    """A codebook built from a REFI-QDA code tree, and where each source code went."""

    data: dict[str, Any]
    #: source code GUID → (theme id, code id) for every code that can carry codings
    codes: dict[str, tuple[str, str]]
    #: how many codes kept the id they have in the codebook given to match against
    matched: int = 0

    @property
    def code_count(self) -> int:
        return len(self.codes)


def build_codebook(
    roots: list[CodeNode],
    *,
    name: str,
    description: str,
    change: str,
    coded: set[str] = frozenset(),  # type: ignore[assignment]
    match: Codebook | None = None,
) -> ImportedCodebook:
    """A themekit codebook (as YAML-ready data) from a code tree.

    Top-level codes with sub-codes become themes; top-level codes without any
    go under one theme, ``imported``. A theme that was itself coded (its GUID
    in ``coded``) also gets a code "<name> (general)" for those codings. Ids
    come from names (``slug_id``), except that with ``match`` (a themekit
    codebook) a code whose GUID is the one themekit gives that codebook's id,
    or whose name equals a label there, keeps that id.
    """
    taken: set[str] = set()
    preset = _matched_ids(roots, match, taken) if match is not None else {}
    tree = _CodeTree(preset, taken)
    data = {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "version": "0.1.0",
        "description": description,
        "changelog": [{"version": "0.1.0", "changes": [change]}],
        "themes": tree.themes(roots, coded),
    }
    kept = sum(1 for source_guid, (_, code_id) in tree.mapping.items() if preset.get(source_guid) == code_id)
    return ImportedCodebook(data, tree.mapping, kept)


def _matched_ids(roots: list[CodeNode], match: Codebook, taken: set[str]) -> dict[str, str]:
    """Source code GUID → the id of ``match`` it keeps: the item whose themekit GUID it has, else the one label it shares.

    Each id is kept once (the first code in tree order gets it) and added to ``taken``.
    """
    by_guid = {item_guid(match.name, item.id): item.id for item in [*match.themes, *match.codes]}
    labels: dict[str, list[str]] = {}
    for item in [*match.themes, *match.codes]:
        labels.setdefault(item.label.strip().casefold(), []).append(item.id)
    preset: dict[str, str] = {}

    def visit(nodes: list[CodeNode]) -> None:
        for node in nodes:
            found = by_guid.get(node.guid)
            if found is None:
                same = labels.get(node.name.casefold(), [])
                found = same[0] if len(same) == 1 else None
            if found is not None and found not in taken:
                preset[node.guid] = found
                taken.add(found)
            visit(node.children)

    visit(roots)
    return preset


class _CodeTree:
    """Codebook items (YAML-ready) from code nodes: each gets its preset id or one made from its name.

    ``mapping`` records where every source code went: GUID → (theme id, code id).
    """

    def __init__(self, preset: dict[str, str], taken: set[str]) -> None:
        self.preset = preset
        self.taken = taken
        self.mapping: dict[str, tuple[str, str]] = {}

    def ident(self, node: CodeNode) -> str:
        return self.preset.get(node.guid) or slug_id(node.name, self.taken)

    def code(self, node: CodeNode, theme_id: str) -> dict[str, Any]:
        code_id = self.ident(node)
        self.mapping[node.guid] = (theme_id, code_id)
        item: dict[str, Any] = {
            "id": code_id,
            "label": node.name or "(unnamed code)",
            "definition": node.description or NO_DESCRIPTION,
        }
        children = [self.code(child, theme_id) for child in node.children]
        if children:
            item["codes"] = children
        return item

    def theme(self, root: CodeNode, coded: set[str]) -> dict[str, Any]:
        """A top-level code with sub-codes as a theme; when it was coded itself, a "(general)" code takes its codings."""
        theme_id = self.ident(root)
        theme: dict[str, Any] = {"id": theme_id, "label": root.name or "(unnamed theme)"}
        if root.description:
            theme["description"] = root.description
        codes = []
        if root.guid in coded:
            general = CodeNode(f"{root.guid}#general", f"{root.name} (general)", root.description, True)
            codes.append(self.code(general, theme_id))
            self.mapping[root.guid] = self.mapping.pop(general.guid)
        codes += [self.code(child, theme_id) for child in root.children]
        theme["codes"] = codes
        return theme

    def themes(self, roots: list[CodeNode], coded: set[str]) -> list[dict[str, Any]]:
        """A theme per top-level code with sub-codes; top-level codes without any together under one more, ``imported``."""
        themes: list[dict[str, Any]] = []
        leaves: dict[str, Any] | None = None
        for root in roots:
            if root.children:
                themes.append(self.theme(root, coded))
                continue
            if leaves is None:
                leaves = {
                    "id": slug_id(IMPORTED_THEME, self.taken),
                    "label": "Imported codes",
                    "description": "Top-level codes of the source codebook that have no sub-codes.",
                    "codes": [],
                }
            leaves["codes"].append(self.code(root, leaves["id"]))
        if leaves is not None:
            themes.append(leaves)
        return themes


def _yaml(data: dict[str, Any], source: Path) -> str:
    import yaml

    header = (
        f"# Imported from {source.name} by themekit {__version__}.\n"
        "# Keywords are empty: semantic coding relies on each code's label and definition.\n"
        "# Add keywords (and examples) for rule coding and sharper semantic coding.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def write_codebook_yaml(data: dict[str, Any], out: Path, *, source: Path, force: bool = False) -> Codebook:
    """Write the codebook YAML atomically, only once :func:`validate_codebook` accepts it."""
    out = Path(out)
    if out.is_dir():
        raise OutputError(f"{out}: is a folder. Give out= a file name such as codebook.yaml.", param="out")
    if out.exists() and not force:
        raise OutputError(
            f"{out}: already exists. Choose another out= file, or add force=True to replace it.", param=("out", "force")
        )
    text, _ = checked_codebook(data, out, source=source)
    atomic_write_text(out, text)
    return Codebook.load(out)


def checked_codebook(data: dict[str, Any], out: Path, *, source: Path) -> tuple[str, Codebook]:
    """The codebook's YAML text and the codebook, in memory, once :func:`validate_codebook` accepts it as the file
    ``out`` (nothing is written: no temporary file anywhere)."""
    text = _yaml(data, source)
    try:
        return text, validate_codebook(out, text=text)
    except CodebookError as exc:
        raise RefiError(
            source,
            "the codebook made from this file does not pass themekit's checks:\n"
            + "\n".join(f"  - {p}" for p in exc.problems),
            "Report this as a themekit bug, with the file",
        ) from None
