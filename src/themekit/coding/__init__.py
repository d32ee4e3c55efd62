"""Coders: one per method, all behind the :class:`Coder` protocol, and their combination."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from spacy.language import Language

from themekit.codebook import Codebook
from themekit.coding.classifier import ClassifierCoder
from themekit.coding.rules import RuleCoder
from themekit.coding.semantic import SemanticCoder, noisy_or
from themekit.embed import Embedder, EmbeddingCache
from themekit.errors import ThemekitError
from themekit.models import Coding
from themekit.segment import Segmentation

__all__ = [
    "CODERS",
    "ClassifierCoder",
    "Coder",
    "CoderContext",
    "RuleCoder",
    "SemanticCoder",
    "combine",
    "method_names",
]


class Coder(Protocol):
    """Gives codes to segments. ``method`` names it in outputs (rule, semantic, ...)."""

    method: str

    def code(self, segmentation: Segmentation, codebook: Codebook) -> list[Coding]: ...


@dataclass
class CoderContext:
    """What coders may need, built lazily: the spaCy pipeline, the embedder, the cache."""

    nlp: Language
    embedder: Callable[[], Embedder]
    cache_dir: Path | None = None
    min_score: float = 0.5
    gold: Path | None = None
    #: The rule coder's codings, which the classifier learns from as features.
    rule_codings: Sequence[Coding] = ()

    def cache(self, embedder: Embedder) -> EmbeddingCache | None:
        if self.cache_dir is None or embedder.identity.startswith("tfidf-svd:"):
            return None  # the fallback is refitted on every corpus; caching it would only grow the disk
        return EmbeddingCache(self.cache_dir, embedder.identity)


def _rule(ctx: CoderContext) -> Coder:
    return RuleCoder(ctx.nlp)


def _semantic(ctx: CoderContext) -> Coder:
    embedder = ctx.embedder()
    return SemanticCoder(embedder, cache=ctx.cache(embedder), min_score=ctx.min_score)


def _classifier(ctx: CoderContext) -> Coder:
    if ctx.gold is None:
        raise ThemekitError(
            "the classifier method learns from human codings: give a gold/decisions file with --gold "
            "(transcript, char_start, char_end, code), or leave 'classifier' out of --method"
        )
    embedder = ctx.embedder()
    return ClassifierCoder(
        embedder, gold=ctx.gold, cache=ctx.cache(embedder), min_score=ctx.min_score, rule_codings=ctx.rule_codings
    )


#: Coder factories by method name, as ``themekit code --method`` accepts them.
CODERS: dict[str, Callable[[CoderContext], Coder]] = {"rule": _rule, "semantic": _semantic, "classifier": _classifier}
#: Methods that need more than a codebook, and what they need.
NEEDS_GOLD = frozenset({"classifier"})
_ALIASES = {"rules": "rule", "embedding": "semantic", "embeddings": "semantic", "classifiers": "classifier"}


def method_names(methods: str | Sequence[str] | None, *, have_gold: bool = False) -> list[str]:
    """Validated method names, in registry order; ``None`` means every method whose inputs exist."""
    if methods is None:
        return [m for m in CODERS if have_gold or m not in NEEDS_GOLD]
    raw = [m.strip() for m in (methods.split(",") if isinstance(methods, str) else methods) if m.strip()]
    names = [_ALIASES.get(m, m) for m in raw]
    unknown = [m for m, n in zip(raw, names) if n not in CODERS]
    if unknown or not names:
        raise ThemekitError(
            f"unknown coding method {', '.join(map(repr, unknown)) or '(none)'}; choose from: {', '.join(CODERS)}"
        )
    return [m for m in CODERS if m in names]


def combine(
    codings: list[Coding], codebook: Codebook, *, min_score: float = 0.5, learned: Collection[str] = ()
) -> list[Coding]:
    """One coding per (segment, code): methods joined (``rule+semantic``), scores
    combined by noisy-OR, evidence kept from each, a negation flag kept if any
    method raised it; then ``min_score`` applied.

    For the ``learned`` codes (those with a classifier trained on human
    codings) the classifier has the last word: it has learned from the rule
    matches and the embeddings how far to trust them for that code, so a
    coding of such a code stands only where the classifier gave it too."""
    groups: dict[tuple[int, str], list[Coding]] = {}
    for c in codings:
        groups.setdefault((id(c.segment), c.code_id), []).append(c)
    merged: list[Coding] = []
    for (_, code_id), group in groups.items():
        if code_id in learned and all(c.method != "classifier" for c in group):
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
            )
        if best.score >= min_score:
            merged.append(best)
    order = {c.id: k for k, c in enumerate(codebook)}
    merged.sort(key=lambda c: (c.segment.transcript.id, c.segment.index, order[c.code_id]))
    return merged
