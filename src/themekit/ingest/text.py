"""Shared machinery for readers: speaker labels and building turns (decoding lives in :mod:`themekit.util.decoding`,
so table files read below this layer decode the same way).

Every reader turns its file into a list of :class:`Block` (speaker label or
``None``, timestamp, paragraphs of speech). :func:`build_transcript` merges
consecutive blocks of the same speaker into turns, renders the normalised
transcript text (``[hh:mm:ss] Speaker: speech`` per turn, a blank line
between turns) and records each turn's character offsets into that text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from themekit.models import Role, SourceMap, Turn
from themekit.util.decoding import decode_bytes, normalise_text

__all__ = [
    "Block",
    "DEFAULT_INTERVIEWER_LABELS",
    "NO_LABELS_NOTE",
    "align_source",
    "build_turns",
    "decode_bytes",
    "header_speakers",
    "is_interviewer_label",
    "is_timestamp",
    "normalise_text",
    "otter_header",
    "parse_labelled_text",
    "parse_timestamp",
    "question_guess_note",
    "speaker_key",
    "speaker_names",
]

#: Speaker labels (compared case-insensitively, trailing numbers ignored) that
#: mark the interviewer; everything else is a participant.
DEFAULT_INTERVIEWER_LABELS: frozenset[str] = frozenset(
    {"interviewer", "int", "i", "q", "iv", "ir", "researcher", "moderator", "facilitator", "question"}
)

#: The start of the warning a transcript without any speaker label gets.
NO_LABELS_NOTE = "no speaker labels found"

_TS = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_LABEL = r"[A-Za-z][\w.'’-]*(?: [\w.'’-]+){0,3}"
# a label may name a role and a person: "Interviewer (Jane)", "Jane (interviewer)"
_ROLE_NOTE = r"(?:\s*\((?![\d:.,\s]+\))[^()\n]{1,30}\))?"
# a name alone: capitalised words, as speaker labels are written when no colon follows ("Jane Smith", "P3")
_NAME = r"[A-Z][\w'’-]*\.?(?: [A-Z0-9][\w'’-]*\.?){0,3}"
# [00:01:23] Speaker 1: text
_RE_TS_FIRST = re.compile(rf"^\[(?P<ts>{_TS})\]\s*(?P<label>{_LABEL})\s*:\s*(?P<text>.*)$")
# Speaker 1 (00:01:23): text
_RE_TS_AFTER = re.compile(rf"^(?P<label>{_LABEL})\s*\((?P<ts>{_TS})\)\s*:\s*(?P<text>.*)$")
# Speaker 1  0:01   (Otter: label and time alone on a line, speech below); Jane Smith (00:01:23) alone on a line
_RE_OTTER = re.compile(rf"^(?P<label>{_LABEL})\s+(?:(?P<ts>{_TS})|\((?P<pts>{_TS})\))\s*$")
# Jane Smith [00:01:23] text   (Trint, Descript: the time in brackets after the name, speech on or below the line)
_RE_TS_BRACKET_AFTER = re.compile(rf"^(?P<label>{_NAME})\s+\[(?P<ts>{_TS})\]\s*:?(?:\s+(?P<text>.*)|\s*)$")
# 00:01:23 Jane Smith   (time, then the name alone on a line, speech below)
_RE_TS_THEN_NAME = re.compile(rf"^\[?(?P<ts>{_TS})\]?\s+(?P<label>{_NAME})\s*$")
# Label: text
_RE_PLAIN = re.compile(rf"^(?P<label>{_LABEL}{_ROLE_NOTE})\s*:(?:\s+(?P<text>.*)|\s*)$")
# Labels recognised even if they occur once: Interviewer, INT, I, Q, A, R, P01,
# Participant 3, KW03, Speaker 1, Respondent...
_RE_KNOWN_LABEL = re.compile(
    r"^(?:(?:interviewer|interviewee|int|iv|ir|i|q|a|r|p|respondent|participant|speaker|"
    r"moderator|facilitator|researcher|question|answer)(?:\s*\d+)?|[A-Z]{1,4}\s?\d{1,3})$",
    re.IGNORECASE,
)
_MAX_LABEL_CHARS = 40


@dataclass
class Block:
    """A piece of speech as a reader found it, before turns are merged."""

    speaker: str | None
    paragraphs: list[str] = field(default_factory=list)
    timestamp: float | None = None


def parse_timestamp(value: str) -> float | None:
    """``0:01`` → 1.0, ``00:01:23.5`` → 83.5, ``83`` → 83.0; ``None`` when unparseable or not finite."""
    value = value.strip().replace(",", ".")
    if not value:
        return None
    try:
        parts = [float(p) for p in value.split(":")]
    except ValueError:
        return None
    if len(parts) > 3 or any(p < 0 for p in parts):
        return None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    # "nan", "inf", "1e999" parse as floats but are no time (and cannot be rendered as hh:mm:ss)
    return seconds if math.isfinite(seconds) else None


def _match_label(line: str) -> tuple[str, float | None, str | None] | None:
    """Return (label, timestamp, speech-or-None) if the line starts a turn."""
    for regex in (_RE_TS_FIRST, _RE_TS_AFTER, _RE_OTTER, _RE_TS_BRACKET_AFTER, _RE_TS_THEN_NAME, _RE_PLAIN):
        m = regex.match(line)
        if m:
            label = m.group("label").strip()
            if len(label) > _MAX_LABEL_CHARS:
                return None
            ts = m.groupdict().get("ts") or m.groupdict().get("pts")
            text = m.groupdict().get("text")
            return label, parse_timestamp(ts) if ts else None, text
    return None


def parse_labelled_text(text: str, *, known_labels: frozenset[str] = frozenset()) -> list[Block]:
    """Split plain transcript text into blocks at speaker labels.

    A line is a speaker label when it has a recognised shape (``Interviewer:``,
    ``P01:``, ``[00:01:23] Speaker 1:``, ``Speaker 1 (00:01:23):``, Otter's
    ``Speaker 1  0:01``) and the label is either a common transcript label or
    recurs at the start of at least two lines — so a sentence such as "The
    thing is: ..." is not mistaken for a speaker. Lines before the first label
    form a block with speaker ``None``; blank lines separate paragraphs.
    """
    lines, cue_names = _cue_names(text.split("\n"))
    candidates = [_match_label(line.strip()) for line in lines]
    counts: dict[str, int] = {}
    for cand in candidates:
        if cand:
            counts[cand[0].casefold()] = counts.get(cand[0].casefold(), 0) + 1
    known = {k.casefold() for k in known_labels} | cue_names

    named: set[str | None] = set()

    def accepted(label: str) -> bool:
        key = label.casefold()
        return (
            key in known
            or any(_RE_KNOWN_LABEL.match(part) for part in _label_parts(label))
            or counts.get(key, 0) >= 2
            or _initials_of(label) in named  # "DB" once, where "Devin Becker" speaks
        )

    named = {_initials_of(c[0], full=True) for c in candidates if c and accepted(c[0])} - {None}  # full names

    if _speaker_per_line(lines, candidates, accepted):
        # most lines open with a speaker label (a focus group, say): a name that speaks once is a speaker too
        once = {c[0].casefold() for c in candidates if c and not accepted(c[0]) and _name_like(c[0])}
        known |= once

    blocks: list[Block] = []
    current: Block | None = None
    paragraph: list[str] = []

    def flush_paragraph() -> None:
        if paragraph and current is not None:
            current.paragraphs.append(" ".join(paragraph))
        paragraph.clear()

    for raw, cand in zip(lines, candidates):
        line = raw.strip()
        if cand and accepted(cand[0]):
            flush_paragraph()
            label, ts, speech = cand
            current = Block(speaker=label, timestamp=ts)
            blocks.append(current)
            if speech:
                paragraph.append(speech.strip())
            continue
        if not line:
            flush_paragraph()
            continue
        if current is None:
            current = Block(speaker=None)
            blocks.append(current)
        paragraph.append(line)
    flush_paragraph()
    return [b for b in blocks if b.paragraphs or b.speaker is not None]


# 0:0:5.320 --> 0:0:9.1   (a cue's times, as Teams writes them in a .docx transcript, the speaker's name below)
_RE_CUE = re.compile(
    r"^(?P<ts>\d{1,2}:\d{1,2}(?::\d{1,2})?(?:[.,]\d{1,3})?)\s*-->\s*\d{1,2}:\d{1,2}(?::\d{1,2})?(?:[.,]\d{1,3})?$"
)


def _cue_names(lines: list[str]) -> tuple[list[str], set[str]]:
    """Lines with each cue time line that stands above a name alone on its line read as ``[time] Name:``, the rest
    as they are; and those names (case-folded), speaker labels by their place even if they speak once."""
    out = list(lines)
    names: set[str] = set()
    for k, line in enumerate(lines[:-1]):
        m = _RE_CUE.match(line.strip())
        if m is None:
            continue
        # the name on the next line, or the one after a blank line (a .docx paragraph's lines are spaced)
        at = k + 1 if lines[k + 1].strip() or k + 2 >= len(lines) else k + 2
        name = lines[at].strip()
        if len(name) <= _MAX_LABEL_CHARS and re.fullmatch(_NAME, name):
            out[k] = ""
            out[at] = f"[{_format_ts(parse_timestamp(m.group('ts')) or 0.0)}] {name}:"
            names.add(name.casefold())
    return out, names


#: Words that open a line with a colon in speech or notes without naming a speaker.
_NOT_SPEAKERS = frozenset(
    "note notes nb ps edit edited comment comments transcriber transcription summary keywords speakers title date "
    "time location place duration subject re example examples yes no well so okay ok honestly basically also and "
    "but first second third then now today anyway actually update warning tip source link".split()
)


def _name_like(label: str) -> bool:
    """Whether a label is written as a name: capitalised words ("Sam", "Dr. Lee", "Participant B"), no common word."""
    return re.fullmatch(_NAME, label) is not None and label.rstrip(".").casefold() not in _NOT_SPEAKERS


def _speaker_per_line(lines: list[str], candidates: list, accepted: Callable[[str], bool]) -> bool:
    """Whether the text is written a speaker per line: at least 3 lines open with an accepted label and they are at
    least 40% of the lines with text."""
    labelled = sum(1 for c in candidates if c and accepted(c[0]))
    return labelled >= 3 and labelled >= 0.4 * sum(1 for line in lines if line.strip())


#: Otter's export header: a title and a date line, then these headings, each followed by one line of values.
_OTTER_HEADINGS = {"SUMMARY KEYWORDS": "keywords", "KEYWORDS": "keywords", "SPEAKERS": "speakers"}
_OTTER_TRAILER = re.compile(r"^Transcribed by\s+(?:https?://)?otter\.ai\s*$", re.IGNORECASE)
_OTTER_MAX_LEAD = 3


def otter_header(lines: list[str]) -> tuple[dict[str, str], int, int]:
    """Otter's export header and footer in a transcript's lines (or Word paragraphs).

    Otter's .txt and .docx exports start with a title, a date and duration
    line, ``SUMMARY KEYWORDS`` with a line of keywords and ``SPEAKERS`` with a
    line of names, and end with "Transcribed by https://otter.ai". Returns
    (attributes, lines the header takes, lines the footer takes): the
    attributes are ``title``, ``recorded``, ``keywords`` and ``speakers`` as
    found; (``{}``, 0, 0) when the lines do not start with such a header.
    """
    filled = [i for i, line in enumerate(lines) if line.strip()]
    footer = len(lines) - filled[-1] if filled and _OTTER_TRAILER.match(lines[filled[-1]].strip()) else 0
    headings = [
        n for n, i in enumerate(filled[: _OTTER_MAX_LEAD + 1]) if lines[i].strip().rstrip(":") in _OTTER_HEADINGS
    ]
    if not headings:
        return {}, 0, footer
    lead = [lines[i].strip() for i in filled[: headings[0]]]
    attributes = dict(zip(("title", "recorded"), lead))
    n = headings[0]
    end = 0
    while n < len(filled) and lines[filled[n]].strip().rstrip(":") in _OTTER_HEADINGS:
        name = _OTTER_HEADINGS[lines[filled[n]].strip().rstrip(":")]
        value = lines[filled[n + 1]].strip() if n + 1 < len(filled) else ""
        if not value or value.rstrip(":") in _OTTER_HEADINGS or _match_label(value):  # a heading with no values
            value, n = "", n + 1
        else:
            n += 2
        attributes[name] = value
        end = filled[n - 1] + 1
    return attributes, end, footer


def header_speakers(attributes: dict[str, str]) -> frozenset[str]:
    """The speaker names an Otter header lists: labels even where a speaker has one turn."""
    return frozenset(name.strip() for name in attributes.get("speakers", "").split(",") if name.strip())


def is_timestamp(value: str) -> bool:
    """Whether ``value`` is a time such as ``0:01`` or ``01:02:03.5`` and nothing else."""
    return re.fullmatch(_TS, value.strip()) is not None


def _format_ts(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _role_key(label: str) -> str:
    return re.sub(r"\s*\d+$", "", label.strip().casefold())


def speaker_key(label: str) -> str:
    """How speaker labels are compared across transcripts: trimmed, case-insensitive."""
    return " ".join(label.split()).casefold()


def _label_parts(label: str) -> list[str]:
    """The label, and for "Interviewer (Jane)" or "Jane (interviewer)" each of its two parts."""
    m = re.fullmatch(r"(.+?)\s*\((.+)\)", label.strip())
    return [label] if m is None else [label, m.group(1), m.group(2)]


def is_interviewer_label(label: str, interviewer_labels: frozenset[str]) -> bool:
    """Whether ``label`` is one of ``interviewer_labels`` (case-insensitive, a trailing number ignored), or names
    one in parentheses beside a person's name ("Interviewer (Jane)", "Jane (interviewer)")."""
    labels = {_role_key(x) for x in interviewer_labels} | {x.casefold() for x in interviewer_labels}
    return any(part.casefold() in labels or _role_key(part) in labels for part in _label_parts(label))


