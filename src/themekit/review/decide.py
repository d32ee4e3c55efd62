"""Decisions one at a time, as ``themekit review serve`` records them: the codings as they stand now, one decision
recorded at once, and undo that records a new decision instead of deleting one.

A decision made here is the record a review sheet's row makes (:func:`themekit.review.sheets.import_review`):
transcript name and sha256, character offsets into themekit's text of the transcript, the quote, the code, the
decision, the new code, the note and the review item; so the next ``themekit code`` run applies it as it applies
a sheet's. Text selected in a transcript and given a code is an ``add`` on those characters, as a sheet's ``add``.

Undo restores the coding as it was before the coder's decision: it records again the coder's earlier decision on
that coding, or, when there was none, a ``withdraw`` record that cancels their decisions on it
(:meth:`themekit.store.db.Project.decisions` leaves withdrawn decisions out). History keeps every row.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from themekit.errors import OptionError, StaleDecisionError
from themekit.review.sheets import _DECIDED, _item_id
from themekit.store.db import DECISIONS, WITHDRAW, Project
from themekit.store.decisions import apply_decisions
from themekit.util.choices import check_choice

if TYPE_CHECKING:
    from themekit.codebook import Codebook
    from themekit.models import Coding, Transcript
    from themekit.runs.record import RunRecord

__all__ = [
    "SOURCE",
    "Recorded",
    "code_named",
    "coding_key",
    "coding_record",
    "current_codings",
    "decide",
    "register_items",
    "span_record",
    "undo",
]

#: What the store's imports table names as the source of decisions made in the browser.
SOURCE = "themekit review serve"
#: The longest span of text one selection can code, in characters.
MAX_SPAN = 20_000


@dataclass(frozen=True)
class Recorded:
    """A decision recorded, with what the coder had decided on that coding before it (for undo)."""

    record: dict[str, Any]
    coder: str
    #: the coder's decision in force on the coding before this one: (decision, new_code, note), or None
    before: tuple[str, str | None, str] | None
    #: the same decision by the same coder was the latest on the coding already (a request sent twice): nothing new
    #: was recorded
    repeat: bool = False


def machine_codings(run: RunRecord) -> list[Coding]:
    """The run's codings as the machine gave them: every one suggested, without people's decisions or their trace."""
    return [
        replace(c, status="suggested", evidence=_DECIDED.sub("", c.evidence))
        for c in run.codings
        if c.method != "human"
    ]


def current_codings(run: RunRecord, project: Project, *, coder: str | None = None, blind: bool = False) -> list[Coding]:
    """The run's codings with the decisions in force now applied, as the next ``themekit code`` run applies them;
    ``blind``: ``coder``'s decisions only."""
    decisions = project.decisions()
    if blind:
        decisions = [d for d in decisions if d.coder == coder and not d.final]
    codings, _ = apply_decisions(run.units, machine_codings(run), run.codebook, decisions)
    return codings


def coding_record(coding: Coding, codebook: Codebook, *, codebook_sha256: str | None = None) -> dict[str, Any]:
    """The record of a decision on ``coding``, as a review sheet's row anchors it (its review item's id included);
    ``codebook_sha256``: ``codebook.sha256`` when the caller has it (it hashes the whole codebook)."""
    seg, t = coding.segment, coding.segment.transcript
    return {
        "transcript": t.id,
        "transcript_sha256": t.sha256,
        "start": seg.start,
        "end": seg.end,
        "quote": seg.text,
        "code": coding.code_id,
        "item": _item_id(t.id, t.sha256, seg.start, seg.end, coding.code_id),
        "codebook_sha256": codebook_sha256 or codebook.sha256,
    }


