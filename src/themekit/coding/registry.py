"""Coders: one per method, all behind the :class:`Coder` protocol, registered in :data:`METHODS`, and their combination.

A coder gives codes to the segments of a corpus and says what it found
(:class:`Coded`: its codings, its statistics for run.json, and the codes on
which its decision is final). The pipeline builds every chosen method's coder
from a :class:`CoderContext` and runs them alike; a method registered with
``in_batches`` (the rules) needs only one transcript at a time and runs in the
batch that segments it, where the spaCy Docs are at hand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from spacy.language import Language

from themekit.codebook import Codebook
from themekit.coding.base import Coded, Coder, merge_stats
from themekit.coding.classifier import ClassifierCoder
from themekit.coding.rules import RuleCoder
from themekit.coding.semantic import SemanticCoder, noisy_or, probability_of_score
from themekit.config.options import METHOD_NAMES, parse_methods
from themekit.errors import OptionError
from themekit.human.gold import HumanCodings
from themekit.models import Coding
from themekit.nlp.embed import Embedder, EmbeddingCache, ReportingEmbedder

__all__ = [
    "METHODS",
    "ClassifierCoder",
    "Coded",
    "Coder",
    "CoderContext",
    "MethodSpec",
    "RuleCoder",
    "SemanticCoder",
    "combine",
    "merge_stats",
    "with_semantic_intercepts",
    "within_limits",
    "method_names",
]


@dataclass
class CoderContext:
    """What coders may need, built lazily: the spaCy pipeline, the embedder, the cache, human codings and the
    codings of the methods that ran before."""

    nlp: Language
    embedder: Callable[[], Embedder] | None = None
    cache_dir: Path | None = None
    min_score: float = 0.5
    human: HumanCodings | None = None
    #: Codings of the methods already run, by method: the classifier learns from the rules' as features.
    earlier: dict[str, Sequence[Coding]] = field(default_factory=dict)
    #: ``progress(stage, advance, total)`` for live progress bars (see :mod:`themekit.util.progress`), or None.
    #: Embedding reports itself through it (stage ``"embed"``, per batch of texts). A coder with steps of its own
    #: reports them here too: the classifier, once per code trained, ``progress("classifier", 1, n_codes)``
    #: (and per fold, ``progress("classifier:folds", 1, n_folds)``).
    progress: Callable[[str, int, int], None] | None = None
    #: the classifier learns its features from the embedding model adapted to the corpus (``adapt_encoder``)
    adapt: bool = False

    def embedding(self) -> tuple[Embedder, EmbeddingCache | None]:
        """The run's embedder and its cache (none for the TF-IDF fallback, refitted on every corpus); with
        ``progress``, an embedder that reports each batch it encodes."""
        if self.embedder is None:
            raise OptionError("this coding method embeds text, and no embedder was given")
        embedder = self.embedder()
        if self.progress is not None:
            embedder = ReportingEmbedder(embedder, self.progress)
        if self.cache_dir is None or embedder.identity.startswith("tfidf-svd:"):
            return embedder, None
        return embedder, EmbeddingCache(self.cache_dir, embedder.identity)

    def report(self, stage: str, advance: int, total: int) -> None:
        """Report progress of ``stage`` when a progress callback was given (a no-op otherwise)."""
        if self.progress is not None:
            self.progress(stage, advance, total)


def _rule(ctx: CoderContext) -> Coder:
    return RuleCoder(ctx.nlp)


def _semantic(ctx: CoderContext) -> Coder:
    embedder, cache = ctx.embedding()
    return SemanticCoder(embedder, cache=cache, min_score=ctx.min_score, nlp=ctx.nlp)


def _classifier(ctx: CoderContext) -> Coder:
    if ctx.human is None:
        raise OptionError(
            "the classifier method learns from human codings: give a gold/decisions file as gold= "
            "(transcript, char_start, char_end, code), or leave 'classifier' out of methods=",
            param=("gold", "methods"),
        )
    embedder, cache = ctx.embedding()
    return ClassifierCoder(
        embedder,
        human=ctx.human,
        cache=cache,
        min_score=ctx.min_score,
        rule_codings=ctx.earlier.get("rule", ()),
        suggested_codings=[*ctx.earlier.get("rule", ()), *ctx.earlier.get("semantic", ())],
        nlp=ctx.nlp,
        report=ctx.report,
        adapt=ctx.adapt,
    )


@dataclass(frozen=True)
class MethodSpec:
    """A coding method as ``themekit code --method`` names it: how to build its coder and what it needs."""

    name: str
    build: Callable[[CoderContext], Coder]
    #: learns from human codings: chosen by default only when there are some
    needs_human: bool = False
    #: methods whose codings it reads (they run whenever it runs)
    uses: tuple[str, ...] = ()
    #: needs one transcript at a time: runs in the batch that reads and segments it
    in_batches: bool = False


_SPECS = (
    MethodSpec("rule", _rule, in_batches=True),
    MethodSpec("semantic", _semantic),
    MethodSpec("classifier", _classifier, needs_human=True, uses=("rule",)),
)
#: Every coding method, in the order they run: one spec for each name of :data:`themekit.config.options.METHOD_NAMES`.
METHODS: dict[str, MethodSpec] = {name: next(s for s in _SPECS if s.name == name) for name in METHOD_NAMES}


def method_names(methods: str | Sequence[str] | None, *, have_gold: bool = False) -> list[str]:
    """Checked method names (see :func:`themekit.config.options.parse_methods`), in registry order; ``None`` means every
    method whose inputs exist."""
    chosen = parse_methods(methods)
    if chosen is None:
        return [m for m, spec in METHODS.items() if have_gold or not spec.needs_human]
    return list(chosen)


def _knowing(coding: Coding) -> int:
    """Methods in the order their probabilities are preferred: the last to run (the classifier, which learned from
    the coder) first."""
    names = list(METHODS)
    return -names.index(coding.method) if coding.method in names else 0


def combine(
    codings: list[Coding], codebook: Codebook, *, min_score: float = 0.5, final: Mapping[str, str] | None = None
) -> list[Coding]:
    """One coding per (segment, code): methods joined (``rule+semantic``), scores
    combined by noisy-OR, evidence kept from each, a negation flag kept if any
    method raised it; then ``min_score`` applied.

    ``final`` maps a code to the method that has the last word on it (a
    classifier trained on human codings of that code: it has learned from the
    rule matches and the embeddings how far to trust them), so a coding of
    such a code stands only where that method gave it too."""
    final = final or {}
    groups: dict[tuple[int, str], list[Coding]] = {}
    for c in codings:
        groups.setdefault((id(c.segment), c.code_id), []).append(c)
    merged: list[Coding] = []
    for (_, code_id), group in groups.items():
        if code_id in final and all(c.method != final[code_id] for c in group):
            continue
        if len(group) == 1:
            best = group[0]
        else:
            best = replace(
                group[0],
                method="+".join(c.method for c in group),
                score=round(noisy_or([c.score for c in group]), 4),
                evidence=" | ".join(f"{c.method}: {c.evidence}" for c in group),
                # similarity cannot tell "never lonely" from "lonely": a negation the rules saw stays flagged
                negated=any(c.negated for c in group),
                # the probability of the method that knows most: the classifier's (calibrated to the coder), else
                # semantic similarity's; rule scores are no probabilities
                probability=next(
                    (c.probability for c in sorted(group, key=_knowing) if c.probability is not None), None
                ),
            )
        if best.score >= min_score:
            merged.append(best)
    order = {c.id: k for k, c in enumerate(codebook)}
    merged.sort(key=lambda c: (c.segment.transcript.id, c.segment.index, order[c.code_id]))
    return merged


def within_limits(codings: list[Coding], limits: Mapping[str, int]) -> tuple[list[Coding], dict[str, int]]:
    """``codings`` with each code of ``limits`` kept on at most that many segments, its highest-scoring codings
    (ties in corpus order); codings the rules gave stay, as the codebook's own keywords. Also how many codings of
    each code were dropped."""
    ranked: dict[str, list[int]] = {}
    for k, c in enumerate(codings):
        if c.code_id in limits and "rule" not in c.method.split("+"):
            ranked.setdefault(c.code_id, []).append(k)
    dropped: set[int] = set()
    counts: dict[str, int] = {}
    for code_id, rows in ranked.items():
        rows.sort(key=lambda k: -codings[k].score)  # stable: equal scores keep corpus order
        over = rows[limits[code_id] :]
        if over:
            dropped.update(over)
            counts[code_id] = len(over)
    return [c for k, c in enumerate(codings) if k not in dropped], counts


def with_semantic_intercepts(codings: list[Coding], intercepts: Mapping[str, float]) -> list[Coding]:
    """``codings`` with the semantic method's probabilities of each code in ``intercepts`` mapped from their scores
    with that intercept (:func:`themekit.coding.semantic.probability_of_score`); every other coding as it was."""
    return [
        replace(c, probability=round(float(probability_of_score(c.score, intercepts[c.code_id])), 4))
        if c.method == "semantic" and c.code_id in intercepts and c.probability is not None
        else c
        for c in codings
    ]
