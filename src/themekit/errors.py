"""One exception tree for everything a user can get wrong.

Every message says what went wrong, where (file, line, YAML path) and how to
fix it, so the command line can print it as it is and exit with code 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ThemekitError",
    "TranscriptError",
    "CorpusError",
    "CodebookError",
    "CodebookProblem",
    "RunFolderError",
    "GoldError",
    "YamlError",
    "ProjectError",
    "ProjectBusyError",
]


class ThemekitError(Exception):
    """Base class of every error themekit raises on purpose."""

    code = "E000"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class TranscriptError(ThemekitError):
    """A transcript file could not be read; the other transcripts still can."""

    code = "E100"

    def __init__(self, path: str | Path, reason: str, fix: str) -> None:
        self.path = Path(path)
        self.reason = reason
        self.fix = fix
        super().__init__(f"{self.path}: {reason}. {fix}")


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


class RunFolderError(ThemekitError):
    """The run folder cannot be written as asked."""

    code = "E300"


class ProjectError(ThemekitError):
    """The project store (``.themekit/project.db``) cannot be used as asked."""

    code = "E700"


class ProjectBusyError(ProjectError):
    """Another themekit process held the project store for longer than the wait allows."""

    code = "E701"


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
