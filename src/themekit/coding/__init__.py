"""Coders: one per method, all behind the :class:`Coder` protocol, registered in :data:`METHODS`, and their combination."""

from themekit.coding.registry import (
    METHODS,
    ClassifierCoder,
    Coded,
    Coder,
    CoderContext,
    MethodSpec,
    RuleCoder,
    SemanticCoder,
    combine,
    merge_stats,
    method_names,
    with_semantic_intercepts,
    within_limits,
)

__all__ = [
    "ClassifierCoder",
    "Coded",
    "Coder",
    "CoderContext",
    "METHODS",
    "MethodSpec",
    "RuleCoder",
    "SemanticCoder",
    "combine",
    "merge_stats",
    "method_names",
    "with_semantic_intercepts",
    "within_limits",
]
