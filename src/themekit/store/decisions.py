"""Stored human decisions applied to a fresh coding: what people decided outlives every re-run.

Each decision is anchored to its transcript's sha256 and character offsets,
with the quoted text kept beside them. When the transcript is unchanged the
offsets are used as they are; when it changed, the quote is looked for at the
same offsets and then once anywhere in the new text; a decision whose text is
gone (or now appears more than once) is *orphaned*: reported by name, kept in
the store, never applied to the wrong words. A decision on a transcript this
run does not have follows its text to the one file of the run with the same
content (a transcript renamed or moved), and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from themekit.models import Coding, Segment

if TYPE_CHECKING:
    import pandas as pd

    from themekit.codebook import Codebook
    from themekit.store.db import Decision, Project

__all__ = [
    "DecisionReport",
    "Dispute",
    "Orphan",
    "apply_decisions",
    "current_codings",
    "decisions_fingerprint",
    "decisions_gold",
    "resolve_code_ids",
]


@dataclass(frozen=True)
class Orphan:
    """A stored decision that could not be placed in this run, and why."""

    decision: Decision
    reason: str

    def __str__(self) -> str:
        d = self.decision
        quote = " ".join(d.quote.split())
        quote = quote if len(quote) <= 70 else quote[:67] + "…"
        what = f"{d.decision} {d.code}" + (f" → {d.new_code}" if d.new_code else "")
        return f'{d.transcript} "{quote}" ({what}, by {d.coder} {d.at[:10]}): {self.reason}'


@dataclass(frozen=True)
class Dispute:
    """A coding that coders decided differently and nobody has reconciled: left as the machine had it."""

    transcript: str
    segment: int
    code: str
    #: coder → their decision on the coding (``None``: they decided other codings of the segment, not this one)
    decisions: dict[str, Decision | None]

    def __str__(self) -> str:
        said = []
        for coder, d in self.decisions.items():
            if d is None:
                said.append(f"{coder}: not given")
            else:
                gives = d.decision in ("accept", "add") or (d.decision == "change" and d.new_code == self.code)
                said.append(f"{coder}: {'given' if gives else 'not given'} ({d.decision})")
        return f"{self.transcript} segment {self.segment} code {self.code}: {'; '.join(said)}"


@dataclass
class DecisionReport:
    """How stored decisions met this run."""

    applied: dict[str, int] = field(default_factory=lambda: {"accepted": 0, "rejected": 0, "human": 0})
    moved: int = 0
    other_transcripts: int = 0
    orphans: list[Orphan] = field(default_factory=list)
    #: former transcript name → the name of the file of this run with the same content (renamed or moved)
    followed: dict[str, str] = field(default_factory=dict)
    #: stored decisions on this run's transcripts (by name, or followed by content)
    for_this_run: int = 0
    #: codings several coders decided differently, not yet reconciled (left as the machine had them)
    disputed: list[Dispute] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "applied": dict(self.applied),
            "re_anchored": self.moved,
            "other_transcripts": self.other_transcripts,
            "orphaned": [str(o) for o in self.orphans],
            "followed": dict(self.followed),
            "for_this_run": self.for_this_run,
            "disputed": [str(d) for d in self.disputed],
        }

    def notes(self) -> list[str]:
        """What a user must be told: decisions that followed a renamed file, and a run that applied none it has."""
        lines = [
            f"decisions on transcript {old!r} follow its text to {new!r} (renamed or moved, same content)"
            for old, new in sorted(self.followed.items())
        ]
        if self.disputed:
            lines.append(
                f"{len(self.disputed)} coding(s) were decided differently by different coders and are left as the machine "
                "had them (decisions the coders agree on are applied); settle them with 'themekit review reconcile --to FILE'"
            )
        if self.for_this_run and not any(self.applied.values()):
            lines.append(
                f"0 of {self.for_this_run} stored decision(s) on these transcripts were applied"
                + (
                    f" ({len(self.orphans)} orphaned, listed below)"
                    if self.orphans
                    else " (the codings they decide are no longer suggested)"
                )
            )
        return lines


def _renamed(decisions: list[Decision], by_transcript: dict[str, list[Segment]]) -> dict[str, str | list[str]]:
    """Decided transcript names this run lacks → the one run transcript with the content they were decided on
    (and no decisions of its own), or every such transcript when there are several."""
    decided = {d.transcript for d in decisions}
    by_content: dict[str, list[str]] = {}
    for name, segments in by_transcript.items():
        if name not in decided:
            by_content.setdefault(segments[0].transcript.sha256, []).append(name)
    moves: dict[str, str | list[str]] = {}
    for d in decisions:
        if d.transcript not in by_transcript and d.transcript not in moves and d.transcript_sha256 in by_content:
            names = by_content[d.transcript_sha256]
            moves[d.transcript] = names[0] if len(names) == 1 else sorted(names)
    return moves


def resolve_code_ids(codebook: Codebook, history: list[Codebook] = ()) -> dict[str, str]:  # type: ignore[assignment]
    """Any code id seen in ``history`` or ``codebook`` → its id in ``codebook``, following
    ``renamed_from``/``merged_from`` through every version. Ids that lead nowhere are left out."""
    links: dict[str, str] = {}
    for book in (*history, codebook):
        for code in book:
            for former in (*code.spec.renamed_from, *code.spec.merged_from):
                links[former] = code.id
    live = {c.id for c in codebook}
    resolved: dict[str, str] = {}
    for start in {*links, *live}:
        current, seen = start, set()
        while current not in live and current in links and current not in seen:
            seen.add(current)
            current = links[current]
        if current in live:
            resolved[start] = current
    return resolved


def _anchor(decision: Decision, text: str, sha256: str) -> tuple[int, int] | str:
    """Where the decision's words are in the current text, or why they cannot be found."""
    start, end = decision.start, decision.end
    if sha256 == decision.transcript_sha256:
        return start, end
    if text[start:end] == decision.quote:
        return start, end
    first = text.find(decision.quote) if decision.quote else -1
    if first < 0:
        return "the transcript changed and this text is no longer in it"
    if text.find(decision.quote, first + 1) >= 0:
        return "the transcript changed and this text now appears more than once"
    return first, first + len(decision.quote)


