"""Codings → theme summaries: prevalence, key terms and representative quotes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from themekit.config import DEFAULT_PREVALENCE, ReportSettings
from themekit.models import CONFIRMED, Coding
from themekit.runs.record import RunRecord
from themekit.util.clock import clock

__all__ = [
    "DEFAULT_PREVALENCE",
    "CodeSummary",
    "Quote",
    "QuoteRanker",
    "Summary",
    "counted",
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
    #: the participant's name as people read it (the transcript's ``participant``; default: the transcript id)
    participant: str = ""

    def attribution(self, template: str = "{participant}", *, participant: str | None = None) -> str:
        """``template`` may use {participant}, {transcript}, {speaker}, {turn} and {timestamp} (``h:mm:ss``);
        ``participant`` replaces the participant's name, the transcript id and the speaker (a pseudonym)."""
        ts = clock(self.timestamp)
        who = participant or self.participant or self.transcript
        return template.format(
            participant=who,
            transcript=participant or self.transcript,
            speaker=participant or self.speaker,
            turn=self.turn + 1,
            timestamp=ts,
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
    #: the counted transcripts with at least one coding a person made or accepted (the rest rest on machine
    #: suggestions alone)
    reviewed: tuple[str, ...] = ()
    #: machine suggestions not counted: scoring under the report's ``confident_score``
    unconfident: int = 0

    @property
    def n_transcripts(self) -> int:
        return len(self.transcripts)

    @property
    def basis(self) -> str:
        """What the prevalence rests on: ``reviewed`` (a person's codings in every counted transcript),
        ``machine`` (machine suggestions alone), ``mixed``, or ``none`` (nothing counted)."""
        if not self.transcripts:
            return "none"
        if len(self.reviewed) == len(self.transcripts):
            return "reviewed"
        return "mixed" if self.reviewed else "machine"


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


#: Hesitations a transcriber writes down ("uh", "erm") and marks of speech not heard: a quote with many of them
#: is hard to read in a report, so it comes after the readable ones.
_HESITATION = re.compile(
    r"\b(?:u+h+|u+m+|u+h+m+|e+r+m*|hmm+|mm+|mhm)\b|[\[(](?:unintelligible|inaudible|crosstalk)[^\])]*[\])]", re.I
)
#: Share of a quote's words that are hesitations from which it counts as hard to read.
HESITATION_SHARE = 0.08


def hard_to_read(text: str) -> bool:
    """Whether a quote is hard to read in a report: a mark of speech not heard, or hesitations ("uh", "erm") in
    at least ``HESITATION_SHARE`` of its words."""
    found = _HESITATION.findall(text)
    if any(f.startswith(("[", "(")) for f in found):
        return True
    return len(found) >= max(1, HESITATION_SHARE * len(text.split()))


def _tokens(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _near_duplicate(a: set[str], b: set[str]) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) >= 0.6


#: How much each part counts in how well a coding stands for its code: its score, its closeness to the code's
#: other codings, and whether the code is the strongest its segment got (each a rank among the code's codings).
QUOTE_WEIGHTS = {"score": 1.0, "closeness": 1.0, "primary": 1.0}


def _segment_key(segment) -> tuple[str, int]:
    return (segment.transcript.id, segment.start)


class QuoteRanker:
    """How well each coding stands for its code, among the codings of a run.

    Three things, each as a rank among the code's codings (0 worst, 1 best), so
    that no scale dominates: the coding's score; how close its words are to the
    code's other codings (cosine to their TF-IDF centroid, the coding itself left
    out); and whether the code is the strongest its segment got (a segment whose
    best code is another one stands less well for this one).
    """

    def __init__(self, codings: Iterable[Coding]) -> None:
        self._best: dict[tuple[str, int], float] = {}
        texts: dict[tuple[str, int], str] = {}
        for c in codings:
            if not c.counts:
                continue
            key = _segment_key(c.segment)
            self._best[key] = max(self._best.get(key, 0.0), c.score)
            texts.setdefault(key, c.segment.text)
        self._vectorizer = None
        if len(texts) >= 2:
            from sklearn.feature_extraction.text import TfidfVectorizer

            try:
                self._vectorizer = TfidfVectorizer(sublinear_tf=True).fit(list(texts.values()))
            except ValueError:  # no words at all (punctuation only)
                self._vectorizer = None

    def fit(self, codings: Sequence[Coding]) -> dict[int, float]:
        """``id(coding)`` → how well it stands for its code (0-1; higher is better), for one code's codings."""
        if not codings:
            return {}
        parts = {
            "score": [c.score for c in codings],
            "closeness": self._closeness(codings),
            "primary": [c.score / max(self._best.get(_segment_key(c.segment), c.score), 1e-9) for c in codings],
        }
        total = sum(QUOTE_WEIGHTS.values())
        fit = np.zeros(len(codings))
        for name, values in parts.items():
            fit += QUOTE_WEIGHTS[name] * _rank01(np.asarray(values, dtype=float))
        return {id(c): float(f) / total for c, f in zip(codings, fit)}

    def _closeness(self, codings: Sequence[Coding]) -> np.ndarray:
        """Each coding's cosine to the sum of the code's other codings (TF-IDF rows; the sum is the centroid's
        direction), from sparse products: no dense row is built."""
        if self._vectorizer is None or len(codings) < 3:
            return np.zeros(len(codings))
        vectors = self._vectorizer.transform([c.segment.text for c in codings])
        total = np.asarray(vectors.sum(axis=0)).ravel()
        with_total = vectors @ total  # each row · the sum of all rows
        own = np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel()  # each row · itself
        others = np.sqrt(np.maximum(float(total @ total) - 2 * with_total + own, 0.0))  # |sum of the other rows|
        norm = np.sqrt(own) * others
        return np.divide(with_total - own, norm, out=np.zeros(len(codings)), where=norm > 0)


def _rank01(values: np.ndarray) -> np.ndarray:
    """Each value's rank among ``values`` scaled to 0-1 (ties share their mean rank); 1 for a single value."""
    if len(values) == 1:
        return np.ones(1)
    from scipy.stats import rankdata

    return (rankdata(values) - 1) / (len(values) - 1)


def select_quotes(
    codings: list[Coding],
    n: int = 2,
    *,
    words: tuple[int, int] = (8, 60),
    ranker: QuoteRanker | None = None,
) -> tuple[Quote, ...]:
    """Quotes a report writer would accept, for one code's codings.

    Participant speech only, never negated mentions or codings a reviewer
    rejected; codings a person accepted or made first; then the codings that
    stand best for the code (:class:`QuoteRanker`: score, closeness to the code's
    other codings, the code being the segment's strongest), preferring quotes of
    readable length (``words``: shortest and longest); one per participant before
    any participant gets a second; no near duplicates (60% of words shared); long
    quotes trimmed at a sentence end or a word, with an ellipsis. ``ranker`` is
    built from the run's codings (so a segment's other codes are known); without
    it, from ``codings`` alone.
    """
    lo, hi = words
    candidates = [c for c in codings if c.counts]  # counts: participant speech, not negated, not rejected
    fit = (ranker or QuoteRanker(candidates)).fit(candidates)

    def rank(c: Coding) -> tuple:
        length = len(c.segment.text.split())
        short = length < lo
        reviewed = c.status in CONFIRMED
        return (
            not reviewed,
            short,
            hard_to_read(c.segment.text),
            -round(fit[id(c)], 3),
            abs(length - (lo + hi) / 2),
            c.segment.transcript.id,
            c.segment.start,
        )

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
                    seg.transcript.participant,
                )
            )
            seen.append(tokens)
    return tuple(chosen)


