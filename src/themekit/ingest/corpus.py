"""Reading transcripts: a folder of files in any supported format → a Corpus."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from themekit.errors import CorpusError, TranscriptError
from themekit.ingest.names import ParticipantName, participant_name, participant_names
from themekit.ingest.readers import READERS, Reader, TableColumns, reader_for
from themekit.ingest.roles import (
    apply_folder_roles,
    interviewer_notes,
    lacks_interviewer,
)
from themekit.ingest.text import (
    DEFAULT_INTERVIEWER_LABELS,
    align_source,
    build_turns,
)
from themekit.models import Corpus, SourceMap, Transcript
from themekit.util.gcpause import paused_gc
from themekit.util.limits import MAX_FILE_BYTES
from themekit.util.tables import TABLE_FIX, read_table

__all__ = [
    "CorpusGatherer",
    "DEFAULT_INTERVIEWER_LABELS",
    "MAX_FILE_BYTES",
    "PARTICIPANTS_FILE",
    "RESERVED_FILES",
    "READERS",
    "ParticipantName",
    "Reader",
    "TableColumns",
    "apply_folder_roles",
    "corpus_files",
    "interviewer_notes",
    "lacks_interviewer",
    "participant_name",
    "participant_names",
    "read_corpus",
    "read_participants",
    "read_transcript",
    "supported_extensions",
]

#: Case attributes for the transcripts of a folder live in this file.
PARTICIPANTS_FILE = "participants.csv"
#: Files in a transcript folder that are never read as transcripts.
RESERVED_FILES = frozenset({PARTICIPANTS_FILE, "gold.csv"})


def supported_extensions() -> list[str]:
    return sorted({ext for reader in READERS for ext in reader.extensions})


def read_transcript(
    path: str | Path,
    *,
    attributes: dict[str, str] | None = None,
    interviewer_labels: Iterable[str] | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    text_column: str | None = None,
    speaker_column: str | None = None,
    participant: str | ParticipantName | None = None,
) -> Transcript:
    """Read one transcript file; raises :class:`TranscriptError` if it cannot be used.

    ``text_column`` and ``speaker_column`` name a table's speech and speaker
    columns (default: found by their header names, such as text, words,
    utterance, content, transcript or speech; and speaker). ``participant``: the name people read (default: the
    file name without suffixes such as ``_transcript``; see :mod:`themekit.ingest.names`)."""
    path = Path(path)
    reader = reader_for(path)
    if reader is None:
        raise TranscriptError(
            path,
            f"has an unsupported extension '{path.suffix}'",
            f"Use one of: {', '.join(supported_extensions())}",
        )
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise TranscriptError(
                path,
                f"is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit",
                "Split it, or raise the limit with --max-file-mb",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(
            path, f"could not be read ({exc.strerror})", "Check the file exists and is readable"
        ) from None
    if not data.strip():
        raise TranscriptError(path, "is empty", "Remove it from the folder or add the transcript text")
    labels = frozenset(interviewer_labels) if interviewer_labels is not None else DEFAULT_INTERVIEWER_LABELS
    raw = reader.read(data, path, labels=labels, columns=TableColumns(text_column, speaker_column))
    text, turns, warnings = build_turns(raw.blocks, fallback_speaker=path.stem, interviewer_labels=labels)
    if not turns:
        raise TranscriptError(path, "has no speech in it", "Check it is the transcript and not an empty template")
    merged = dict(raw.attributes)
    merged.update(attributes or {})
    if participant is None:
        participant = participant_name(path.stem)
    if isinstance(participant, ParticipantName):
        if participant.note:
            warnings = [*warnings, participant.note]
        participant = participant.name
    return Transcript(
        id=path.stem,
        source=path,
        sha256=hashlib.sha256(data).hexdigest(),
        format=reader.format if reader.format != "table" else path.suffix.lower().lstrip("."),
        encoding=raw.encoding,
        text=text,
        turns=turns,
        attributes=merged,
        warnings=tuple(raw.warnings + warnings),
        source_map=align_source(text, turns, raw.source_text) if raw.source_text is not None else SourceMap(),
        participant=participant,
    )


def read_participants(path: str | Path) -> dict[str, dict[str, str]]:
    """Case attributes from ``participants.csv``: transcript id → {column: value}.

    The join column is ``transcript`` or ``id`` (matched to file stems,
    case-insensitively); every other column becomes an attribute.
    """
    path = Path(path)
    table = read_table(path, normalise=True, error=_participants_error)
    columns = {c.strip().casefold(): c for c in table.columns}
    key = columns.get("transcript") or columns.get("id")
    if key is None:
        raise CorpusError(
            f"{path}: no 'transcript' or 'id' column to join on (columns are: {', '.join(table.columns) or 'none'}). "
            "Add a 'transcript' column holding each transcript's file name without extension."
        )
    result: dict[str, dict[str, str]] = {}
    bad: list[str] = []
    for row, record in table.records():
        tid = record[key].strip()
        if any(sep in tid for sep in ("/", "\\", "\x00")) or tid.startswith(".") or (len(tid) > 1 and tid[1] == ":"):
            bad.append(f"row {row}: '{tid}' is not a transcript name")
        elif tid:
            result[tid.casefold()] = {k: v for k, v in record.items() if k != key}
    if bad:
        raise CorpusError(
            f"{path}: " + "; ".join(bad) + ". The transcript column holds file names without extension, never paths."
        )
    return result


def _participants_error(path: Path, reason: str, fix: str, *, param: str | None = None) -> CorpusError:
    """What is raised for a participants file that cannot be read: a CSV file, so the fix is to re-save it as one."""
    return CorpusError(f"{path}: {reason}. {'Re-save it as CSV (UTF-8)' if fix == TABLE_FIX else fix}.", param=param)


def corpus_files(path: str | Path) -> tuple[Path, list[Path], dict[str, dict[str, str]], list[tuple[Path, str]]]:
    """The transcript files :func:`read_corpus` reads (in its order), the folder's case attributes, and the files
    skipped with the reason: links to files outside the folder (a link to a system file is not a transcript)."""
    root = Path(path)
    if not root.exists():
        raise CorpusError(f"{root}: no such folder. Give the folder that holds the transcripts.")
    skipped: list[tuple[Path, str]] = []
    if root.is_file():
        files = [root]
        folder = root.parent
    else:
        folder = root
        files = []
        for p in sorted(root.iterdir()):
            if not (
                p.is_file()
                and not p.name.startswith((".", "~$"))
                and p.name.casefold() not in RESERVED_FILES
                and p.stem.casefold() != "readme"
                and reader_for(p) is not None
            ):
                continue
            if p.is_symlink() and not p.resolve().is_relative_to(root.resolve()):
                skipped.append(
                    (
                        p,
                        f"{p}: is a link to {p.resolve()}, outside the folder; skipped. Copy the file into the folder to read it",
                    )
                )
                continue
            files.append(p)
    if not files and not skipped:
        raise CorpusError(f"{root}: no transcripts found. Add files ending in {', '.join(supported_extensions())}.")
    participants_path = folder / PARTICIPANTS_FILE
    participants = read_participants(participants_path) if participants_path.is_file() else {}
    return root, files, participants, skipped


def read_corpus(
    path: str | Path,
    *,
    interviewer_labels: Iterable[str] | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    text_column: str | None = None,
    speaker_column: str | None = None,
) -> Corpus:
    """Read every supported transcript in a folder (not recursive), in file-name order.

    Files that cannot be read are collected in ``Corpus.failures`` with the
    reason, and the rest are still read. A single file path reads just that file.
    Roles are then decided over the whole folder (see :mod:`themekit.ingest.roles`):
    a speaker who interviews in most transcripts is the interviewer in all of them,
    unless ``interviewer_labels`` are given. ``text_column``/``speaker_column``: see :func:`read_transcript`.
    """
    root, files, participants, skipped = corpus_files(path)
    names = participant_names((f.stem for f in files), participants)
    gathered = CorpusGatherer(root, skipped, interviewer_labels=interviewer_labels)
    with paused_gc():  # parsing makes many small objects: see themekit.util.gcpause
        for file in files:
            if gathered.refuse_duplicate(file):
                continue
            try:
                transcript = read_transcript(
                    file,
                    attributes=participants.get(file.stem.casefold()),
                    interviewer_labels=interviewer_labels,
                    max_bytes=max_bytes,
                    text_column=text_column,
                    speaker_column=speaker_column,
                    participant=names[file.stem],
                )
            except TranscriptError as exc:
                gathered.add(file, error=str(exc))
            else:
                gathered.add(file, transcript)
    return gathered.corpus()


class CorpusGatherer:
    """Transcripts gathered into a :class:`Corpus` file by file, in order, wherever they were read: the one rule
    for which files become transcripts (a second file with the same name is refused, an unreadable one listed)
    and, once all are read, for who the interviewer is (:func:`~themekit.ingest.roles.apply_folder_roles`;
    ``interviewer_labels``: the labels the user gave, if any)."""

    def __init__(
        self, root: Path, failures: Iterable[tuple[Path, str]] = (), *, interviewer_labels: Iterable[str] | None = None
    ) -> None:
        self.root = root
        self.interviewer_labels = interviewer_labels
        self.transcripts: list[Transcript] = []
        self.failures: list[tuple[Path, str]] = list(failures)
        self.seen: dict[str, Path] = {}

    def refuse_duplicate(self, path: Path) -> bool:
        """Whether ``path`` has the name of a transcript already gathered (then it is listed as a failure)."""
        if path.stem not in self.seen:
            return False
        self.failures.append(
            (
                path,
                f"{path}: has the same name as {self.seen[path.stem].name}. Rename one so each transcript id is unique.",
            )
        )
        return True

    def add(self, path: Path, transcript: Transcript | None = None, *, error: str | None = None) -> bool:
        """Gather what reading ``path`` gave; whether it became a transcript of the corpus."""
        if transcript is None:
            self.failures.append((path, error or f"{path}: could not be read"))
            return False
        self.seen[path.stem] = path
        self.transcripts.append(transcript)
        return True

    def corpus(self) -> Corpus:
        """The corpus, roles decided over all its transcripts (a transcript whose roles changed is a new object)."""
        transcripts = apply_folder_roles(self.transcripts, interviewer_labels=self.interviewer_labels)
        return Corpus(root=self.root, transcripts=tuple(transcripts), failures=tuple(self.failures))
