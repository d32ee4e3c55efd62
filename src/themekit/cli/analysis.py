"""``themekit evaluate`` and ``themekit agree``: machine against human codings, and coders against each other."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from themekit.cli.app import _Progress, _user_errors, app, as_flags, err, out
from themekit.cli.options import (
    DEFAULT_CACHE_DIR,
    CacheDirOption,
    CodeColumns,
    CodeLevel,
    CodeSeparator,
    QuietOption,
    Sheet,
    TextColumn,
    UnitColumn,
    _layout,
    gold_option,
    out_option,
)
from themekit.config.options import SCOPES


def _evaluation_table(result: Any, title: str) -> Any:
    """Per code: support, machine count, P/R/F1, kappa and average precision (AP); with a second coder, their kappa with the coder ("2nd
    coder") and whether the machine could take the code over."""
    from rich.table import Table

    beside = "second_coder_kappa" in result.per_code
    table = Table(title=title)
    columns = ["code", "support", "predicted", "precision", "recall", "F1", "kappa", "AP"]
    columns += ["2nd coder", "take over"] if beside else []
    for column in columns:
        table.add_column(column, justify="left" if column == "code" else "right")
    for row in result.per_code.to_dict("records"):
        cells = [row["code"], str(row["support"]), str(row["predicted"])]
        cells += [f"{row['precision']:.2f}", f"{row['recall']:.2f}", f"{row['f1']:.2f}", f"{row['kappa']:.2f}"]
        ap = row.get("average_precision")
        cells.append("" if ap is None or ap != ap else f"{ap:.2f}")
        if beside:
            second = row["second_coder_kappa"]
            cells += ["" if second != second else f"{second:.2f}", "yes" if row["takes_over"] else ""]
        table.add_row(*cells)
    return table


def _beside_second_coder(second: dict[str, Any]) -> str:
    """The closing line of a comparison with a second coder."""
    codes = ", ".join(second["takes_over"]) or "none"
    return (
        f"Beside the second coder ({second['file']}, on {len(second['transcripts'])} interviews both coded): mean "
        f"kappa {second['macro_kappa_machine']:.2f} for the machine, {second['macro_kappa_second_coder']:.2f} "
        f"between the coders; the machine is within {second['margin']} kappa of the second coder on: {codes}"
    )


@app.command("evaluate")
def evaluate_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by 'themekit code'.")],
    gold: Annotated[
        Path,
        gold_option(
            "Human codings: transcript, code, and char_start/char_end, source_start/source_end, segment or the quoted text."
        ),
    ],
    min_support: Annotated[int, typer.Option(help="Codes with fewer gold segments are left out of macro figures.")] = 5,
    out_file: Annotated[Path | None, out_option("Where to write evaluation.json (default: in the run folder).")] = None,
    show_errors: Annotated[int, typer.Option(help="How many misses and false alarms to list.")] = 10,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Refuse the gold file if any row cannot be placed (default: list and skip those rows)."
        ),
    ] = False,
    scope: Annotated[
        str,
        typer.Option(
            metavar=f"<{'|'.join(SCOPES)}>",
            help="transcript: every participant segment of the transcripts the gold file names (uncoded = no code); coded: only segments it touches.",
        ),
    ] = "transcript",
    cv: Annotated[
        int | None,
        typer.Option(
            "--cv",
            min=2,
            help="Cross-validate in K folds grouped by transcript: train the classifier on the others' codings, code and score each fold.",
        ),
    ] = None,
    unit_column: UnitColumn = None,
    code_columns: CodeColumns = None,
    text_column: TextColumn = None,
    sheet: Sheet = None,
    second_coder: Annotated[
        Path | None,
        typer.Option(
            "--second-coder",
            help="A second person's codings of the same interviews: per code, the machine's kappa beside theirs, "
            "and the codes the machine could take over (within 0.1 kappa).",
        ),
    ] = None,
    level: CodeLevel = None,
    separator: CodeSeparator = None,
    adapt_encoder: Annotated[
        bool,
        typer.Option(
            "--adapt-encoder",
            help="With --cv: each fold's classifier learns from the encoder adapted to the corpus, as 'code "
            "--adapt-encoder' does (whether or not the run did), to see what it gives on your codings.",
        ),
    ] = False,
    cache_dir: CacheDirOption = DEFAULT_CACHE_DIR,
    quiet: QuietOption = False,
) -> None:
    """Compare a run with human codings: precision, recall, F1 and Cohen's kappa per code."""

    from themekit.analysis.crossval import cross_validate
    from themekit.analysis.evaluate import evaluate

    progress = _Progress(enabled=not quiet)
    with _user_errors():
        layout = _layout(unit_column, code_columns, text_column)
        try:
            if cv:
                crossed = cross_validate(
                    run_dir,
                    gold,
                    folds=cv,
                    min_support=min_support,
                    strict=strict,
                    scope=scope,
                    progress=progress,
                    layout=layout,
                    sheet=sheet,
                    second_coder=second_coder,
                    level=level,
                    separator=separator,
                    cache_dir=cache_dir,
                    adapt_encoder=adapt_encoder or None,
                )
                result = crossed.pooled
                written = crossed.save(out_file or run_dir / "crossvalidation.json")
            else:
                result = evaluate(
                    run_dir,
                    gold,
                    min_support=min_support,
                    strict=strict,
                    scope=scope,
                    layout=layout,
                    sheet=sheet,
                    second_coder=second_coder,
                    level=level,
                    separator=separator,
                    progress=progress,
                )
                written = result.save(out_file or run_dir / "evaluation.json")
        finally:
            progress.close()
    out.print(_evaluation_table(result, f"Run {run_dir} against {gold}"))
    o = result.overall
    out.print(
        f"{o['segments_scored']} segments scored (scope: {o['scope']}); micro P/R/F1 {o['micro']['precision']:.2f}/{o['micro']['recall']:.2f}/"
        f"{o['micro']['f1']:.2f}"
    )
    if o["codes_scored"]:
        m = o["macro"]
        out.print(
            f"macro over {o['codes_scored']} codes with at least {min_support} gold segments: P/R/F1 "
            f"{m['precision']:.2f}/{m['recall']:.2f}/{m['f1']:.2f}, mean kappa {m['kappa']:.2f}, mean average "
            f"precision {m['average_precision']:.2f}"
        )
    if o.get("calibration"):
        c = o["calibration"]
        out.print(
            f"probabilities: {c['codings']} codings have one, mean {c['mean_probability']:.2f}; the coder gave "
            f"{c['coder_gave']:.0%} of them; expected calibration error {c['ece']:.3f} (0: each probability is how "
            "often such codings agree with the coder)"
        )
    if cv:
        folds = crossed.folds
        f1s = [f["macro"]["f1"] for f in folds if f["macro"]["f1"] is not None]
        out.print(
            f"held out in {len(folds)} folds grouped by transcript (figures above pool them); macro F1 per fold: "
            + ", ".join(f"{v:.2f}" for v in f1s)
            + (f" (mean {sum(f1s) / len(f1s):.2f})" if f1s else "")
        )
        if o.get("adapted_encoder"):
            out.print(
                f"each fold's classifier learned from the encoder adapted to the corpus ({escape(o['adapted_encoder'])})"
            )
    if o.get("unseen"):
        u = o["unseen"]
        out.print(
            f"on the {u['segments_scored']} segments of transcripts the classifier did not learn from: macro P/R/F1 "
            f"{u['macro']['precision'] or 0:.2f}/{u['macro']['recall'] or 0:.2f}/{u['macro']['f1'] or 0:.2f}"
        )
    if o.get("second_coder"):
        out.print(_beside_second_coder(o["second_coder"]))
    if o.get("columns_read_as"):
        out.print(f"[dim]Read the gold file's {escape('; and '.join(o['columns_read_as']))}[/]")
    if o["skipped"]:
        err.print(
            f"[yellow]{len(o['skipped'])} gold row(s) left out or not matching their text[/] (listed in {escape(written.name)}; --strict refuses such a file):"
        )
        for line in o["skipped"][:show_errors]:
            err.print(f"  - {escape(line)}")
    if "warning" in o:
        err.print(f"[yellow]Warning:[/] {escape(as_flags(o['warning'], ['methods']))}")
    for err_row in result.errors.head(show_errors).itertuples(index=False):
        out.print(
            f"[dim]{err_row.kind}[/] {escape(err_row.code)} {escape(err_row.transcript)}#{err_row.segment}: {escape(err_row.text[:120])}"
        )
    if not quiet:
        out.print(f"Written: {escape(str(written))}")


