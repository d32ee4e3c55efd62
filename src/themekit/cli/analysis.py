"""``themekit evaluate`` and ``themekit agree``: machine against human codings, and coders against each other."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer
from rich.markup import escape

from themekit.cli.app import _Progress, _user_errors, app, as_flags, err, out


@app.command("evaluate")
def evaluate_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by 'themekit code'.")],
    gold: Annotated[Path, typer.Option("--gold", "-g", help="Human codings: transcript, code, and char_start/char_end, source_start/source_end, segment or the quoted text.")],
    min_support: Annotated[int, typer.Option(help="Codes with fewer gold segments are left out of macro figures.")] = 5,
    out_file: Annotated[Optional[Path], typer.Option("--out", "-o", help="Where to write evaluation.json (default: in the run folder).")] = None,
    show_errors: Annotated[int, typer.Option(help="How many misses and false alarms to list.")] = 10,
    strict: Annotated[bool, typer.Option("--strict", help="Refuse the gold file if any row cannot be placed (default: list and skip those rows).")] = False,
    scope: Annotated[
        Literal["transcript", "coded"],
        typer.Option(
            help="transcript: every participant segment of the transcripts the gold file names (uncoded = no code); coded: only segments it touches.",
        ),
    ] = "transcript",
    cv: Annotated[
        Optional[int],
        typer.Option("--cv", min=2, help="Cross-validate in K folds grouped by transcript: train the classifier on the others' codings, code and score each fold."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Compare a run with human codings: precision, recall, F1 and Cohen's kappa per code."""
    from rich.table import Table

    from themekit.analysis.crossval import cross_validate
    from themekit.analysis.evaluate import evaluate

    progress = _Progress(enabled=not quiet)
    with _user_errors():
        try:
            if cv:
                crossed = cross_validate(run_dir, gold, folds=cv, min_support=min_support, strict=strict, scope=scope, progress=progress)
                result = crossed.pooled
                written = crossed.save(out_file or run_dir / "crossvalidation.json")
            else:
                result = evaluate(run_dir, gold, min_support=min_support, strict=strict, scope=scope)
                written = result.save(out_file or run_dir / "evaluation.json")
        finally:
            progress.close()
    table = Table(title=f"Run {run_dir} against {gold}")
    for column in ("code", "support", "predicted", "precision", "recall", "F1", "kappa"):
        table.add_column(column, justify="left" if column == "code" else "right")
    for row in result.per_code.itertuples(index=False):
        table.add_row(
            row.code, str(row.support), str(row.predicted), f"{row.precision:.2f}", f"{row.recall:.2f}", f"{row.f1:.2f}", f"{row.kappa:.2f}"
        )
    out.print(table)
    o = result.overall
    out.print(
        f"{o['segments_scored']} segments scored (scope: {o['scope']}); micro P/R/F1 {o['micro']['precision']:.2f}/{o['micro']['recall']:.2f}/"
        f"{o['micro']['f1']:.2f}"
    )
    if o["codes_scored"]:
        m = o["macro"]
        out.print(
            f"macro over {o['codes_scored']} codes with at least {min_support} gold segments: P/R/F1 "
            f"{m['precision']:.2f}/{m['recall']:.2f}/{m['f1']:.2f}, mean kappa {m['kappa']:.2f}"
        )
    if cv:
        folds = crossed.folds
        f1s = [f["macro"]["f1"] for f in folds if f["macro"]["f1"] is not None]
        out.print(
            f"held out in {len(folds)} folds grouped by transcript (figures above pool them); macro F1 per fold: "
            + ", ".join(f"{v:.2f}" for v in f1s)
            + (f" (mean {sum(f1s) / len(f1s):.2f})" if f1s else "")
        )
    if o.get("unseen"):
        u = o["unseen"]
        out.print(
            f"on the {u['segments_scored']} segments of transcripts the classifier did not learn from: macro P/R/F1 "
            f"{u['macro']['precision'] or 0:.2f}/{u['macro']['recall'] or 0:.2f}/{u['macro']['f1'] or 0:.2f}"
        )
    if o["skipped"]:
        err.print(f"[yellow]{len(o['skipped'])} gold row(s) left out or not matching their text[/] (listed in evaluation.json; --strict refuses such a file):")
        for line in o["skipped"][:show_errors]:
            err.print(f"  - {escape(line)}")
    if "warning" in o:
        err.print(f"[yellow]Warning:[/] {escape(as_flags(o['warning'], ['methods']))}")
    for err_row in result.errors.head(show_errors).itertuples(index=False):
        out.print(f"[dim]{err_row.kind}[/] {escape(err_row.code)} {escape(err_row.transcript)}#{err_row.segment}: {escape(err_row.text[:120])}")
    out.print(f"Written: {escape(str(written))}")


@app.command("agree")
def agree_cmd(
    coder_files: Annotated[list[Path], typer.Argument(help="Two or more coder files (gold format); coder names are the file names.")],
    run_dir: Annotated[Optional[Path], typer.Option("--run", help="Map spans onto this run's segments, so near-identical spans agree.")] = None,
    codebook: Annotated[Optional[Path], typer.Option("--codebook", "-c", help="Check codes against this codebook.")] = None,
    out_file: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write agreement.json here.")] = None,
    show_disagreements: Annotated[int, typer.Option(help="How many disagreements to list.")] = 10,
) -> None:
    """Agreement between coders: percent agreement, Cohen's kappa (two coders), Krippendorff's alpha."""
    from rich.table import Table

    from themekit.analysis.agree import agree

    with _user_errors():
        result = agree(coder_files, run=run_dir, codebook=codebook)
        written = result.save(out_file) if out_file else None
    table = Table(title=f"Agreement between {', '.join(result.coders)}")
    for column in ("code", *(f"n {n}" for n in result.coders), "agreement", "kappa", "alpha"):
        table.add_column(column, justify="left" if column == "code" else "right")
    fmt = lambda v: "–" if v is None or v != v else f"{v:.2f}"  # noqa: E731
    for row in result.per_code.to_dict(orient="records"):
        counts = [str(row[f"n_{n}"]) for n in result.coders]
        table.add_row(row["code"], *counts, fmt(row["percent_agreement"]), fmt(row["kappa"]), fmt(row["alpha"]))
    out.print(table)
    o = result.overall
    out.print(
        f"{o['units']} units, {o['codes']} codes used: mean agreement {fmt(o['percent_agreement'])}, "
        f"mean kappa {fmt(o['mean_kappa'])}, mean alpha {fmt(o['mean_alpha'])}"
    )
    for d in result.disagreements.head(show_disagreements).to_dict(orient="records"):
        out.print(f"[dim]{escape(d['code'])}[/] {escape(d['transcript'])} {escape(d['unit'])}: by {escape(d['applied_by'])}, not {escape(d['not_by'])} {escape(d['text'][:100])}")
    if written:
        out.print(f"Written: {escape(str(written))}")
