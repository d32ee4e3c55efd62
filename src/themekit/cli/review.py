"""``themekit review …`` and ``themekit history``: human review through sheets, and the project's record of runs."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from themekit.cli.app import _user_errors, app, as_flags, err, out, project_app, review_app
from themekit.cli.options import DEFAULT_PROJECT, ProjectOption, QuietOption, out_option
from themekit.errors import ProjectError, ReviewSheetError
from themekit.models import STATUSES


@review_app.command("export")
def review_export_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by 'themekit code'.")],
    out_file: Annotated[Path | None, out_option("Review sheet to write: .xlsx (with drop-downs) or .csv.")] = None,
    to: Annotated[Path | None, typer.Option("--to", hidden=True, help="Old name of --out.")] = None,
    include_reviewed: Annotated[
        bool, typer.Option("--all", help="Also list codings already accepted, rejected or added.")
    ] = False,
    coder: Annotated[
        str | None,
        typer.Option("--coder", help="Who will fill the sheet (with --blind: leaves out what they already decided)."),
    ] = None,
    blind: Annotated[
        bool,
        typer.Option(
            "--blind", help="For double coding: every machine suggestion, with no trace of other coders' decisions."
        ),
    ] = False,
    project: ProjectOption = DEFAULT_PROJECT,
    quiet: QuietOption = False,
) -> None:
    """Write a review sheet: one row per suggested coding, with decision, code and note columns to fill."""
    from themekit.review.sheets import export_review
    from themekit.runs.folder import read_run
    from themekit.store import open_project

    to = _out_or_to(out_file, to, "give the review sheet to write, such as --out review.xlsx")
    with _user_errors():
        run = read_run(run_dir)
        with open_project(_store_for(run_dir, project)) as store:
            rows = export_review(run, to, store, include_reviewed=include_reviewed, coder=coder, blind=blind)
    if quiet:
        return
    who = escape(coder.strip()) if coder and coder.strip() else "NAME"
    kind = f"blind sheet for {who}: " if blind else ""
    out.print(
        f"{kind}{rows} coding(s) to review → {escape(str(to))}. Then: themekit review import {escape(str(to))} --coder {who}"
    )


@review_app.command("import")
def review_import_cmd(
    sheet: Annotated[Path, typer.Argument(help="Filled review sheet (.xlsx or .csv).")],
    coder: Annotated[str, typer.Option("--coder", help="Who made these decisions.")],
    project: ProjectOption = DEFAULT_PROJECT,
    quiet: QuietOption = False,
) -> None:
    """Record the decisions of a filled review sheet (or the final decisions of a reconcile sheet); bad rows are
    listed and left out, good rows kept."""
    from themekit.review.reconcile import import_reconcile, is_reconcile_sheet
    from themekit.review.sheets import import_review
    from themekit.store import open_project

    with _user_errors():
        with open_project(project) as store:
            if is_reconcile_sheet(sheet):
                result = import_reconcile(sheet, store, coder=coder)
            else:
                result = import_review(sheet, store, coder=coder)
        counts = ", ".join(f"{n} {k}" for k, n in result.counts.items() if n or not result.final)
        kind = "final decision(s), reconciled" if result.final else "decision(s)"
        if not quiet:
            out.print(
                f"Recorded {result.recorded} {kind} by {escape(result.coder)}: {counts or 'none'}; "
                f"{result.unchanged} already recorded, {result.blank} row(s) left blank."
            )
        if result.legacy and not quiet:
            out.print(
                f"{result.legacy} row(s) carry ids from a sheet exported by an earlier themekit (ids without the "
                "transcript's name): matched through their transcript column and recorded under today's ids."
            )
        if result.problems:
            raise ReviewSheetError(result.problem_message())


@review_app.command("reconcile")
def review_reconcile_cmd(
    out_file: Annotated[Path | None, out_option("Reconcile sheet to write: .xlsx (with a drop-down) or .csv.")] = None,
    to: Annotated[Path | None, typer.Option("--to", hidden=True, help="Old name of --out.")] = None,
    run: Annotated[
        str | None, typer.Option("--run", help="Run folder or run id (default: the project's latest run).")
    ] = None,
    project: ProjectOption = DEFAULT_PROJECT,
    quiet: QuietOption = False,
) -> None:
    """Write every disagreement between coders: the quote, the code, each coder's decision and a final_decision to fill."""
    from themekit.review.reconcile import export_reconcile
    from themekit.store import open_project

    to = _out_or_to(out_file, to, "give the reconcile sheet to write, such as --out reconcile.xlsx")
    with _user_errors():
        with open_project(_store_for(run, project)) as store:
            rows = export_reconcile(store, to, run=_run_id(run))
    if quiet:
        return
    if rows:
        out.print(
            f"{rows} disagreement(s) to reconcile → {escape(str(to))}. Fill final_decision (accept or reject), "
            f"then: themekit review import {escape(str(to))} --coder NAME"
        )
    else:
        out.print(f"No disagreements between coders on this run → {escape(str(to))} (header only).")


