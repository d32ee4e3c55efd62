"""One reader per transcript format, all behind the :class:`Reader` protocol.

A reader turns a file's bytes into blocks of speech (see ``_text.Block``) plus
any case attributes the file itself carries (Markdown front matter). The
shared builder then makes turns and the normalised text, so every format
gives the same kind of :class:`~themekit.models.Transcript`.
"""

from __future__ import annotations

import io
import lzma
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from themekit.errors import TranscriptError, YamlError
from themekit.ingest.text import (
    Block,
    decode_bytes,
    header_speakers,
    is_timestamp,
    normalise_text,
    otter_header,
    parse_labelled_text,
    parse_timestamp,
)
from themekit.util import limits
from themekit.util.tables import UserTable, read_table
from themekit.util.yamlfile import load_yaml
from themekit.util.zipguard import ZipGuard, ZipLimitError

__all__ = ["Reader", "RawTranscript", "READERS", "TableColumns", "reader_for"]


@dataclass(frozen=True)
class TableColumns:
    """The columns of a table transcript to read speech and speakers from, as the user named them (``None``: found by
    their header names)."""

    text: str | None = None
    speaker: str | None = None


@dataclass
class RawTranscript:
    """What a reader found in a file, before turns are built."""

    blocks: list[Block]
    encoding: str | None
    attributes: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: the file's decoded text, which source offsets count in (``None``: no such text, such as for .xlsx)
    source_text: str | None = None


class Reader(Protocol):
    """Reads one transcript format.

    ``labels`` are speaker labels the user named (such as custom interviewer
    labels): they count as labels even where they occur only once. ``columns``
    name a table's speech and speaker columns; readers of other formats ignore them.
    """

    format: str
    extensions: tuple[str, ...]

    def read(
        self, data: bytes, path: Path, *, labels: frozenset[str] = frozenset(), columns: TableColumns = TableColumns()
    ) -> RawTranscript: ...


class TextReader:
    """Plain text with speaker labels at the start of lines; Otter's export header is read as attributes."""

    format = "txt"
    extensions = (".txt",)

    def read(
        self, data: bytes, path: Path, *, labels: frozenset[str] = frozenset(), columns: TableColumns = TableColumns()
    ) -> RawTranscript:
        text, encoding, notes = decode_bytes(data, path)
        lines = normalise_text(text).split("\n")
        attributes, head, foot = otter_header(lines)
        body = "\n".join(lines[head : len(lines) - foot])
        return RawTranscript(
            parse_labelled_text(body, known_labels=labels | header_speakers(attributes)),
            encoding,
            attributes,
            warnings=notes,
            source_text=text,
        )


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_MD_BOLD_LABEL = re.compile(r"^\s*(?:\*\*|__)(?P<label>[^*_\n]{1,40}?)(?::)?(?:\*\*|__)\s*:?\s*", re.MULTILINE)


_MAX_FRONT_MATTER_ALIASES = 20
_MAX_FRONT_MATTER_DEPTH = 20


def _front_matter_problem(exc: YamlError) -> tuple[str, str]:
    """(reason, fix) for front matter the YAML loader refused."""
    if exc.kind == "depth":
        return (
            f"has front matter with brackets nested more than {_MAX_FRONT_MATTER_DEPTH} deep",
            "Write the attributes as plain 'key: value' lines",
        )
    if exc.kind == "aliases":
        return (
            f"has front matter with more than {_MAX_FRONT_MATTER_ALIASES} YAML aliases (*name)",
            "Write the values out in full",
        )
    if exc.kind == "syntax":
        where = f" at line {exc.line + 1}" if exc.line else ""  # the block starts on the line after '---'
        return f"has front matter that is not valid YAML{where}", "Fix the block between the '---' lines"
    return (
        "has front matter with an unreadable value (such as an impossible date) or nested too deeply",
        "Fix the block between the '---' lines",
    )