def counted(coding: Coding, settings: ReportSettings) -> bool:
    """Whether prevalence counts ``coding``: it counts at all (:attr:`Coding.counts`) and, unless the report's
    ``count`` is ``all``, a person made or accepted it or its score is at least ``confident_score``."""
    if not coding.counts:
        return False
    return settings.count == "all" or coding.status in CONFIRMED or coding.score >= settings.confident_score


def summarize(run: RunRecord, *, settings: ReportSettings | None = None, quotes_per_code: int | None = None) -> Summary:
    """Per theme and code: excerpts, transcripts mentioning it, prevalence, key terms,
    co-occurring codes and representative quotes. Negated and rejected codings are not counted, nor (unless the
    settings' ``count`` is ``all``) machine suggestions scoring under ``confident_score``; each code says which
    of its transcripts rest on reviewed codings."""
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
        if counted(c, settings):
            codes_of_segment.setdefault(id(c.segment), set()).add(c.code_id)
    ranker = QuoteRanker(run.codings)
    themes = []
    for theme in run.codebook.themes:
        summaries = []
        for code in run.codebook.codes_of(theme.id):
            codings = by_code.get(code.id, [])
            positive = [c for c in codings if counted(c, settings)]
            mentioned = tuple(sorted({c.segment.transcript.id for c in positive}))
            reviewed = tuple(sorted({c.segment.transcript.id for c in positive if c.status in CONFIRMED}))
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
                    quotes=select_quotes(codings, n_quotes, words=settings.quote_words, ranker=ranker),
                    cooccurring=tuple(sorted(together.items(), key=lambda kv: (-kv[1], kv[0]))[:3]),
                    reviewed=reviewed,
                    unconfident=sum(1 for c in codings if c.counts) - len(positive),
                )
            )
        themes.append(ThemeSummary(theme.id, theme.label, theme.description, tuple(summaries)))
    return Summary(themes)
