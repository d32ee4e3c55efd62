"""What export and import share: namespaces, stable GUIDs, safe XML parsing, ids from names."""

from __future__ import annotations

import re
import unicodedata
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from themekit.errors import RefiError

__all__ = [
    "CODEBOOK_NS",
    "PROJECT_NS",
    "SOURCES_FOLDER",
    "THEMEKIT_NAMESPACE",
    "guid",
    "parse_xml",
    "slug_id",
]

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"

#: The folder of a .qdpx archive that holds its source files, named as the REFI-QDA standard names it (lower case;
#: qualitative-coding looks for exactly this name). Readers match it in any case.
SOURCES_FOLDER = "sources"

#: GUIDs themekit writes are UUID5s in this namespace, so the same codebook, code
#: or transcript gets the same GUID in every export (re-exports are byte-identical).
THEMEKIT_NAMESPACE = uuid.UUID("f00eea94-c9cc-5cb4-ac6d-632723ecce64")

#: Deepest nesting of Code elements read; a real codebook is a few levels deep.
MAX_CODE_DEPTH = 50

_ID_MAX = 64


def guid(*parts: str) -> str:
    """A stable GUID for a thing, from the parts that identify it."""
    return str(uuid.uuid5(THEMEKIT_NAMESPACE, "\x1f".join(parts)))


def norm_guid(value: str | None) -> str:
    """GUIDs compare case-insensitively and may be written in braces (``{...}``)."""
    return (value or "").strip().strip("{}").lower()


def local(tag: object) -> str:
    """An element's name without its namespace (``{urn:...}Code`` → ``Code``)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_xml(data: bytes, path: str | Path, *, what: str) -> ET.Element:
    """Parse XML with defusedxml: no DTDs, no entities, nothing fetched; errors name the file and the fix."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise RefiError(
            path,
            f"{what} declares a DTD or entities, which REFI-QDA files never need; refused for safety (nothing was read)",
            "Export the file again from the QDA program it came from",
        ) from None
    except ET.ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        where = f" at line {line}, column {column + 1}" if line is not None and column is not None else ""
        reason = str(exc).split(":", 1)[0]
        raise RefiError(
            path,
            f"{what} is not well-formed XML ({reason}{where})",
            "The file is damaged or not a REFI-QDA export; export it again from the QDA program",
        ) from None
    except (ValueError, RecursionError) as exc:
        raise RefiError(
            path, f"{what} could not be parsed as XML ({exc})", "Export the file again from the QDA program"
        ) from None


def slug_id(name: str, taken: set[str], *, fallback: str = "code") -> str:
    """A codebook id from a name: ASCII letters, digits and '_', starting with a letter, unique in ``taken``.

    ``"Loneliness & isolation"`` → ``loneliness_isolation``; ``"2nd job"`` → ``c_2nd_job``;
    a name with no Latin letters gets ``fallback``; clashes get ``_2``, ``_3``, …
    The id is added to ``taken``.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    if not base:
        base = fallback
    elif not base[0].isalpha():
        base = f"c_{base}"
    base = base[:_ID_MAX].rstrip("_")
    candidate, n = base, 1
    while candidate.casefold() in {t.casefold() for t in taken}:
        n += 1
        suffix = f"_{n}"
        candidate = base[: _ID_MAX - len(suffix)].rstrip("_") + suffix
    taken.add(candidate)
    return candidate


# ---------------------------------------------------------------------------
# reading a codebook tree (the same shape in .qdc files and in project.qde)


@dataclass
class CodeNode:
    """One Code element as read: its GUID, name, description, whether it may be coded, its children."""

    guid: str
    name: str
    description: str
    codable: bool
    children: list[CodeNode] = field(default_factory=list)


def read_code_tree(codes_element: ET.Element, path: str | Path, *, what: str) -> list[CodeNode]:
    """The Code elements under a ``Codes`` element, as a tree (iteratively, so deep nesting cannot overflow)."""
    roots: list[CodeNode] = []
    seen: dict[str, str] = {}
    stack: list[tuple[ET.Element, list[CodeNode], int]] = [
        (el, roots, 1) for el in reversed([c for c in codes_element if local(c.tag) == "Code"])
    ]
    while stack:
        element, siblings, depth = stack.pop()
        if depth > MAX_CODE_DEPTH:
            raise RefiError(
                path,
                f"{what} nests codes more than {MAX_CODE_DEPTH} levels deep",
                "Flatten the code tree in the QDA program and export again",
            )
        raw_guid = element.get("guid")
        name = (element.get("name") or "").strip()
        if not raw_guid:
            raise RefiError(
                path,
                f"{what}: the code '{name or '(unnamed)'}' has no guid attribute",
                "Export the codebook again from the QDA program",
            )
        key = norm_guid(raw_guid)
        if key in seen:
            raise RefiError(
                path,
                f"{what}: codes '{seen[key]}' and '{name}' share the guid {raw_guid}",
                "Every code needs its own guid; export the codebook again from the QDA program",
            )
        seen[key] = name
        description = ""
        for child in element:
            if local(child.tag) == "Description":
                description = (child.text or "").strip()
                break
        node = CodeNode(
            key, name, description, (element.get("isCodable") or "true").strip().lower() not in ("false", "0")
        )
        siblings.append(node)
        children = [c for c in element if local(c.tag) == "Code"]
        stack.extend((c, node.children, depth + 1) for c in reversed(children))
    return roots
