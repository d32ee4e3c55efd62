"""Codings → theme summaries: prevalence, key terms and representative quotes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .models import Coding
from .pipeline import Run

__all__ = ["Quote", "CodeSummary", "ThemeSummary", "summarize", "prevalence_word", "DEFAULT_PREVALENCE"]

#: (word, rule) pairs tried in order; a rule is a minimum share of cases (a
#: float) or a minimum number of cases (an int). "all" needs every case; the
#: other share words need at least three cases, so 1 of 2 reads "one", not "many".
DEFAULT_PREVALENCE: tuple[tuple[str, float | int], ...] = (
    ("all", 1.0),
    ("most", 0.6),
    ("many", 0.4),
    ("some", 0.25),
    ("several", 3),
    ("a few", 2),
    ("one", 1),
)


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

    @property
    def n_transcripts(self) -> int:
        return len(self.transcripts)


@dataclass(frozen=True)
class ThemeSummary:
    theme_id: str
    label: str
    description: str
    codes: tuple[CodeSummary, ...]


_TERMS = re.compile(r"(?:matched|negated): ([^;]+)")
_IDEAL_WORDS = (12, 60)


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


def _quote_rank(c: Coding) -> tuple:
    words = len(c.segment.text.split())
    lo, hi = _IDEAL_WORDS
    off = 0 if lo <= words <= hi else (lo - words if words < lo else words - hi)
    return (-c.score, off, c.segment.transcript.id, c.segment.start)


def select_quotes(codings: list[Coding], n: int = 2) -> tuple[Quote, ...]:
    """Strongest participant codings first, at most one per transcript, no repeats."""
    chosen: list[Quote] = []
    used_transcripts: set[str] = set()
    used_text: set[str] = set()
    candidates = sorted((c for c in codings if not c.negated and c.segment.role == "participant"), key=_quote_rank)
    for c in candidates:
        seg = c.segment
        key = " ".join(seg.text.lower().split())
        if seg.transcript.id in used_transcripts or key in used_text:
            continue
        chosen.append(Quote(seg.text, seg.transcript.id, seg.speaker, seg.turn_index, seg.start, seg.end, c.score))
        used_transcripts.add(seg.transcript.id)
        used_text.add(key)
        if len(chosen) == n:
            break
    return tuple(chosen)


def summarize(run: Run, *, quotes_per_code: int = 2) -> list[ThemeSummary]:
    """Per theme and code: excerpts, transcripts mentioning it, prevalence, key terms, quotes."""
    total = len(run.corpus.transcripts)
    by_code: dict[str, list[Coding]] = {}
    for c in run.codings:
        if c.status != "rejected":
            by_code.setdefault(c.code_id, []).append(c)
    themes = []
    for theme in run.codebook.themes:
        summaries = []
        for code in run.codebook.codes_of(theme.id):
            codings = by_code.get(code.id, [])
            mentioned = tuple(sorted({c.segment.transcript.id for c in codings if not c.negated}))
            summaries.append(
                CodeSummary(
                    code_id=code.id,
                    label=code.label,
                    definition=code.spec.definition,
                    depth=code.depth,
                    excerpts=sum(1 for c in codings if not c.negated),
                    transcripts=mentioned,
                    total_transcripts=total,
                    prevalence=prevalence_word(len(mentioned), total),
                    key_terms=_key_terms(codings),
                    quotes=select_quotes(codings, quotes_per_code),
                )
            )
        themes.append(ThemeSummary(theme.id, theme.label, theme.description, tuple(summaries)))
    return themes