class MarkdownReader:
    """Markdown: optional YAML front matter for case attributes; ``**Label:**`` speakers."""

    format = "md"
    extensions = (".md", ".markdown")

    def read(
        self, data: bytes, path: Path, *, labels: frozenset[str] = frozenset(), columns: TableColumns = TableColumns()
    ) -> RawTranscript:
        source, encoding, notes = decode_bytes(data, path)
        text = normalise_text(source)
        attributes: dict[str, str] = {}
        m = _FRONT_MATTER.match(text)
        if m:
            try:
                meta = load_yaml(
                    m.group("yaml"), max_depth=_MAX_FRONT_MATTER_DEPTH, max_aliases=_MAX_FRONT_MATTER_ALIASES
                ).data
            except YamlError as exc:
                raise TranscriptError(path, *_front_matter_problem(exc)) from None
            if meta is not None and not isinstance(meta, dict):
                raise TranscriptError(
                    path, "has front matter that is not a mapping", "Write it as 'key: value' lines between '---' lines"
                )
            attributes = {str(k): "" if v is None else str(v) for k, v in (meta or {}).items()}
            text = text[m.end() :]
        lines = [ln for ln in text.split("\n") if not ln.lstrip().startswith("#")]
        body = _MD_BOLD_LABEL.sub(lambda mm: mm.group("label").strip() + ": ", "\n".join(lines))
        bold = frozenset(mm.group("label").strip() for mm in _MD_BOLD_LABEL.finditer("\n".join(lines)))
        return RawTranscript(
            parse_labelled_text(body, known_labels=bold | labels),
            encoding,
            attributes,
            warnings=notes,
            source_text=source,
        )


class DocxReader:
    """Word documents: one paragraph per line; labels typed as ``Name:`` or in bold."""

    format = "docx"
    extensions = (".docx",)

    def read(
        self, data: bytes, path: Path, *, labels: frozenset[str] = frozenset(), columns: TableColumns = TableColumns()
    ) -> RawTranscript:
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise TranscriptError(
                path,
                "is password-protected (or an old .doc saved as .docx)",
                "Remove the password in Word, or save it as a .docx without protection",
            )
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                # python-docx unpacks every part, so the parts' sizes are bounded before anything is read
                guard = ZipGuard(zf, max_entries=limits.MAX_ZIP_ENTRIES, max_total_bytes=limits.MAX_DOCX_BYTES)
                guard.check_declared_total()
                paragraphs = _docx_paragraphs(guard)
        except _DocxDtdError as exc:
            raise _dtd_refused(path, str(exc)) from None
        except ZipLimitError:
            raise TranscriptError(
                path,
                f"unpacks to more than {limits.MAX_DOCX_BYTES // limits.MB} MB or {limits.MAX_ZIP_ENTRIES} parts",
                "Check the file is a real transcript; save the text as a new .docx",
            ) from None
        except _ZIP_OPEN_ERRORS as exc:
            raise _unreadable_docx(path) from exc
        bad_values: tuple[type[Exception], ...] = (ValueError,)  # what _DocxRun.bold raises, as python-docx does
        if paragraphs is None:  # a package laid out unusually (or broken): python-docx reads it
            paragraphs = _python_docx_paragraphs(data, path)
            from docx.exceptions import InvalidXmlError

            bad_values += (InvalidXmlError,)
        lines: list[str] = []
        bold_labels: set[str] = set()
        try:
            attributes, head, foot = otter_header([para.text for para in paragraphs])
            for para in paragraphs[head : len(paragraphs) - foot]:
                label, rest = _bold_label(para)
                if label:
                    bold_labels.add(label)
                    # Otter's "Name  0:01" line, the name in bold: a label and its time, the speech below
                    lines.append(f"{label}  {rest}" if is_timestamp(rest) else f"{label}: {rest}".rstrip())
                else:
                    lines.append(rest)  # without a label, the paragraph's whole text
                lines.append("")
        except bad_values as exc:  # attributes are parsed lazily: <w:b w:val="maybe"/> is refused here
            raise _unreadable_docx(path) from exc
        text = normalise_text("\n".join(lines))
        attributes = {name: normalise_text(value) for name, value in attributes.items()}
        known = frozenset(bold_labels) | labels | header_speakers(attributes)
        # the paragraphs' texts joined by line breaks: the decoded text source offsets count in
        source = "\n".join(para.text for para in paragraphs)
        return RawTranscript(parse_labelled_text(text, known_labels=known), None, attributes, source_text=source)


