"""The data model that flows through themekit: transcripts, turns, segments, codings.

Segments and turns are anchored by character offsets into their transcript's
normalised text; their text is always derived from it, never copied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Turn", "Transcript", "Segment", "Coding", "Corpus", "Role", "Status", "Method"]

Role = Literal["interviewer", "participant"]
Status = Literal["suggested", "accepted", "rejected", "human"]
Method = Literal["rule", "semantic", "classifier", "human"]


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

    def _repr_html_(self) -> str:
        from .display import transcript_html

        return transcript_html(self)


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
        """One row per speaker turn (see :data:`themekit.frames.TURN_COLUMNS`)."""
        from .frames import turns_frame

        return turns_frame(self)

    @property
    def attributes(self) -> pd.DataFrame:
        """Case attributes, one row per transcript (see :func:`themekit.frames.attributes_frame`)."""
        from .frames import attributes_frame

        return attributes_frame(self)

    def _repr_html_(self) -> str:
        from .display import corpus_html

        return corpus_html(self)
