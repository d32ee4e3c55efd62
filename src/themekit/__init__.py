"""themekit: qualitative thematic analysis of interview transcripts.

Read a folder of transcripts, code every participant excerpt against a
versioned codebook, summarise themes and export report-ready material::

    import themekit
    corpus = themekit.read_corpus("transcripts_sample")
    codebook = themekit.Codebook.load("codebooks/ati-keyworker.yaml")
    run = themekit.code(corpus, codebook)
    run.excerpts          # a pandas DataFrame, one row per (segment, code)
    run.save("runs/r1")
"""

import sys as _sys
import types as _types
import typing as _typing
from importlib import import_module as _import_module

from ._version import __version__

if _typing.TYPE_CHECKING:
    from .agree import Agreement, agree
    from .codebook import Code, Codebook, validate_codebook
    from .errors import (
        CodebookError,
        CodebookProblem,
        CorpusError,
        RunFolderError,
        ThemekitError,
        TranscriptError,
    )
    from .evaluate import Evaluation, GoldError, evaluate
    from .export import (
        export_quote_docx,
        export_report,
        export_xlsx,
        summary_markdown,
        write_run,
    )
    from .ingest import read_corpus, read_transcript
    from .models import Coding, Corpus, Segment, Transcript, Turn
    from .pipeline import EXCERPT_COLUMNS, Run, code
    from .refi import export_qdc, export_qdpx, import_qdc, import_qdpx
    from .summarize import (
        CodeSummary,
        Quote,
        Summary,
        ThemeSummary,
        prevalence_word,
        summarize,
    )
    from .topics import DraftCode, Suggestions, suggest_topics

#: Where each public name is defined. Names are imported on first use, so ``import themekit`` stays light and a
#: worker process that only reads, segments and rule-codes never loads pandas, scikit-learn or BERTopic.
_SOURCES: dict[str, tuple[str, ...]] = {
    ".agree": ("Agreement", "agree"),
    ".codebook": ("Code", "Codebook", "validate_codebook"),
    ".evaluate": ("Evaluation", "GoldError", "evaluate"),
    ".errors": ("CodebookError", "CodebookProblem", "CorpusError", "RunFolderError", "ThemekitError", "TranscriptError"),
    ".export": ("export_quote_docx", "export_report", "export_xlsx", "summary_markdown", "write_run"),
    ".ingest": ("read_corpus", "read_transcript"),
    ".models": ("Coding", "Corpus", "Segment", "Transcript", "Turn"),
    ".pipeline": ("EXCERPT_COLUMNS", "Run", "code"),
    ".refi": ("export_qdc", "export_qdpx", "import_qdc", "import_qdpx"),
    ".summarize": ("CodeSummary", "Quote", "Summary", "ThemeSummary", "prevalence_word", "summarize"),
    ".topics": ("DraftCode", "Suggestions", "suggest_topics"),
}
_LAZY = {name: module for module, names in _SOURCES.items() for name in names}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(_import_module(module, __name__), name)
        globals()[name] = value
        return value
    try:  # ``themekit.pipeline`` and the other submodules, as with an eager import
        return _import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(_types.ModuleType):
    def __setattr__(self, name: str, value: object) -> None:
        # importing the submodules agree, evaluate and summarize binds them on the package: the public functions
        # of those names win, as they did when this file imported them eagerly
        if name in _LAZY and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package


__all__ = [
    "EXCERPT_COLUMNS",
    "Agreement",
    "agree",
    "Evaluation",
    "GoldError",
    "evaluate",
    "export_quote_docx",
    "export_report",
    "export_xlsx",
    "export_qdc",
    "export_qdpx",
    "import_qdc",
    "import_qdpx",
    "Code",
    "CodeSummary",
    "Codebook",
    "CodebookError",
    "CodebookProblem",
    "Coding",
    "Corpus",
    "CorpusError",
    "Quote",
    "Run",
    "RunFolderError",
    "Segment",
    "Suggestions",
    "Summary",
    "DraftCode",
    "ThemeSummary",
    "ThemekitError",
    "Transcript",
    "TranscriptError",
    "Turn",
    "__version__",
    "code",
    "prevalence_word",
    "read_corpus",
    "read_transcript",
    "suggest_topics",
    "summarize",
    "summary_markdown",
    "validate_codebook",
    "write_run",
]