#: What opening a damaged zip raises: zipfile's own error, and UnicodeDecodeError for a file name flagged UTF-8 that is not.
_ZIP_OPEN_ERRORS: tuple[type[Exception], ...] = (zipfile.BadZipFile, UnicodeDecodeError)
#: What reading the parts of a damaged zip raises: zipfile's own error, the decompressors' (zlib, lzma; bz2's is an
#: OSError), EOFError when a part is cut short, KeyError for a part that is not there, RuntimeError for a part
#: encrypted or packed with a method zipfile lacks, ValueError for a name that is not valid UTF-8.
_ZIP_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    KeyError,
    RuntimeError,
    ValueError,
)


class _DocxDtdError(Exception):
    """A part of a Word package declares a DTD (entities): Word never writes one, and lxml would drop the text
    after an entity it does not expand."""


def _dtd_refused(path: Path, part: str) -> TranscriptError:
    return TranscriptError(
        path,
        f"declares a DTD or entities in {part}, which Word documents never need; refused for safety (nothing was read)",
        "Open it in Word and save it as a new .docx",
    )


def _unreadable_docx(path: Path) -> TranscriptError:
    return TranscriptError(
        path, "is not a readable Word document (corrupt or truncated)", "Open and re-save it in Word"
    )


def _python_docx_paragraphs(data: bytes, path: Path) -> list:
    """The body paragraphs as python-docx reads them, for packages themekit's own reader leaves to it."""
    import docx
    from docx.exceptions import PythonDocxError
    from docx.opc.exceptions import OpcError
    from lxml.etree import XMLSyntaxError

    try:
        document = docx.Document(io.BytesIO(data))
        if document.element.getroottree().docinfo.doctype:
            raise _dtd_refused(path, "its main part")
        return document.paragraphs
    # python-docx's own errors, the zip's and lxml's, and what python-docx trips over in a package whose XML lacks
    # what it expects (AttributeError on a missing attribute, TypeError, IndexError): only its call is in this try
    except (*_ZIP_ERRORS, XMLSyntaxError, OpcError, PythonDocxError, AttributeError, TypeError, IndexError) as exc:
        raise _unreadable_docx(path) from exc


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_PKG_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_RUN_TEXT = {_W + "tab": "\t", _W + "ptab": "\t", _W + "cr": "\n", _W + "noBreakHyphen": "-"}


def _docx_paragraphs(guard: ZipGuard) -> list[_DocxParagraph] | None:
    """The body paragraphs of a Word package, read straight from its main part with lxml.

    Gives what python-docx's ``Document(...).paragraphs`` gives (same parser
    settings, same text rules for runs, hyperlinks, tabs and breaks, same bold
    values), several times faster. ``None`` when the package is not laid out
    the usual way (no single main document part, another content type, no
    body, XML that does not parse): python-docx then reads it. Parts are read
    through ``guard``, so a part unpacking to more than its header says is
    refused (:class:`~themekit.util.zipguard.ZipLimitError`), not read.
    """
    from lxml import etree

    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)

    def part(name: str):
        try:
            root = etree.fromstring(guard.read(guard.archive.getinfo(name)), parser)
        except (*_ZIP_ERRORS, etree.XMLSyntaxError):  # missing, damaged or not XML
            return None
        if root.getroottree().docinfo.doctype:
            raise _DocxDtdError(name)
        return root

    rels = part("_rels/.rels")
    if rels is None:
        return None
    targets = [
        r.get("Target", "")
        for r in rels.iter(_PKG_RELS + "Relationship")
        if r.get("Type") == _OFFICE_DOCUMENT and r.get("TargetMode", "Internal") == "Internal"
    ]
    if len(targets) != 1:
        return None
    partname = posixpath.normpath(posixpath.join("/", targets[0]))
    types = part("[Content_Types].xml")
    if types is None:
        return None
    content_type = next(
        (
            o.get("ContentType")
            for o in types.iter(_PKG_TYPES + "Override")
            if (o.get("PartName") or "").lower() == partname.lower()
        ),
        None,
    )
    if content_type != _WORD_MAIN:
        return None
    root = part(partname[1:])
    if root is None:
        return None
    body = root.find(_W + "body") if root.tag == _W + "document" else None
    if body is None:
        return None
    return [_DocxParagraph(p) for p in body.iterchildren(_W + "p")]


