"""The data model that flows through themekit: transcripts, turns, segments, codings.

Segments and turns are anchored by character offsets into their transcript's
normalised text; their text is always derived from it, never copied.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ATTRIBUTE_MISSING",
    "CONFIRMED",
    "METHODS",
    "REVIEWED",
    "ROLES",
    "STATUSES",
    "TURN_COLUMNS",
    "UNITS",
    "Coding",
    "Corpus",
    "Method",
    "Role",
    "Segment",
    "SourceMap",
    "Status",
    "Transcript",
    "Turn",
    "Unit",
    "attributes_frame",
    "categorical",
    "role_categories",
    "turns_frame",
]

Role = Literal["interviewer", "participant"]
Status = Literal["suggested", "accepted", "rejected", "human"]
Method = Literal["rule", "semantic", "classifier", "human"]
#: What a segment is: a sentence, a speaker's turn, a paragraph of one, or a passage of sentences on one topic.
Unit = Literal["sentence", "turn", "paragraph", "passage"]

#: The speaker roles, in the order of the ``role`` categories.
ROLES: tuple[Role, ...] = ("interviewer", "participant")
#: Every status a coding can have, in the order of the ``status`` categories.
STATUSES: tuple[Status, ...] = ("suggested", "accepted", "rejected", "human")
#: The statuses a person gave: a coding with one of them has been reviewed.
REVIEWED: frozenset[Status] = frozenset({"accepted", "rejected", "human"})
#: The statuses of a coding a person made or accepted: it stands on a person's word, not only the machine's.
CONFIRMED: frozenset[Status] = frozenset({"accepted", "human"})
#: The coding methods, in the order they run.
METHODS: tuple[Method, ...] = ("rule", "semantic", "classifier", "human")
#: The coding units, as ``unit=`` and ``--unit`` name them.
UNITS: tuple[Unit, ...] = get_args(Unit)
#: Columns of ``corpus.turns``, in order.
TURN_COLUMNS = ("transcript", "turn", "speaker", "role", "start", "end", "timestamp", "words", "text")
#: The group of cases with no value for an attribute that a table groups by.
ATTRIBUTE_MISSING = "(not given)"


@dataclass(frozen=True)
class Turn:
    """One speaker turn; ``start``/``end`` delimit the speech (not the label)."""

    index: int
    speaker: str
    role: Role
    start: int
    end: int
    timestamp: float | None = None


@dataclass(frozen=True)
class SourceMap:
    """Where the pieces of a transcript's normalised text came from in its source file's decoded text.

    Each piece ``k`` says that ``text[text_starts[k] : text_starts[k] + lengths[k]]`` equals the source text at
    ``source_starts[k]``; pieces are in order in both texts and do not overlap. Rendered-only text (speaker
    labels, timestamps, the space joining wrapped lines) lies between pieces. An empty map (no pieces) means
    the source offsets are not known (such as for .xlsx files, or runs written before themekit kept them).
    """

    text_starts: tuple[int, ...] = ()
    source_starts: tuple[int, ...] = ()
    lengths: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.lengths)

    def to_source(self, start: int, end: int) -> tuple[int, int] | None:
        """The source span of the text span ``start``-``end``, its ends snapped inwards to the nearest
        characters that came from the source; ``None`` when no character of the span did."""
        return _snap(self.text_starts, self.source_starts, self.lengths, start, end)

    def from_source(self, start: int, end: int) -> tuple[int, int] | None:
        """The text span of the source span ``start``-``end``, snapped inwards like :meth:`to_source`;
        ``None`` when none of those source characters is in the text (a label line, a caption's timing)."""
        return _snap(self.source_starts, self.text_starts, self.lengths, start, end)

    def pieces(self, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of the text span ``start``-``end`` that came from the source, as (start, end) in the text."""
        i = max(bisect_right(self.text_starts, start) - 1, 0)
        parts = []
        for k in range(i, bisect_left(self.text_starts, end)):
            a, b = max(start, self.text_starts[k]), min(end, self.text_starts[k] + self.lengths[k])
            if a < b:
                parts.append((a, b))
        return parts

    def to_list(self) -> list[list[int]]:
        """The pieces as ``[[text_start, source_start, length], ...]`` (JSON-friendly)."""
        return [list(p) for p in zip(self.text_starts, self.source_starts, self.lengths)]

    @classmethod
    def from_list(cls, pieces: Iterable[Sequence[int]]) -> SourceMap:
        columns = tuple(zip(*pieces)) or ((), (), ())
        return cls(*(tuple(int(x) for x in c) for c in columns))


def _snap(
    froms: tuple[int, ...], tos: tuple[int, ...], lengths: tuple[int, ...], start: int, end: int
) -> tuple[int, int] | None:
    """Map ``start``-``end`` from one side of the pieces to the other, snapping to mapped characters inside it."""
    if end <= start or not lengths:
        return None
    i = bisect_right(froms, start) - 1  # the piece holding start, or the one before it
    if i >= 0 and start < froms[i] + lengths[i]:
        first = tos[i] + start - froms[i]
    else:
        i += 1
        if i >= len(froms) or froms[i] >= end:
            return None
        first = tos[i]
    j = bisect_left(froms, end) - 1  # the last piece starting before end
    last = tos[j] + min(end, froms[j] + lengths[j]) - froms[j]
    return first, last


@dataclass(frozen=True, eq=False)
class Transcript:
    """A transcript read from one file, with its normalised text and turns."""

    id: str
    source: Path
    sha256: str
    format: str
    encoding: str | None
    text: str
    turns: tuple[Turn, ...]
    attributes: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    #: where ``text`` came from in the source file's decoded text (see :class:`SourceMap`)
    source_map: SourceMap = field(default_factory=SourceMap)
    #: the participant's name as reports, tables and the web app show it (``QR05`` for ``QR05_transcript.txt``;
    #: see :mod:`themekit.ingest.names`); the id stays the key. Default: the id.
    participant: str = ""

    def __post_init__(self) -> None:
        if not self.participant:
            object.__setattr__(self, "participant", self.id)

    def to_source(self, start: int, end: int) -> tuple[int, int] | None:
        """Offsets into the source file's decoded text of the span ``start``-``end`` of ``text``."""
        return self.source_map.to_source(start, end)

    def from_source(self, start: int, end: int) -> tuple[int, int] | None:
        """Offsets into ``text`` of the span ``start``-``end`` of the source file's decoded text."""
        return self.source_map.from_source(start, end)

    def turn_text(self, turn: Turn) -> str:
        return self.text[turn.start : turn.end]

    @property
    def participant_turns(self) -> tuple[Turn, ...]:
        return tuple(t for t in self.turns if t.role == "participant")

    @property
    def word_count(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True, eq=False)
class Segment:
    """A coding unit: a span of one participant turn, by character offsets."""

    transcript: Transcript
    index: int
    turn_index: int
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.transcript.text[self.start : self.end]

    @property
    def turn(self) -> Turn:
        return self.transcript.turns[self.turn_index]

    @property
    def speaker(self) -> str:
        return self.turn.speaker

    @property
    def role(self) -> Role:
        return self.turn.role

    @property
    def timestamp(self) -> float | None:
        return self.turn.timestamp


@dataclass(frozen=True, eq=False)
class Coding:
    """One code given to one segment, with how and why."""

    segment: Segment
    code_id: str
    theme_id: str
    method: str  # a Method, or several joined by "+" when methods agree
    score: float
    evidence: str
    status: Status = "suggested"
    negated: bool = False
    #: the chance that a coder would give this code here: the classifier's probability calibrated to the coder it
    #: learned from, or semantic similarity's fixed map of its score (fitted on human codings); ``None`` for rule
    #: matches, whose scores rank codings but are no probability, and for a person's own codings
    probability: float | None = None

    @property
    def counts(self) -> bool:
        """Whether the coding counts in summaries, tables and charts: not negated ("I never felt lonely"), not
        rejected by a person, and of a participant's speech (the interviewer is never counted or quoted, even when
        interviewer speech was coded). The one rule every count in themekit follows."""
        return not self.negated and self.status != "rejected" and self.segment.role == "participant"


@dataclass(frozen=True, eq=False)
class Corpus:
    """The transcripts read from a folder, and the files that could not be read."""

    root: Path
    transcripts: tuple[Transcript, ...]
    failures: tuple[tuple[Path, str], ...] = ()

    def __len__(self) -> int:
        return len(self.transcripts)

    def __iter__(self):
        return iter(self.transcripts)

    def __getitem__(self, transcript_id: str) -> Transcript:
        for t in self.transcripts:
            if t.id == transcript_id:
                return t
        raise KeyError(transcript_id)

    @property
    def turns(self) -> pd.DataFrame:
        """One row per speaker turn (see :data:`TURN_COLUMNS`)."""
        return turns_frame(self.transcripts)

    @property
    def attributes(self) -> pd.DataFrame:
        """Case attributes, one row per transcript (see :func:`attributes_frame`)."""
        return attributes_frame(self.transcripts)


def categorical(values: Iterable, categories: Iterable) -> pd.Categorical:
    """A pandas categorical of ``values`` whose categories are ``categories`` in their order, without repeats."""
    import pandas as pd

    return pd.Categorical(values, categories=list(dict.fromkeys(categories)))


def role_categories(values: Sequence[str]) -> tuple[str, ...]:
    """The categories of a ``role`` column: both roles, then any other value seen."""
    return ROLES + tuple(sorted(set(values) - set(ROLES)))


def turns_frame(transcripts: Iterable[Transcript]) -> pd.DataFrame:
    """One row per speaker turn of every transcript; columns as in :data:`TURN_COLUMNS`."""
    import pandas as pd

    transcripts = list(transcripts)
    rows = [
        (t.id, u.index, u.speaker, u.role, u.start, u.end, u.timestamp, len(t.turn_text(u).split()), t.turn_text(u))
        for t in transcripts
        for u in t.turns
    ]
    frame = pd.DataFrame.from_records(rows, columns=list(TURN_COLUMNS))
    frame = frame.astype({"turn": "int64", "start": "int64", "end": "int64", "timestamp": "float64", "words": "int64"})
    frame["transcript"] = categorical(frame["transcript"], [t.id for t in transcripts])
    frame["speaker"] = categorical(frame["speaker"], sorted(set(frame["speaker"])))
    frame["role"] = categorical(frame["role"], role_categories(frame["role"]))
    return frame


def attributes_frame(transcripts: Iterable[Transcript]) -> pd.DataFrame:
    """Case attributes: one row per transcript (index ``transcript``), one column per attribute.

    A column whose every given value is a number becomes ``Int64`` (whole
    numbers) or ``float64``; any other column is a categorical of its values,
    sorted. A value missing for a transcript is ``<NA>``/``NaN``.
    """
    import pandas as pd

    transcripts = list(transcripts)
    names = list(dict.fromkeys(name for t in transcripts for name in t.attributes))
    ids = [t.id for t in transcripts]
    frame = pd.DataFrame(
        {name: [t.attributes.get(name) or None for t in transcripts] for name in names},
        index=pd.Index(ids, name="transcript", dtype="str"),
    )
    for name in names:
        given = frame[name].dropna()
        numbers = pd.to_numeric(given, errors="coerce")
        if len(given) and not numbers.isna().any():
            whole = bool((numbers == numbers.round()).all()) and not given.str.contains(r"[.eE]").any()
            column = pd.to_numeric(frame[name])
            frame[name] = column.astype("Int64") if whole else column.astype("float64")
        else:
            frame[name] = pd.Categorical(frame[name], categories=sorted(set(given)))
    return frame
