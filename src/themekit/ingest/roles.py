"""Who is the interviewer, decided over a whole folder of transcripts.

Each transcript decides its roles alone (:func:`themekit.ingest.text.assign_roles`):
by interviewer labels, else by who asks most of the questions. In a study
where one person ran every interview under their own name ("Jane Smith"),
a transcript where that guess fails would quote her as a participant. The
folder rule fixes that: a speaker label (trimmed, case-insensitive) found in
at least half of the transcripts, and in at least :data:`MIN_TRANSCRIPTS`,
that is the interviewer in most of the transcripts where an interviewer was
identified, or asks most of the questions across them, is the interviewer in
every transcript where it speaks. Generic labels that name a position, not a
person ("Speaker 1", "Participant", "P01", "A"), are left out: Otter calls
whoever speaks first "Speaker 1". Interviewer labels the user gives win: the
rule then does not run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from themekit.ingest.text import (
    DEFAULT_INTERVIEWER_LABELS,
    NO_LABELS_NOTE,
    is_interviewer_label,
    question_guess_note,
    speaker_key,
)
from themekit.models import Role, Transcript

__all__ = [
    "ASKS_NOTE",
    "FOLDER_NOTE",
    "MIN_TRANSCRIPTS",
    "NO_INTERVIEWER_NOTE",
    "apply_folder_roles",
    "folder_interviewers",
    "interviewer_notes",
    "lacks_interviewer",
]

#: The fewest transcripts a speaker must appear in for the folder rule to apply.
MIN_TRANSCRIPTS = 3
#: The start of the warning a transcript gets when the folder rule made a speaker its interviewer.
FOLDER_NOTE = "taken as the interviewer by the folder rule"
#: The start of the warning a transcript with several speakers and no interviewer gets.
NO_INTERVIEWER_NOTE = "no interviewer identified"
#: What the warning says of a speaker coded as a participant who asks most of an interview's questions.
ASKS_NOTE = "asks most of the questions but is coded as a participant"
#: A participant is warned about once they have this many turns, more than half of them questions.
ASKS_MIN_TURNS = 3


#: Labels naming a position in the conversation rather than a person: never taken as the interviewer by the rule.
_GENERIC = re.compile(
    r"^(?:(?:unknown |unidentified )?speaker|participant|respondent|interviewee|person|voice|guest|answer|a|r|p)"
    r"\s*\d*$|^[a-z]{1,3}\s?\d{1,3}$"
)


@dataclass(frozen=True)
class _Speaker:
    label: str
    transcripts: int = 0
    #: transcripts where an interviewer was identified and it spoke, and where it was that interviewer
    decided: int = 0
    interviewer: int = 0
    questions: int = 0


def _questions(transcript: Transcript) -> dict[str, int]:
    """Turns ending in a question mark, by speaker key."""
    asked: dict[str, int] = {}
    for turn in transcript.turns:
        if transcript.turn_text(turn).rstrip().endswith("?"):
            asked[speaker_key(turn.speaker)] = asked.get(speaker_key(turn.speaker), 0) + 1
    return asked


def _speakers(transcripts: Sequence[Transcript]) -> tuple[dict[str, _Speaker], int]:
    """Per speaker key, where it speaks and in what role; and every question turn of the folder."""
    found: dict[str, _Speaker] = {}
    total_questions = 0
    for transcript in transcripts:
        roles: dict[str, set[Role]] = {}
        for turn in transcript.turns:
            roles.setdefault(speaker_key(turn.speaker), set()).add(turn.role)
        decided = any("interviewer" in r for r in roles.values())
        asked = _questions(transcript)
        total_questions += sum(asked.values())
        for key, spoken in roles.items():
            s = found.get(key) or _Speaker(next(t.speaker for t in transcript.turns if speaker_key(t.speaker) == key))
            found[key] = replace(
                s,
                transcripts=s.transcripts + 1,
                decided=s.decided + decided,
                interviewer=s.interviewer + ("interviewer" in spoken),
                questions=s.questions + asked.get(key, 0),
            )
    return found, total_questions


def folder_interviewers(transcripts: Sequence[Transcript]) -> dict[str, str]:
    """The speakers the folder rule takes as interviewer: speaker key → label (as first seen)."""
    needed = max(MIN_TRANSCRIPTS, math.ceil(len(transcripts) / 2))
    found, total_questions = _speakers(transcripts)
    chosen: dict[str, str] = {}
    for key, s in found.items():
        if s.transcripts < needed or _GENERIC.match(key):
            continue
        interviews = s.decided > 0 and s.interviewer * 2 > s.decided
        asks = total_questions > 0 and s.questions * 2 > total_questions
        if interviews or asks:
            chosen[key] = s.label
    return chosen


def _reassigned(transcript: Transcript, interviewers: dict[str, str]) -> Transcript:
    """``transcript`` with the folder's interviewers as its interviewers (the same object when nothing changes).

    A speaker taken as interviewer only for asking the most questions becomes a participant again; a speaker
    whose label says interviewer stays one."""
    roles: dict[str, Role] = {}
    for turn in transcript.turns:
        key = speaker_key(turn.speaker)
        if key in interviewers or is_interviewer_label(turn.speaker, DEFAULT_INTERVIEWER_LABELS):
            roles[turn.speaker] = "interviewer"
        else:
            roles[turn.speaker] = "participant"
    missed = sorted(
        {t.speaker for t in transcript.turns if t.role == "participant" and roles[t.speaker] == "interviewer"}
    )
    if not missed:
        return transcript
    demoted = {t.speaker for t in transcript.turns if t.role == "interviewer" and roles[t.speaker] == "participant"}
    warnings = [w for w in transcript.warnings if w not in {question_guess_note(s) for s in demoted}]
    names = " and ".join(f"'{s}'" for s in missed)
    warnings.append(
        f"{names} {FOLDER_NOTE}: {'they interview' if len(missed) > 1 else 'this speaker interviews'} in most "
        "transcripts of the folder, so is not coded or quoted here either (set interviewer labels to change this)"
    )
    turns = tuple(replace(t, role=roles[t.speaker]) if t.role != roles[t.speaker] else t for t in transcript.turns)
    return replace(transcript, turns=turns, warnings=tuple(warnings))


def lacks_interviewer(transcript: Transcript) -> bool:
    """Whether ``transcript`` has two speakers or more and none of them is the interviewer.

    A transcript with one speaker (a monologue, written answers, a file without labels) is not counted: there
    is no interviewer's speech in it to keep apart."""
    return len({speaker_key(t.speaker) for t in transcript.turns}) >= 2 and all(
        t.role != "interviewer" for t in transcript.turns
    )


