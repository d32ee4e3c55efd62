"""Human codings (gold and coder files) read and mapped onto a run's segments.

A gold file is a CSV with ``transcript`` and ``code`` columns; each row
locates its span by ``char_start``/``char_end`` (offsets into themekit's
normalised transcript text), by ``source_start``/``source_end`` (offsets into
the source file's decoded text, as QualCoder, NVivo or MAXQDA count them), by
a ``segment`` index of the run, or by the quoted ``text`` alone, in that order
of preference. An empty ``code`` marks an excerpt the coder read and found
nothing in. Spans are matched to segments by overlap (at least half of the
segment or half of the span). The classifier learns from these files,
``evaluate`` scores against them and ``agree`` compares them.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from themekit.errors import GoldError, GoldFileError, OptionError
from themekit.human.coderfile import WideLayout, read_coder_file, several_codes_note, stream_coder_file
from themekit.models import Transcript
from themekit.util.progress import ProgressCallback

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CodeNames", "HumanCodings", "MappedGold", "load_gold", "map_gold", "read_gold", "transcript_name"]


@dataclass(frozen=True, eq=False)
class HumanCodings:
    """Human codings as the classifier learns from them: the rows of a gold file or of the project's decisions.

    The rows are every cell as a string with each row's number in its file (``_row``, the header is row 1), as
    :func:`read_gold` gives them. A file of more rows than one chunk (:data:`~themekit.util.tables.BATCH_ROWS`)
    is not held: :meth:`placeable` reads it again, a chunk at a time, each time its rows are placed, so memory holds
    a chunk whatever the file's size; :attr:`rows` reads all of it into memory when a caller needs a table.
    ``source`` names where they came from (a file path, or "project decisions") in run.json and in messages;
    ``sha256`` identifies their content.
    """

    #: the rows, when held in memory (``None``: read from the file again by :meth:`placeable`)
    frame: pd.DataFrame | None
    source: str
    sha256: str
    #: the coder read every transcript the rows name, so a segment of one with no code holds none (a gold file);
    #: False for review decisions, made on the machine's suggestions only
    whole_transcripts: bool = True
    #: how the rows' code paths are read (see :class:`CodeNames`): at this depth, split at this separator too
    level: int | None = None
    separator: str | None = None
    #: reads the file's rows again, a chunk at a time (with a progress callback), when they are not held
    reader: Callable[[ProgressCallback | None], Iterator[pd.DataFrame]] | None = field(default=None, repr=False)

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        source: str | None = None,
        layout: WideLayout | None = None,
        sheet: str | None = None,
        level: int | None = None,
        separator: str | None = None,
        keep_uncoded: bool = False,
        progress: ProgressCallback | None = None,
    ) -> HumanCodings:
        """The codings of a gold/decisions file (CSV or .xlsx, long or wide: ``layout``); ``source`` names it
        (default: the path); ``level``/``separator`` say how its code paths are read (see :class:`CodeNames`);
        ``keep_uncoded``: a wide file's row with every code cell empty is a unit read and given no code (else it
        is left out, as a unit the coder did not code); ``progress(stage, advance, total)`` hears how much of the
        file is read (stage ``human:read``). The file's first chunk is read now, so a file that cannot be read is
        refused here; a file of more rows is read again as its rows are placed (see :meth:`placeable`)."""
        path = Path(path)
        try:
            with path.open("rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except FileNotFoundError:
            raise GoldFileError(
                path, "no such gold/decisions file. Check the path given as gold=", param="gold"
            ) from None
        except OSError as exc:
            raise GoldFileError(path, f"cannot read the gold/decisions file ({exc.strerror})") from exc
        CodeNames((), level=level, separator=separator)  # a bad level or separator is refused before any work

        def reader(heard: ProgressCallback | None) -> Iterator[pd.DataFrame]:
            return stream_coder_file(path, layout=layout, sheet=sheet, keep_uncoded=keep_uncoded, progress=heard)

        heard: list[tuple[str, int, int]] = []  # told to progress only if the file is held: else it is read again
        chunks = reader(lambda stage, advance, total: heard.append((stage, advance, total)))
        first = next(chunks)
        second = next(chunks, None)
        if second is None:  # the whole file in one chunk: held, as the rows of any ordinary file are
            for report in heard if progress is not None else ():
                progress(*report)
            rows = first.reset_index(drop=True)
            rows.attrs.update(first.attrs)
            return cls(rows, source or str(path), digest, level=level, separator=separator)
        chunks.close()
        del first, second
        return cls(None, source or str(path), digest, level=level, separator=separator, reader=reader)

    @property
    def rows(self) -> pd.DataFrame:
        """Every row in one table (a file that is not held is read whole: see :meth:`placeable` to read it a chunk at
        a time)."""
        return self.frame if self.frame is not None else _joined(self._chunks())

    def placeable(
        self, transcripts: Collection[str] | None = None, *, keep: bool = True, progress: ProgressCallback | None = None
    ) -> pd.DataFrame | Iterator[pd.DataFrame]:
        """The rows as :func:`map_gold` takes them (``frame=``): the table when the rows are held, else the file's
        chunks, read again as they are placed; with ``transcripts``, only the rows about them (``keep=False``:
        about the others). ``progress`` hears the file being read again (stage ``human:read``)."""
        if self.frame is not None:
            return self.frame if transcripts is None else _about(self.frame, transcripts, keep)
        return self._chunks(transcripts, keep=keep, progress=progress)

    def _chunks(
        self, transcripts: Collection[str] | None = None, *, keep: bool = True, progress: ProgressCallback | None = None
    ) -> Iterator[pd.DataFrame]:
        """The rows a chunk at a time (one, when they are held): at least one chunk, perhaps empty."""
        chunks = iter([self.frame]) if self.frame is not None else self.reader(progress)  # type: ignore[misc]
        for chunk in chunks:
            yield chunk if transcripts is None else _about(chunk, transcripts, keep)

    def code_names(self, codes: Iterable[Any]) -> CodeNames:
        """How these rows name ``codes`` (a codebook, or code ids)."""
        return CodeNames(codes, level=self.level, separator=self.separator)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, source: str) -> HumanCodings:
        """Codings held in a table (the project's decisions): read as the same CSV text a file of them would hold.
        Decisions are made on suggestions, not by reading whole transcripts: only the decided segments teach."""
        import pandas as pd

        text = frame.to_csv(index=False)
        rows = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        rows.insert(0, "_row", range(2, len(rows) + 2))
        return cls(rows, source, hashlib.sha256(text.encode("utf-8")).hexdigest(), whole_transcripts=False)

    def of_transcripts(self, transcripts: Collection[str], *, keep: bool = True) -> pd.DataFrame:
        """The rows about ``transcripts`` (``keep=False``: all the other rows), in one table."""
        if self.frame is not None:
            return _about(self.frame, transcripts, keep)
        return _joined(self._chunks(transcripts, keep=keep))

    def transcripts_named(self, known: Collection[str]) -> set[str]:
        """The transcripts of ``known`` that the rows name (as :func:`transcript_name` reads a name)."""
        named: set[str] = set()
        for chunk in self._chunks():
            column = _transcript_column(chunk)
            if column is not None:
                named.update(transcript_name(name, known) for name in set(chunk[column].str.strip()))
        return named & set(known)

    @property
    def has_codes(self) -> bool:
        """Whether any row gives a code (rows that only mark text as read teach nothing on their own)."""
        for chunk in self._chunks():
            column = next((c for c in chunk.columns if c.strip().casefold() == "code"), None)
            if column is not None and bool((chunk[column].str.strip() != "").any()):
                return True
        return False


def _joined(chunks: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Chunks of a file's rows (at least one) in one table, with how its columns were read and, summed over the
    chunks, how many rows named several codes."""
    import pandas as pd

    parts = list(chunks)
    rows = pd.concat(parts, ignore_index=True)
    rows.attrs.update(read_as=parts[0].attrs.get("read_as", []),
                      several_codes=sum(c.attrs.get("several_codes", 0) for c in parts))  # fmt: skip
    return rows


def _transcript_column(rows: pd.DataFrame) -> str | None:
    return next((c for c in rows.columns if c.strip().casefold() == "transcript"), None)


def _about(rows: pd.DataFrame, transcripts: Collection[str], keep: bool) -> pd.DataFrame:
    """The rows about ``transcripts`` (``keep=False``: the other rows)."""
    column = _transcript_column(rows)
    if column is None:
        return rows if keep else rows.iloc[:0]
    known = set(transcripts)
    names = rows[column].str.strip()
    read = {name: transcript_name(name, known) in known for name in set(names)}  # a file names few transcripts
    inside = names.map(read).astype(bool)
    return rows[inside if keep else ~inside]


def read_gold(
    path: str | Path,
    *,
    layout: WideLayout | None = None,
    sheet: str | None = None,
    keep_uncoded: bool = False,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """The gold file as strings, with each row's number in the file (header is row 1) as ``_row``.

    CSV in any common encoding with ``,`` or ``;``, or .xlsx (first sheet, or ``sheet``); a wide file (one row
    per unit, several code columns: ``layout``) gives one row per filled code cell, the unit id as transcript
    (see :mod:`themekit.human.coderfile`).
    """
    return read_coder_file(path, layout=layout, sheet=sheet, keep_uncoded=keep_uncoded, progress=progress).rows


#: Separators of code paths in other tools' exports ("Theme > Code", MAXQDA's "Theme\\Code", "Theme/Code").
_PATH_SEPARATORS = re.compile(r"\s*(?:>|\\|/|::)\s*")


class CodeNames:
    """How people name a codebook's codes in their files: by id, by label (case ignored), or by a path of codes
    from another tool ("Theme > Code"), read from its deepest part up, so a sub-code the codebook does not hold
    counts as the nearest code above it that it does (sub-codes roll up to their code).

    Paths are split at ``>``, ``\\``, ``/`` and ``::``, and at ``separator`` when given (``" - "`` reads
    "Theme - Code"; spaces around it are required where it has them, so " - " does not split "self-esteem").
    ``level`` keeps the first ``level`` parts of a path ("A > B > C" at level 2 is "A > B") before it is read."""

    def __init__(self, codes: Iterable[Any], *, level: int | None = None, separator: str | None = None) -> None:
        if level is not None and level < 1:
            raise OptionError(
                f"level={level} is not a depth; give 1 for the top of each code's path, 2 for the next", param="level"
            )
        if separator is not None and not separator.strip():
            raise OptionError(
                "separator= is empty; give the text between a code's levels, such as ' - ', '>' or '/'",
                param="separator",
            )
        self.level = level
        self.separator = separator
        self._split = _path_separators(separator)
        self.ids: set[str] = set()
        self._names: dict[str, str] = {}
        for code in codes:
            code_id, label = (code, "") if isinstance(code, str) else (code.id, getattr(code, "label", ""))
            self.ids.add(code_id)
            for name in (label, code_id):
                if name:
                    self._names[_name_key(name)] = code_id

    def path(self, name: str) -> str:
        """``name`` as it is read: cut to ``level`` parts of its path (the parts joined by " > "), else as given."""
        if self.level is None:
            return name
        parts = [p for p in self._split.split(name) if p]
        return " > ".join(parts[: self.level]) if len(parts) > self.level else name

    def resolve(self, name: str) -> str | None:
        """The codebook id ``name`` means, or ``None``."""
        name = self.path(name)
        if name in self.ids:
            return name
        found = self._names.get(_name_key(name))
        if found is not None:
            return found
        parts = [p for p in self._split.split(name) if p]
        for part in reversed(parts if len(parts) > 1 else []):
            found = part if part in self.ids else self._names.get(_name_key(part))
            if found is not None:
                return found
        return None

    def unknown(self, name: str) -> str:
        """Why ``name`` gives no code: what a skipped row says."""
        cut = self.path(name)
        at = f" (at level {self.level}: '{cut}')" if cut != name else ""
        return f"code '{name}'{at} is not in the codebook"


def _path_separators(separator: str | None) -> re.Pattern[str]:
    """The pattern splitting code paths: other tools' separators, and ``separator`` (whitespace around it as it
    has it: required where it has some, allowed where not)."""
    if not separator:
        return _PATH_SEPARATORS
    core = re.escape(separator.strip())
    before = r"\s+" if separator[:1].isspace() else r"\s*"
    after = r"\s+" if separator[-1:].isspace() else r"\s*"
    return re.compile(rf"{before}{core}{after}|{_PATH_SEPARATORS.pattern}")


def _name_key(name: str) -> str:
    return " ".join(re.sub(r"[_\-]+", " ", name).casefold().split())


@dataclass
class MappedGold:
    """Human codings mapped onto a run's segments, and the rows left out."""

    #: one row per (transcript, segment, code); code '' marks a segment read and found to hold none
    codings: pd.DataFrame
    #: each problem with its row number (the header is row 1): rows left out and why, and rows scored whose
    #: ``text`` does not match the span they locate
    skipped: list[str]
    #: how the file's columns were read, where that was not as they are named (another tool's column names,
    #: offsets into the source files)
    read_as: list[str] = field(default_factory=list)


def load_gold(
    path: str | Path,
    segments: pd.DataFrame,
    codebook_codes: Collection[str] | CodeNames | None = None,
    *,
    frame: pd.DataFrame | Iterable[pd.DataFrame] | None = None,
    turns: pd.DataFrame | None = None,
    transcripts: Iterable[Transcript] | Mapping[str, Transcript] | None = None,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Map a gold file onto segments, refusing it (:class:`GoldError`, every problem with its row) if any row
    cannot be placed or does not match its text; see :func:`map_gold`."""
    return map_gold(
        path, segments, codebook_codes, frame=frame, turns=turns, transcripts=transcripts, strict=True,
        progress=progress,
    ).codings  # fmt: skip


#: The ways a row can locate its span, in the order they are tried.
LOCATIONS = "char_start and char_end, source_start and source_end, segment, or text"


def map_gold(
    path: str | Path,
    segments: pd.DataFrame,
    codebook_codes: Collection[str] | CodeNames | None = None,
    *,
    frame: pd.DataFrame | Iterable[pd.DataFrame] | None = None,
    turns: pd.DataFrame | None = None,
    transcripts: Iterable[Transcript] | Mapping[str, Transcript] | None = None,
    strict: bool = False,
    progress: ProgressCallback | None = None,
) -> MappedGold:
    """Map a gold file onto segments: one row per (transcript, segment, code); code '' for none.

    ``segments`` has columns transcript, segment, start, end (a run's segment
    table). Each row locates its span by ``char_start``/``char_end`` when filled,
    else by ``source_start``/``source_end`` (converted with each transcript's
    source map), else by ``segment``, else by finding its quoted ``text`` in the
    transcript (ignoring whitespace; case too if the exact case is not found);
    source offsets and quotes need ``transcripts`` (the run's). A quote found
    more than once or not at all is listed, not scored; a row whose located text
    does not match its ``text`` is listed and still scored. Human codings are
    read as people have them: spans of one code that overlap (a passage coded
    twice, sub-codes rolled up) simply cover the same segments; with ``turns``
    (the corpus' turn table), a span that starts in the interviewer's question
    and runs into the answer is trimmed to the participant's speech, and one
    entirely in interviewer speech is left out and listed. Rows that cannot be
    placed (unknown transcripts or codes, bad or inverted spans, spans matching
    no segment) are left out and listed in ``skipped``, with row numbers (the
    header is row 1); with ``strict`` any problem refuses the file
    (:class:`GoldError`, all listed). Missing columns and a file without rows
    always refuse it. ``frame`` (from :func:`read_gold`, perhaps filtered, or
    chunks of such rows, as :meth:`HumanCodings.placeable` reads a large file: only
    what is placed is kept) is used instead of reading ``path``.
    ``progress(stage, advance, total)`` hears how many rows of one table are
    placed (stage ``human:place``).
    """
    import pandas as pd

    if frame is None:
        frame = read_gold(path)
    whole = isinstance(frame, pd.DataFrame)  # one table: the rows placed are counted on a bar
    chunks = iter([frame] if whole else frame)
    first = next(chunks, None)
    if first is None:
        first = pd.DataFrame(columns=["_row"])
    columns = {c.strip().casefold(): c for c in first.columns if c != "_row"}
    missing = [c for c in ("transcript", "code") if c not in columns]
    if not (
        _has(columns, "char_start", "char_end")
        or _has(columns, "source_start", "source_end")
        or "segment" in columns
        or "text" in columns
    ):
        missing.append(f"a location ({LOCATIONS})")
    if missing:
        raise GoldError(
            path, [f"missing column(s): {', '.join(missing)} (columns are: {', '.join(columns.values()) or 'none'})"]
        )
    if transcripts is not None and not isinstance(transcripts, Mapping):
        transcripts = {t.id: t for t in transcripts}
    names = (
        codebook_codes if isinstance(codebook_codes, CodeNames) or codebook_codes is None else CodeNames(codebook_codes)
    )
    by_transcript = _segments_by_transcript(segments)
    speech = _speech_by_transcript(turns)
    read_as = list(first.attrs.get("read_as", []))  # other tools' column names, as the file reader read them
    if _offsets_are_source(_Records(first)[:_OFFSET_SAMPLE], columns, transcripts):
        columns = {**{k: v for k, v in columns.items() if k not in ("char_start", "char_end")},
                   "source_start": columns["char_start"], "source_end": columns["char_end"]}  # fmt: skip
        read_as.append(
            "char_start/char_end as offsets into the transcript files as they are on disk (source_start/source_end): "
            "the quoted text is found there, not at those characters of themekit's text"
        )
    if names is not None:
        names = _Remembered(names)  # a file names the same few codes on row after row
    placed_rows: dict[tuple[str, int, str], None] = {}  # in order, each once
    problems: list[str] = []
    several = 0
    for chunk in itertools.chain([first], chunks):
        records = _Records(chunk)
        several += chunk.attrs.get("several_codes", 0)
        total = len(records)
        for done, record in enumerate(records, start=1):
            placed, notes = _place_row(record, columns, by_transcript, speech, names, transcripts)
            placed_rows.update(dict.fromkeys(placed))
            problems.extend(f"row {record['_row']}: {note}" for note in notes)
            if whole and progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
                progress("human:place", done % _PROGRESS_EVERY or _PROGRESS_EVERY, total)
    if several:
        read_as.append(several_codes_note(several))
    if problems and strict:
        raise GoldError(path, problems)
    return MappedGold(pd.DataFrame(list(placed_rows), columns=["transcript", "segment", "code"]), problems, read_as)


#: How many rows are placed between two reports of progress.
_PROGRESS_EVERY = 20_000


class _Records:
    """A table's rows one at a time, each a dict of its cells (as ``to_dict(orient="records")`` would give them
    all at once, which for a million rows takes gigabytes)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._columns = list(frame.columns)
        self._values = [frame[c].tolist() for c in self._columns]
        self._length = len(frame)

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[dict]:
        columns = self._columns
        for values in zip(*self._values):
            yield dict(zip(columns, values))

    def __getitem__(self, cut: slice) -> list[dict]:
        columns = self._columns
        return [dict(zip(columns, values)) for values in zip(*(v[cut] for v in self._values))]


class _Remembered:
    """A :class:`CodeNames` that reads each name once."""

    def __init__(self, names: CodeNames) -> None:
        self._names = names
        self._resolved: dict[str, str | None] = {}

    def resolve(self, name: str) -> str | None:
        if name not in self._resolved:
            self._resolved[name] = self._names.resolve(name)
        return self._resolved[name]

    def unknown(self, name: str) -> str:
        return self._names.unknown(name)


@dataclass(frozen=True)
class _Spans:
    """Spans of one transcript (its segments, or its speakers' turns) sorted by start, for finding the ones a
    span overlaps without looking at all of them."""

    starts: list[int]
    ends: list[int]
    ids: list[int]
    #: the longest span's length: no span starting that far before a point reaches it
    longest: int

    @classmethod
    def of(cls, spans: Iterable[tuple[int, int, int]]) -> _Spans:
        ordered = sorted(spans)
        return cls(
            [s for s, _, _ in ordered],
            [e for _, e, _ in ordered],
            [i for _, _, i in ordered],
            max((e - s for s, e, _ in ordered), default=0),
        )

    def overlapping(self, start: int, end: int) -> Iterator[int]:
        """The positions of the spans that share a character with ``start``-``end``."""
        first = bisect_right(self.starts, start - self.longest)
        for k in range(first, bisect_left(self.starts, end)):
            if self.ends[k] > start and self.starts[k] < end:
                yield k

    def __len__(self) -> int:
        return len(self.starts)


def _segments_by_transcript(segments: pd.DataFrame) -> dict[str, _Spans]:
    columns = [segments[c].tolist() for c in ("transcript", "start", "end", "segment")]
    spans: dict[str, list[tuple[int, int, int]]] = {}
    for tid, start, end, index in zip(*columns):
        spans.setdefault(tid, []).append((int(start), int(end), int(index)))
    return {tid: _Spans.of(found) for tid, found in spans.items()}


#: Rows checked to tell offsets into themekit's text from offsets into the source files.
_OFFSET_SAMPLE = 200


def _offsets_are_source(
    records: list[dict], columns: dict[str, str], transcripts: Mapping[str, Transcript] | None
) -> bool:
    """Whether a file's ``char_start``/``char_end`` are offsets into the source files (as other tools export
    them): its rows quote their text, and of ``records`` (a sample of its rows), at least 80% quote what lies at
    those offsets of the source, and more than quote what lies at those characters of themekit's text (where the two texts agree,
    both readings match)."""
    if transcripts is None or "source_start" in columns or not _has(columns, "char_start", "char_end", "text"):
        return False
    as_text = as_source = tried = 0
    for record in records:
        quote = _cell(record, columns, "text")
        transcript = transcripts.get(transcript_name(_cell(record, columns, "transcript"), transcripts))
        span = _offsets(record, columns, "char_start", "char_end")
        if not quote or transcript is None or isinstance(span, str) or not transcript.source_map:
            continue
        tried += 1
        as_text += not _mismatch(quote, transcript, span, "", transcript.id)
        mapped = transcript.from_source(*span)
        as_source += mapped is not None and not _mismatch(
            quote, transcript, mapped, "", transcript.id, mapped_only=True
        )
    return tried > 0 and as_source >= 0.8 * tried and as_source > as_text


def transcript_name(name: str, known: Collection[str]) -> str:
    """A transcript as a file names it, as themekit names it: the same, or without its file extension
    ("P1.txt" is transcript P1) when only that is known, or either in another case ("p1.TXT") when only one
    known transcript matches so."""
    if name in known:
        return name
    stem = Path(name).stem if Path(name).suffix else name
    if stem in known:
        return stem
    folded = [k for k in known if k.casefold() in (name.casefold(), stem.casefold())]
    return folded[0] if len(folded) == 1 else name


def _has(columns: dict[str, str], *names: str) -> bool:
    return all(n in columns for n in names)


def _cell(record: dict, columns: dict[str, str], name: str) -> str:
    """A cell of the row, stripped; '' when the file has no such column."""
    return str(record[columns[name]]).strip() if name in columns else ""


def _speech_by_transcript(turns: pd.DataFrame | None) -> dict[str, tuple[_Spans, _Spans]] | None:
    """Per transcript: its participants' turns, and its interviewers'."""
    if turns is None:
        return None
    spans: dict[str, tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]] = {}
    columns = [turns[c].tolist() for c in ("transcript", "role", "start", "end")]
    for tid, role, start, end in zip(*columns):
        parts = spans.setdefault(str(tid), ([], []))
        parts[0 if role == "participant" else 1].append((int(start), int(end), 0))
    return {tid: (_Spans.of(mine), _Spans.of(theirs)) for tid, (mine, theirs) in spans.items()}


def _place_row(
    record: dict,
    columns: dict[str, str],
    by_transcript: dict,
    speech: dict | None,
    names: CodeNames | None,
    transcripts: Mapping[str, Transcript] | None,
) -> tuple[list[tuple[str, int, str]], list[str]]:
    """The (transcript, segment, code) rows one gold row gives, and its problems (why it gives none, or that
    its text does not match its span)."""
    tid = transcript_name(_cell(record, columns, "transcript"), by_transcript)
    code = _cell(record, columns, "code")
    if tid not in by_transcript:
        return [], [f"unknown transcript '{tid}' (the run has: {', '.join(sorted(by_transcript))})"]
    if code and names is not None:
        resolved = names.resolve(code)
        if resolved is None:
            return [], [names.unknown(code)]
        code = resolved
    segs = by_transcript[tid]
    transcript = transcripts.get(tid) if transcripts is not None else None
    located = _locate(record, columns, tid, transcript)
    if isinstance(located, str):
        return [], [located]
    if located is None:
        if not _cell(record, columns, "segment") and len(segs) == 1:
            # a unit coded whole (a survey response, as a wide coder file names it): its one segment
            return [(tid, segs.ids[0], code)], []
        try:
            seg = int(_cell(record, columns, "segment"))
        except ValueError:
            return [], [f"locates no span: fill {LOCATIONS} (the quoted words)"]
        if seg not in segs.ids:
            return [], [f"{tid} has no segment {seg}"]
        return [(tid, seg, code)], []
    (start, end), notes, where = located
    placed = _segments_of_span(start, end, where, tid, segs, speech)
    if isinstance(placed, str):
        return [], [*notes, placed]
    return [(tid, seg, code) for seg in placed], notes


def _locate(
    record: dict, columns: dict[str, str], tid: str, transcript: Transcript | None
) -> tuple[tuple[int, int], list[str], str] | str | None:
    """The row's span in the transcript's text, notes on it and how the row gave it (its own offsets or quote, as
    messages name it); why it has none; or ``None`` to use its segment."""
    quote = _cell(record, columns, "text")
    if _cell(record, columns, "char_start"):
        span = _offsets(record, columns, "char_start", "char_end")
        if isinstance(span, str):
            return span
        where = f"characters {span[0]}-{span[1]}"
        if transcript is not None and span[0] >= len(transcript.text):
            return (
                f"{where} lie past the end of {tid}, whose text is {len(transcript.text):,} characters long; check "
                "the offsets were counted in this transcript"
            )
        return span, _mismatch(quote, transcript, span, where, tid), f"span {span[0]}-{span[1]} of {tid}"
    if _cell(record, columns, "source_start"):
        given = _offsets(record, columns, "source_start", "source_end")
        if isinstance(given, str):
            return given
        if transcript is None or not transcript.source_map:
            return (
                f"source_start/source_end given but {tid}'s source offsets are not known (themekit keeps them for "
                ".txt, .md, .docx, .vtt, .srt and .csv files read by this version); give char_start/char_end or the quoted text"
            )
        kept_until = transcript.source_map.source_starts[-1] + transcript.source_map.lengths[-1]
        if given[0] >= kept_until:
            return (
                f"source characters {given[0]}-{given[1]} lie past the end of {tid}'s speech in its source file, "
                f"which ends at source character {kept_until:,}; check the offsets were counted in this file"
            )
        span = transcript.from_source(*given)
        if span is None:
            return f"source characters {given[0]}-{given[1]} of {tid} hold no speech themekit kept (a label, a timing line)"
        where = f"source characters {given[0]}-{given[1]}"
        notes = _mismatch(quote, transcript, span, where, tid, mapped_only=True)
        return span, notes, f"source span {given[0]}-{given[1]} of {tid}"
    if _cell(record, columns, "segment") or not quote:
        return None
    if transcript is None:
        return f"{tid}: a quote can only be found with the run's transcripts; give char_start/char_end"
    found = _find_quote(quote, transcript)
    return found if isinstance(found, str) else (*found, f"quote '{_short(quote)}' in {tid}")


def _offsets(record: dict, columns: dict[str, str], first: str, last: str) -> tuple[int, int] | str:
    try:
        start, end = int(_cell(record, columns, first)), int(_cell(record, columns, last))
    except ValueError:
        return f"{first}/{last} must be whole numbers"
    if start < 0 or end < 0:
        which = " and ".join(name for name, value in ((first, start), (last, end)) if value < 0)
        return (
            f"{which} {'is' if ' and ' not in which else 'are'} negative ({first}/{last} {start}, {end}); "
            "offsets count characters from 0, the text's first"
        )
    if end <= start:
        return f"span {start}-{end} is empty or inverted; {last} must be after {first}"
    return start, end


def _segments_of_span(start: int, end: int, where: str, tid: str, segs: _Spans, speech: dict | None) -> list[int] | str:
    """The segments a span of the transcript's text covers (trimmed to participant speech), or why none (naming the
    span as the row gave it: ``where``)."""
    pieces = [(start, end)]
    if speech is not None and tid in speech:
        participant, interviewer = speech[tid]
        pieces = [
            (max(start, participant.starts[k]), min(end, participant.ends[k]))
            for k in participant.overlapping(start, end)
        ]
        if not pieces and any(True for _ in interviewer.overlapping(start, end)):
            return f"{where} is interviewer speech only; left out"
    matched: set[int] = set()
    for s, e in pieces:
        for k in segs.overlapping(s, e):
            overlap = min(segs.ends[k], e) - max(segs.starts[k], s)
            if overlap * 2 >= segs.ends[k] - segs.starts[k] or overlap * 2 >= e - s:
                matched.add(segs.ids[k])
    if not matched:
        return f"{where} matches no coded participant segment"
    return sorted(matched)


_ELLIPSIS = re.compile(r"\[?(?:\.\s*){3,}\]?|\[?…\]?")
_EDGES = re.compile(r"^[^\w]+|[^\w]+$")
_WORD = re.compile(r"\S+")
#: How much text an ellipsis in a quote may stand for.
_ELIDED_CHARS = 2000


def _quote_texts(quote: str, speakers: Collection[str] = (), *, trim: bool = False) -> list[str]:
    """The parts of ``quote`` to find, split at its ellipses, speaker labels (``speakers`` followed by a colon,
    with themekit's ``[hh:mm:ss]``) left out; ``trim``: punctuation at either end of a part left out."""
    if speakers:
        names = "|".join(re.escape(n) for n in sorted(speakers, key=len, reverse=True))
        quote = re.sub(rf"(?:^|\s)(?:\[[\d:]+\]\s*)?(?:{names})\s*:(?=\s|$)", " ", quote)
    parts = [_EDGES.sub("", part) if trim else part for part in _ELLIPSIS.split(quote)]
    return [part for part in parts if part.strip()]


def _quote_pattern(
    quote: str, speakers: Collection[str] = (), *, flags: int = 0, trim: bool = False
) -> re.Pattern[str] | None:
    """A pattern finding ``quote`` in a transcript's text whatever its whitespace, an ellipsis standing for any
    text between. Speaker labels (``speakers`` followed by a colon, with themekit's ``[hh:mm:ss]``) are skipped
    in the quote and in the text: a quote crossing turns reads the same whether a label was kept (a new
    speaker) or dropped (the same speaker again), and whether the quote kept the line breaks or not. ``trim``: punctuation at either end is left out."""
    sep = r"\s+"
    if speakers:
        names = "|".join(re.escape(n) for n in sorted(speakers, key=len, reverse=True))
        sep = rf"\s+(?:(?:\[[\d:]+\]\s*)?(?:{names})\s*:\s+)?"
    parts = [sep.join(map(re.escape, part.split())) for part in _quote_texts(quote, speakers, trim=trim)]
    if not parts:
        return None
    return re.compile(rf"[\s\S]{{0,{_ELIDED_CHARS}}}?".join(parts), flags)


def _too_long(quote: str, speakers: Collection[str], text: str, *, trim: bool = False) -> bool:
    """Whether ``quote`` has more words than ``text``: each of its words is found in a word of the text of its
    own, so such a quote is not in it, and no pattern need be built (a pattern of a quote of millions of words
    takes minutes and gigabytes to build)."""
    most = len(text.split())
    words = 0
    for part in _quote_texts(quote, speakers, trim=trim):
        for _ in _WORD.finditer(part):  # counted, not listed: a list of millions of words takes gigabytes
            words += 1
            if words > most:
                return True
    return False


def _plain(text: str) -> str:
    """Text with its whitespace collapsed, in any case: how a quote and its span are compared first."""
    return " ".join(text.casefold().split())


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text[: 8 * limit].split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _find_quote(quote: str, transcript: Transcript) -> tuple[tuple[int, int], list[str]] | str:
    """The one place the quote is in the transcript's text (exact case first, then any case), or why none."""
    speakers = {t.speaker for t in transcript.turns}
    if not quote.split():
        return f"quote '{_short(quote)}' has no words to find"
    if _too_long(quote, speakers, transcript.text):
        return (
            f"quote '{_short(quote)}' ({len(quote):,} characters) is longer than {transcript.id} "
            f"({len(transcript.text):,} characters), so it is not in it; check the text cell holds the quote alone"
        )
    for flags in (0, re.IGNORECASE):
        found = [m.span() for m in _quote_pattern(quote, speakers, flags=flags).finditer(transcript.text)]  # type: ignore[union-attr]
        if len(found) == 1:
            return found[0], []
        if found:
            where = ", ".join(f"{s}-{e}" for s, e in found[:5]) + (" …" if len(found) > 5 else "")
            return (
                f"quote '{_short(quote)}' is ambiguous: it occurs {len(found)} times in {transcript.id} (characters "
                f"{where}); give char_start/char_end or source_start/source_end, or quote more words"
            )
    return f"quote '{_short(quote)}' is not in {transcript.id} (whitespace and case ignored); check it was copied from this transcript"


def _mismatch(
    quote: str, transcript: Transcript | None, span: tuple[int, int], where: str, tid: str, *, mapped_only: bool = False
) -> list[str]:
    """A note when the row's ``text`` is not what its span holds (whitespace, case, ellipses and words trimmed at
    either end allowed); with ``mapped_only`` only text that came from the source counts (not labels, timings)."""
    if not quote or transcript is None:
        return []
    start, end = span
    if mapped_only:
        held = " ".join(transcript.text[a:b] for a, b in transcript.source_map.pieces(start, end))
    else:
        held = transcript.text[start:end]
    if _plain(_EDGES.sub("", quote)) in _plain(held):  # the common case, without building a pattern
        return []
    speakers = {t.speaker for t in transcript.turns}
    if not _too_long(quote, speakers, held, trim=True):
        pattern = _quote_pattern(quote, speakers, flags=re.IGNORECASE, trim=True)
        if pattern is None or pattern.search(held):
            return []
    note = (
        f"text does not match its span: the row says '{_short(quote)}' but {where} of {tid} hold '{_short(held)}' "
        "(scored as located; fix the offsets or the text)"
    )
    return [note]
