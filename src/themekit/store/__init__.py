"""The project store: runs, codebook versions and human decisions that survive every re-run."""

from themekit.store.consensus import QuoteDecisions, coder_quotes, gives, settled
from themekit.store.db import (
    DECISIONS,
    DEFAULT_PROJECT,
    SCHEMA_VERSION,
    Decision,
    Project,
    find_project,
    open_project,
    project_of_run,
)
from themekit.store.decisions import (
    DecisionReport,
    Dispute,
    Orphan,
    apply_decisions,
    current_codings,
    decisions_gold,
    resolve_code_ids,
)

__all__ = [
    "DECISIONS",
    "DEFAULT_PROJECT",
    "SCHEMA_VERSION",
    "Decision",
    "DecisionReport",
    "Dispute",
    "Orphan",
    "Project",
    "QuoteDecisions",
    "apply_decisions",
    "coder_quotes",
    "current_codings",
    "decisions_gold",
    "find_project",
    "gives",
    "open_project",
    "project_of_run",
    "resolve_code_ids",
    "settled",
]
