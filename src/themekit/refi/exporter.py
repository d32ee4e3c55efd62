"""Writing REFI-QDA files: a codebook (.qdc) and a project (.qdpx) from a run."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from themekit._version import __version__
from themekit.codebook import Codebook
from themekit.errors import RefiError
from themekit.models import CONFIRMED
from themekit.refi.codebook import codes_element, item_guid
from themekit.refi.standard import CODEBOOK_NS, PROJECT_NS, SOURCES_FOLDER, guid
from themekit.runs.folder import read_run
from themekit.runs.record import RunRecord
from themekit.util.atomic import atomic_write_bytes
from themekit.util.sanitize import xml_safe

if TYPE_CHECKING:
    from themekit.export.privacy import Privacy
    from themekit.models import Coding, Transcript

__all__ = ["QdpxExport", "export_qdc", "export_qdpx"]

#: The zip timestamp of every entry, so the same run always gives the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_SELECTION_NAME_CHARS = 60


def _serialise(root: ET.Element) -> bytes:
    """UTF-8 XML with a declaration; the tree's tags are plain names and the root carries ``xmlns``."""
    ET.indent(root, space="  ")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n").encode("utf-8")


def export_qdc(codebook: Codebook | str | Path, path: str | Path) -> Path:
    """Write ``codebook`` as a REFI-QDA codebook (``.qdc``), validated by Codebook.xsd.

    Themes become parent codes (not codable themselves), codes and sub-codes
    nest under them; each code's label is its ``name`` and its definition its
    ``Description``. GUIDs are derived from the codebook's name and each id,
    so exporting the same codebook again gives the same bytes, and codes keep
    their GUIDs in every project exported from runs with this codebook.
    """
    if not isinstance(codebook, Codebook):
        codebook = Codebook.load(codebook)
    root = ET.Element("CodeBook", {"xmlns": CODEBOOK_NS, "origin": f"themekit {__version__}"})
    codes_element(root, codebook)
    return atomic_write_bytes(Path(path), _serialise(root))


@dataclass
class QdpxExport:
    """What :func:`export_qdpx` wrote, and what it left out."""

    path: Path
    sources: int
    codings: int
    selections: int
    #: codings of the run by status, before filtering
    statuses: dict[str, int] = field(default_factory=dict)
    include_suggested: bool = False
    #: negated codings left out (a negated keyword is no evidence that the code applies)
    negated: int = 0

    @property
    def notes(self) -> list[str]:
        """Sentences for the user about what was left out."""
        notes = []
        suggested = self.statuses.get("suggested", 0)
        if self.codings == 0 and not self.include_suggested and suggested:
            notes.append(
                f"no codings were exported: all {suggested} codings of this run are 'suggested' (machine codings "
                "nobody has reviewed yet), and only accepted or human codings are exported by default. The project "
                "holds the transcripts, codebook and cases; add include_suggested=True to export the suggested codings "
                "for review in NVivo, ATLAS.ti, MAXQDA or QualCoder"
            )
        elif suggested and not self.include_suggested:
            notes.append(f"{suggested} suggested codings were left out (add include_suggested=True to export them)")
        if self.statuses.get("rejected"):
            notes.append(f"{self.statuses['rejected']} rejected codings were left out")
        if self.negated:
            notes.append(
                f"{self.negated} negated codings (a keyword under a negation, such as 'never lonely') were left out"
            )
        return notes


def _variable_type(values: list[str]) -> str:
    """The REFI-QDA type of a case attribute: Integer, Float, Date or Boolean when every value is one, else Text."""
    present = [v.strip() for v in values if v.strip()]
    if not present:
        return "Text"
    if all(re.fullmatch(r"[+-]?\d{1,18}", v) for v in present):
        return "Integer"
    if all(re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)", v) for v in present):
        return "Float"
    if all(v in ("true", "false") for v in present):
        return "Boolean"

    def is_date(v: str) -> bool:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            return False
        try:
            dt.date.fromisoformat(v)
        except ValueError:
            return False
        return True

    if all(is_date(v) for v in present):
        return "Date"
    return "Text"


_VALUE_ELEMENT = {
    "Text": "TextValue",
    "Integer": "IntegerValue",
    "Float": "FloatValue",
    "Boolean": "BooleanValue",
    "Date": "DateValue",
}


def _describe(coding: Coding, label: str) -> str:
    return f"{label} — themekit {coding.method}, score {coding.score:.2f}, {coding.status}: {coding.evidence}".strip()