def _out_or_to(out_file: Path | None, to: Path | None, missing: str) -> Path:
    """The sheet to write: ``--out``, or ``--to``, its old name, still taken."""
    if out_file is not None and to is not None and out_file != to:
        raise typer.BadParameter("give the sheet once, as --out (--to is its old name)", param_hint="--out")
    if out_file is None and to is None:
        raise typer.BadParameter(missing, param_hint="--out")
    return out_file or to  # type: ignore[return-value]


def _store_for(run: str | Path | None, project: Path) -> Path:
    """The project store for a command about ``run``: with a run folder and no --project, the store the run was
    recorded in (wherever the command runs from), never a new empty one; else ``project``."""
    from themekit.store import project_of_run

    if run is not None and (Path(run) / "run.json").is_file():
        return project_of_run(run, project)
    return project


def _run_id(run: str | None) -> str | None:
    """A run id from a run folder (its run.json) or as given."""
    import json

    if run is not None and (Path(run) / "run.json").is_file():
        return json.loads((Path(run) / "run.json").read_text(encoding="utf-8"))["run_id"]
    return run


@review_app.command("status")
def review_status_cmd(
    run: Annotated[
        str | None,
        typer.Option(
            "--run",
            help="The run: its folder, its id or its number in 'themekit history' (default: the latest recorded).",
        ),
    ] = None,
    project: ProjectOption = DEFAULT_PROJECT,
) -> None:
    """How much of a run (default: the latest) is reviewed, per code."""
    from rich.table import Table

    from themekit.review.sheets import review_status
    from themekit.store import open_project

    with _user_errors():
        with open_project(_store_for(run, project), read_only=True) as store:
            with _warn_after(store):
                key = store.run_key(_run_ref(run, store))
                recorded = next((r for r in store.runs() if r["id"] == key), None)
                if recorded is None:
                    raise ProjectError(
                        f"{store.path}: no run #{key} is recorded; 'themekit history' lists the runs (#, id and folder) to give as --run."
                    )
                frame = review_status(store, key)
    folder = f", {escape(recorded['folder'])}" if recorded["folder"] else ""
    out.print(f"Run #{key} ({recorded['run_id']}{folder}), codebook {escape(recorded['codebook_version'])}:")
    table = Table("code", "codings", "to review", "accepted", "rejected", "human", "reviewed")
    for code, row in frame.iterrows():
        table.add_row(
            escape(str(code)), *(str(int(row[k])) for k in ("codings", *STATUSES)), f"{row['reviewed_pct']:.0f}%"
        )
    out.print(table)
    total, todo = int(frame["codings"].sum()), int(frame["suggested"].sum())
    out.print(f"{total - todo} of {total} codings reviewed.")


def _run_ref(run: str | None, store) -> str | int | None:
    """``--run`` as the store names runs: a run folder → the id in its run.json; a recorded id as it is; a number
    that is no recorded id → that row of 'themekit history'."""
    if run is None:
        return None
    folder = Path(run)
    if folder.is_dir():
        from themekit.runs.folder import read_run_id

        return read_run_id(folder)
    if run.isdigit() and not any(r["run_id"] == run for r in store.runs()):
        return int(run)
    return run


