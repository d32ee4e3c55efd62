"""MkDocs hook: the pages that are generated from the code when the site is built.

A page holds a marker where generated text goes:

- ``<!-- themekit:cli-help -->``: every command's ``--help``, command groups
  included, as the terminal shows it (100 columns, no colour);
- ``<!-- themekit:error-codes -->``: every error class of ``themekit.errors``
  with its code, the class it is a kind of and its docstring;
- ``<!-- themekit:include PATH -->``: a Markdown file of the repository
  outside ``docs/`` (``benchmarks/README.md``).

The functions are plain Python, so the tests render the pages as the site does.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the themekit of this checkout, not another one installed elsewhere
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

WIDTH = 100
MARKER = re.compile(r"^<!-- themekit:(cli-help|error-codes|include) ?(\S*) -->$", re.MULTILINE)


def cli_commands() -> list[tuple[str, ...]]:
    """Every command path of the ``themekit`` app, groups first then their commands, in ``--help`` order."""
    import typer

    from themekit.cli import app

    def walk(command, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        found = [path]
        # a command group's commands in the order --help lists them (typer builds click groups, its own copy of click)
        for name, sub in getattr(command, "commands", {}).items():
            if not getattr(sub, "hidden", False):
                found += walk(sub, (*path, name))
        return found

    return walk(typer.main.get_command(app), ("themekit",))


def cli_help(path: tuple[str, ...]) -> str:
    """``themekit … --help`` for one command path, at a fixed width and without colour."""
    from typer.testing import CliRunner

    from themekit.cli import app

    env = {"COLUMNS": str(WIDTH), "TERMINAL_WIDTH": str(WIDTH), "NO_COLOR": "1", "TERM": "dumb", "FORCE_COLOR": None}
    result = CliRunner().invoke(app, [*path[1:], "--help"], prog_name="themekit", env=env, color=False)
    if result.exit_code != 0:
        raise RuntimeError(f"{' '.join(path)} --help exited {result.exit_code}: {result.output}")
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.output)
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip("\n")


def cli_reference() -> str:
    """The CLI reference: a heading (level 3) and the ``--help`` text per command."""
    parts = []
    for path in cli_commands():
        parts.append(f"### `{' '.join(path)}`\n\n```text\n{cli_help(path)}\n```\n")
    return "\n".join(parts)


def error_classes() -> list[type]:
    """Every error class defined in ``themekit.errors``, by code."""
    from themekit import errors

    classes = [
        value
        for _, value in inspect.getmembers(errors, inspect.isclass)
        if issubclass(value, errors.ThemekitError) and value.__module__ == errors.__name__
    ]
    return sorted(classes, key=lambda cls: cls.code)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def error_codes() -> str:
    """The table of error codes: code, class, the class it is a kind of, what it means."""
    from themekit import errors

    rows = ["| code | class | a kind of | what it means |", "| --- | --- | --- | --- |"]
    for cls in error_classes():
        bases = [
            b.__name__ for b in cls.__bases__ if b is not errors.ThemekitError and issubclass(b, errors.ThemekitError)
        ]
        kind = ", ".join(f"`{b}`" for b in bases) if cls is not errors.ThemekitError else ""
        if not kind and cls is not errors.ThemekitError:
            kind = "`ThemekitError`"
        doc = inspect.getdoc(cls) or ""
        meaning = _cell(doc.split("\n\n", 1)[0])
        rows.append(f"| {cls.code} | `{cls.__name__}` | {kind} | {meaning} |")
    return "\n".join(rows) + "\n"


def include(path: str) -> str:
    """A Markdown file of the repository, as it is."""
    return (ROOT / path).read_text()


def _code_pipes(markdown: str) -> str:
    """In table rows, ``\\|`` inside a code span as ``|``: GitHub needs the escape there, Python-Markdown shows it
    (it never splits a row at a pipe inside backticks)."""

    def row(line: str) -> str:
        if not line.startswith("|"):
            return line
        return re.sub(r"`[^`]*`", lambda span: span.group(0).replace("\\|", "|"), line)

    return "\n".join(row(line) for line in markdown.split("\n"))


def render(markdown: str) -> str:
    """A page's Markdown with every marker replaced by what it stands for, and table pipes in code spans unescaped."""

    def replace(match: re.Match[str]) -> str:
        kind, argument = match.group(1), match.group(2)
        if kind == "cli-help":
            return cli_reference()
        if kind == "error-codes":
            return error_codes()
        return include(argument)

    return _code_pipes(MARKER.sub(replace, markdown))


def render_page(name: str) -> str:
    """``docs/NAME`` as the site shows it."""
    return render((ROOT / "docs" / name).read_text())


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 (MkDocs' hook signature)
    return render(markdown)
