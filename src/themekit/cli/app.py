"""The ``themekit`` application: its command groups, consoles, shared options, errors and progress bar.

User mistakes surface as :class:`~themekit.errors.ThemekitError`; they are
printed as one message on stderr, ``Error [E201]: …``, with exit code 1,
never a traceback unless ``themekit --debug`` asks for it. Library messages
name parameters (``unit=``, ``force=True``); here they read as the flags that
set them (``--unit``, ``--force``).
"""

from __future__ import annotations

import re
import time
import traceback
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from themekit._version import __version__
from themekit.errors import ThemekitError

app = typer.Typer(
    name="themekit",
    help="Qualitative thematic analysis of interview transcripts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
codebook_app = typer.Typer(help="Check and read codebooks.", no_args_is_help=True)
app.add_typer(codebook_app, name="codebook")
export_app = typer.Typer(help="Report-ready exports of a run folder, and REFI-QDA files of a run or a codebook.", no_args_is_help=True)
app.add_typer(export_app, name="export")
import_app = typer.Typer(help="Bring work from other QDA software (REFI-QDA projects) into themekit.", no_args_is_help=True)
app.add_typer(import_app, name="import")
review_app = typer.Typer(help="Human review of suggested codings: sheets out, decisions back into the project.", no_args_is_help=True)
app.add_typer(review_app, name="review")

ProjectOption = Annotated[
    Path, typer.Option("--project", help="Project store: runs, codebook versions and human decisions.")
]
ConfigOption = Annotated[
    Optional[Path], typer.Option("--config", help="Settings file (default: themekit.yaml in the working folder, if any).")
]

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


#: Library parameters whose flag is not ``--`` and the name with dashes (``cache_dir`` → ``--cache-dir``).
FLAGS = {
    "methods": "--method",
    "n_topics": "--topics",
    "all_segments": "--all",
    "theme_id": "--theme",
    "interviewer_labels": "--interviewer-label",
    "max_file_bytes": "--max-file-mb",
    "note": "--message",
    "privacy": "--redact/--pseudonymise",
}

#: Global options of the ``themekit`` app, set by its callback on every invocation.
_options = {"debug": False}


def as_flags(message: str, params: Iterable[str]) -> str:
    """``message`` with each parameter of ``params`` written as its flag.

    ``unit=`` → ``--unit``, ``force=True`` → ``--force``, ``workers=1`` →
    ``--workers 1``, ``spacy_model='blank'`` → ``--spacy-model blank``.
    """
    for name in params:
        flag = FLAGS.get(name) or "--" + name.replace("_", "-")
        pattern = re.compile(rf"(?<![\w./\\-]){re.escape(name)}=(?:True\b|'([^'\s]*)'|\"([^\"\s]*)\"|([\w.:/,+-]*\w))?")
        message = pattern.sub(lambda m: flag + "".join(f" {v}" for v in m.groups() if v), message)
    return message


@contextmanager
def _user_errors():
    """Turn themekit's errors and Ctrl-C into a message and an exit code; with ``--debug``, the traceback too.
    After Ctrl-C the message says which folders had already been written in full, if any."""
    from themekit.util.atomic import COMPLETED

    written = len(COMPLETED)
    try:
        yield
    except ThemekitError as exc:
        if _options["debug"]:
            err.print("".join(traceback.format_exception(exc)), markup=False, end="")
        code = escape(f"[{exc.code}]")
        err.print(f"[bold red]Error {code}:[/] {escape(as_flags(str(exc), exc.params))}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        done = COMPLETED[written:]
        if done:
            names = ", ".join(str(p) for p in done)
            err.print(f"[bold red]Interrupted:[/] {escape(names)} had been written in full; nothing after that was done.")
        else:
            err.print("[bold red]Interrupted:[/] nothing was written; earlier runs are untouched.")
        raise typer.Exit(130) from None


class _Progress:
    """A rich progress bar on stderr that appears only once a run has taken a while."""

    def __init__(self, *, enabled: bool, delay: float = 2.0) -> None:
        self.enabled = enabled
        self.delay = delay
        self.started = time.monotonic()
        self.bar = None
        self.tasks: dict[str, int] = {}

    def __call__(self, stage: str, advance: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.started < self.delay:
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=err, transient=True,
            )
            self.bar.start()
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        self.bar.update(self.tasks[stage], advance=advance)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _version(value: bool) -> None:
    if value:
        out.print(f"themekit {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="On an error, also print its cause and traceback (for reporting a bug).")
    ] = False,
) -> None:
    """Qualitative thematic analysis of interview transcripts."""
    _options["debug"] = debug