def question_guess_note(speaker: str) -> str:
    """The transcript warning saying ``speaker`` was taken as the interviewer for asking most of the questions."""
    return (
        f"no interviewer label found; '{speaker}' asks most of the questions and was taken as "
        "the interviewer (set interviewer labels to change this)"
    )


def assign_roles(
    speakers: list[str],
    speech: dict[str, list[str]],
    interviewer_labels: frozenset[str],
    aliases: dict[str, list[str]] | None = None,
) -> tuple[dict[str, Role], str | None]:
    """Map each speaker to a role; returns (roles, note) where note explains a guess. A speaker is the interviewer
    when its label, or any other label it was written with (``aliases``), is an interviewer label."""
    aliases = aliases or {}
    roles: dict[str, Role] = {
        s: "interviewer"
        if any(is_interviewer_label(x, interviewer_labels) for x in [s, *aliases.get(s, [])])
        else "participant"
        for s in speakers
    }
    if len(speakers) >= 2 and "interviewer" not in roles.values():
        # No label says who asks the questions: take the speaker whose turns
        # are most often questions, if that is clear.
        def question_share(s: str) -> float:
            turns = speech[s]
            return sum(t.rstrip().endswith("?") for t in turns) / max(len(turns), 1)

        ranked = sorted(speakers, key=question_share, reverse=True)
        top, second = question_share(ranked[0]), question_share(ranked[1])
        if top >= 0.3 and top >= 2 * second:
            roles[ranked[0]] = "interviewer"
            return roles, question_guess_note(ranked[0])
    return roles, None


