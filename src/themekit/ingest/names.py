"""How a transcript's participant is named wherever people read it (reports, tables, the web app).

The one rule: the name a ``participants.csv`` row gives (its ``participant``, ``participant_id``, ``pseudonym``,
``name`` or ``id`` column, the first one filled), else the file name without the suffixes people add to
transcript files (``QR05_transcript_deidentified`` → ``QR05``). Two transcripts are never given the same name
by cutting suffixes: those that would be keep their full file names, with a note saying so. The transcript id
(the file name) stays the key of files, run.json, the project store and human codings; only what people read
changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "FULL_NAME_NOTE",
    "NAME_COLUMNS",
    "ParticipantName",
    "describe_names",
    "name_column",
    "participant_name",
    "participant_names",
]

#: The start of the note on a transcript named by its full file name (the terminal shows these notes).
FULL_NAME_NOTE = "is named by its full file name"
#: ``participants.csv`` columns that name a transcript's participant, first filled wins (matched ignoring case).
NAME_COLUMNS = ("participant", "participant_id", "participant id", "pseudonym", "name", "id")

#: Words people add to a transcript's file name that are not part of who it is ("_transcript", "-deid", " (1)").
_SUFFIX = re.compile(
    r"(?:[\s_.\-]+(?:transcript(?:ion)?s?|transcribed|de-?identified|deid|anon|anonymou?s|anonymi[sz]ed|anoni[sz]ed|"
    r"clean(?:ed)?|final|redacted|edited|copy|otter|v\d+)|\s*\(\d+\))[\s_.\-]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParticipantName:
    """A transcript's participant name, where it came from (``"participants.csv"`` or ``"file name"``), and a note
    when it is not what the rule would give (two transcripts would have had the same name)."""

    name: str
    source: str
    note: str | None = None


def participant_name(stem: str) -> str:
    """The name a file name gives: ``stem`` without suffixes such as ``_transcript``, ``-deid``, ``_anon``,
    ``_clean``, ``_final``, ``_redacted``, ``_v2`` or `` (1)``, cut one at a time from the end; never empty."""
    name = stem
    while (match := _SUFFIX.search(name)) is not None:
        shorter = name[: match.start()]
        if not shorter.strip(" _.-"):
            break
        name = shorter
    return name


def name_column(attributes: Mapping[str, str] | None) -> tuple[str, str] | None:
    """The first :data:`NAME_COLUMNS` column of ``attributes`` holding a value: ``(column, value)``, or None."""
    if not attributes:
        return None
    by_key = {str(k).strip().casefold(): (k, v) for k, v in attributes.items()}
    for column in NAME_COLUMNS:
        found = by_key.get(column)
        if found is not None and str(found[1] or "").strip():
            return str(found[0]), " ".join(str(found[1]).split())
    return None


def participant_names(
    stems: Iterable[str], participants: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, ParticipantName]:
    """Each transcript's participant name (``stems``: the transcripts' ids; ``participants``: what
    :func:`~themekit.ingest.read_participants` read, keyed by the id folded to lower case).

    A name a ``participants.csv`` gives is used as it is: one participant may have several interviews. A name
    cut from a file name is used only when no other transcript has it (ignoring case); otherwise the transcripts
    that would share it keep their full file names, each with a note naming the others."""
    stems = list(dict.fromkeys(stems))
    participants = participants or {}
    names: dict[str, ParticipantName] = {}
    for stem in stems:
        given = name_column(participants.get(stem.casefold()))
        if given is not None:
            names[stem] = ParticipantName(given[1], "participants.csv")
    cut = {stem: participant_name(stem) for stem in stems if stem not in names}
    taken: dict[str, list[str]] = {}
    for stem, name in cut.items():
        taken.setdefault(name.casefold(), []).append(stem)
    for name in names.values():
        taken.setdefault(name.name.casefold(), []).append("")  # a name participants.csv gives: never taken from it
    for stem, name in cut.items():
        sharing = [s for s in taken[name.casefold()] if s != stem]
        if name == stem or not sharing:
            names[stem] = ParticipantName(name, "file name")
            continue
        others = [s for s in sharing if s]
        who = f"{', '.join(others)} would be named so too" if others else "participants.csv gives that name"
        names[stem] = ParticipantName(
            stem,
            "file name",
            f"{FULL_NAME_NOTE}, {stem}, not {name}: {who}. Rename the files, or name participants in participants.csv",
        )
    return {stem: names[stem] for stem in stems}


def describe_names(transcripts: Iterable, *, shown: int = 3) -> str:
    """One line for the terminal: how participants are named, and how to name them otherwise
    ("Participants are named QR05, QR06, QR07, … (from file names; ...)")."""
    transcripts = list(transcripts)
    names = list(dict.fromkeys(t.participant for t in transcripts))
    listed = ", ".join(names[:shown]) + (", …" if len(names) > shown else "")
    given = [t for t in transcripts if (found := name_column(t.attributes)) is not None and found[1] == t.participant]
    if given and len(given) == len(transcripts):
        columns = sorted({name_column(t.attributes)[0] for t in given})  # type: ignore[index]
        source = f"from participants.csv, column {', '.join(columns)}"
    elif given:
        source = f"from participants.csv for {len(given)}, file names for {len(transcripts) - len(given)}"
    else:
        source = "from file names; set names in participants.csv or the report's attribution setting"
    return f"Participants are named {listed} ({source})"
