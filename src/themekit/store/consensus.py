"""What coders decided, quote by quote: who gave which code, where they differ, and what they agree on.

Per quote (a segment a review sheet showed) and code, a coder *gives* the code
(accept, add, change to it) or *does not* (reject, change from it, or decide
other rows of the same quote and leave this code out: a coder who decided any
row of a quote is taken to have read it). What people's decisions teach (the
classifier, ``themekit review gold``) is what they agree on (:func:`settled`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from themekit.store.db import Decision

if TYPE_CHECKING:
    from themekit.runs.record import RunRecord
    from themekit.store.db import Project

__all__ = ["QuoteDecisions", "coder_quotes", "gives", "settled"]


def gives(decision: Decision, code: str) -> bool:
    """Whether ``decision`` gives ``code`` (accept, add, change to it) rather than leaving it out."""
    if decision.decision == "change":
        return decision.new_code == code
    return decision.decision in ("accept", "add")


@dataclass
class QuoteDecisions:
    """One quote (transcript version and characters) and what each coder decided about its codes."""

    transcript: str
    transcript_sha256: str
    start: int
    end: int
    quote: str
    #: coders who decided any row of this quote
    readers: set[str] = field(default_factory=set)
    #: code → coder → their latest decision on it
    decided: dict[str, dict[str, Decision]] = field(default_factory=dict)
    #: code → the latest reconciled decision on it
    final: dict[str, Decision] = field(default_factory=dict)

    def given_by(self, coder: str) -> list[str]:
        """The codes ``coder`` gave this quote (empty if they read it and gave none)."""
        return sorted(code for code, by in self.decided.items() if coder in by and gives(by[coder], code))

    def disputed(self) -> list[str]:
        """The codes that the coders who read this quote decided differently."""
        if len(self.readers) < 2:
            return []
        return sorted(
            code
            for code, by in self.decided.items()
            if len({coder in by and gives(by[coder], code) for coder in self.readers}) > 1
        )


def coder_quotes(project: Project, run: RunRecord | str | int | None = None) -> list[QuoteDecisions]:
    """Every quote of a recorded run (default: the latest) that someone decided, with each coder's latest
    decisions; decisions on other transcripts, or on another version of the run's transcripts, are left out."""
    texts = project.run_transcripts(run)
    return _quotes(d for d in project.decisions() if texts.get(d.transcript) == d.transcript_sha256)


def _quotes(decisions: Iterable[Decision]) -> list[QuoteDecisions]:
    quotes: dict[tuple[str, str, int, int], QuoteDecisions] = {}
    for d in decisions:
        where = (d.transcript, d.transcript_sha256, d.start, d.end)
        quote = quotes.setdefault(where, QuoteDecisions(*where, d.quote))
        codes = [d.code] + ([d.new_code] if d.decision == "change" and d.new_code else [])
        for code in codes:
            if d.final:
                quote.final[code] = d
            else:
                quote.decided.setdefault(code, {})[d.coder] = d
        if not d.final:
            quote.readers.add(d.coder)
    return [quotes[k] for k in sorted(quotes)]


def settled(decisions: list[Decision]) -> list[Decision]:
    """``decisions`` without the coders' decisions on codings they decided differently and nobody reconciled:
    what people's decisions teach (the classifier, ``themekit review gold``) is what they agree on."""
    open_codes = {
        (q.transcript, q.transcript_sha256, q.start, q.end, code)
        for q in _quotes(decisions)
        for code in q.disputed()
        if code not in q.final
    }
    keep = []
    for d in decisions:
        codes = [d.code] + ([d.new_code] if d.decision == "change" and d.new_code else [])
        if d.final or not any((d.transcript, d.transcript_sha256, d.start, d.end, c) in open_codes for c in codes):
            keep.append(d)
    return keep