@review_app.command("serve")
def review_serve_cmd(
    run: Annotated[
        str | None,
        typer.Argument(
            help="The run: its folder, its id or its number in 'themekit history' (default: the latest recorded)."
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8765,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; anything but 127.0.0.1 lets other computers in.")
    ] = "127.0.0.1",
    coder: Annotated[
        str | None, typer.Option("--coder", help="Who decides (else each browser gives a name once).")
    ] = None,
    blind: Annotated[
        bool, typer.Option("--blind", help="Each coder sees only their own decisions (double coding).")
    ] = False,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the app in the web browser.")] = False,
    project: ProjectOption = DEFAULT_PROJECT,
) -> None:
    """Read, code and review a run in the web browser: every decision lands in the project store at once."""
    from themekit.web import serve

    with _user_errors():
        serve(
            _store_for(run, project),
            run,
            host=host,
            port=port,
            coder=coder,
            blind=blind,
            open_browser=open_browser,
            say=lambda text: out.print(escape(text)),
            warn=lambda text: err.print(f"[bold yellow]Warning:[/] {escape(text)}"),
        )


@review_app.command("gold")
def review_gold_cmd(
    out_file: Annotated[Path, out_option("Gold CSV to write.")],
    project: ProjectOption = DEFAULT_PROJECT,
    quiet: QuietOption = False,
) -> None:
    """Write people's decisions as a gold file, for 'themekit evaluate --gold' or 'themekit code --gold'."""
    from themekit.store import decisions_gold, open_project, settled
    from themekit.util.atomic import atomic_write_text

    with _user_errors():
        with open_project(project, read_only=True) as store, _warn_after(store):
            frame = decisions_gold(store, decisions=settled(store.decisions()))
        atomic_write_text(out_file, frame.to_csv(index=False))
    if not quiet:
        out.print(f"{int((frame['code'] != '').sum())} human-confirmed coding(s) → {escape(str(out_file))}")


@app.command("history")
def history_cmd(
    project: ProjectOption = DEFAULT_PROJECT,
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            help="First record this run folder: one written whole but not recorded (the store was busy or full).",
        ),
    ] = None,
) -> None:
    """List the project's runs with their codebook versions and headline counts."""
    from rich.table import Table

    from themekit.store import open_project

    with _user_errors():
        with open_project(project, read_only=record is None) as store, _warn_after(store):
            if record is not None:
                out.print(_record_folder(store, record))
            runs, where = store.runs(), store.path
    table = Table(
        "#",
        "created (UTC)",
        "run",
        "codebook",
        "transcripts",
        "segments",
        "codings",
        "accepted",
        "rejected",
        "human",
        "folder",
    )
    for r in runs:
        c = r["counts"]
        table.add_row(
            str(r["id"]),
            r["created"].replace("T", " ")[:16],
            r["run_id"],
            escape(r["codebook_version"]),
            *(str(c.get(k, 0)) for k in ("transcripts", "segments", "codings", "accepted", "rejected", "human")),
            escape(Path(r["folder"]).name if r["folder"] else ""),
        )
    out.print(table)
    if not runs:
        out.print(f"No runs recorded in {escape(str(where))} yet.")


@contextmanager
def _warn_after(store):
    """Print what a reader of ``store`` should know (a damaged store, a store read as it stands) on stderr once the
    command is done, or when it stops: what it showed is all that could be read."""
    try:
        yield
    finally:
        for warning in store.warnings:
            err.print(f"[bold yellow]Warning:[/] {escape(as_flags(warning, ['project']))}")


@project_app.command("recover")
def project_recover_cmd(
    store: Annotated[Path, typer.Argument(help="The damaged project store (e.g. .themekit/project.db).")],
    out_file: Annotated[Path, out_option("New project store to write what can be read into.")],
    quiet: QuietOption = False,
) -> None:
    """Save what can be read of a damaged project store into a new one: a header overwritten is rebuilt, damaged
    stretches of rows are stepped over and counted; the damaged store is only read."""
    from themekit.store.recover import recover

    with _user_errors():
        result = recover(store, out_file)
    if result.wal_left:
        err.print(
            f"[bold yellow]Warning:[/] {escape(str(store))}-wal holds changes made since the store was last closed; "
            "they are not in the recovered store."
        )
    if quiet:
        return
    how = " through a rebuilt header (its first 100 bytes were overwritten)" if result.header_rebuilt else ""
    out.print(f"Read {escape(str(store))}{how}; saved into {escape(str(out_file))}:")
    for table, rows in result.rows.items():
        lost = []
        if result.damaged.get(table):
            lost.append(f"{result.damaged[table]} damaged stretch(es) of rows could not be read")
        if result.refused.get(table):
            lost.append(f"{result.refused[table]} damaged row(s) left out")
        out.print(f"  {table}: {rows} row(s)" + (f" ({'; '.join(lost)})" if lost else ""))
    for table in result.unreadable:
        out.print(f"  {table}: could not be read at all")
    verdict = "everything the store held" if result.complete else "what could be read; the rest is lost"
    out.print(
        f"SQLite's check of the new store: {escape(result.check)}. It holds {verdict}. Use it from now on with "
        f"--project {escape(str(out_file))}, or move it to .themekit/project.db in place of the damaged one."
    )


def _record_folder(store, folder: Path) -> str:
    """Record a run folder in the store unless that run is already recorded with that folder; what was done."""
    from themekit.runs.folder import read_run

    run = read_run(folder)
    where = str(folder.resolve())
    if any(r["run_id"] == run.id and r["folder"] == where for r in store.runs()):
        return f"Run {run.id} in {escape(str(folder))} is already recorded."
    store.record_run(run, folder=folder)
    return f"Recorded run {run.id} from {escape(str(folder))}."
