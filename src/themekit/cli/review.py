"""``themekit review …`` and ``themekit history``: human review through sheets, and the project's record of runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from themekit.cli.app import ProjectOption, _user_errors, app, out, review_app
from themekit.errors import ReviewSheetError
from themekit.models import STATUSES


@review_app.command("export")
def review_export_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by 'themekit code'.")],
    to: Annotated[Path, typer.Option("--to", help="Review sheet to write: .xlsx (with drop-downs) or .csv.")],
    include_reviewed: Annotated[bool, typer.Option("--all", help="Also list codings already accepted, rejected or added.")] = False,
    project: ProjectOption = Path(".themekit/project.db"),
) -> None:
    """Write a review sheet: one row per suggested coding, with decision, code and note columns to fill."""
    from themekit.runfolder import read_run
    from themekit.store import export_review, open_project

    with _user_errors():
        run = read_run(run_dir)
        with open_project(project) as store:
            rows = export_review(run, to, store, include_reviewed=include_reviewed)
    out.print(f"{rows} coding(s) to review → {escape(str(to))}. Then: themekit review import {escape(str(to))} --coder NAME")


@review_app.command("import")
def review_import_cmd(
    sheet: Annotated[Path, typer.Argument(help="Filled review sheet (.xlsx or .csv).")],
    coder: Annotated[str, typer.Option("--coder", help="Who made these decisions.")],
    project: ProjectOption = Path(".themekit/project.db"),
) -> None:
    """Record the decisions of a filled review sheet; bad rows are listed and left out, good rows kept."""
    from themekit.store import import_review, open_project

    with _user_errors():
        with open_project(project) as store:
            result = import_review(sheet, store, coder=coder)
        counts = ", ".join(f"{n} {k}" for k, n in result.counts.items())
        out.print(
            f"Recorded {result.recorded} decision(s) by {escape(result.coder)}: {counts}; "
            f"{result.unchanged} already recorded, {result.blank} row(s) left blank."
        )
        if result.legacy:
            out.print(
                f"{result.legacy} row(s) carry ids from a sheet exported by an earlier themekit (ids without the "
                "transcript's name): matched through their transcript column and recorded under today's ids."
            )
        if result.problems:
            raise ReviewSheetError(result.problem_message())


@review_app.command("status")
def review_status_cmd(
    project: ProjectOption = Path(".themekit/project.db"),
) -> None:
    """How much of the latest run is reviewed, per code."""
    from rich.table import Table

    from themekit.store import open_project, review_status

    with _user_errors():
        with open_project(project) as store:
            frame = review_status(store)
    table = Table("code", "codings", "to review", "accepted", "rejected", "human", "reviewed")
    for code, row in frame.iterrows():
        table.add_row(escape(str(code)), *(str(int(row[k])) for k in ("codings", *STATUSES)), f"{row['reviewed_pct']:.0f}%")
    out.print(table)
    total, todo = int(frame["codings"].sum()), int(frame["suggested"].sum())
    out.print(f"{total - todo} of {total} codings reviewed.")


@review_app.command("gold")
def review_gold_cmd(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Gold CSV to write.")],
    project: ProjectOption = Path(".themekit/project.db"),
) -> None:
    """Write people's decisions as a gold file, for 'themekit evaluate --gold' or 'themekit code --gold'."""
    from themekit.store import decisions_gold, open_project
    from themekit.util.atomic import atomic_write_text

    with _user_errors():
        with open_project(project) as store:
            frame = decisions_gold(store)
        atomic_write_text(out_file, frame.to_csv(index=False))
    out.print(f"{int((frame['code'] != '').sum())} human-confirmed coding(s) → {escape(str(out_file))}")


@app.command("history")
def history_cmd(
    project: ProjectOption = Path(".themekit/project.db"),
) -> None:
    """List the project's runs with their codebook versions and headline counts."""
    from rich.table import Table

    from themekit.store import open_project

    with _user_errors():
        with open_project(project) as store:
            runs, where = store.runs(), store.path
    table = Table("#", "created (UTC)", "run", "codebook", "transcripts", "segments", "codings", "accepted", "rejected", "human", "folder")
    for r in runs:
        c = r["counts"]
        table.add_row(
            str(r["id"]), r["created"].replace("T", " ")[:16], r["run_id"], escape(r["codebook_version"]),
            *(str(c.get(k, 0)) for k in ("transcripts", "segments", "codings", "accepted", "rejected", "human")),
            escape(Path(r["folder"]).name if r["folder"] else ""),
        )
    out.print(table)
    if not runs:
        out.print(f"No runs recorded in {escape(str(where))} yet.")
