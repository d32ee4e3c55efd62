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
import typing as _typing
from importlib import import_module as _import_module

from themekit._version import __version__

#: Where each public name is defined. Names are imported on first use, so ``import themekit`` stays light and a
#: worker process that only reads, segments and rule-codes never loads pandas, scikit-learn or BERTopic.
_SOURCES: dict[str, tuple[str, ...]] = {
    ".analysis.agree": ("Agreement", "agree"),
    ".analysis.evaluate": ("Evaluation", "evaluate"),
    ".analysis.summarize": ("CodeSummary", "Quote", "Summary", "ThemeSummary", "prevalence_word", "summarize"),
    ".analysis.topics": ("DraftCode", "Suggestions", "suggest_topics"),
    ".api": ("Run", "code"),
    ".codebook": ("Code", "Codebook", "validate_codebook"),
    ".errors": (
        "CodebookEditError",
        "CodebookError",
        "CodebookProblem",
        "CorpusError",
        "EmbeddingCacheError",
        "EmbeddingError",
        "EngineError",
        "GoldError",
        "GoldFileError",
        "ModelError",
        "OptionError",
        "OutputError",
        "ProjectBusyError",
        "ProjectDamagedError",
        "ProjectDiskFullError",
        "ProjectError",
        "ProjectStorageError",
        "RedactionListError",
        "RefiError",
        "ReviewSheetError",
        "RunFolderError",
        "SettingsError",
        "StaleDecisionError",
        "SuggestionsError",
        "ThemekitError",
        "TooFewSegmentsError",
        "TranscriptError",
        "YamlError",
        "ZipLimitError",
    ),
    ".export": ("export_quote_docx", "export_report", "export_xlsx", "summary_markdown", "write_run"),
    ".ingest": ("read_corpus", "read_transcript"),
    ".models": ("Coding", "Corpus", "Segment", "Transcript", "Turn"),
    ".config.options": ("CodingOptions",),
    ".refi": ("export_qdc", "export_qdpx", "import_qdc", "import_qdpx"),
    ".runs.record": ("EXCERPT_COLUMNS",),
}
_LAZY = {name: module for module, names in _SOURCES.items() for name in names}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(_import_module(module, __name__), name)
        globals()[name] = value
        return value
    try:  # ``themekit.pipeline.steps`` and the other submodules, as with an eager import
        return _import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def _show_views_in_jupyter() -> None:
    """In a running IPython kernel, show transcripts, corpora, codebooks and summaries as HTML (render.display)."""
    ipython = _sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is not None and hasattr(shell, "display_formatter"):
        from themekit.render.display import register_views

        register_views(shell)


_show_views_in_jupyter()

#: The public API: every name of ``_SOURCES`` (the one list), and the version.
__all__ = sorted(_LAZY) + ["__version__"]