@app.command("agree")
def agree_cmd(
    coder_files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Two or more coder files (CSV or .xlsx, long or wide); coder names are the file names. None with --project."
        ),
    ] = None,
    run_dir: Annotated[
        Path | None,
        typer.Option(
            "--run",
            help="Map spans onto this run's segments, so near-identical spans agree (with --project: the run whose quotes to compare).",
        ),
    ] = None,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            help="Compare the coders' review decisions in this project store (e.g. .themekit/project.db) instead of files.",
        ),
    ] = None,
    coder: Annotated[
        list[str] | None, typer.Option("--coder", help="With --project: only these coders (repeat the option).")
    ] = None,
    codebook: Annotated[
        Path | None, typer.Option("--codebook", "-c", help="Check codes against this codebook.")
    ] = None,
    unit_column: UnitColumn = None,
    code_columns: CodeColumns = None,
    text_column: TextColumn = None,
    sheet: Sheet = None,
    level: Annotated[
        int | None, typer.Option("--level", help="Compare hierarchical codes at this depth (1: the top of each path).")
    ] = None,
    separator: Annotated[str, typer.Option("--separator", help="What separates a code's levels: ->, > or /.")] = "->",
    absent_means_no_code: Annotated[
        bool,
        typer.Option(
            "--absent-means-no-code",
            help="A unit a coder did not list (or left uncoded) counts as coded with no code, not as missing.",
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse the files instead of warning (no rows, few or no shared units, id case clashes, mixed locations).",
        ),
    ] = False,
    out_file: Annotated[Path | None, out_option("Write agreement.json here.")] = None,
    show_disagreements: Annotated[int, typer.Option(help="How many disagreements to list.")] = 10,
    quiet: QuietOption = False,
) -> None:
    """Agreement between coders: percent agreement, Cohen's kappa (two coders), Krippendorff's alpha."""
    from themekit.analysis.agree import agree, agree_project
    from themekit.errors import OptionError

    with _user_errors():
        if project is not None:
            if coder_files:
                raise OptionError(
                    "give coder files or --project, not both: --project compares the decisions stored in the project"
                )
            from themekit.store import open_project

            with open_project(project, read_only=True) as store:
                try:
                    result = agree_project(
                        store, run=run_dir, coders=coder, level=level, separator=separator, strict=strict
                    )
                finally:
                    for warning in store.warnings:
                        err.print(f"[bold yellow]Warning:[/] {escape(as_flags(warning, ['project']))}")
        else:
            with _Progress(enabled=not quiet) as progress:
                result = agree(
                    coder_files or [],
                    run=run_dir,
                    codebook=codebook,
                    layout=_layout(unit_column, code_columns, text_column),
                    sheet=sheet,
                    level=level,
                    separator=separator,
                    absent_means_no_code=absent_means_no_code,
                    strict=strict,
                    progress=progress,
                )
        written = result.save(out_file) if out_file else None
    _print_agreement(result, show_disagreements)
    if written and not quiet:
        out.print(f"Written: {escape(str(written))}")