_TRAILING_COLONS = re.compile(r"[\s:]+$")
#: Initials written as a speaker label: "DB", "D.B.", "D. B."
_INITIALS = re.compile(r"(?:[A-Z]\.?\s?){2,4}")
#: A full name written as a speaker label: two to four capitalised words ("Devin Becker", "Mary-Jane O'Neil")
_FULL_NAME = re.compile(r"[A-Z][\w'’-]*(?: [A-Z][\w'’-]*){1,3}")


def _initials_of(label: str, *, full: bool = False) -> str | None:
    """The letters of a label written as initials ("D.B." gives "DB"), or with ``full`` the initials of a label
    written as a full name ("Devin Becker (interviewer)" gives "DB"); ``None`` when it is not written so. Role
    abbreviations ("IV", "INT") are not initials."""
    if full:
        parts = _label_parts(label)
        person = parts[1] if len(parts) > 1 else label
        if not _FULL_NAME.fullmatch(person) or _INITIALS.fullmatch(person):  # "K W" is initials, not a name
            return None
        return "".join(word[0] for word in person.split()).upper()
    if not _INITIALS.fullmatch(label) or _role_key(label) in DEFAULT_INTERVIEWER_LABELS:
        return None
    return re.sub(r"[.\s]", "", label)


def _quoted(label: str) -> str:
    return f"'{label}'"