def _run_text(r) -> str:
    """A ``w:r``'s text as python-docx gives it: ``w:t`` text, tabs, line breaks, non-breaking hyphens."""
    parts = []
    for e in r.iterchildren():
        tag = e.tag
        if tag == _W + "t":
            parts.append(e.text or "")
        elif tag == _W + "br":
            parts.append("\n" if e.get(_W + "type", "textWrapping") == "textWrapping" else "")
        elif tag in _RUN_TEXT:
            parts.append(_RUN_TEXT[tag])
    return "".join(parts)


class _DocxRun:
    __slots__ = ("_r",)

    def __init__(self, r) -> None:
        self._r = r

    @property
    def text(self) -> str:
        return _run_text(self._r)

    @property
    def bold(self) -> bool | None:
        properties = self._r.find(_W + "rPr")
        b = properties.find(_W + "b") if properties is not None else None
        if b is None:
            return None
        value = b.get(_W + "val")
        if value is None:
            return True
        if value not in ("1", "0", "true", "false", "on", "off"):
            raise ValueError(f"w:b w:val must be one of 1, 0, true, false, on, off, not {value!r}")
        return value in ("1", "true", "on")


class _DocxParagraph:
    __slots__ = ("_p",)

    def __init__(self, p) -> None:
        self._p = p

    @property
    def runs(self) -> list[_DocxRun]:
        return [_DocxRun(r) for r in self._p.iterchildren(_W + "r")]

    @property
    def text(self) -> str:
        parts = []
        for e in self._p.iterchildren(_W + "r", _W + "hyperlink"):
            if e.tag == _W + "r":
                parts.append(_run_text(e))
            else:
                parts.extend(_run_text(r) for r in e.iterchildren(_W + "r"))
        return "".join(parts)


def _bold_label(para) -> tuple[str | None, str]:
    """A bold run (or runs) at the start of a paragraph, read as a speaker label."""
    bold = []
    runs = list(para.runs)
    i = 0
    while i < len(runs) and (runs[i].bold or not runs[i].text.strip()):
        bold.append(runs[i].text)
        i += 1
    prefix = "".join(bold).strip()
    if not prefix or i == 0:
        return None, para.text
    rest = "".join(r.text for r in runs[i:]).strip()
    label = prefix.rstrip(":").strip()
    if rest.startswith(":"):
        rest = rest[1:].strip()
    if not label or len(label) > 40 or len(label.split()) > 4 or label.endswith((".", "?", "!")):
        return None, para.text
    return label, rest


_VOICE_LABEL = re.compile(r"^(?P<label>[A-Za-z][\w.'’-]*(?: [\w.'’-]+){0,3})\s*:\s+(?P<text>.+)$", re.DOTALL)


class _CaptionReader:
    format = ""
    extensions: tuple[str, ...] = ()
    webvtt_format = ""

    def read(
        self, data: bytes, path: Path, *, labels: frozenset[str] = frozenset(), columns: TableColumns = TableColumns()
    ) -> RawTranscript:
        import webvtt

        source, encoding, notes = decode_bytes(data, path)
        text = normalise_text(source)
        if self.webvtt_format == "vtt" and not text.lstrip().startswith("WEBVTT"):
            raise TranscriptError(
                path, "is not a WebVTT file (no 'WEBVTT' header)", "Export the captions again as .vtt"
            )
        try:
            captions = webvtt.from_buffer(io.StringIO(text), format=self.webvtt_format)
        except Exception as exc:  # webvtt raises its own error types for broken files
            raise TranscriptError(
                path, f"is not a valid {self.format.upper()} file ({exc})", "Export it again"
            ) from exc
        cue_lines = sum(1 for ln in text.split("\n") if "-->" in ln)
        warnings = list(notes)
        if cue_lines > len(captions):
            warnings.append(f"{cue_lines - len(captions)} cue(s) with malformed timestamps were skipped")
        if not len(captions):
            raise TranscriptError(path, "has no cues with valid timestamps", "Export the captions again")
        blocks = []
        for cap in captions:
            speech = " ".join(line.strip() for line in cap.text.split("\n") if line.strip())
            speaker = getattr(cap, "voice", None)
            if not speaker:
                m = _VOICE_LABEL.match(speech)
                if m:
                    speaker, speech = m.group("label"), m.group("text")
            if speech:
                # webvtt-py >= 0.5 truncates start_in_seconds to whole seconds; parse the
                # cue's start time ourselves to keep the milliseconds.
                blocks.append(Block(speaker=speaker, paragraphs=[speech], timestamp=parse_timestamp(cap.start)))
        return RawTranscript(blocks, encoding, warnings=warnings, source_text=source)


