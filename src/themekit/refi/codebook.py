"""themekit codebooks ⇄ REFI-QDA code trees."""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from themekit._version import __version__
from themekit.codebook import Codebook, validate_codebook
from themekit.codebook.schema import SCHEMA_VERSION, CodeSpec
from themekit.errors import CodebookError, OutputError, RefiError
from themekit.refi.standard import CodeNode, guid, slug_id, xml_text

__all__ = ["NO_DESCRIPTION", "ImportedCodebook", "build_codebook", "codes_element", "item_guid", "write_codebook_yaml"]

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
            {"guid": item_guid(codebook.name, item_id), "name": xml_text(label), "isCodable": "true" if codable else "false"},
        )
        if description.strip():
            ET.SubElement(element, "Description").text = xml_text(description.strip())
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
    preset: dict[str, str] = {}
    if match is not None:
        by_guid = {item_guid(match.name, item.id): item.id for item in [*match.themes, *match.codes]}
        labels: dict[str, list[str]] = {}
        for item in [*match.themes, *match.codes]:
            labels.setdefault(item.label.strip().casefold(), []).append(item.id)

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

    def ident(node: CodeNode) -> str:
        return preset.get(node.guid) or slug_id(node.name, taken)

    mapping: dict[str, tuple[str, str]] = {}

    def code(node: CodeNode, theme_id: str) -> dict[str, Any]:
        code_id = ident(node)
        mapping[node.guid] = (theme_id, code_id)
        item: dict[str, Any] = {
            "id": code_id,
            "label": node.name or "(unnamed code)",
            "definition": node.description or NO_DESCRIPTION,
        }
        children = [code(child, theme_id) for child in node.children]
        if children:
            item["codes"] = children
        return item

    themes: list[dict[str, Any]] = []
    leaves: dict[str, Any] | None = None
    for root in roots:
        if root.children:
            theme_id = ident(root)
            theme: dict[str, Any] = {"id": theme_id, "label": root.name or "(unnamed theme)"}
            if root.description:
                theme["description"] = root.description
            codes = []
            if root.guid in coded:
                general = CodeNode(f"{root.guid}#general", f"{root.name} (general)", root.description, True)
                codes.append(code(general, theme_id))
                mapping[root.guid] = mapping.pop(general.guid)
            codes += [code(child, theme_id) for child in root.children]
            theme["codes"] = codes
            themes.append(theme)
        else:
            if leaves is None:
                leaves = {
                    "id": slug_id(IMPORTED_THEME, taken),
                    "label": "Imported codes",
                    "description": "Top-level codes of the source codebook that have no sub-codes.",
                    "codes": [],
                }
            leaves["codes"].append(code(root, leaves["id"]))
    if leaves is not None:
        themes.append(leaves)
    data = {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "version": "0.1.0",
        "description": description,
        "changelog": [{"version": "0.1.0", "changes": [change]}],
        "themes": themes,
    }
    kept = sum(1 for source_guid, (_, code_id) in mapping.items() if preset.get(source_guid) == code_id)
    return ImportedCodebook(data, mapping, kept)


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
        raise OutputError(f"{out}: already exists. Choose another out= file, or add force=True to replace it.", param=("out", "force"))
    text = _yaml(data, source)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write here ({exc.strerror}). Choose another out= path.", param="out") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            validate_codebook(tmp)
        except CodebookError as exc:
            raise RefiError(
                source,
                "the codebook made from this file does not pass themekit's checks:\n"
                + "\n".join(f"  - {p}" for p in exc.problems),
                "Report this as a themekit bug, with the file",
            ) from None
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Codebook.load(out)