def _segment_for(units: list[Segment], start: int, end: int) -> Segment | None:
    """The segment that best covers [start, end): most overlap, at least half of the segment or of the span."""
    best, best_overlap = None, 0
    for seg in units:
        overlap = min(end, seg.end) - max(start, seg.start)
        if overlap > best_overlap:
            best, best_overlap = seg, overlap
    if best is None:
        return None
    if best_overlap * 2 >= (best.end - best.start) or best_overlap * 2 >= (end - start):
        return best
    return None


def _placed(
    d: Decision,
    by_transcript: dict[str, list[Segment]],
    moves: dict[str, str | list[str]],
    ids: dict[str, str],
    codebook: Codebook,
    report: DecisionReport,
) -> tuple[Decision, Segment, list[tuple[str, str]]] | None:
    """Where decision ``d`` lands in this run: (the decision, its segment, [(code, status)]); ``None`` if it
    does not land (reported as orphaned, or on a transcript this run does not have)."""
    move = moves.get(d.transcript)
    if isinstance(move, list):
        report.for_this_run += 1
        report.orphans.append(
            Orphan(d, f"the transcript is not in this run and its text is in several files ({', '.join(move)})")
        )
        return None
    if move is not None:
        report.followed[d.transcript] = move
        d = replace(d, transcript=move)
    segments = by_transcript.get(d.transcript)
    if segments is None:
        report.other_transcripts += 1
        return None
    report.for_this_run += 1
    transcript = segments[0].transcript
    place = _anchor(d, transcript.text, transcript.sha256)
    if isinstance(place, str):
        report.orphans.append(Orphan(d, place))
        return None
    if place != (d.start, d.end):
        report.moved += 1
    seg = _segment_for(segments, *place)
    if seg is None:
        report.orphans.append(Orphan(d, "no segment of this run covers this text (was the coding unit changed?)"))
        return None
    wanted = [d.code] + ([d.new_code] if d.decision == "change" and d.new_code else [])
    missing = [c for c in wanted if c not in ids]
    if missing:
        report.orphans.append(Orphan(d, f"code {missing[0]!r} is not in codebook {codebook.name} {codebook.version}"))
        return None
    code = ids[d.code]
    status = {"accept": "accepted", "reject": "rejected", "add": "human", "change": "rejected"}[d.decision]
    given = [(code, status)] + ([(ids[d.new_code], "human")] if d.decision == "change" else [])  # type: ignore[index]
    return d, seg, given


