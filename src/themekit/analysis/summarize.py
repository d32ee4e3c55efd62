"""Codings → theme summaries: prevalence, key terms and representative quotes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from themekit.config import DEFAULT_PREVALENCE, ReportSettings
from themekit.models import Coding
from themekit.runs.record import RunRecord

__all__ = [
    "DEFAULT_PREVALENCE",
    "CodeSummary",
    "Quote",
    "Summary",
    "ThemeSummary",
    "prevalence_word",
    "select_quotes",
    "summarize",
    "trim_quote",
]


def prevalence_word(count: int, total: int, rules: Sequence[tuple[str, float | int]] = DEFAULT_PREVALENCE) -> str:
    """The word for ``count`` cases out of ``total``: 9 of 13 → "most"; 0 → "no"."""
    if count <= 0 or total <= 0:
        return "no"
    share = count / total
    for word, rule in rules:
        if isinstance(rule, float) and share >= rule - 1e-9 and (count >= 3 or share >= 1.0):
            return word
        if isinstance(rule, int) and count >= rule:
            return word
    return "no"


@dataclass(frozen=True)
class Quote:
    text: str
    transcript: str
    speaker: str
    turn: int
    start: int
    end: int
    score: float
    timestamp: float | None = None
    trimmed: bool = False

    def attribution(self, template: str = "{participant}", *, participant: str | None = None) -> str:
        """``template`` may use {participant}, {transcript}, {speaker}, {turn} and {timestamp};
        ``participant`` replaces the transcript id (a pseudonym)."""
        ts = "" if self.timestamp is None else _clock(self.timestamp)
        who = participant or self.transcript
        return template.format(
            participant=who, transcript=who, speaker=participant or self.speaker, turn=self.turn + 1, timestamp=ts
        )


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return (
        f"{whole // 3600:d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
        if whole >= 3600
        else f"{whole // 60:d}:{whole % 60:02d}"
    )


@dataclass(frozen=True)
class CodeSummary:
    code_id: str
    label: str
    definition: str
    depth: int
    excerpts: int
    transcripts: tuple[str, ...]
    total_transcripts: int
    prevalence: str
    key_terms: tuple[str, ...]
    quotes: tuple[Quote, ...]
    cooccurring: tuple[tuple[str, int], ...] = ()

    @property
    def n_transcripts(self) -> int:
        return len(self.transcripts)


@dataclass(frozen=True)
class ThemeSummary:
    theme_id: str
    label: str
    description: str
    codes: tuple[CodeSummary, ...]

    @property
    def transcripts(self) -> tuple[str, ...]:
        return tuple(sorted({t for c in self.codes for t in c.transcripts}))


class Summary(list):
    """What :func:`summarize` returns: a list of ThemeSummary, shown as HTML in Jupyter (:mod:`themekit.render.display`)."""


_TERMS = re.compile(r"(?:matched|negated): ([^;|]+)")
_WORD = re.compile(r"\w+")


def _key_terms(codings: list[Coding], n: int = 4) -> tuple[str, ...]:
    counts: Counter[str] = Counter()
    for c in codings:
        if c.negated:
            continue
        for group in _TERMS.findall(c.evidence):
            for term in group.split(", "):
                if "…" not in term:
                    counts[term.split(" (pattern")[0].strip().lower()] += 1
    return tuple(t for t, _ in counts.most_common(n))


def trim_quote(text: str, max_words: int) -> tuple[str, bool]:
    """At most ``max_words`` words: cut at the last sentence end that fits, else at a word, with an ellipsis."""
    words = text.split()
    if len(words) <= max_words:
        return " ".join(words), False
    head = " ".join(words[:max_words])
    for mark in (". ", "? ", "! "):
        cut = head.rfind(mark)
        if cut >= len(head) // 2:
            return head[: cut + 1] + " …", True
    return head.rstrip(",;:-–—") + " …", True


def _tokens(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _near_duplicate(a: set[str], b: set[str]) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) >= 0.6


def select_quotes(codings: list[Coding], n: int = 2, *, words: tuple[int, int] = (8, 60)) -> tuple[Quote, ...]:
    """Quotes a report writer would accept.

    Participant speech only, never negated mentions; strongest codings first,
    preferring quotes of readable length (``words``: shortest and longest);
    one per participant before any participant gets a second; no near
    duplicates (60% of words shared); long quotes trimmed at a sentence end
    or a word, with an ellipsis.
    """
    lo, hi = words
    candidates = [c for c in codings if c.counts]  # counts: participant speech only

    def rank(c: Coding) -> tuple:
        length = len(c.segment.text.split())
        short = length < lo
        return (short, -round(c.score, 2), abs(length - (lo + hi) / 2), c.segment.transcript.id, c.segment.start)

    candidates.sort(key=rank)
    chosen: list[Quote] = []
    seen: list[set[str]] = []
    for allow_repeat in (False, True):
        for c in candidates:
            if len(chosen) == n:
                break
            seg = c.segment
            tokens = _tokens(seg.text)
            if any(q.start == seg.start and q.transcript == seg.transcript.id for q in chosen):
                continue
            if not allow_repeat and any(q.transcript == seg.transcript.id for q in chosen):
                continue
            if any(_near_duplicate(tokens, other) for other in seen):
                continue
            text, trimmed = trim_quote(seg.text, hi)
            chosen.append(
                Quote(
                    text,
                    seg.transcript.id,
                    seg.speaker,
                    seg.turn_index,
                    seg.start,
                    seg.end,
                    c.score,
                    seg.timestamp,
                    trimmed,
                )
            )
            seen.append(tokens)
    return tuple(chosen)


def summarize(run: RunRecord, *, settings: ReportSettings | None = None, quotes_per_code: int | None = None) -> Summary:
    """Per theme and code: excerpts, transcripts mentioning it, prevalence, key terms,
    co-occurring codes and representative quotes. Negated and rejected codings are not counted."""
    settings = settings or ReportSettings()
    n_quotes = quotes_per_code or settings.quotes_per_code
    rules = settings.prevalence_rules()
    total = len(run.corpus.transcripts)
    by_code: dict[str, list[Coding]] = {}
    codes_of_segment: dict[int, set[str]] = {}
    for c in run.codings:
        if c.status == "rejected" or c.segment.role != "participant":  # the interviewer's words are never summarised
            continue
        by_code.setdefault(c.code_id, []).append(c)  # negated mentions too: their words are key terms
        if c.counts:
            codes_of_segment.setdefault(id(c.segment), set()).add(c.code_id)
    themes = []
    for theme in run.codebook.themes:
        summaries = []
        for code in run.codebook.codes_of(theme.id):
            codings = by_code.get(code.id, [])
            positive = [c for c in codings if c.counts]
            mentioned = tuple(sorted({c.segment.transcript.id for c in positive}))
            together: Counter[str] = Counter()
            for c in positive:
                together.update(codes_of_segment.get(id(c.segment), set()) - {code.id})
            summaries.append(
                CodeSummary(
                    code_id=code.id,
                    label=code.label,
                    definition=code.spec.definition,
                    depth=code.depth,
                    excerpts=len(positive),
                    transcripts=mentioned,
                    total_transcripts=total,
                    prevalence=prevalence_word(len(mentioned), total, rules),
                    key_terms=_key_terms(codings),
                    quotes=select_quotes(codings, n_quotes, words=settings.quote_words),
                    cooccurring=tuple(sorted(together.items(), key=lambda kv: (-kv[1], kv[0]))[:3]),
                )
            )
        themes.append(ThemeSummary(theme.id, theme.label, theme.description, tuple(summaries)))
    return Summary(themes)
