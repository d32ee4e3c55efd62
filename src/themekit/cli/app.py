"""The ``themekit`` application: its command groups, consoles, errors and progress bar (shared options: ``cli.options``).

User mistakes surface as :class:`~themekit.errors.ThemekitError`; they are
printed as one message on stderr, ``Error [E201]: …``, with exit code 1,
never a traceback unless ``themekit --debug`` asks for it. Library messages
name parameters (``unit=``, ``force=True``); here they read as the flags that
set them (``--unit``, ``--force``).
"""

from __future__ import annotations

import re
import threading
import traceback
from collections.abc import Iterable
from contextlib import contextmanager
from typing import Annotated

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
export_app = typer.Typer(
    help="Report-ready exports of a run folder, and REFI-QDA files of a run or a codebook.", no_args_is_help=True
)
app.add_typer(export_app, name="export")
import_app = typer.Typer(
    help="Bring work from other QDA software (REFI-QDA projects) into themekit.", no_args_is_help=True
)
app.add_typer(import_app, name="import")
review_app = typer.Typer(
    help="Human review of suggested codings: sheets out, decisions back into the project.", no_args_is_help=True
)
app.add_typer(review_app, name="review")
project_app = typer.Typer(
    help="The project store: save what can be read of a damaged one into a new store.", no_args_is_help=True
)
app.add_typer(project_app, name="project")

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
        message = pattern.sub(lambda m, flag=flag: flag + "".join(f" {v}" for v in m.groups() if v), message)
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
            err.print(
                f"[bold red]Interrupted:[/] {escape(names)} had been written in full; nothing after that was done."
            )
        else:
            err.print("[bold red]Interrupted:[/] nothing was written; earlier runs are untouched.")
        raise typer.Exit(130) from None


class _Progress:
    """Rich progress bars on stderr, one per stage (elapsed and remaining time), shown once a run has taken
    ``delay`` seconds, and kept up to date from then on, also while a stage runs without reporting."""

    def __init__(self, *, enabled: bool, delay: float = 2.0) -> None:
        self.enabled = enabled
        self.delay = delay
        self.bar = None
        self.tasks: dict[str, int] = {}
        self.done: dict[str, list[int]] = {}
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None

    def __call__(self, stage: str, advance: int, total: int) -> None:
        if not self.enabled:
            return
        with self.lock:
            state = self.done.setdefault(stage, [0, total])
            state[0] += advance
            state[1] = total
            if self.bar is not None:
                self._update(stage)
            elif self.timer is None:
                self.timer = threading.Timer(self.delay, self._show)
                self.timer.daemon = True
                self.timer.start()

    def _show(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        with self.lock:
            if self.bar is not None or not self.enabled:
                return
            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                console=err, transient=True,
            )  # fmt: skip
            self.bar.start()
            for stage in self.done:
                self._update(stage)

    def _update(self, stage: str) -> None:
        from themekit.util.progress import stage_label

        completed, total = self.done[stage]
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage_label(stage), total=total)
        self.bar.update(self.tasks[stage], completed=completed, total=total)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self.lock:
            self.enabled = False
            if self.timer is not None:
                self.timer.cancel()
            if self.bar is not None:
                self.bar.stop()
                self.bar = None


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