def _verdicts(
    decisions: list[Decision],
    by_transcript: dict[str, list[Segment]],
    ids: dict[str, str],
    codebook: Codebook,
    report: DecisionReport,
) -> dict[tuple[str, int, str], tuple[str, Decision]]:
    """(transcript, segment index, code) → (status, decision) for every decision placed in this run; the rest reported.

    Each coder's latest decision on a coding counts. A reconciled (``final``) decision settles its coding. Else a
    segment one coder decided gets that coder's decisions; a segment several coders decided gets, per code, the
    decision they agree on, a coder who decided other codings of the segment counting as not giving the code;
    codes they decided differently are left as the machine had them and listed in ``report.disputed``.
    """
    moves = _renamed(decisions, by_transcript)
    finals: dict[tuple[str, int, str], tuple[str, Decision]] = {}
    by_coder: dict[tuple[str, int, str], dict[str, tuple[str, Decision]]] = {}
    readers: dict[tuple[str, int], set[str]] = {}
    for decision in decisions:
        placed = _placed(decision, by_transcript, moves, ids, codebook, report)
        if placed is None:
            continue
        d, seg, given = placed
        for code, status in given:
            key = (d.transcript, seg.index, code)
            if d.final:
                finals[key] = (status, d)
            else:
                by_coder.setdefault(key, {})[d.coder] = (status, d)
        if not d.final:
            readers.setdefault((d.transcript, seg.index), set()).add(d.coder)
    final = dict(finals)
    for key, verdicts in by_coder.items():
        if key in finals:
            continue
        coders = readers[key[:2]]
        gives = {c: c in verdicts and verdicts[c][0] != "rejected" for c in coders}
        if len(set(gives.values())) > 1:
            report.disputed.append(
                Dispute(*key, {c: verdicts[c][1] if c in verdicts else None for c in sorted(coders)})
            )
            continue
        final[key] = max(verdicts.values(), key=lambda v: v[1].id)  # the latest of the decisions that agree
    return final


def apply_decisions(
    units: list[Segment],
    codings: list[Coding],
    codebook: Codebook,
    decisions: list[Decision],
    *,
    history: list[Codebook] = (),  # type: ignore[assignment]
) -> tuple[list[Coding], DecisionReport]:
    """The run's codings with stored decisions applied (each coder's latest decision per coding counts; with
    several coders, a reconciled decision wins, else what they agree on applies: see :func:`_verdicts`):

    - ``accept``: the coding is ``accepted``; if the machine no longer gives it, it is kept as a human coding;
    - ``reject``: the coding stays in the output with status ``rejected`` and never counts again;
    - ``change``: the old code is rejected and the new one given (status ``human``);
    - ``add``: the code is given (status ``human``).
    """
    report = DecisionReport()
    ids = resolve_code_ids(codebook, list(history))
    by_transcript: dict[str, list[Segment]] = {}
    for seg in units:
        by_transcript.setdefault(seg.transcript.id, []).append(seg)
    final = _verdicts(decisions, by_transcript, ids, codebook, report)

    out: list[Coding] = []
    for c in codings:
        key = (c.segment.transcript.id, c.segment.index, c.code_id)
        if key in final:
            status, d = final.pop(key)
            out.append(replace(c, status=status, evidence=_with_decision(c.evidence, status, d)))
            report.applied[status] += 1
        else:
            out.append(c)
    segment_of = {(s.transcript.id, s.index): s for s in units}
    for (tid, index, code), (status, d) in final.items():
        if status == "rejected":
            continue  # nothing to reject: the machine no longer suggests it
        spec = codebook.code(code)
        evidence = _with_decision("", status, d)
        out.append(Coding(segment_of[(tid, index)], code, spec.theme_id, "human", 1.0, evidence, status))  # type: ignore[arg-type]
        report.applied[status] += 1
    order = {c.id: k for k, c in enumerate(codebook)}
    out.sort(key=lambda c: (c.segment.transcript.id, c.segment.index, order[c.code_id]))
    return out, report