def _warned(transcript: Transcript) -> Transcript:
    """``transcript`` with the no-interviewer warning, when it lacks one (once)."""
    if not lacks_interviewer(transcript) or any(w.startswith(NO_INTERVIEWER_NOTE) for w in transcript.warnings):
        return transcript
    speakers = ", ".join(f"'{s}'" for s in dict.fromkeys(t.speaker for t in transcript.turns))
    note = (
        f"{NO_INTERVIEWER_NOTE} among its speakers ({speakers}): every one is taken as a participant, coded and "
        "quoted (name the interviewer with interviewer labels)"
    )
    return replace(transcript, warnings=(*transcript.warnings, note))


def _asking_participants(transcript: Transcript) -> Transcript:
    """``transcript`` with a warning for each participant who asks most of its questions: at least
    :data:`ASKS_MIN_TURNS` turns, more than half of them ending in '?', more questions than any other speaker,
    while another speaker answers (a turn that is not a question). Their questions are coded as answers."""
    turns: dict[str, list[bool]] = {}
    for turn in transcript.turns:
        turns.setdefault(turn.speaker, []).append(transcript.turn_text(turn).rstrip().endswith("?"))
    roles = {t.speaker: t.role for t in transcript.turns}
    notes = []
    for speaker, asked in turns.items():
        questions = sum(asked)
        others = [sum(a) for s, a in turns.items() if s != speaker]
        answered = any(not q for s, a in turns.items() if s != speaker for q in a)
        if (
            roles[speaker] == "participant"
            and len(asked) >= ASKS_MIN_TURNS
            and questions * 2 > len(asked)
            and all(questions > n for n in others)
            and answered
        ):
            note = (
                f"'{speaker}' {ASKS_NOTE} ({questions} of {len(asked)} turns end with '?'), so those questions are "
                "coded and quoted as answers; if this speaker interviews, name them with interviewer labels"
            )
            if note not in transcript.warnings:
                notes.append(note)
    return replace(transcript, warnings=(*transcript.warnings, *notes)) if notes else transcript


def apply_folder_roles(
    transcripts: Iterable[Transcript], *, interviewer_labels: Iterable[str] | None = None
) -> list[Transcript]:
    """The transcripts of one folder, with the folder rule applied (see the module's documentation) unless
    ``interviewer_labels`` were given, and a warning on each that still has no interviewer among several speakers
    and on each where a participant asks most of the questions.

    Transcripts that change are new objects (a Transcript is frozen); the others are returned as they are."""
    transcripts = list(transcripts)
    if interviewer_labels is None:
        interviewers = folder_interviewers(transcripts)
        if interviewers:
            transcripts = [_reassigned(t, interviewers) for t in transcripts]
    return [_asking_participants(_warned(t)) for t in transcripts]


def interviewer_notes(transcripts: Iterable[Transcript]) -> list[str]:
    """The role warnings of the folder rule and of participants asking most of the questions, as
    ``<transcript id>: <warning>``, for the terminal and run.json; and,
    where other transcripts of the folder have an interviewer, each transcript in which no speaker label was found
    (its interviewer's questions, if it has any, are coded as a participant's words)."""
    transcripts = list(transcripts)
    interviews = any(turn.role == "interviewer" for t in transcripts for turn in t.turns)
    notes = []
    for t in transcripts:
        for w in t.warnings:
            if FOLDER_NOTE in w or w.startswith(NO_INTERVIEWER_NOTE) or ASKS_NOTE in w:
                notes.append(f"{t.id}: {w}")
            elif interviews and w.startswith(NO_LABELS_NOTE):
                notes.append(f"{t.id}: {w}, while other transcripts of the folder have an interviewer; if this one has "
                             "one too, write its speaker labels in a form themekit reads (README, Transcripts)")  # fmt: skip
    return notes
