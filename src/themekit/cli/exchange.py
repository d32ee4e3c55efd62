"""``themekit export …`` and ``themekit import …``: report-ready files and REFI-QDA exchange."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from themekit.cli.app import _user_errors, as_flags, err, export_app, import_app, out
from themekit.cli.options import ConfigOption, QuietOption, out_option
from themekit.config.options import REPORT_FORMATS

PseudonymiseOption = Annotated[
    bool,
    typer.Option(
        "--pseudonymise",
        help="Replace participant identifiers with stable pseudonyms (mapping kept in the run folder).",
    ),
]
RedactOption = Annotated[
    Path | None,
    typer.Option("--redact", help="Blank out these terms (one per line), plus emails, phone numbers and UK postcodes."),
]


def _load_run(run_dir: Path, config: Path | None, pseudonymise: bool = False, redact: Path | None = None):
    from themekit.config import load_settings
    from themekit.export.privacy import Privacy
    from themekit.runs.folder import read_run

    run = read_run(run_dir)
    settings = load_settings(config).report
    noun = settings.noun or run.codebook.spec.participant_noun
    privacy = Privacy.for_run(run, run_dir, pseudonymise=pseudonymise, redact=redact, noun=noun)
    return run, settings, privacy


def _privacy_line(privacy, redact: Path | None) -> None:
    if redact is not None or privacy.pseudonyms:
        parts = ["participants pseudonymised"] if privacy.pseudonyms else []
        parts.append(privacy.summary())
        out.print("; ".join(parts).capitalize() + ".")


@export_app.command("docx")
def export_docx_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by 'themekit code'.")],
    out_file: Annotated[Path, out_option("Word file to write.")] = Path("quotes.docx"),
    theme: Annotated[str | None, typer.Option("--theme", help="Only this theme (its id).")] = None,
    per_code: Annotated[int | None, typer.Option(min=1, help="Quotes per code (default: from settings, 2).")] = None,
    pseudonymise: PseudonymiseOption = False,
    redact: RedactOption = None,
    config: ConfigOption = None,
    quiet: QuietOption = False,
) -> None:
    """Quote tables for Word: a heading per theme, a table per code (quote, participant, position)."""
    from themekit.export import export_quote_docx

    with _user_errors():
        run, settings, privacy = _load_run(run_dir, config, pseudonymise, redact)
        written = export_quote_docx(
            run, out_file, settings=settings, theme_id=theme, per_code=per_code, privacy=privacy
        )
    if not quiet:
        _privacy_line(privacy, redact)
        out.print(f"Written: {escape(str(written))}")


@export_app.command("report")
def export_report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by 'themekit code'.")],
    format: Annotated[
        str, typer.Option("--format", "-f", metavar=f"<{'|'.join(REPORT_FORMATS)}>", help="Report format.")
    ] = "docx",
    out_file: Annotated[Path | None, out_option("File to write (default: report.FORMAT).")] = None,
    theme: Annotated[str | None, typer.Option("--theme", help="Only this theme (its id).")] = None,
    charts: Annotated[
        bool, typer.Option("--charts/--no-charts", help="Embed the code frequency and heatmap charts.")
    ] = True,
    appendix: Annotated[
        bool,
        typer.Option(
            "--appendix", help="Add themekit's notes (transcripts not read, speaker detection) as an appendix."
        ),
    ] = False,
    pseudonymise: PseudonymiseOption = False,
    redact: RedactOption = None,
    config: ConfigOption = None,
    quiet: QuietOption = False,
) -> None:
    """A narrative report skeleton: theme headings, prevalence sentences, quotes, methods, charts."""
    from themekit.export import export_report

    with _user_errors():
        run, settings, privacy = _load_run(run_dir, config, pseudonymise, redact)
        written = export_report(
            run,
            out_file or Path(f"report.{format}"),
            format=format,
            settings=settings,
            theme_id=theme,
            charts=charts,
            appendix=appendix,
            privacy=privacy,
        )
    if not quiet:
        _privacy_line(privacy, redact)
        out.print(f"Written: {escape(str(written))}")


@export_app.command("xlsx")
def export_xlsx_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by 'themekit code'.")],
    out_file: Annotated[Path, out_option("Excel file to write.")] = Path("excerpts.xlsx"),
    theme: Annotated[str | None, typer.Option("--theme", help="Only this theme (its id).")] = None,
    pseudonymise: PseudonymiseOption = False,
    redact: RedactOption = None,
    config: ConfigOption = None,
    quiet: QuietOption = False,
) -> None:
    """Every coded excerpt in Excel: a sheet per theme, header frozen, filters on."""
    from themekit.export import export_xlsx

    with _user_errors():
        run, _, privacy = _load_run(run_dir, config, pseudonymise, redact)
        written = export_xlsx(run, out_file, theme_id=theme, privacy=privacy)
    if not quiet:
        _privacy_line(privacy, redact)
        out.print(f"Written: {escape(str(written))}")


@export_app.command("qdc")
def export_qdc_cmd(
    codebook: Annotated[Path, typer.Argument(help="Codebook YAML file.")],
    out_file: Annotated[Path, out_option("REFI-QDA codebook file to write.")] = Path("codebook.qdc"),
    quiet: QuietOption = False,
) -> None:
    """The codebook as a REFI-QDA codebook (.qdc) for NVivo, ATLAS.ti, MAXQDA or QualCoder."""
    from themekit.codebook import Codebook
    from themekit.refi import export_qdc

    with _user_errors():
        cb = Codebook.load(codebook)
        written = export_qdc(cb, out_file)
    if not quiet:
        out.print(f"Written: {escape(str(written))} ({len(cb)} codes under {len(cb.themes)} themes)")


@export_app.command("qdpx")
def export_qdpx_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by 'themekit code'.")],
    out_file: Annotated[Path, out_option("REFI-QDA project file to write.")] = Path("project.qdpx"),
    include_suggested: Annotated[
        bool, typer.Option("--include-suggested", help="Also export suggested (not yet reviewed) machine codings.")
    ] = False,
    pseudonymise: PseudonymiseOption = False,
    redact: RedactOption = None,
    config: ConfigOption = None,
    quiet: QuietOption = False,
) -> None:
    """The run as a REFI-QDA project (.qdpx): transcripts, codebook, cases and reviewed codings."""
    from themekit.refi import export_qdpx

    with _user_errors():
        run, _, privacy = _load_run(run_dir, config, pseudonymise, redact)
        result = export_qdpx(
            run,
            out_file,
            include_suggested=include_suggested,
            privacy=privacy if pseudonymise or redact is not None else None,
        )
    if (pseudonymise or redact is not None) and not quiet:
        _privacy_line(privacy, redact)
    for note in result.notes:
        err.print(f"[yellow]Note:[/] {escape(as_flags(note, ['include_suggested']))}.")
    if quiet:
        return
    out.print(
        f"Written: {escape(str(result.path))} ({result.sources} transcripts, {result.codings} codings "
        f"of {result.selections} excerpts)"
    )


@import_app.command("qdpx")
def import_qdpx_cmd(
    file: Annotated[Path, typer.Argument(help="REFI-QDA project (.qdpx) from NVivo, ATLAS.ti, MAXQDA or QualCoder.")],
    out_dir: Annotated[Path, out_option("Folder to create: transcripts, gold.csv, codebook.yaml.")],
    codebook: Annotated[
        Path | None,
        typer.Option(
            "--codebook", "-c", help="Keep this codebook's ids for the codes it has (matched by GUID or name)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing non-empty folder.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Unpack a REFI-QDA project: transcripts, human codings as gold.csv, codebook.yaml, participants.csv."""
    from themekit.refi import import_qdpx

    with _user_errors():
        result = import_qdpx(file, out_dir, codebook=codebook, force=force)
    for note in result.notes:
        err.print(f"[yellow]Note:[/] {escape(note)}.")
    if quiet:
        return
    coders = (
        f" by {len(result.coders)} coder{'s' if len(result.coders) != 1 else ''} ({', '.join(result.coders)})"
        if result.coders
        else ""
    )
    out.print(
        f"Imported {len(result.transcripts)} transcripts and {result.codings} codings{escape(coders)} → {escape(str(result.out_dir))}"
    )
    if result.codebook is not None:
        matched = f" ({result.matched_codes} keep their ids from {codebook})" if codebook is not None else ""
        out.print(
            f"codebook.yaml: {result.codes} codes{escape(matched)}; keywords are empty, so semantic coding relies on the definitions."
        )
    if result.coder_files:
        files = " ".join(str(p) for p in result.coder_files)
        out.print(f"One file per coder: themekit agree {escape(files)}")