def decisions_fingerprint(decisions: list[Decision]) -> dict[str, Any]:
    """What run.json records of the decisions a run was coded with: how many, and a hash of their ids."""
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps([d.id for d in decisions]).encode()).hexdigest()[:16]
    return {"count": len(decisions), "sha256": digest}


def current_codings(
    units: list[Segment], codings: list[Coding], codebook: Codebook, recorded: dict | None, project: Project
) -> tuple[list[Coding], DecisionReport, int] | None:
    """A saved run's codings with the decisions now in ``project`` applied, when they differ from those it was
    coded with (``recorded``: run.json's ``settings.decisions``); ``None`` when they are the same. Also returns
    how many decisions were made since."""
    decisions = project.decisions()
    if recorded is not None and decisions_fingerprint(decisions) == recorded:
        return None
    updated, report = apply_decisions(units, codings, codebook, decisions, history=project.other_codebooks(codebook))
    return updated, report, len(decisions) - int((recorded or {}).get("count", 0))


def _with_decision(evidence: str, status: str, d: Decision) -> str:
    verb = {"accepted": "accepted", "rejected": "rejected", "human": "added" if d.decision == "add" else "changed"}[
        status
    ]
    tail = f"{verb} by {d.coder} {d.at[:10]}" + (f": {d.note}" if d.note else "")
    return f"{evidence} | {tail}" if evidence else tail


def decisions_gold(project: Project, codebook: Any = None, *, decisions: list[Decision] | None = None) -> pd.DataFrame:
    """People's decisions as a span-level gold table (transcript, char_start, char_end, code, text):
    accepted, changed-to and added codes are positives; a rejected coding marks its excerpt as read.
    ``decisions``: the project's decisions when the caller has already read them."""
    import pandas as pd

    ids = resolve_code_ids(codebook) if codebook is not None else None
    latest: dict[tuple[str, int, int, str], Any] = {}
    for d in project.decisions() if decisions is None else decisions:
        latest[(d.transcript, d.start, d.end, d.code)] = d
    rows = []
    for (transcript, start, end, code), d in latest.items():
        if d.decision in ("accept", "add"):
            given = code
        elif d.decision == "change":
            given = d.new_code or ""
        else:
            given = ""
        if ids is not None and given:
            given = ids.get(given, "")
            if not given:
                continue
        rows.append({"transcript": transcript, "char_start": start, "char_end": end, "code": given, "text": d.quote})
    frame = pd.DataFrame(rows, columns=["transcript", "char_start", "char_end", "code", "text"])
    # a span read and given codes needs no "read, nothing here" row
    positives = frame[frame["code"] != ""]
    coded = set(zip(positives["transcript"], positives["char_start"], positives["char_end"]))
    keep = (frame["code"] != "") | ~pd.Series(
        [k in coded for k in zip(frame["transcript"], frame["char_start"], frame["char_end"])], dtype=bool
    )
    return frame[keep].drop_duplicates().sort_values(["transcript", "char_start", "code"]).reset_index(drop=True)
