"""Rule coding: codebook keywords and spaCy token patterns.

Keywords are matched on stemmed lemmas (token ``norm_``, see ``themekit.nlp``),
so a keyword matches its inflections and word family. ``exclude_keywords`` of
a code veto it in a segment where they occur. A keyword preceded by a
negation in the same clause ("I never felt isolated") is still coded, with a
score of 0.5 (undecided, instead of 0.75 and up for a plain match), and
flagged in the evidence.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from themekit.codebook import Codebook
from themekit.coding.base import Coded
from themekit.models import Coding, Segment
from themekit.segment import Segmentation
from themekit.util.gcpause import paused_gc

__all__ = ["RuleCoder", "NEGATIONS"]

#: Lemmas that negate a following keyword within a few tokens of the same clause.
NEGATIONS = frozenset({"not", "no", "never", "without", "nobody", "none", "nothing", "neither", "nor", "hardly", "n't", "nt"})
_NEGATION_WINDOW = 4
_SEP = "\x1f"


@dataclass
class _Hits:
    terms: dict[str, bool] = field(default_factory=dict)  # term -> negated (True only if every hit was)
    vetoed_by: str | None = None

    def add(self, term: str, negated: bool) -> None:
        self.terms[term] = self.terms.get(term, True) and negated


def _evidence_order(term: str) -> tuple[str, str]:
    return term.casefold(), term


def _negated(doc: Doc, start: int) -> str | None:
    """The negation word governing the match at token ``start``, if any."""
    i = start - 1
    while i >= 0 and start - i <= _NEGATION_WINDOW:
        token = doc[i]
        if token.is_punct and token.text not in ("'", "’"):
            return None
        if token.lower_ in NEGATIONS or token.lemma_.lower() in NEGATIONS:
            return token.text
        i -= 1
    return None


class RuleCoder:
    """Keyword and pattern coder built from a codebook and the run's spaCy pipeline."""

    method = "rule"

    def __init__(self, nlp: Language) -> None:
        self.nlp = nlp

    def _matchers(self, codebook: Codebook) -> tuple[PhraseMatcher, Matcher]:
        phrases = PhraseMatcher(self.nlp.vocab, attr="NORM")
        patterns = Matcher(self.nlp.vocab)
        for code in codebook:
            for kind in ("keywords", "exclude_keywords"):
                terms = getattr(code.spec, kind)
                if terms:
                    for term, doc in zip(terms, self.nlp.pipe(terms)):
                        phrases.add(_SEP.join((code.id, kind, term)), [doc])
            for p, pattern in enumerate(code.spec.patterns):
                patterns.add(_SEP.join((code.id, "patterns", str(p))), [pattern])
        return phrases, patterns

    def code(self, segmentation: Segmentation, codebook: Codebook) -> Coded:
        """Every code whose keywords or patterns match in a segment and no exclude keyword vetoes."""
        return Coded(self.codings(segmentation, codebook))

    @paused_gc()
    def codings(self, segmentation: Segmentation, codebook: Codebook) -> list[Coding]:
        phrases, patterns = self._matchers(codebook)
        strings = self.nlp.vocab.strings
        hits: dict[tuple[int, str], _Hits] = {}
        segments: dict[int, Segment] = {}
        for key, doc in segmentation.docs.items():
            turn_segments = segmentation.by_turn.get(key, [])
            if not turn_segments:
                continue
            found = [*phrases(doc), *(patterns(doc) if len(patterns) else [])]
            if not found:
                continue
            turn = turn_segments[0].turn
            turn_start = turn.start
            turn_text = turn_segments[0].transcript.turn_text(turn)  # the text the Doc was made from
            starts = [s.start - turn_start for s in turn_segments]
            for match_id, start, end in found:
                code_id, kind, term = strings[match_id].split(_SEP)
                start_char = doc[start].idx
                pos = bisect_right(starts, start_char) - 1
                if pos < 0:
                    continue
                segment = turn_segments[pos]
                if start_char + turn_start >= segment.end:
                    continue  # between segments (whitespace)
                segments[id(segment)] = segment
                entry = hits.setdefault((id(segment), code_id), _Hits())
                last = doc[end - 1]
                text = turn_text[start_char : last.idx + len(last)]  # the match's text, without a Span
                if kind == "exclude_keywords":
                    entry.vetoed_by = text
                    continue
                negation = _negated(doc, start)
                shown = text if kind == "keywords" else f"{text} (pattern {int(term) + 1})"
                entry.add(f"{negation} … {shown}" if negation else shown, negation is not None)
        codings: list[Coding] = []
        for (seg_key, code_id), entry in hits.items():
            if entry.vetoed_by is not None or not entry.terms:
                continue
            segment = segments[seg_key]
            # casefold first, then the exact text: "Debt" and "debt" come out in the same order in every process
            positive = sorted({t for t, neg in entry.terms.items() if not neg}, key=_evidence_order)
            negated = sorted({t for t, neg in entry.terms.items() if neg}, key=_evidence_order)
            evidence = []
            if positive:
                evidence.append("matched: " + ", ".join(positive))
            if negated:
                evidence.append("negated: " + ", ".join(negated))
            score = 0.5 + 0.5 * (1 - 0.5 ** len(positive)) if positive else 0.5
            codings.append(
                Coding(
                    segment=segment,
                    code_id=code_id,
                    theme_id=codebook.code(code_id).theme_id,
                    method="rule",
                    score=round(score, 4),
                    evidence="; ".join(evidence),
                    negated=not positive,
                )
            )
        order = {c.id: i for i, c in enumerate(codebook)}
        codings.sort(key=lambda c: (c.segment.transcript.id, c.segment.index, order[c.code_id]))
        return codings