def span_record(
    transcript: Transcript, start: int, end: int, code: str, *, participant_only: bool = True
) -> dict[str, Any]:
    """The record of a human coding of characters ``start:end`` of ``transcript``'s text (trimmed of white space);
    with ``participant_only`` (a run that does not code the interviewer) the span must lie in participants' speech."""
    text = transcript.text
    if type(start) is not int or type(end) is not int:  # noqa: E721 (True is an int to isinstance)
        raise OptionError(f"{transcript.id}: start and end must be character offsets", param="start")
    if not (0 <= start < end <= len(text)):
        raise OptionError(
            f"{transcript.id}: characters {start}-{end} are not in the transcript (0-{len(text)}); "
            "select text in the transcript again",
            param="start",
        )
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        raise OptionError(f"{transcript.id}: the selection holds only white space; select words to code", param="start")
    if participant_only and any(
        turn.role != "participant" for turn in transcript.turns if turn.start < end and turn.end > start
    ):
        raise OptionError(
            f"{transcript.id}: the selection takes in the interviewer's speech, which this run does not code; "
            "select words a participant said",
            param="start",
        )
    if end - start > MAX_SPAN:
        raise OptionError(
            f"{transcript.id}: a selection of {end - start} characters; code at most {MAX_SPAN} at once", param="start"
        )
    return {
        "transcript": transcript.id,
        "transcript_sha256": transcript.sha256,
        "start": start,
        "end": end,
        "quote": text[start:end],
        "code": code,
        "item": None,
    }


def register_items(project: Project, run: RunRecord) -> None:
    """Record the review items of every machine coding of ``run`` (as a sheet export does), so decisions made
    in the browser name the same items as a sheet's rows; the run must be recorded in ``project``."""
    key = project.run_key(run)
    items, sha256 = [], run.codebook.sha256
    for c in machine_codings(run):
        record = coding_record(c, run.codebook, codebook_sha256=sha256)
        items.append(
            {
                **{
                    k: record[k]
                    for k in ("transcript", "transcript_sha256", "start", "end", "code", "quote", "codebook_sha256")
                },
                "id": record["item"],
                "run": key,
            }
        )
    project.add_review_items(items)


def _in_force(project: Project, record: dict[str, Any], coder: str) -> tuple[str, str | None, str] | None:
    """``coder``'s decision in force on the coding ``record`` names: (decision, new_code, note), or None."""
    key = (record["transcript"], record["transcript_sha256"], record["start"], record["end"], record["code"])
    found = None
    for d in project.decisions():
        if d.coder == coder and not d.final and (d.transcript, d.transcript_sha256, d.start, d.end, d.code) == key:
            found = (d.decision, d.new_code, d.note)
    return found


def coding_key(record: dict[str, Any]) -> tuple[str, str, int, int, str]:
    """The coding a decision record is on, as :meth:`themekit.store.db.Project.latest_records` keys it."""
    return (record["transcript"], record["transcript_sha256"], record["start"], record["end"], record["code"])


