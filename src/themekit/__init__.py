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

from ._version import __version__
from .agree import Agreement, agree
from .codebook import Code, Codebook, validate_codebook
from .evaluate import Evaluation, GoldError, evaluate
from .errors import CodebookError, CodebookProblem, CorpusError, RunFolderError, ThemekitError, TranscriptError
from .export import export_quote_docx, export_report, export_xlsx, summary_markdown, write_run
from .ingest import read_corpus, read_transcript
from .models import Coding, Corpus, Segment, Transcript, Turn
from .pipeline import EXCERPT_COLUMNS, Run, code
from .refi import export_qdc, export_qdpx, import_qdc, import_qdpx
from .summarize import CodeSummary, Quote, Summary, ThemeSummary, prevalence_word, summarize
from .topics import DraftCode, Suggestions, suggest_topics

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