def export_qdpx(
    run: RunRecord | str | Path,
    path: str | Path,
    *,
    include_suggested: bool = False,
    privacy: Privacy | None = None,
) -> QdpxExport:
    """Write a run as a REFI-QDA project (``.qdpx``) that NVivo, ATLAS.ti, MAXQDA and QualCoder open.

    ``run`` is a :class:`~themekit.Run` or a run folder. The archive holds
    ``project.qde`` (validated by Project.xsd) and ``sources/<guid>.txt`` (the folder
    named as the standard names it):
    each transcript's normalised text (UTF-8), so selection positions are
    themekit's own character offsets (Unicode code points, see
    :mod:`themekit.refi`). Codings become ``PlainTextSelection`` elements (one
    per coded segment, with a ``Coding`` per code); only accepted and human
    codings unless ``include_suggested``; rejected codings never, and negated
    ones only when a person accepted them. Machine codings are made by the
    user "themekit", codings with method ``human`` by the user "human coder".
    Each transcript is a case with its attributes as variables.

    ``privacy`` (:class:`~themekit.export.privacy.Privacy`) pseudonymises
    transcript names and speakers and redacts terms in the text; selection
    positions are moved to match.
    """
    if not isinstance(run, RunRecord):
        run = read_run(run)
    chosen, statuses, negated = _chosen_codings(run.codings, include_suggested)
    has_human = any(c.method == "human" for codings in chosen.values() for c in codings)
    project = _project_element(run, has_human=has_human)
    transcripts = list(run.corpus)
    source_guids = {t.id: guid("source", t.id, t.sha256) for t in transcripts}
    _add_cases(project, transcripts, source_guids, privacy)
    files, n_codings, n_selections = _add_sources(project, transcripts, source_guids, chosen, run.codebook, privacy)
    written = atomic_write_bytes(Path(path), _archive_bytes([("project.qde", _serialise(project)), *files]))
    return QdpxExport(written, len(transcripts), n_codings, n_selections, dict(statuses), include_suggested, negated)


_THEMEKIT_USER = guid("user", "themekit")
_HUMAN_USER = guid("user", "human")


def _el(parent: ET.Element, name: str, attrib: dict[str, str] | None = None, text: str | None = None) -> ET.Element:
    """A child element; its text made safe for XML."""
    element = ET.SubElement(parent, name, attrib or {})
    if text is not None:
        element.text = xml_safe(text)
    return element


def _who(privacy: Privacy | None) -> Callable[[str], str]:
    """How a transcript is named in the project: its pseudonym with ``privacy``, else its id."""
    return privacy.who if privacy is not None else (lambda x: x)


def _chosen_codings(codings: Iterable[Coding], include_suggested: bool) -> tuple[dict[str, list[Coding]], Counter, int]:
    """The codings to export by transcript id, the run's codings by status, and how many negated ones were left out."""
    wanted = set(CONFIRMED) | ({"suggested"} if include_suggested else set())
    statuses: Counter = Counter()
    negated = 0
    chosen: dict[str, list[Coding]] = {}
    for coding in codings:
        statuses[coding.status] += 1
        if coding.status not in wanted or coding.segment.role != "participant":  # interviewer speech is never exported
            continue
        if coding.negated and coding.status not in CONFIRMED:
            negated += 1
            continue
        chosen.setdefault(coding.segment.transcript.id, []).append(coding)
    return chosen, statuses, negated


def _project_element(run: RunRecord, *, has_human: bool) -> ET.Element:
    """The Project element with its users and the run's codebook."""
    codebook = run.codebook
    project = ET.Element(
        "Project",
        {
            "xmlns": PROJECT_NS,
            "name": xml_safe(f"{codebook.name} (themekit run {run.id})"),
            "origin": f"themekit {__version__}",
            "creatingUserGUID": _THEMEKIT_USER,
        },
    )
    users = _el(project, "Users")
    _el(users, "User", {"guid": _THEMEKIT_USER, "name": "themekit", "id": "themekit"})
    if has_human:
        _el(users, "User", {"guid": _HUMAN_USER, "name": "human coder", "id": "human"})
    codes_element(_el(project, "CodeBook"), codebook)
    return project


def _add_cases(
    project: ET.Element, transcripts: list[Transcript], source_guids: dict[str, str], privacy: Privacy | None
) -> None:
    """Variables (one per case attribute, typed by its values) and a Case per transcript with its values and source."""
    variables: dict[str, list[str]] = {}
    for t in transcripts:
        for name, value in t.attributes.items():
            variables.setdefault(str(name), []).append(str(value))
    kinds = {name: _variable_type(values) for name, values in variables.items()}
    if variables:
        holder = _el(project, "Variables")
        for name in variables:
            _el(
                holder,
                "Variable",
                {"guid": guid("variable", name), "name": xml_safe(name), "typeOfVariable": kinds[name]},
            )
    if not transcripts:
        return
    who = _who(privacy)
    cases = _el(project, "Cases")
    for t in transcripts:
        case = _el(cases, "Case", {"guid": guid("case", t.id), "name": xml_safe(who(t.id))})
        for name, value in t.attributes.items():
            value = str(value).strip()
            if not value:
                continue
            holder = _el(case, "VariableValue")
            _el(holder, "VariableRef", {"targetGUID": guid("variable", str(name))})
            _el(holder, _VALUE_ELEMENT[kinds[str(name)]], text=privacy.text(value) if privacy is not None else value)
        _el(case, "SourceRef", {"targetGUID": source_guids[t.id]})