def code_named(codebook: Codebook, name: str, *, what: str = "a code") -> str:
    """The id of the code ``name`` names in ``codebook``: its id, or its label (any case, spaces as typed); a label
    that several codes share is refused with their ids."""
    text = " ".join(str(name).split())
    found = codebook.id_named(text, param="new_code")
    if found is not None:
        return found
    ids = [c.id for c in codebook]
    names = ids + [c.label for c in codebook]
    close = difflib.get_close_matches(text, names, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else "; give a code's id or label"
    raise OptionError(
        f"{what} needs a code of codebook {codebook.name} {codebook.version}; {text!r} is not one{hint}",
        param="new_code",
    )


def _check_seen(
    project: Project, record: dict[str, Any], seen: int, *, coder: str, blind: bool, decision: str, new_code: str | None
) -> bool:
    """Whether a record made since ``seen`` (the coding's latest record id when the reviewer saw it, 0: none) is
    this same decision by ``coder`` (a request sent twice); a different one is :class:`StaleDecisionError`."""
    if type(seen) is not int or seen < 0:  # noqa: E721 (true is no record id)
        raise OptionError(f"seen={seen!r}: give the id of the coding's latest record as the page saw it (0: none)",
                          param="seen")  # fmt: skip
    key = coding_key(record)
    latest = project.latest_records(transcript=record["transcript"], coder=coder if blind else None).get(key)
    if latest is None or latest.id == seen:
        return False
    if (latest.id > seen and latest.coder == coder and not latest.final and latest.decision == decision
            and (latest.new_code or None) == (new_code or None)):  # fmt: skip
        return True
    verb = {"accept": "accepted", "reject": "rejected", "change": f"changed to {latest.new_code}",
            "add": "added", "withdraw": "undid a decision on"}.get(latest.decision, latest.decision)  # fmt: skip
    who = "you" if latest.coder == coder else latest.coder
    raise StaleDecisionError(
        f"{record['code']} on {record['transcript']} ({record['quote'][:60]!r}) was decided since this page showed "
        f"it: {who} {verb} it at {latest.at}. Nothing was recorded; the page now shows it as it stands; decide again "
        "if you still want to.",
        latest=latest,
        param="seen",
    )


def decide(
    project: Project,
    codebook: Codebook,
    record: dict[str, Any],
    decision: str,
    *,
    coder: str,
    new_code: str | None = None,
    note: str = "",
    seen: int | None = None,
    blind: bool = False,
) -> Recorded:
    """Record ``coder``'s ``decision`` on the coding ``record`` names (:func:`coding_record`, :func:`span_record`),
    in one transaction. ``change`` and ``add`` give ``new_code`` (a code's id or label, see :func:`code_named`);
    ``add`` records the new code on the same characters, as a review sheet's ``add`` does.

    ``seen``: the id of the coding's latest record when the reviewer saw it (0: none; see
    :meth:`themekit.store.db.Project.latest_records`, only ``coder``'s own with ``blind``). When anything was
    recorded on the coding since, nothing is recorded and :class:`themekit.errors.StaleDecisionError` says what,
    unless it was this same decision by ``coder`` (a request sent twice: :attr:`Recorded.repeat`, nothing new)."""
    coder = coder.strip()
    if not coder:
        raise OptionError("coder= is empty. Give the reviewer's name, e.g. coder=alex.", param="coder")
    check_choice(decision, DECISIONS, what="decision", param="decision")
    known = {c.id for c in codebook}
    if decision in ("change", "add"):
        new_code = code_named(codebook, new_code or "", what=f"decision {decision}")
        if new_code == record["code"] and record.get("item"):
            raise OptionError(f"{decision} to the suggested code {new_code!r} itself; use accept", param="new_code")
    elif record["code"] not in known:
        raise OptionError(
            f"code {record['code']!r} is not in codebook {codebook.name} {codebook.version}", param="code"
        )
    else:
        new_code = None
    if seen is not None and _check_seen(
        project, record, seen, coder=coder, blind=blind, decision=decision, new_code=new_code
    ):
        return Recorded(_row(record, decision, new_code, note), coder, None, repeat=True)
    row = _row(record, decision, new_code, note)
    before = _in_force(project, row, coder)
    project.add_decisions([row], coder=coder, source=SOURCE, counts={decision: 1})
    return Recorded(row, coder, before)


def _row(record: dict[str, Any], decision: str, new_code: str | None, note: str) -> dict[str, Any]:
    row = {k: record[k] for k in ("transcript", "transcript_sha256", "start", "end", "quote", "code", "item")}
    if decision == "add":
        row, new_code = {**row, "code": new_code}, None  # the suggestion stands as it is; the new code is given too
    row.update(decision=decision, new_code=new_code, note=note.strip())
    return row


def undo(project: Project, recorded: Recorded) -> dict[str, Any]:
    """Restore the coding ``recorded`` decided to the coder's decision before it (recorded again), or to none
    (a ``withdraw`` record); returns the record written. Nothing is deleted."""
    row = {k: recorded.record[k] for k in ("transcript", "transcript_sha256", "start", "end", "quote", "code", "item")}
    if recorded.before is None:
        row.update(decision=WITHDRAW, new_code=None, note="")
    else:
        decision, new_code, note = recorded.before
        row.update(decision=decision, new_code=new_code, note=note)
    project.add_decisions([row], coder=recorded.coder, source=SOURCE, counts={row["decision"]: 1, "undo": 1})
    return row