def _label_as_written(label: str) -> str:
    """A speaker label without a trailing colon or the spaces around it, its inner spaces single ("DB :" is "DB")."""
    return " ".join(_TRAILING_COLONS.sub("", label.strip()).split())


def speaker_names(labels: list[str]) -> tuple[dict[str, str], list[str]]:
    """Each label (in the order spoken) as the speaker it names, and a note for each set of initials read as a name.

    Labels that differ only in spacing, case or a trailing colon ("DB", "DB:", "DB :", "db") are one speaker,
    written as first seen. Initials ("DB", "D.B.") that are those of exactly one full name used in the same
    interview ("Devin Becker") are that speaker, named in full. Role abbreviations ("IV", "INT") are never read
    as initials."""
    written: dict[str, str] = {}
    for label in labels:
        written.setdefault(speaker_key(_label_as_written(label)), _label_as_written(label))
    full: dict[str, list[str]] = {}
    for name in written.values():
        initials = _initials_of(name, full=True)
        if initials is not None:
            full.setdefault(initials, []).append(name)
    initials: dict[str, list[str]] = {}
    for key, name in list(written.items()):
        letters = _initials_of(name)
        matches = [n for n in full.get(letters, []) if n != name] if letters is not None else []
        if len(matches) == 1:
            written[key] = matches[0]
            initials.setdefault(matches[0], []).append(name)
    notes = [
        f"speaker labels {', '.join(map(_quoted, short))} and '{name}' are taken as one speaker, '{name}'"
        for name, short in initials.items()
    ]
    return {label: written[speaker_key(_label_as_written(label))] for label in labels}, notes


