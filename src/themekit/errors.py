"""One exception tree for everything a user can get wrong.

Every message says what went wrong, where (file, line, YAML path) and how to
fix it. Every class has a stable code, which the command line shows as
``Error [E201]: …`` and the README's "Errors" section lists; ``str(error)``
is the message alone (``run.json`` keeps transcript failures that way), and
:meth:`ThemekitError.coded` is the message with its code. Catch
:class:`ThemekitError` for all of them.

A message raised by library code names the function's parameter, as a
notebook user writes it (``unit=``, ``force=True``), and ``params`` lists the
parameters it names, so the command line can put its own flags in their place
(``--unit``, ``--force``).

====  =====================  ===============================================
code  class                  what it means
====  =====================  ===============================================
E000  ThemekitError          the base class; any error themekit raises on purpose
E100  TranscriptError        a transcript file cannot be read
E101  CorpusError            the transcript folder as a whole cannot be used
E102  ZipLimitError          a zip archive (.docx, .qdpx) unpacks past themekit's limits
E200  CodebookError          a codebook has problems, all listed at once
E201  CodebookEditError      a codebook cannot be merged into or bumped as asked
E202  YamlError              YAML text the guarded loader refuses (too deep, too many aliases, not YAML)
E300  RunFolderError         a run folder cannot be read, or written as asked
E301  OutputError            another output file or folder cannot be written as asked
E302  RedactionListError     the list of terms to redact cannot be read
E400  OptionError            a parameter (a command-line option) has a value that cannot be used
E401  EngineError            the worker processes or the Dask cluster cannot run the job
E402  SettingsError          a settings file (themekit.yaml) cannot be read or has unknown values
E500  GoldError              a gold or coder file has problems, listed by row
E501  GoldFileError          a gold or coder file cannot be read at all
E600  ModelError             a spaCy model or the lemma tables are missing
E601  EmbeddingError         the embedding model cannot be found, loaded or trusted
E602  EmbeddingCacheError    the embedding cache cannot be opened
E700  ProjectError           the project store cannot be used as asked
E701  ProjectBusyError       another process held the project store too long
E702  ReviewSheetError       a review sheet, or some of its rows, cannot be imported
E703  ProjectDamagedError    the project store's file is damaged; nothing is written into it
E704  ProjectStorageError    the project store cannot be written: read-only file or folder, a disk that fails
E705  StaleDecisionError     a decision on a coding that someone decided since the reviewer saw it
E706  ProjectDiskFullError   the disk holding the project store is full; nothing was lost
E800  RefiError              a REFI-QDA file cannot be read or written as asked
E900  TooFewSegmentsError    too few segments to suggest topics from
E901  SuggestionsError       a suggestions file holds no draft codes
====  =====================  ===============================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ThemekitError",
    "TranscriptError",
    "CorpusError",
    "CodebookError",
    "CodebookProblem",
    "CodebookEditError",
    "RunFolderError",
    "OutputError",
    "RedactionListError",
    "OptionError",
    "EngineError",
    "GoldError",
    "YamlError",
    "SettingsError",
    "ZipLimitError",
    "GoldFileError",
    "ModelError",
    "EmbeddingError",
    "EmbeddingCacheError",
    "ProjectError",
    "ProjectBusyError",
    "ReviewSheetError",
    "ProjectDamagedError",
    "ProjectStorageError",
    "ProjectDiskFullError",
    "StaleDecisionError",
    "RefiError",
    "TooFewSegmentsError",
    "SuggestionsError",
]


def _names(param: str | Iterable[str] | None) -> tuple[str, ...]:
    if param is None:
        return ()
    return (param,) if isinstance(param, str) else tuple(param)


class ThemekitError(Exception):
    """Base class of every error themekit raises on purpose.

    ``param``: the name(s) of the parameters the message names (``"unit"`` for
    a message saying ``unit=``), kept in ``params``.
    """

    code = "E000"

    def __init__(self, message: str, *, param: str | Iterable[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.params = _names(param)

    def __str__(self) -> str:
        return self.message

    def coded(self) -> str:
        """The message after its code: ``[E201] …``."""
        return f"[{self.code}] {self.message}"


class TranscriptError(ThemekitError):
    """A transcript file could not be read; the other transcripts still can."""

    code = "E100"

    def __init__(self, path: str | Path, reason: str, fix: str, *, param: str | Iterable[str] | None = None) -> None:
        self.path = Path(path)
        self.reason = reason
        self.fix = fix
        super().__init__(f"{self.path}: {reason}. {fix}", param=param)


class CorpusError(ThemekitError):
    """The transcript folder as a whole cannot be used."""

    code = "E101"


@dataclass(frozen=True)
class CodebookProblem:
    """One problem found in a codebook, with its YAML path and line."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        if not self.path:
            return f"line {self.line}: {self.message}" if self.line else self.message
        at = f" (line {self.line})" if self.line else ""
        return f"{self.path}{at}: {self.message}"


