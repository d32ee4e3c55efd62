"""Rule coding: codebook keywords and spaCy token patterns.

Keywords are matched on stemmed lemmas (token ``norm_``, see ``themekit.nlp.language``),
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
from themekit.nlp.segment import Segmentation
from themekit.util.gcpause import paused_gc
from themekit.util.saferegex import GuardedRegex

__all__ = ["RuleCoder", "NEGATIONS"]

#: Lemmas that negate a following keyword within a few tokens of the same clause.
NEGATIONS = frozenset(
    {"not", "no", "never", "without", "nobody", "none", "nothing", "neither", "nor", "hardly", "n't", "nt"}
)
_NEGATION_WINDOW = 4
_SEP = "\x1f"


@dataclass
class _Hits:
    terms: dict[str, bool] = field(default_factory=dict)  # term -> negated (True only if every hit was)
    vetoed_by: str | None = None

    def add(self, term: str, negated: bool) -> None:
        self.terms[term] = self.terms.get(term, True) and negated


#: The token text a REGEX predicate on each attribute reads (spaCy's own choice of string per attribute).
_REGEX_ATTRS = {
    "ORTH": "orth_", "TEXT": "text", "LOWER": "lower_", "NORM": "norm_", "LEMMA": "lemma_", "SHAPE": "shape_",
    "PREFIX": "prefix_", "SUFFIX": "suffix_", "POS": "pos_", "TAG": "tag_", "DEP": "dep_", "ENT_TYPE": "ent_type_",
    "ENT_IOB": "ent_iob_", "MORPH": "morph",
}  # fmt: skip


class _GuardedPatterns:
    """Rewrites token patterns so that every ``{"ATTR": {"REGEX": r}}`` runs as a token extension searching with
    :class:`GuardedRegex` (bounded time, switched off after a timeout) instead of spaCy's unbounded ``re``."""

    def __init__(self) -> None:
        self.guards: dict[str, tuple[str, GuardedRegex]] = {}  # extension name -> (code id, guard)

    def rewrite(self, code_id: str, pattern: list[dict]) -> list[dict]:
        rewritten = []
        for spec in pattern:
            spec = dict(spec)
            extensions = dict(spec["_"]) if isinstance(spec.get("_"), dict) else {}
            for attr, value in list(spec.items()):
                field_name = _REGEX_ATTRS.get(str(attr).upper())
                if field_name is None or not isinstance(value, dict) or not isinstance(value.get("REGEX"), str):
                    continue
                rest = {k: v for k, v in value.items() if k != "REGEX"}
                if rest:
                    spec[attr] = rest
                else:
                    del spec[attr]
                extensions[self._extension(code_id, field_name, value["REGEX"])] = True
            if extensions:
                spec["_"] = extensions
            rewritten.append(spec)
        return rewritten

    def _extension(self, code_id: str, field_name: str, regex: str) -> str:
        from hashlib import sha1

        from spacy.tokens import Token

        name = "themekit_re_" + sha1(f"{field_name}\x1f{regex}".encode()).hexdigest()[:16]
        if name not in self.guards:
            guard = GuardedRegex(regex)
            self.guards[name] = (code_id, guard)
            Token.set_extension(name, getter=lambda token: guard.search(str(getattr(token, field_name))), force=True)
        return name

    def warnings(self) -> list[str]:
        """One message per regular expression that timed out in this run."""
        return [
            f"code '{code_id}': regular expression {guard.pattern!r} took over {guard.timeout} s on one word and was "
            "switched off for the rest of the run; simplify it"
            for code_id, guard in self.guards.values()
            if guard.timed_out
        ]


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
        self._guarded = _GuardedPatterns()

    def _matchers(self, codebook: Codebook) -> tuple[PhraseMatcher, Matcher]:
        self._guarded = _GuardedPatterns()
        phrases = PhraseMatcher(self.nlp.vocab, attr="NORM")
        patterns = Matcher(self.nlp.vocab)
        for code in codebook:
            for kind in ("keywords", "exclude_keywords"):
                terms = getattr(code.spec, kind)
                if terms:
                    for term, doc in zip(terms, self.nlp.pipe(terms)):
                        phrases.add(_SEP.join((code.id, kind, term)), [doc])
            for p, pattern in enumerate(code.spec.patterns):
                patterns.add(_SEP.join((code.id, "patterns", str(p))), [self._guarded.rewrite(code.id, pattern)])
        return phrases, patterns

    def code(self, segmentation: Segmentation, codebook: Codebook) -> Coded:
        """Every code whose keywords or patterns match in a segment and no exclude keyword vetoes; a pattern's
        regular expression that timed out is named in ``stats["warnings"]``."""
        codings = self.codings(segmentation, codebook)
        warnings = self._guarded.warnings()
        return Coded(codings, {"warnings": warnings} if warnings else {})

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