def build_turns(
    blocks: list[Block],
    *,
    fallback_speaker: str,
    interviewer_labels: frozenset[str] = DEFAULT_INTERVIEWER_LABELS,
) -> tuple[str, tuple[Turn, ...], list[str]]:
    """Merge blocks into turns and render the normalised text; returns (text, turns, warnings).

    A speaker written several ways in one interview is one speaker (see :func:`speaker_names`): its turns merge
    and are labelled one way."""
    warnings: list[str] = []
    blocks = [b for b in blocks if any(p.strip() for p in b.paragraphs)]
    names, merged_names = speaker_names([b.speaker for b in blocks if b.speaker is not None])
    aliases: dict[str, list[str]] = {}
    for label, name in names.items():
        aliases.setdefault(name, []).append(label)
    blocks = [replace(b, speaker=names[b.speaker]) if b.speaker is not None else b for b in blocks]
    warnings.extend(merged_names)
    labelled = [b for b in blocks if b.speaker is not None]
    if not labelled and blocks:
        warnings.append(f"{NO_LABELS_NOTE}; all text is taken as one participant turn by '{fallback_speaker}'")
        blocks = [Block(speaker=fallback_speaker, paragraphs=[p for b in blocks for p in b.paragraphs])]
    preamble: list[str] = []
    merged: list[Block] = []
    for b in blocks:
        if b.speaker is None:
            if merged:
                merged[-1].paragraphs.extend(b.paragraphs)
            else:
                preamble.extend(b.paragraphs)
            continue
        if merged and merged[-1].speaker == b.speaker:
            merged[-1].paragraphs.extend(b.paragraphs)
        else:
            merged.append(Block(speaker=b.speaker, paragraphs=list(b.paragraphs), timestamp=b.timestamp))
    if preamble:
        warnings.append("text before the first speaker label is kept as a preamble and not coded")

    speakers = list(dict.fromkeys(b.speaker for b in merged if b.speaker))
    speech: dict[str, list[str]] = {s: [] for s in speakers}
    for b in merged:
        speech[b.speaker].append(" ".join(b.paragraphs))  # type: ignore[index]
    roles, note = assign_roles(speakers, speech, interviewer_labels, aliases)
    if note:
        warnings.append(note)

    parts: list[str] = []
    pos = 0

    def emit(s: str) -> None:
        nonlocal pos
        parts.append(s)
        pos += len(s)

    if preamble:
        emit("\n".join(p.strip() for p in preamble if p.strip()) + "\n\n")
    turns: list[Turn] = []
    for b in merged:
        label = b.speaker or fallback_speaker
        prefix = (f"[{_format_ts(b.timestamp)}] " if b.timestamp is not None else "") + f"{label}: "
        emit(prefix)
        body = "\n".join(p.strip() for p in b.paragraphs if p.strip())
        start = pos
        emit(body)
        turns.append(
            Turn(len(turns), label, roles[label] if label in roles else "participant", start, pos, b.timestamp)
        )
        emit("\n\n")
    return "".join(parts).rstrip("\n") + "\n", tuple(turns), warnings


