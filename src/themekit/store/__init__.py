"""The project store: runs, codebook versions and human decisions that survive every re-run."""

from themekit.store.db import (
    DECISIONS,
    DEFAULT_PROJECT,
    SCHEMA_VERSION,
    Decision,
    Project,
    find_project,
    open_project,
)
from themekit.store.decisions import (
    DecisionReport,
    Dispute,
    Orphan,
    apply_decisions,
    resolve_code_ids,
)
from themekit.store.reconcile import (
    Quote,
    coder_quotes,
    export_reconcile,
    import_reconcile,
    is_reconcile_sheet,
    settled,
)
from themekit.store.review import (
    REVIEW_COLUMNS,
    ReviewImport,
    decisions_gold,
    export_review,
    import_review,
    review_status,
)

__all__ = [
    "DECISIONS",
    "DEFAULT_PROJECT",
    "REVIEW_COLUMNS",
    "SCHEMA_VERSION",
    "Decision",
    "DecisionReport",
    "Dispute",
    "Orphan",
    "Project",
    "Quote",
    "ReviewImport",
    "apply_decisions",
    "coder_quotes",
    "decisions_gold",
    "export_reconcile",
    "export_review",
    "find_project",
    "import_reconcile",
    "import_review",
    "is_reconcile_sheet",
    "open_project",
    "resolve_code_ids",
    "review_status",
    "settled",
]