def _print_agreement(result, show_disagreements: int) -> None:
    from rich.table import Table

    from themekit.analysis.agree import WARNING_PARAMS

    title = f"Agreement between {', '.join(result.coders)}"
    if result.overall["level"]:
        title += f" (codes at level {result.overall['level']})"
    table = Table(title=escape(title))
    for column in ("code", *(f"n {n}" for n in result.coders), "agreement", "kappa", "alpha"):
        # codes wrap rather than being cut short, so two long codes never show as the same text
        table.add_column(escape(column), justify="left" if column == "code" else "right", overflow="fold")
    fmt = lambda v: "–" if v is None or v != v else f"{v:.2f}"  # noqa: E731
    for row in result.per_code.to_dict(orient="records"):
        counts = [str(row[f"n_{n}"]) for n in result.coders]
        table.add_row(escape(row["code"]), *counts, fmt(row["percent_agreement"]), fmt(row["kappa"]), fmt(row["alpha"]))
    out.print(table)
    o = result.overall
    coded = ", ".join(f"{escape(n)} {k}" for n, k in o["coded_units"].items())
    out.print(f"units coded: {coded}; coded by all coders: {o['shared_units']} (of {o['units']})")
    out.print(
        f"{o['codes']} codes used: mean agreement {fmt(o['percent_agreement'])}, "
        f"mean kappa {fmt(o['mean_kappa'])}, mean alpha {fmt(o['mean_alpha'])}"
    )
    for d in result.disagreements.head(show_disagreements).to_dict(orient="records"):
        where = " ".join(x for x in (d["transcript"], d["unit"]) if x)
        out.print(
            f"[dim]{escape(d['code'])}[/] {escape(where)}: by {escape(d['applied_by'])}, not {escape(d['not_by'])} {escape(d['text'][:100])}"
        )
    for warning in result.warnings:
        err.print(f"[yellow]Warning:[/] {escape(as_flags(warning, WARNING_PARAMS))}")
    for near in result.near_duplicates:
        a, b = near["codes"]
        counts = "; ".join(f"{escape(n)} {c[a]} and {c[b]}" for n, c in near["counts"].items())
        err.print(
            f"[yellow]Near-duplicate codes:[/] '{escape(a)}' and '{escape(b)}' differ only in {near['kind']} (given {counts} times); "
            "if they are one code, write it the same way in every file"
        )