class CodebookError(ThemekitError):
    """A codebook has one or more problems; all of them are listed at once."""

    code = "E200"

    def __init__(self, file: str | Path, problems: list[CodebookProblem]) -> None:
        self.file = Path(file)
        self.problems = list(problems)
        count = len(self.problems)
        if count == 1 and not self.problems[0].path:
            super().__init__(f"{self.file}: {self.problems[0]}")
            return
        noun = "problem" if count == 1 else "problems"
        lines = [f"{self.file}: {count} {noun} in the codebook; fix them and run again:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class CodebookEditError(ThemekitError):
    """A codebook cannot be changed as asked: its version is not MAJOR.MINOR.PATCH, or a draft's id is taken."""

    code = "E201"


class RunFolderError(ThemekitError):
    """A run folder cannot be read, or cannot be written as asked."""

    code = "E300"


class OutputError(ThemekitError):
    """An output file or folder other than a run folder (a codebook, suggestions, an unpacked project) cannot be written as asked."""

    code = "E301"


class RedactionListError(ThemekitError):
    """The list of terms to redact from exports cannot be read."""

    code = "E302"


class OptionError(ThemekitError, ValueError):
    """A parameter has a value themekit cannot use: an unknown unit, engine, theme or code, a count below 1."""

    code = "E400"


class SettingsError(OptionError):
    """A settings file (``themekit.yaml``) cannot be read or holds values themekit does not know."""

    code = "E402"


class EngineError(ThemekitError):
    """The worker processes or the Dask cluster cannot run the job."""

    code = "E401"


class GoldError(ThemekitError):
    """A gold or coder file has problems; every one is listed with its row number."""

    code = "E500"

    def __init__(self, path: str | Path, problems: list[str]) -> None:
        self.path = Path(path)
        self.problems = problems
        lines = [f"{self.path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}; fix them and run again:"]
        lines += [f"  - {p}" for p in problems[:50]]
        if len(problems) > 50:
            lines.append(f"  - … and {len(problems) - 50} more")
        super().__init__("\n".join(lines))


class YamlError(ThemekitError):
    """YAML text that the guarded loader refuses; whoever loaded it says which file (``kind``: depth, aliases,
    value or syntax; ``line``/``column`` where known)."""

    code = "E202"

    def __init__(self, message: str, *, kind: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.line = line
        self.column = column


class GoldFileError(GoldError):
    """A gold or coder file cannot be read at all: missing, or not CSV."""

    code = "E501"

    def __init__(self, path: str | Path, reason: str, *, param: str | Iterable[str] | None = None) -> None:
        self.path = Path(path)
        self.problems = [reason]
        ThemekitError.__init__(self, f"{self.path}: {reason}", param=param)


class ModelError(ThemekitError):
    """A language model themekit needs is not installed: a spaCy model, or spaCy's lemma tables."""

    code = "E600"


class EmbeddingError(ModelError):
    """The embedding model cannot be found, is incomplete, cannot be loaded or fails its hash check."""

    code = "E601"


class EmbeddingCacheError(ThemekitError):
    """The embedding cache cannot be opened in the folder given."""

    code = "E602"


class ProjectError(ThemekitError):
    """The project store (``.themekit/project.db``) cannot be used as asked."""

    code = "E700"


class ProjectBusyError(ProjectError):
    """Another themekit process held the project store for longer than the wait allows."""

    code = "E701"


class ProjectDamagedError(ProjectError):
    """The project store's file is damaged (SQLite's check fails, or its header is overwritten); themekit writes
    nothing into it, read commands show what can still be read, and ``themekit project recover`` saves it."""

    code = "E703"


class ProjectStorageError(ProjectError):
    """The project store cannot be written where it is: the file or its folder is read-only, or the disk fails."""

    code = "E704"


class ProjectDiskFullError(ProjectStorageError):
    """The disk holding the project store is full: what was being written was not recorded, nothing was lost."""

    code = "E706"


class StaleDecisionError(ProjectError):
    """A decision on a coding that was decided since the reviewer saw it (in another tab, or by another coder);
    nothing is recorded. ``latest`` is the record made since."""

    code = "E705"

    def __init__(self, message: str, *, latest: object = None, param: str | Iterable[str] | None = None) -> None:
        super().__init__(message, param=param)
        self.latest = latest


class ReviewSheetError(ThemekitError):
    """A review sheet cannot be read, or some of its rows could not be recorded (each listed with its row)."""

    code = "E702"


class RefiError(ThemekitError):
    """A REFI-QDA file cannot be read or written as asked; the message names the file, the problem and the fix."""

    code = "E800"

    def __init__(self, path: str | Path, problem: str, fix: str, *, param: str | Iterable[str] | None = None) -> None:
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        end = "" if fix.endswith((".", "!", "?")) else "."
        super().__init__(f"{self.path}: {problem}. {fix}{end}", param=param)


class TooFewSegmentsError(ThemekitError):
    """The corpus has too few segments to cluster into topics."""

    code = "E900"


class SuggestionsError(ThemekitError):
    """A suggestions file has no draft codes to merge."""

    code = "E901"


class ZipLimitError(ThemekitError):
    """A zip archive breaks one of the guard's limits.

    ``kind`` is ``entries`` (too many), ``total`` (too much in all),
    ``total_ratio`` (everything read, an entry read twice counting twice, far
    more than the archive's packed size), ``size`` (one entry's header over
    its limit), ``ratio`` (one entry packed too tightly) or ``overrun`` (one entry unpacked to more than its header
    said, over its limit); ``found`` and ``limit`` are the numbers compared.
    """

    code = "E102"

    def __init__(self, kind: str, problem: str, *, found: int, limit: int) -> None:
        self.kind = kind
        self.problem = problem
        self.found = found
        self.limit = limit
        super().__init__(problem)
