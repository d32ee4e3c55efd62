"""The data model that flows through themekit: transcripts, turns, segments, codings.

Segments and turns are anchored by character offsets into their transcript's
normalised text; their text is always derived from it, never copied.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ATTRIBUTE_MISSING",
    "METHODS",
    "REVIEWED",
    "ROLES",
    "STATUSES",
    "TURN_COLUMNS",
    "Coding",
    "Corpus",
    "Method",
    "Role",
    "Segment",
    "Status",
    "Transcript",
    "Turn",
    "attributes_frame",
    "categorical",
    "role_categories",
    "turns_frame",
]

Role = Literal["interviewer", "participant"]
Status = Literal["suggested", "accepted", "rejected", "human"]
Method = Literal["rule", "semantic", "classifier", "human"]

#: The speaker roles, in the order of the ``role`` categories.
ROLES: tuple[Role, ...] = ("interviewer", "participant")
#: Every status a coding can have, in the order of the ``status`` categories.
STATUSES: tuple[Status, ...] = ("suggested", "accepted", "rejected", "human")
#: The statuses a person gave: a coding with one of them has been reviewed.
REVIEWED: frozenset[Status] = frozenset({"accepted", "rejected", "human"})
#: The coding methods, in the order they run.
METHODS: tuple[Method, ...] = ("rule", "semantic", "classifier", "human")
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