def _add_sources(
    project: ET.Element,
    transcripts: list[Transcript],
    source_guids: dict[str, str],
    chosen: dict[str, list[Coding]],
    codebook: Codebook,
    privacy: Privacy | None,
) -> tuple[list[tuple[str, bytes]], int, int]:
    """A TextSource per transcript with a selection per coded span; the source files, and how many codings and selections."""
    who = _who(privacy)
    labels = {c.id: c.label for c in codebook}
    files: list[tuple[str, bytes]] = []
    n_codings = n_selections = 0
    sources = _el(project, "Sources") if transcripts else None
    for t in transcripts:
        source_guid = source_guids[t.id]
        spans: dict[tuple[int, int], list[Coding]] = {}
        for coding in sorted(chosen.get(t.id, []), key=lambda c: (c.segment.start, c.segment.end, c.code_id)):
            spans.setdefault((coding.segment.start, coding.segment.end), []).append(coding)
        text, moved = _private_text(t.text, spans, privacy, name=t.id)
        assert sources is not None
        source = _el(
            sources,
            "TextSource",
            {
                "guid": source_guid,
                "name": xml_safe(who(t.id)),
                "plainTextPath": f"internal://{source_guid}.txt",
                "creatingUser": _THEMEKIT_USER,
            },
        )
        _el(
            source,
            "Description",
            text=f"Transcript {who(t.id)} ({t.format}) as themekit read it: normalised text, one turn per paragraph.",
        )
        for (start, end), codings in spans.items():
            selection_guid = guid("selection", source_guid, str(start), str(end))
            _add_selection(
                source,
                selection_guid,
                text[moved[start] : moved[end]],
                (moved[start], moved[end]),
                codings,
                codebook.name,
                labels,
            )
            n_codings += len(codings)
            n_selections += 1
        files.append((f"{SOURCES_FOLDER}/{source_guid}.txt", text.encode("utf-8")))
    return files, n_codings, n_selections


def _add_selection(
    source: ET.Element,
    selection_guid: str,
    quote: str,
    span: tuple[int, int],
    codings: list[Coding],
    codebook_name: str,
    labels: dict[str, str],
) -> None:
    """A PlainTextSelection of ``span`` (in the exported text), named by its quote, with a Coding per code."""
    quote = " ".join(quote.split())
    name = quote if len(quote) <= _SELECTION_NAME_CHARS else quote[: _SELECTION_NAME_CHARS - 1].rstrip() + "…"
    selection = _el(
        source,
        "PlainTextSelection",
        {
            "guid": selection_guid,
            "name": xml_safe(name),
            "startPosition": str(span[0]),
            "endPosition": str(span[1]),
            "creatingUser": _THEMEKIT_USER,
        },
    )
    notes = [_describe(c, labels[c.code_id]) for c in codings if c.method != "human"]
    if notes:
        _el(selection, "Description", text="\n".join(notes))
    for coding in codings:
        user = _HUMAN_USER if coding.method == "human" else _THEMEKIT_USER
        code_guid = item_guid(codebook_name, coding.code_id)
        made = _el(selection, "Coding", {"guid": guid("coding", selection_guid, code_guid, user), "creatingUser": user})
        _el(made, "CodeRef", {"targetGUID": code_guid})


def _archive_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    """A zip archive of the entries, compressed, with fixed timestamps and permissions so the same run gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _private_text(
    text: str, spans: dict[tuple[int, int], Any], privacy: Privacy | None, *, name: str = ""
) -> tuple[str, dict[int, int]]:
    """The transcript text as exported, and where each selection boundary moved.

    Without ``privacy`` the text is exported as it is. With it, the text is
    pseudonymised and redacted piece by piece between selection boundaries,
    so each boundary moves by exactly what the replacements before it changed.
    A boundary that falls inside something to be replaced (a name, an email)
    cannot be kept, and is refused rather than leaking half of it.
    """
    bounds = sorted({0, len(text), *(p for span in spans for p in span)})
    if privacy is None:
        return text, {p: p for p in bounds}
    import copy

    probe = copy.copy(privacy)
    probe.counts = Counter()
    for b in bounds[1:-1]:
        left, right = text[max(0, b - 200) : b], text[b : b + 200]
        if probe.text(left + right) != probe.text(left) + probe.text(right):
            raise RefiError(
                name or "transcript",
                f"a term to redact or pseudonymise runs across the edge of a coded excerpt at character {b}",
                "Export without privacy=, or change the redaction list so no term spans a sentence end",
                param="privacy",
            )
    moved: dict[int, int] = {0: 0}
    parts: list[str] = []
    pos = 0
    for a, b in itertools.pairwise(bounds):
        piece = privacy.text(text[a:b])
        parts.append(piece)
        pos += len(piece)
        moved[b] = pos
    return "".join(parts), moved
