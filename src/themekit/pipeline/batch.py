"""The per-batch work of a run: read, segment and code a few transcripts.

A :class:`BatchJob` is picklable and is called on a batch (a list of transcript
paths, or of already read transcripts) in whichever process an engine runs it.
It returns, per item in order, the transcript (or why it could not be read),
its segments and the codings of the coders that need one transcript at a time
(methods registered ``in_batches``: the rules); the spaCy Docs stay behind and are freed
with the batch. Everything per transcript depends only on that transcript, so
batches can be cut and run anywhere and give the same result.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from themekit.codebook import Codebook
from themekit.errors import TranscriptError
from themekit.ingest.names import ParticipantName
from themekit.models import Coding, Role, Segment, Transcript
from themekit.util.gcpause import paused_gc
from themekit.util.limits import MAX_FILE_BYTES

__all__ = ["BatchJob", "Outcome"]


@dataclass
class Outcome:
    """What one item of a batch became."""

    path: Path | None
    transcript: Transcript | None = None
    error: str | None = None
    segments: list[Segment] = field(default_factory=list)
    #: codings of the batch's coders, by method
    codings: dict[str, list[Coding]] = field(default_factory=dict)
    #: the coders' warnings for the batch (a pattern switched off for taking too long), on its first outcome
    warnings: list[str] = field(default_factory=list)


@dataclass
class BatchJob:
    """Read (when given paths), segment and code a batch with the ``coders`` (methods registered ``in_batches``)."""

    codebook: Codebook
    spacy_model: str
    unit: str
    min_words: int
    roles: tuple[Role, ...]
    coders: tuple[str, ...] = ()
    interviewer_labels: tuple[str, ...] | None = None
    max_bytes: int = MAX_FILE_BYTES
    participants: dict[str, dict[str, str]] = field(default_factory=dict)
    #: each file's participant name, decided over the whole folder (:func:`themekit.ingest.participant_names`)
    names: dict[str, ParticipantName] = field(default_factory=dict)
    text_column: str | None = None
    speaker_column: str | None = None

    def prepare(self) -> None:
        """Import what a batch needs and build the spaCy pipeline: a worker's start-up, done before its first batch."""
        from themekit.coding import METHODS  # noqa: F401
        from themekit.ingest import read_transcript  # noqa: F401
        from themekit.nlp.language import load_pipeline
        from themekit.nlp.segment import segment_corpus  # noqa: F401

        load_pipeline(self.spacy_model)

    def __call__(self, items: Sequence[Path | Transcript]) -> tuple[list[Outcome], dict[str, float]]:
        with paused_gc():
            return self._run(items)

    def _run(self, items: Sequence[Path | Transcript]) -> tuple[list[Outcome], dict[str, float]]:
        from themekit.coding import METHODS, CoderContext
        from themekit.ingest import read_transcript
        from themekit.nlp.language import load_pipeline
        from themekit.nlp.segment import segment_corpus

        seconds: dict[str, float] = {"ingest": 0.0, "segment": 0.0, **{f"code:{name}": 0.0 for name in self.coders}}
        started = time.perf_counter()
        outcomes: list[Outcome] = []
        for item in items:
            if isinstance(item, Transcript):
                outcomes.append(Outcome(item.source, item))
                continue
            try:
                transcript = read_transcript(
                    item,
                    attributes=self.participants.get(item.stem.casefold()),
                    interviewer_labels=self.interviewer_labels,
                    max_bytes=self.max_bytes,
                    text_column=self.text_column,
                    speaker_column=self.speaker_column,
                    participant=self.names.get(item.stem),
                )
                outcomes.append(Outcome(item, transcript))
            except TranscriptError as exc:
                outcomes.append(Outcome(item, error=str(exc)))
        seconds["ingest"] = time.perf_counter() - started

        # a later file with an id already read is refused by the caller; segmenting it here would mix their Docs
        ids: set[str] = set()
        read = [
            o for o in outcomes if o.transcript is not None and not (o.transcript.id in ids or ids.add(o.transcript.id))
        ]
        if not read:
            return outcomes, seconds
        started = time.perf_counter()
        nlp = load_pipeline(self.spacy_model)
        segmentation = segment_corpus(
            [o.transcript for o in read],
            nlp,
            unit=self.unit,
            min_words=self.min_words,
            roles=self.roles,  # type: ignore[arg-type]
        )
        seconds["segment"] = time.perf_counter() - started
        by_transcript: dict[int, Outcome] = {id(o.transcript): o for o in read}
        for segment in segmentation.segments:
            by_transcript[id(segment.transcript)].segments.append(segment)
        context = CoderContext(nlp=nlp)
        for name in self.coders:
            started = time.perf_counter()
            for outcome in read:
                outcome.codings[name] = []
            coded = METHODS[name].build(context).code(segmentation, self.codebook)
            for coding in coded.codings:
                by_transcript[id(coding.segment.transcript)].codings[name].append(coding)
            read[0].warnings.extend(coded.stats.get("warnings", []))
            seconds[f"code:{name}"] = time.perf_counter() - started
        return outcomes, seconds


def batched(items: Sequence[Any], size: int) -> list[list[Any]]:
    """``items`` cut into consecutive lists of at most ``size``."""
    size = max(1, size)
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