class VttReader(_CaptionReader):
    """WebVTT captions (Zoom, Teams): ``<v Speaker>`` voice tags or ``Speaker: text`` cues."""

    format = "vtt"
    extensions = (".vtt",)
    webvtt_format = "vtt"


class SrtReader(_CaptionReader):
    """SubRip captions, with ``Speaker: text`` cues where the speaker is named."""

    format = "srt"
    extensions = (".srt",)
    webvtt_format = "srt"


_SPEAKER_COLUMNS = ("speaker", "speaker name", "name", "who", "person", "role", "participant")
#: Names of a speech column, tried in order (never ``tags`` or other note columns).
_TEXT_COLUMNS = (
    "text",
    "words",
    "utterance",
    "content",
    "transcript",
    "speech",
    "dialogue",
    "said",
    "response",
    "answer",
    "transcription",
)
_TIME_COLUMNS = ("timestamp", "time", "start", "start time", "starttime", "begin", "ts", "time code", "timecode")


def _find_column(columns: list[str], names: tuple[str, ...]) -> str | None:
    folded = {c.strip().casefold(): c for c in columns}
    for name in names:
        if name in folded:
            return folded[name]
    return None


def _named_column(path: Path, columns: list[str], name: str, param: str, what: str) -> str:
    """The column the user named (case-insensitive, spaces trimmed); a clear error when the table has none such."""
    found = _find_column(columns, (name.strip().casefold(),))
    if found is None:
        raise TranscriptError(
            path,
            f"has no column '{name}' for the {what} (columns are: {', '.join(columns) or 'none'})",
            f"Give one of its columns as {param}=",
            param=param,
        )
    return found


def _table(data: bytes, path: Path) -> UserTable:
    """The table of a transcript or survey file (CSV decoded and normalised as transcripts are, or .xlsx)."""
    return read_table(path, data=data, normalise=True, error=TranscriptError)


class TableReader:
    """Tabular transcripts: one row per turn or paragraph, columns found by header name or named by the user."""

    format = "table"
    extensions = (".csv", ".xlsx")

    def read(
        self, data: bytes, path: Path, *, labels: frozenset[str] = frozenset(), columns: TableColumns = TableColumns()
    ) -> RawTranscript:
        table = _table(data, path)
        names = table.columns
        if columns.text is not None:
            text_col: str | None = _named_column(path, names, columns.text, "text_column", "speech")
        else:
            text_col = _find_column(names, _TEXT_COLUMNS)
        if text_col is None:
            raise TranscriptError(
                path,
                f"has no text column (columns are: {', '.join(names) or 'none'})",
                "Name the column holding the speech 'text' (and the speaker column 'speaker'), or give its name as text_column=",
                param="text_column",
            )
        if columns.speaker is not None:
            speaker_col: str | None = _named_column(path, names, columns.speaker, "speaker_column", "speakers")
        else:
            speaker_col = _find_column(names, _SPEAKER_COLUMNS)
        time_col = _find_column(names, _TIME_COLUMNS)
        blocks = _table_blocks(table.records(), text_col, speaker_col, time_col)
        return RawTranscript(blocks, table.encoding, warnings=table.notes, source_text=table.text)


def _table_blocks(
    records: list[tuple[int, dict[str, str]]], text_col: str, speaker_col: str | None, time_col: str | None
) -> list[Block]:
    """One block per row with speech; a blank speaker cell continues the previous speaker."""
    blocks: list[Block] = []
    speaker: str | None = None
    for _, record in records:
        if speaker_col and record[speaker_col].strip():
            speaker = record[speaker_col].strip()
        speech = normalise_text(record[text_col]).strip()
        if not speech:
            continue
        ts = parse_timestamp(record[time_col]) if time_col else None
        paragraphs = [p.strip() for p in speech.split("\n") if p.strip()]
        blocks.append(Block(speaker=speaker, paragraphs=paragraphs, timestamp=ts))
    return blocks


READERS: tuple[Reader, ...] = (TextReader(), MarkdownReader(), DocxReader(), VttReader(), SrtReader(), TableReader())


def reader_for(path: Path) -> Reader | None:
    suffix = path.suffix.lower()
    for reader in READERS:
        if suffix in reader.extensions:
            return reader
    return None