_TOKEN = re.compile(r"\S+")
#: How far past the last mapped character the next word of the text is looked for in the source: the first word
#: of a turn (after a label line, a caption's timing, a table row's other cells), and any later word.
_TURN_WINDOW = 2000
_WORD_WINDOW = 300


def _common_prefix(text: str, p: int, line: str, known: int) -> int:
    """How many first characters of ``line`` ``text`` holds at ``p`` (at least ``known``): a binary search."""
    if text.startswith(line, p):
        return len(line)
    lo, hi = known, len(line) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text.startswith(line[:mid], p):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _copied(text: str, p: int, b: int, word: str, source: str, q: int) -> int:
    """How many characters from ``text[p]`` (up to ``b``) the source holds at ``q``, within the source's line."""
    n = len(word)
    line_end = source.find("\n", q)
    line = source[q : min(line_end if line_end >= 0 else len(source), q + b - p)].rstrip()
    return _common_prefix(text, p, line, n) if len(line) > n else n


def _best_start(text: str, p: int, b: int, word: str, source: str, q: int, limit: int, tries: int = 8) -> int:
    """Of the first few places ``word`` stands in the source from ``q`` (before ``limit``), the one from which the
    source copies most of the text (the earliest among equals)."""
    best, best_n = q, _copied(text, p, b, word, source, q)
    for _ in range(tries - 1):
        q = source.find(word, q + 1, limit)
        if q < 0:
            break
        n = _copied(text, p, b, word, source, q)
        if n > best_n:
            best, best_n = q, n
    return best


def align_source(text: str, turns: tuple[Turn, ...], source: str) -> SourceMap:
    """Where the speech in ``text`` (rendered by :func:`build_turns`) came from in ``source``, the file's decoded text.

    Readers copy speech from the source line by line, stripped, with wrapped lines joined by a space, so each
    word of a turn is looked for in the source just after the previous word found (a whole source line at a
    time where it matches); words that changed on the way (Unicode composition, escaped quotes) are left
    unmapped, and the words around them still map. Labels and timestamps are rendered text and stay unmapped.
    """
    text_starts: list[int] = []
    source_starts: list[int] = []
    lengths: list[int] = []
    # text before the first turn's label (a preamble) is speech; the label itself is rendered text
    head = text.rfind("\n\n", 0, turns[0].start) if turns else -1
    regions = [(0, head)] if head > 0 else []
    regions += [(t.start, t.end) for t in turns]
    cursor = 0
    for a, b in regions:
        window = _TURN_WINDOW
        m = _TOKEN.search(text, a, b)
        while m:
            p, word = m.start(), m.group()
            q = source.find(word, cursor, cursor + window + len(word))
            if q < 0:
                m = _TOKEN.search(text, m.end(), b)
                continue
            if (
                window == _TURN_WINDOW
            ):  # a turn's first word may also stand in its label ("Jane Smith [0:05] Jane here")
                q = _best_start(text, p, b, word, source, q, cursor + window + len(word))
            window = _WORD_WINDOW
            n = _copied(text, p, b, word, source, q)
            if (
                lengths
                and p - text_starts[-1] == q - source_starts[-1]
                and text[text_starts[-1] + lengths[-1] : p] == source[source_starts[-1] + lengths[-1] : q]
            ):
                lengths[-1] = p + n - text_starts[-1]  # what lies between is the same in both: one piece
            else:
                text_starts.append(p)
                source_starts.append(q)
                lengths.append(n)
            cursor = q + n
            m = _TOKEN.search(text, p + n, b)
    return SourceMap(tuple(text_starts), tuple(source_starts), tuple(lengths))
