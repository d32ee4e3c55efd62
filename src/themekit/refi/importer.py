"""Reading REFI-QDA files safely: a codebook (.qdc) or a project (.qdpx) into themekit's formats."""

from __future__ import annotations

import bisect
import csv
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from themekit._version import __version__
from themekit.codebook import Codebook
from themekit.errors import OutputError, RefiError, ThemekitError
from themekit.ingest import PARTICIPANTS_FILE, apply_folder_roles, read_transcript
from themekit.models import Transcript
from themekit.refi.codebook import ImportedCodebook, build_codebook, checked_codebook, write_codebook_yaml
from themekit.refi.standard import (
    SOURCES_FOLDER,
    CodeNode,
    local,
    norm_guid,
    parse_xml,
    read_code_tree,
)
from themekit.util import limits
from themekit.util.atomic import built_folder
from themekit.util.limits import format_size
from themekit.util.zipguard import ZipGuard, ZipLimitError

__all__ = [
    "QdpxImport",
    "import_qdc",
    "import_qdpx",
]

_DOC_SUFFIX = re.compile(r"\.(txt|text|docx?|rtf|odt|pdf|md|html?|vtt|srt|csv|xlsx?)$", re.IGNORECASE)
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)$", re.IGNORECASE)


# ---------------------------------------------------------------------------
# codebooks


def _read_limited_file(path: Path, limit: int, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise RefiError(path, "is not a file", f"Give the {what} file itself")
        if size > limit:
            raise RefiError(
                path, f"is {format_size(size)}, over the {format_size(limit)} a {what} can be", f"Check it is a {what}"
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise RefiError(path, "no such file", "Check the path") from None
    except OSError as exc:
        raise RefiError(path, f"cannot be read ({exc.strerror})", "Check the file exists and is readable") from None


def _codebook_roots(path: Path) -> tuple[list[CodeNode], str | None]:
    data = _read_limited_file(path, limits.MAX_CODEBOOK_BYTES, "REFI-QDA codebook")
    if data.startswith(b"PK\x03\x04"):
        raise RefiError(
            path,
            "is a zip archive (a .qdpx project?), not a REFI-QDA codebook (.qdc)",
            "Use 'themekit import qdpx' for projects",
        )
    root = parse_xml(data, path, what="the codebook")
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if local(root.tag) == "Project":
        raise RefiError(
            path,
            "is a REFI-QDA project file, not a codebook (.qdc)",
            "Use 'themekit import qdpx' with the .qdpx archive",
        )
    if local(root.tag) != "CodeBook" or not ns.startswith("urn:QDA-XML:"):
        raise RefiError(
            path,
            f"is XML but not a REFI-QDA codebook (its root element is <{local(root.tag)}>, not <CodeBook> in urn:QDA-XML:codebook:1.0)",
            "Export the codebook from your QDA program as a REFI-QDA codebook (.qdc)",
        )
    codes = next((c for c in root if local(c.tag) == "Codes"), None)
    roots = read_code_tree(codes, path, what="the codebook") if codes is not None else []
    if not roots:
        raise RefiError(path, "has no codes", "Export a codebook that has at least one code")
    return roots, root.get("origin")


def import_qdc(path: str | Path, out: str | Path | None = None, *, force: bool = False) -> Codebook:
    """A themekit codebook from a REFI-QDA codebook (``.qdc``); written to ``out`` (YAML) when given.

    Top-level codes with sub-codes become themes and their sub-codes codes
    (nested as deep as they were); top-level codes without sub-codes go under
    one theme, ``imported``. Labels are the code names, definitions their
    descriptions ("(no description in the source codebook)" where there is
    none), ids are made from the names (``Loneliness & isolation`` →
    ``loneliness_isolation``, unique). Keywords are left empty, so semantic
    coding relies on the definitions until keywords are added. What is
    written has passed :func:`~themekit.validate_codebook`; an existing
    ``out`` is only replaced with ``force``.
    """
    path = Path(path)
    roots, origin = _codebook_roots(path)
    made_by = f" (made by {origin})" if origin else ""
    imported = build_codebook(
        roots,
        name=path.stem,
        description=f"Imported from the REFI-QDA codebook {path.name}{made_by}.",
        change=f"Imported from {path.name} by themekit {__version__}",
    )
    if out is not None:
        return write_codebook_yaml(imported.data, Path(out), source=path, force=force)
    _, loaded = checked_codebook(imported.data, path.with_suffix(".yaml"), source=path)
    return Codebook(loaded.spec)


# ---------------------------------------------------------------------------
# projects: the archive


class _Archive:
    """A .qdpx archive opened for reading only the entries needed, each size-bounded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip = _open_zip(path)
        try:
            self.guard = ZipGuard(
                self.zip,
                max_entries=limits.MAX_ZIP_ENTRIES,
                max_total_bytes=limits.MAX_PROJECT_TOTAL_BYTES,
                max_ratio=limits.MAX_COMPRESSION_RATIO,
            )
        except ZipLimitError as exc:
            self.zip.close()
            raise RefiError(path, *_limit_message(exc)) from None
        self.entries: dict[str, list[zipfile.ZipInfo]] = {}
        for info in self.guard.infos:
            self.entries.setdefault(info.filename.replace("\\", "/").casefold(), []).append(info)

    def close(self) -> None:
        self.zip.close()

    def find(self, name: str) -> zipfile.ZipInfo | None:
        found = self.entries.get(name.casefold())
        if found and len(found) > 1:
            raise RefiError(
                self.path,
                f"holds the entry {found[0].filename} {len(found)} times",
                "The archive is damaged; export the project again",
            )
        return found[0] if found else None

    def read(self, info: zipfile.ZipInfo, limit: int, what: str) -> bytes:
        """Read one entry, refusing what unpacks beyond ``limit`` or far beyond its packed size (checked while reading)."""
        name = info.filename
        try:
            return self.guard.read(info, limit=limit, what=what)
        except ZipLimitError as exc:
            raise RefiError(self.path, *_limit_message(exc)) from None
        except RuntimeError:  # encrypted entry
            raise RefiError(
                self.path, f"{what} ({name}) is encrypted", "Export the project again without a password"
            ) from None
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, ValueError) as exc:
            raise RefiError(
                self.path,
                f"{what} ({name}) cannot be unpacked ({exc})",
                "The archive is damaged; export the project again",
            ) from None


def _open_zip(path: Path) -> zipfile.ZipFile:
    """The archive opened (its directory read), or why it is not a .qdpx project."""
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise RefiError(path, "no such file", "Check the path") from None
    except IsADirectoryError:
        raise RefiError(
            path, "is a folder, not a .qdpx file", "Give the .qdpx file exported by your QDA program"
        ) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        try:
            with path.open("rb") as fh:
                head = fh.read(4096)
        except OSError:
            head = b""
        if b"<CodeBook" in head:
            raise RefiError(
                path,
                "is a REFI-QDA codebook (.qdc), not a project (.qdpx)",
                "Use 'themekit codebook import' for codebooks",
            ) from None
        raise RefiError(
            path,
            "is not a REFI-QDA project archive (a .qdpx file is a zip archive; this file is not one, or is damaged)",
            "Export the project again from your QDA program as a REFI-QDA project (.qdpx)",
        ) from None


_SPLIT = "Split the project, or check the file is a genuine export"
#: The fix for each limit a project archive can break (see ZipLimitError.kind).
_LIMIT_FIXES = {
    "size": _SPLIT,
    "ratio": "Check where the file came from and export the project again",
    "total_ratio": "Check where the file came from and export the project again",
    "overrun": "The archive is damaged or crafted; export the project again",
}


def _limit_message(exc: ZipLimitError) -> tuple[str, str]:
    """The problem and fix of a RefiError for a limit the archive broke, in the words of a project."""
    if exc.kind == "entries":
        return (
            f"has {exc.found:,} entries, more than the {exc.limit:,} a project needs; refused unread",
            "Check the file",
        )
    if exc.kind == "total":
        return f"unpacks to more than {format_size(exc.limit)} of project and text; refused", _SPLIT
    return exc.problem, _LIMIT_FIXES[exc.kind]


def _project_entry(archive: _Archive) -> zipfile.ZipInfo:
    top = [infos[0] for name, infos in archive.entries.items() if name.endswith(".qde") and "/" not in name]
    named = archive.find("project.qde")
    if named is not None:
        return named
    if len(top) == 1:
        return top[0]
    if not top:
        raise RefiError(
            archive.path,
            "has no project.qde inside, so it is not a REFI-QDA project",
            "Export the project again from your QDA program as a REFI-QDA project (.qdpx)",
        )
    raise RefiError(
        archive.path,
        f"holds {len(top)} .qde project files and none is called project.qde",
        "Export one project per .qdpx",
    )


# ---------------------------------------------------------------------------
# projects: offsets


def _token_key(token: str) -> str:
    from themekit.ingest.text import normalise_text

    return normalise_text(token).strip()


class _OffsetMap:
    """Moves character positions in a source's text to themekit's normalised text of the same transcript.

    themekit re-renders what it reads (line endings unified, Unicode composed,
    each turn as ``Speaker: speech``), so a position in the project's text and
    one in themekit's are the same only when the two texts have the same
    shape. Otherwise the words of both are aligned, and a position moves with
    the word it is in, or the next (starts) or previous (ends) word kept.
    """

    def __init__(self, source: str, target: str) -> None:
        self.target_len = len(target)
        self.identity = len(source) == len(target) and all(
            a == b or (a.isspace() and b.isspace()) for a, b in zip(source, target)
        )
        if self.identity:
            return
        a = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", source)]
        a = [(s, e, raw, key) for s, e, raw in a if (key := _token_key(raw))]
        b = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", target)]
        self.a_starts = [t[0] for t in a]
        self.a_ends = [t[1] for t in a]
        self.a_tokens = a
        self.b_tokens = b
        self.match: list[int | None] = [None] * len(a)
        matcher = SequenceMatcher(None, [t[3] for t in a], [t[2] for t in b], autojunk=len(a) > 5000)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                self.match[block.a + k] = block.b + k

    def _inside(self, i: int, offset: int) -> int:
        """Position ``offset`` characters into source word ``i``, in its matched target word."""
        raw = self.a_tokens[i][2]
        j = self.match[i]
        assert j is not None
        start, _, word = self.b_tokens[j]
        if raw == word:
            return start + offset
        return start + min(len(word), round(offset * len(word) / max(len(raw), 1)))

    def start(self, pos: int) -> int:
        if self.identity:
            return pos
        i = bisect.bisect_right(self.a_ends, pos)  # first word ending after pos: pos is in it or before it
        for k in range(i, len(self.a_tokens)):
            if self.match[k] is not None:
                if k == i and self.a_starts[k] < pos:
                    return self._inside(k, pos - self.a_starts[k])
                return self.b_tokens[self.match[k]][0]  # type: ignore[index]
        return self.target_len

    def end(self, pos: int) -> int:
        if self.identity:
            return pos
        i = bisect.bisect_left(self.a_starts, pos) - 1  # last word starting before pos: pos is in it or after it
        for k in range(i, -1, -1):
            if self.match[k] is not None:
                if k == i and pos < self.a_ends[k]:
                    return self._inside(k, pos - self.a_starts[k])
                return self.b_tokens[self.match[k]][1]  # type: ignore[index]
        return 0


# ---------------------------------------------------------------------------
# projects: reading project.qde


@dataclass
class _Source:
    guid: str
    name: str
    text: str
    attributes: dict[str, str] = field(default_factory=dict)
    file_name: str = ""


@dataclass
class _RawCoding:
    source: int
    start: int
    end: int
    code: str  # normalised code GUID
    coder: str


@dataclass
class QdpxImport:
    """What :func:`import_qdpx` wrote into the folder."""

    out_dir: Path
    transcripts: list[Path]
    codings: int
    coders: list[str]
    gold: Path | None
    coder_files: list[Path]
    codebook: Path | None
    participants: Path | None
    codes: int = 0
    matched_codes: int = 0
    notes: list[str] = field(default_factory=list)
    #: sources the project names whose text is not in the archive (name and where it should be); left out with their codings
    missing_sources: list[str] = field(default_factory=list)


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in element if local(c.tag) == name]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if local(c.tag) == name), None)


def _value_text(holder: ET.Element) -> str:
    for child in holder:
        if local(child.tag) in (
            "TextValue",
            "BooleanValue",
            "IntegerValue",
            "FloatValue",
            "DateValue",
            "DateTimeValue",
        ):
            return (child.text or "").strip()
    return ""


def _safe_name(name: str, taken: set[str], fallback: str) -> str:
    """A file name stem from a source name: no folders, no odd characters, not reserved, unique (case-insensitively)."""
    base = re.split(r"[\\/]", name.strip())[-1]
    base = _DOC_SUFFIX.sub("", base)
    base = re.sub(r"[^\w\-. ()]+", "_", base, flags=re.UNICODE).strip(" ._")
    base = re.sub(r"\s+", " ", base)[:100].strip(" ._")
    if not base:
        base = fallback
    if _WINDOWS_RESERVED.match(base) or base.casefold() in ("readme", "gold", "participants"):
        base = f"{base}_source"
    candidate, n = base, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{base} ({n})"
    taken.add(candidate.casefold())
    return candidate


def _int_attr(element: ET.Element, name: str, path: Path, where: str) -> int:
    raw = element.get(name)
    try:
        return int((raw or "").strip())
    except ValueError:
        raise RefiError(
            path, f"{where} has {name}={raw!r}, which is not a whole number", "The project is damaged; export it again"
        ) from None


def _read_sources(
    root: ET.Element, archive: _Archive, notes: list[str], missing: list[str]
) -> tuple[list[_Source], list[_RawCoding], dict[str, str]]:
    """The project's text sources (their text, variable values and coded selections) and its variables by GUID.

    A source whose text is not in the archive is listed in ``missing`` and left out with its codings."""
    users = {
        norm_guid(u.get("guid")): (u.get("name") or u.get("id") or "").strip()
        for u in _children(_child(root, "Users") or ET.Element("x"), "User")
    }
    sources: list[_Source] = []
    codings: list[_RawCoding] = []
    skipped: dict[str, int] = {}
    whole_document = empty = 0
    holder = _child(root, "Sources")
    for element in list(holder) if holder is not None else []:
        kind = local(element.tag)
        if kind != "TextSource":
            skipped[kind] = skipped.get(kind, 0) + 1
            continue
        name = (element.get("name") or "").strip()
        label = f"source '{name or element.get('guid')}'"
        text = _source_text(element, label, archive, missing)
        if text is None:
            continue
        source = _Source(norm_guid(element.get("guid")), name, text)
        index = len(sources)
        sources.append(source)
        for value in _children(element, "VariableValue"):
            ref = _child(value, "VariableRef")
            if ref is not None:
                source.attributes[norm_guid(ref.get("targetGUID"))] = _value_text(value)
        whole_document += len(_children(element, "Coding"))
        coded, empty_here = _selection_codings(element, label, index, source.text, users, archive.path)
        codings += coded
        empty += empty_here
    if skipped:
        listed = ", ".join(f"{n} {kind}" for kind, n in sorted(skipped.items()))
        notes.append(f"only text sources are imported; left out: {listed}")
    if whole_document:
        notes.append(f"{whole_document} codings of whole documents were left out (gold.csv holds coded text spans)")
    if empty:
        notes.append(f"{empty} codings of empty selections were left out")
    variables = {
        norm_guid(v.get("guid")): (v.get("name") or "").strip()
        for v in _children(_child(root, "Variables") or ET.Element("x"), "Variable")
    }
    return sources, codings, variables


def _source_text(element: ET.Element, label: str, archive: _Archive, missing: list[str]) -> str | None:
    """A TextSource's plain text: its file inside the archive (``internal://``, in the sources folder in any case), or
    its PlainTextContent; None (and the source listed in ``missing``) when the archive does not hold it."""
    path = archive.path
    content = _child(element, "PlainTextContent")
    text_path = (element.get("plainTextPath") or "").strip()
    if text_path:
        if not text_path.casefold().startswith("internal://"):
            if content is None:
                missing.append(f"{label} (kept outside the project: {text_path})")
                return None
            return _content_text(content, label, path)
        file_name = text_path[len("internal://") :]
        if not file_name or any(x in file_name for x in ("/", "\\", "\x00")) or file_name in (".", ".."):
            raise RefiError(
                path,
                f'{label} points at "{text_path}", outside the archive\'s {SOURCES_FOLDER} folder; refused',
                "Export the project again from your QDA program",
            )
        info = archive.find(f"{SOURCES_FOLDER}/{file_name}")
        if info is None:
            if content is not None:
                return _content_text(content, label, path)
            missing.append(f"{label} ({SOURCES_FOLDER}/{file_name})")
            return None
        data = archive.read(info, limits.MAX_FILE_BYTES, label)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RefiError(
                path,
                f"{label} ({info.filename}) is not UTF-8 text (byte {exc.start})",
                "REFI-QDA plain text is UTF-8; export the project again",
            ) from None
    if content is not None:
        return _content_text(content, label, path)
    missing.append(f"{label} (neither a plainTextPath nor PlainTextContent)")
    return None


def _content_text(content: ET.Element, label: str, path: Path) -> str:
    """A source's text held in project.qde itself (PlainTextContent), bounded like a source file."""
    text = content.text or ""
    if len(text.encode("utf-8")) > limits.MAX_FILE_BYTES:
        raise RefiError(
            path, f"{label} is over {format_size(limits.MAX_FILE_BYTES)} of text", "Split the source in the QDA program"
        )
    return text


def _selection_codings(
    element: ET.Element, label: str, index: int, text: str, users: dict[str, str], path: Path
) -> tuple[list[_RawCoding], int]:
    """The codings of a TextSource's selections (source number ``index``), and how many were of empty selections."""
    codings: list[_RawCoding] = []
    empty = 0
    for selection in _children(element, "PlainTextSelection"):
        where = f"{label}, selection '{selection.get('name') or selection.get('guid')}'"
        start = _int_attr(selection, "startPosition", path, where)
        end = _int_attr(selection, "endPosition", path, where)
        if not 0 <= start <= end <= len(text):
            raise RefiError(
                path,
                f"{where} runs from character {start} to {end}, but the source has {len(text)} characters",
                "The selection is out of range of its source; the project is damaged or its sources were changed. Export it again",
            )
        selection_user = norm_guid(selection.get("creatingUser") or selection.get("modifyingUser"))
        for coding in _children(selection, "Coding"):
            ref = _child(coding, "CodeRef")
            if ref is None or not ref.get("targetGUID"):
                raise RefiError(
                    path, f"{where} has a Coding without a CodeRef", "The project is damaged; export it again"
                )
            if start == end:
                empty += 1
                continue
            user = norm_guid(coding.get("creatingUser")) or selection_user
            coder = users.get(user) or (f"user {user[:8]}" if user else "unknown")
            codings.append(_RawCoding(index, start, end, norm_guid(ref.get("targetGUID")), coder))
    return codings, empty


def _case_attributes(
    root: ET.Element, sources: list[_Source], variables: dict[str, str], notes: list[str]
) -> dict[int, dict[str, str]]:
    """Attributes per source: variables of the cases that refer to it, then the source's own variable values."""
    by_guid = {s.guid: i for i, s in enumerate(sources)}
    result: dict[int, dict[str, str]] = {i: {} for i in range(len(sources))}
    conflicts = 0
    cases_named: dict[int, list[str]] = {}
    for case in _children(_child(root, "Cases") or ET.Element("x"), "Case"):
        values = {}
        for value in _children(case, "VariableValue"):
            ref = _child(value, "VariableRef")
            name = variables.get(norm_guid(ref.get("targetGUID"))) if ref is not None else None
            if name:
                values[name] = _value_text(value)
        for ref in _children(case, "SourceRef"):
            i = by_guid.get(norm_guid(ref.get("targetGUID")))
            if i is None:
                continue
            cases_named.setdefault(i, []).append((case.get("name") or "").strip())
            for name, value in values.items():
                if name in result[i] and result[i][name] != value:
                    conflicts += 1
                    continue
                result[i][name] = value
    for i, source in enumerate(sources):
        for ref_guid, value in source.attributes.items():
            name = variables.get(ref_guid)
            if name:
                result[i].setdefault(name, value)
    for i, names in cases_named.items():
        named = [n for n in names if n]
        if named and (len(named) > 1 or named[0] != sources[i].file_name):
            result[i] = {"case": "; ".join(named), **result[i]}
    if conflicts:
        notes.append(
            f"{conflicts} variable values differed between cases sharing a source; the first case's values were kept"
        )
    return result


# ---------------------------------------------------------------------------
# projects: writing the folder


def _check_out_dir(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder. Choose another out= path.", param="out")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputError(
            f"{out}: the folder is not empty. Choose a new out= folder, or add force=True to replace it.",
            param=("out", "force"),
        )


def _merge(rows: list[tuple[str, int, int, str, str]]) -> tuple[list[tuple[str, int, int, str, str]], int]:
    """Join codings of one code whose spans overlap, so gold.csv holds each passage once; coders are listed together."""
    rows = sorted(rows, key=lambda r: (r[0], r[3], r[1], r[2]))
    merged: list[list] = []
    joined = 0
    for tid, start, end, code, coder in rows:
        last = merged[-1] if merged else None
        if last is not None and last[0] == tid and last[3] == code and start < last[2]:
            if (start, end) != (last[1], last[2]):
                joined += 1
            last[2] = max(last[2], end)
            if coder not in last[4]:
                last[4].append(coder)
            continue
        merged.append([tid, start, end, code, [coder]])
    return [(t, s, e, c, "; ".join(sorted(who))) for t, s, e, c, who in merged], joined


def _csv(rows: list[list[str | int]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def import_qdpx(
    path: str | Path,
    out_dir: str | Path,
    *,
    codebook: Codebook | str | Path | None = None,
    force: bool = False,
) -> QdpxImport:
    """Unpack a REFI-QDA project (``.qdpx``) into a folder themekit codes and evaluates directly.

    Writes ``<source name>.txt`` per text source (its plain text as the
    project holds it), ``gold.csv`` (one row per coded span: ``transcript``,
    ``char_start``, ``char_end``, ``code``, ``coder``, ``text``; offsets into
    the text themekit reads from those files, so ``themekit evaluate`` and
    ``themekit code`` take it as it is; codings of interviewer speech are left
    out and overlapping spans of one code joined), ``coders/<coder>.csv`` when several
    people coded (one file each, for ``themekit agree``), ``codebook.yaml``
    from the project's codebook (see :func:`import_qdc`; a code coded
    directly on a theme gets a "(general)" code) and ``participants.csv``
    from its cases and variables.

    With ``codebook`` (a themekit codebook, such as the one the project was
    exported with), codes keep that codebook's ids: matched by the GUID
    themekit gave them, else by name. The archive is read safely: only the
    entries named by the project are read (never extracted by their names),
    sizes and compression ratios are bounded, XML may not declare DTDs or
    entities, and every selection must lie inside its source and name a code
    of the codebook. Nothing is written unless all of that holds; an
    existing non-empty folder is only replaced with ``force``.
    """
    path = Path(path)
    out = Path(out_dir)
    if codebook is not None and not isinstance(codebook, Codebook):
        codebook = Codebook.load(codebook)
    _check_out_dir(out, force)
    notes: list[str] = []
    project = _read_project(path, notes)
    imported = _imported_codebook(project, path, codebook)
    taken: set[str] = set()
    for n, source in enumerate(project.sources, start=1):
        source.file_name = _safe_name(source.name, taken, f"source_{n}")
    attributes = _case_attributes(project.root, project.sources, project.variables, notes)
    with built_folder(out) as tmp:
        read = _write_sources(tmp, project.sources, notes)
        rows = _gold_rows(project, read, imported, notes)
        gold, coders, coder_files = _write_gold(tmp, out, rows, project, read, notes)
        codebook_path = _write_codebook(tmp, out, imported, path, notes)
        participants = _write_participants(tmp, out, project.sources, attributes)
    return QdpxImport(
        out_dir=out,
        transcripts=[out / f"{source.file_name}.txt" for source in project.sources],
        codings=len(rows),
        coders=coders,
        gold=gold,
        coder_files=coder_files,
        codebook=codebook_path,
        participants=participants,
        codes=imported.code_count if imported else 0,
        matched_codes=imported.matched if imported else 0,
        notes=notes,
        missing_sources=project.missing,
    )


@dataclass
class _Project:
    """What project.qde holds, as read: its code tree, text sources, their codings, and its variables by GUID."""

    root: ET.Element
    roots: list[CodeNode]
    sources: list[_Source]
    codings: list[_RawCoding]
    variables: dict[str, str]
    #: sources named in project.qde whose text the archive does not hold
    missing: list[str] = field(default_factory=list)


def _read_project(path: Path, notes: list[str]) -> _Project:
    """project.qde read from the archive, with the sources it names; nothing else in the archive is read."""
    archive = _Archive(path)
    try:
        entry = _project_entry(archive)
        root = parse_xml(archive.read(entry, limits.MAX_PROJECT_BYTES, entry.filename), path, what=entry.filename)
        ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        if local(root.tag) != "Project" or not ns.startswith("urn:QDA-XML:"):
            raise RefiError(
                path,
                f"{entry.filename} is XML but not a REFI-QDA project (root element <{local(root.tag)}>, not <Project> in urn:QDA-XML:project:1.0)",
                "Export the project again from your QDA program as a REFI-QDA project (.qdpx)",
            )
        book = _child(root, "CodeBook")
        codes_el = _child(book, "Codes") if book is not None else None
        roots = read_code_tree(codes_el, path, what="the project's codebook") if codes_el is not None else []
        missing: list[str] = []
        sources, codings, variables = _read_sources(root, archive, notes, missing)
    finally:
        archive.close()
    if missing and not sources and not roots:
        raise RefiError(
            path,
            f"holds no source texts (missing: {'; '.join(missing)}) and no codebook, so there is nothing to import",
            "Export the project again with its sources included",
        )
    if missing:
        count = f"{len(missing)} source{'s' if len(missing) != 1 else ''}"
        notes.append(
            f"{count} named in the project {'are' if len(missing) != 1 else 'is'} not in the archive, so "
            f"{'their' if len(missing) != 1 else 'its'} text and codings were not imported "
            f"(the codebook and code tree were): {'; '.join(missing)}"
        )
    return _Project(root, roots, sources, codings, variables, missing)


def _imported_codebook(project: _Project, path: Path, match: Codebook | None) -> ImportedCodebook | None:
    """The project's codebook as a themekit codebook (None when it has none); every coding must name one of its codes."""
    all_guids: set[str] = set()
    stack = list(project.roots)
    while stack:
        node = stack.pop()
        all_guids.add(node.guid)
        stack.extend(node.children)
    unknown = sorted({c.code for c in project.codings} - all_guids)
    if unknown:
        raise RefiError(
            path,
            f"{len(unknown)} coding(s) refer to a code that is not in the project's codebook (CodeRef targetGUID {unknown[0]}"
            + (f" and {len(unknown) - 1} more" if len(unknown) > 1 else "")
            + ")",
            "The project is damaged; export it again from your QDA program",
        )
    if not project.roots:
        return None
    project_name = (project.root.get("name") or "").strip() or path.stem
    origin = project.root.get("origin")
    return build_codebook(
        project.roots,
        name=project_name,
        description=f"Imported from the REFI-QDA project {path.name}" + (f" (made by {origin})." if origin else "."),
        change=f"Imported from {path.name} by themekit {__version__}",
        coded={c.code for c in project.codings},
        match=match,
    )


@dataclass
class _Readable:
    """A source as themekit reads the file written for it: where positions move, its text, its participant speech."""

    offsets: _OffsetMap
    text: str
    speech: list[tuple[int, int]]


def _write_sources(tmp: Path, sources: list[_Source], notes: list[str]) -> list[_Readable | None]:
    """Each source's text as ``<file name>.txt`` in ``tmp``, read back as a transcript (None, and a note, where it cannot be)."""
    transcripts: list[Transcript | None] = []
    for source in sources:
        file = tmp / f"{source.file_name}.txt"
        file.write_text(source.text, encoding="utf-8", newline="")
        try:
            transcripts.append(read_transcript(file, max_bytes=limits.MAX_FILE_BYTES + 1))
        except ThemekitError as exc:
            notes.append(
                f"{file.name}: themekit cannot read it as a transcript ({exc.message.split(': ', 1)[-1]}); its codings are left out"
            )
            transcripts.append(None)
    # roles as themekit code will decide them over the folder: the study's interviewer is never a participant
    decided = iter(apply_folder_roles(t for t in transcripts if t is not None))
    read: list[_Readable | None] = []
    for source, transcript in zip(sources, transcripts):
        if transcript is None:
            read.append(None)
            continue
        transcript = next(decided)
        speech = [(turn.start, turn.end) for turn in transcript.participant_turns]
        read.append(_Readable(_OffsetMap(source.text, transcript.text), transcript.text, speech))
    return read


_GoldRow = tuple[str, int, int, str, str]  # transcript file name, start, end, code id, coder
_GOLD_HEADER = ["transcript", "char_start", "char_end", "code", "coder", "text"]


def _gold_rows(
    project: _Project, read: list[_Readable | None], imported: ImportedCodebook | None, notes: list[str]
) -> list[_GoldRow]:
    """The codings moved to themekit's text; those of unreadable sources, of text themekit does not keep and of interviewer speech left out."""
    rows: list[_GoldRow] = []
    lost = asked = 0
    for c in project.codings:
        source = read[c.source]
        if source is None or imported is None:
            continue
        start, end = source.offsets.start(c.start), source.offsets.end(c.end)
        if end <= start:
            lost += 1
            continue
        if not any(start < turn_end and turn_start < end for turn_start, turn_end in source.speech):
            asked += 1
            continue
        rows.append((project.sources[c.source].file_name, start, end, imported.codes[c.code][1], c.coder))
    if lost:
        notes.append(
            f"{lost} codings cover only text themekit does not keep as speech (such as speaker labels or timestamps) and were left out"
        )
    if asked:
        notes.append(
            f"{asked} codings of interviewer speech were left out (themekit codes and scores participant speech)"
        )
    return rows


def _write_gold(
    tmp: Path, out: Path, rows: list[_GoldRow], project: _Project, read: list[_Readable | None], notes: list[str]
) -> tuple[Path | None, list[str], list[Path]]:
    """``gold.csv`` and, when several people coded, ``coders/<coder>.csv``; the gold file, the coders and their files."""
    coders = sorted({r[4] for r in rows}, key=str.casefold)
    if not rows:
        if not project.codings:
            notes.append("the project has no text codings, so no gold.csv was written")
        return None, coders, []
    order = {s.file_name: i for i, s in enumerate(project.sources)}
    text_of = {s.file_name: r.text if r is not None else "" for s, r in zip(project.sources, read)}
    text, joined = _gold_table(rows, order, text_of)
    (tmp / "gold.csv").write_text(text, encoding="utf-8")
    if joined:
        notes.append(
            f"{joined} codings overlapped another of the same code and were joined in gold.csv"
            + (" (coders/ keeps each coder's own)" if len(coders) > 1 else "")
        )
    coder_files: list[Path] = []
    if len(coders) > 1:
        (tmp / "coders").mkdir()
        names: set[str] = set()
        for coder in coders:
            file_name = _safe_name(coder, names, "coder") + ".csv"
            (tmp / "coders" / file_name).write_text(
                _gold_table([r for r in rows if r[4] == coder], order, text_of)[0], encoding="utf-8"
            )
            coder_files.append(out / "coders" / file_name)
    return out / "gold.csv", coders, coder_files


def _gold_table(selected: list[_GoldRow], order: dict[str, int], text_of: dict[str, str]) -> tuple[str, int]:
    """Gold CSV of the rows, overlapping spans of one code joined, in source order; and how many were joined."""
    merged, joined = _merge(selected)
    merged.sort(key=lambda r: (order[r[0]], r[1], r[2], r[3]))
    return _csv([_GOLD_HEADER, *[[t, s, e, c, who, text_of[t][s:e]] for t, s, e, c, who in merged]]), joined


def _write_codebook(
    tmp: Path, out: Path, imported: ImportedCodebook | None, path: Path, notes: list[str]
) -> Path | None:
    """``codebook.yaml``, once themekit's checks pass it; None (and a note) when the project has no codebook."""
    if imported is None:
        notes.append("the project has no codebook, so no codebook.yaml was written")
        return None
    write_codebook_yaml(imported.data, tmp / "codebook.yaml", source=path)
    return out / "codebook.yaml"


def _write_participants(
    tmp: Path, out: Path, sources: list[_Source], attributes: dict[int, dict[str, str]]
) -> Path | None:
    """``participants.csv`` from the sources' case attributes; None (nothing written) when they have none."""
    columns: list[str] = []
    for i in range(len(sources)):
        for name in attributes[i]:
            if name not in columns:
                columns.append(name)
    if not columns:
        return None
    # the first column joins rows to transcripts; a variable of that name is renamed
    header_names = [f"{c} (variable)" if c.strip().casefold() == "transcript" else c for c in columns]
    body = [["transcript", *header_names]] + [
        [s.file_name, *(attributes[i].get(c, "") for c in columns)] for i, s in enumerate(sources)
    ]
    (tmp / PARTICIPANTS_FILE).write_text(_csv(body), encoding="utf-8")
    return out / PARTICIPANTS_FILE
