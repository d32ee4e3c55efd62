"""The ``themekit`` command line: each command parses, calls the library, renders.

User mistakes surface as :class:`~themekit.errors.ThemekitError`; they are
printed as one message on stderr with exit code 1, never a traceback.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from ._version import __version__
from .errors import ThemekitError

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


@contextmanager
def _user_errors():
    """Turn themekit's errors and Ctrl-C into a message and an exit code."""
    try:
        yield
    except ThemekitError as exc:
        err.print(f"[bold red]Error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
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
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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
) -> None:
    """Qualitative thematic analysis of interview transcripts."""


@app.command("code")
def code_cmd(
    transcripts: Annotated[Path, typer.Argument(help="Folder of transcripts (or one transcript file).")],
    codebook: Annotated[Path, typer.Option("--codebook", "-c", help="Codebook YAML file.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Run folder to create.")],
    unit: Annotated[str, typer.Option(help="Coding unit: sentence, turn or paragraph.")] = "sentence",
    method: Annotated[Optional[str], typer.Option(help="Coding methods, comma-separated (default: all available).")] = None,
    interviewer_label: Annotated[
        Optional[list[str]],
        typer.Option("--interviewer-label", help="Speaker label of the interviewer (repeatable; replaces the defaults)."),
    ] = None,
    spacy_model: Annotated[str, typer.Option(help="'blank' (default, no model needed) or an installed spaCy model.")] = "blank",
    gold: Annotated[
        Optional[Path], typer.Option("--gold", help="Human codings for the classifier (default: gold.csv beside the transcripts).")
    ] = None,
    embedding_model: Annotated[
        Optional[str], typer.Option(help="Sentence-transformers model folder or installed package (default: first installed known one).")
    ] = None,
    embedding_sha256: Annotated[Optional[str], typer.Option(help="Expected sha256 of the model's weights file.")] = None,
    cache_dir: Annotated[Path, typer.Option(help="Embedding cache folder.")] = Path(".themekit/cache"),
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the embedding cache.")] = False,
    min_score: Annotated[float, typer.Option(min=0.0, max=1.0, help="Drop codings scoring below this (0.5 = each method's threshold).")] = 0.5,
    max_file_mb: Annotated[float, typer.Option(help="Refuse transcript files larger than this many MB.")] = 50.0,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing run folder.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail if any transcript cannot be read.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary line.")] = False,
    project: ProjectOption = Path(".themekit/project.db"),
    config: ConfigOption = None,
    workers: Annotated[
        Optional[int], typer.Option(min=1, help="Processes coding (this one and N-1 started; default: one per core; 1: no pool; small corpora run in process).")
    ] = None,
    engine: Annotated[str, typer.Option(help="Where transcripts are processed: local, or dask (a Dask cluster).")] = "local",
    scheduler: Annotated[
        Optional[str], typer.Option(help="Dask scheduler address tcp://HOST:PORT (with --engine dask; default: a local cluster).")
    ] = None,
) -> None:
    """Code every participant excerpt of TRANSCRIPTS with the codebook; write a run folder.

    Human decisions stored in the project are applied, and the run is recorded there."""
    from .config import load_settings
    from .export import check_run_folder
    from .pipeline import code

    progress = _Progress(enabled=not quiet)
    with _user_errors():
        settings = load_settings(config)
        check_run_folder(out_dir, force=force)
        try:
            run = code(
                transcripts,
                codebook,
                unit=unit,  # type: ignore[arg-type]
                methods=method,
                spacy_model=spacy_model,
                interviewer_labels=interviewer_label,
                max_file_bytes=int(max_file_mb * 1024 * 1024),
                gold=gold,
                embedding_model=embedding_model or settings.embedding.model,
                embedding_sha256=embedding_sha256 or settings.embedding.sha256,
                cache_dir=None if no_cache else cache_dir,
                min_score=min_score,
                strict=strict,
                project=project,
                progress=progress,
                workers=workers,
                engine=engine,
                scheduler=scheduler,
            )
            run.save(out_dir, force=force, settings=settings.report)
        finally:
            progress.close()
    for _, reason in run.corpus.failures:
        err.print(f"[yellow]Skipped:[/] {escape(reason)}")
    for warning in run.stats.get("warnings", []):
        err.print(f"[yellow]Warning:[/] {escape(warning)}")
    decisions = run.stats.get("decisions")
    if decisions and decisions["orphaned"]:
        err.print(
            f"[yellow]Orphaned:[/] {len(decisions['orphaned'])} stored decision(s) could not be placed in this run "
            "(kept in the project; listed in run.json under stats.decisions):"
        )
        for orphan in decisions["orphaned"]:
            err.print(f"  - {escape(orphan)}")
    if not quiet:
        if "embedding" in run.settings and run.settings["embedding"]["identity"].startswith("tfidf-svd:"):
            err.print(f"[yellow]Note:[/] {escape(run.settings['embedding']['model'])}")
        cache = run.stats.get("embedding_cache")
        if cache:
            err.print(f"Embedding cache: {cache['hits']} hits, {cache['misses']} new")
        if decisions and any(decisions["applied"].values()):
            applied = decisions["applied"]
            err.print(
                f"Human decisions applied: {applied['accepted']} accepted, {applied['rejected']} rejected, "
                f"{applied['human']} human codings"
            )
        used = len({c.code_id for c in run.codings})
        err.print(
            f"Coded {len(run.corpus.transcripts)} transcripts: {len(run.units)} segments, "
            f"{len(run.codings)} codings with {used} of {len(run.codebook)} codes → {escape(str(out_dir))}"
        )


@app.command("evaluate")
def evaluate_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by 'themekit code'.")],
    gold: Annotated[Path, typer.Option("--gold", "-g", help="Human codings: transcript, char_start, char_end, code (or segment).")],
    min_support: Annotated[int, typer.Option(help="Codes with fewer gold segments are left out of macro figures.")] = 5,
    out_file: Annotated[Optional[Path], typer.Option("--out", "-o", help="Where to write evaluation.json (default: in the run folder).")] = None,
    show_errors: Annotated[int, typer.Option(help="How many misses and false alarms to list.")] = 10,
) -> None:
    """Compare a run with human codings: precision, recall, F1 and Cohen's kappa per code."""
    from rich.table import Table

    from .evaluate import evaluate

    with _user_errors():
        result = evaluate(run_dir, gold, min_support=min_support)
        written = result.save(out_file or run_dir / "evaluation.json")
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
        f"{o['segments_scored']} segments scored; micro P/R/F1 {o['micro']['precision']:.2f}/{o['micro']['recall']:.2f}/"
        f"{o['micro']['f1']:.2f}"
    )
    if o["codes_scored"]:
        m = o["macro"]
        out.print(
            f"macro over {o['codes_scored']} codes with at least {min_support} gold segments: P/R/F1 "
            f"{m['precision']:.2f}/{m['recall']:.2f}/{m['f1']:.2f}, mean kappa {m['kappa']:.2f}"
        )
    if "warning" in o:
        err.print(f"[yellow]Warning:[/] {escape(o['warning'])}")
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

    from .agree import agree

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


PseudonymiseOption = Annotated[
    bool, typer.Option("--pseudonymise", help="Replace participant identifiers with stable pseudonyms (mapping kept in the run folder).")
]
RedactOption = Annotated[
    Optional[Path], typer.Option("--redact", help="Blank out these terms (one per line), plus emails, phone numbers and UK postcodes.")
]


@app.command("suggest")
def suggest_cmd(
    transcripts: Annotated[Path, typer.Argument(help="Folder of transcripts (or one transcript file).")],
    codebook: Annotated[Path, typer.Option("--codebook", "-c", help="Codebook YAML file.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for suggestions.yaml, suggestions.md and topics.csv.")],
    all_segments: Annotated[bool, typer.Option("--all", help="Cluster every participant segment, not only the uncoded ones.")] = False,
    topics: Annotated[Optional[int], typer.Option("--topics", min=1, help="Number of topics (default: from the corpus size).")] = None,
    min_topic_size: Annotated[Optional[int], typer.Option(min=1, help="Smallest topic to suggest (default: 1% of segments, at least 5).")] = None,
    examples: Annotated[int, typer.Option(min=1, max=10, help="Example quotes per draft code.")] = 5,
    method: Annotated[Optional[str], typer.Option(help="Coding methods that decide what is uncoded (default: as 'themekit code').")] = None,
    unit: Annotated[str, typer.Option(help="Coding unit: sentence, turn or paragraph.")] = "sentence",
    gold: Annotated[Optional[Path], typer.Option("--gold", help="Human codings for the classifier (default: gold.csv beside the transcripts).")] = None,
    embedding_model: Annotated[Optional[str], typer.Option(help="Sentence-transformers model folder or installed package.")] = None,
    embedding_sha256: Annotated[Optional[str], typer.Option(help="Expected sha256 of the model's weights file.")] = None,
    cache_dir: Annotated[Path, typer.Option(help="Embedding cache folder (shared with 'themekit code').")] = Path(".themekit/cache"),
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the embedding cache.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace suggestions already in the folder.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary line.")] = False,
    config: ConfigOption = None,
) -> None:
    """Suggest draft codes for what the codebook misses: BERTopic over uncoded participant segments."""
    from .config import load_settings
    from .topics import suggest_topics

    with _user_errors():
        settings = load_settings(config)
        suggestions = suggest_topics(
            transcripts,
            codebook,
            all_segments=all_segments,
            n_topics=topics,
            min_topic_size=min_topic_size,
            examples=examples,
            methods=method,
            unit=unit,
            gold=gold,
            embedding_model=embedding_model or settings.embedding.model,
            embedding_sha256=embedding_sha256 or settings.embedding.sha256,
            cache_dir=None if no_cache else cache_dir,
        )
        suggestions.save(out_dir, force=force)
    if not quiet:
        src = suggestions.source
        for d in suggestions.drafts:
            near = f" — overlaps {d.overlaps[0].code_id}" if d.overlaps else ""
            err.print(f"  {escape(d.id)}: {d.size} segments, {d.transcripts} transcripts{escape(near)}")
        err.print(
            f"{len(suggestions.drafts)} draft codes from {src['clustered']} {'' if src['scope'] == 'all' else 'uncoded '}"
            f"segments ({src['outliers']} fit no topic) → {escape(str(out_dir / 'suggestions.yaml'))}"
        )


def _load_run(run_dir: Path, config: Optional[Path], pseudonymise: bool = False, redact: Optional[Path] = None):
    from .config import load_settings
    from .export.privacy import Privacy
    from .pipeline import Run

    run = Run.load(run_dir)
    settings = load_settings(config).report
    noun = settings.noun or run.codebook.spec.participant_noun
    privacy = Privacy.for_run(run, run_dir, pseudonymise=pseudonymise, redact=redact, noun=noun)
    return run, settings, privacy


def _privacy_line(privacy, redact: Optional[Path]) -> None:
    if redact is not None or privacy.pseudonyms:
        parts = ["participants pseudonymised"] if privacy.pseudonyms else []
        parts.append(privacy.summary())
        out.print("; ".join(parts).capitalize() + ".")


@export_app.command("docx")
def export_docx_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by 'themekit code'.")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Word file to write.")] = Path("quotes.docx"),
    theme: Annotated[Optional[str], typer.Option("--theme", help="Only this theme (its id).")] = None,
    per_code: Annotated[Optional[int], typer.Option(min=1, help="Quotes per code (default: from settings, 2).")] = None,
    pseudonymise: PseudonymiseOption = False,
    redact: RedactOption = None,
    config: ConfigOption = None,
) -> None:
    """Quote tables for Word: a heading per theme, a table per code (quote, participant, position)."""
    from .export import export_quote_docx

    with _user_errors():
        run, settings, privacy = _load_run(run_dir, config, pseudonymise, redact)
        written = export_quote_docx(run, out_file, settings=settings, theme_id=theme, per_code=per_code, privacy=privacy)
    _privacy_line(privacy, redact)
    out.print(f"Written: {escape(str(written))}")


@export_app.command("report")
def export_report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by 'themekit code'.")],
    format: Annotated[str, typer.Option("--format", "-f", help="docx, html or md.")] = "docx",
    out_file: Annotated[Optional[Path], typer.Option("--out", "-o", help="File to write (default: report.FORMAT).")] = None,
    theme: Annotated[Optional[str], typer.Option("--theme", help="Only this theme (its id).")] = None,
    charts: Annotated[bool, typer.Option("--charts/--no-charts", help="Embed the code frequency and heatmap charts.")] = True,
    pseudonymise: PseudonymiseOption = False,
    redact: RedactOption = None,
    config: ConfigOption = None,
) -> None:
    """A narrative report skeleton: theme headings, prevalence sentences, quotes, methods, charts."""
    from .export import export_report

    with _user_errors():
        run, settings, privacy = _load_run(run_dir, config, pseudonymise, redact)
        written = export_report(
            run,
            out_file or Path(f"report.{format}"),
            format=format,
            settings=settings,
            theme_id=theme,
            charts=charts,
            privacy=privacy,
        )
    _privacy_line(privacy, redact)
    out.print(f"Written: {escape(str(written))}")


@export_app.command("xlsx")
def export_xlsx_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by 'themekit code'.")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Excel file to write.")] = Path("excerpts.xlsx"),
    theme: Annotated[Optional[str], typer.Option("--theme", help="Only this theme (its id).")] = None,
    pseudonymise: PseudonymiseOption = False,
    redact: RedactOption = None,
    config: ConfigOption = None,
) -> None:
    """Every coded excerpt in Excel: a sheet per theme, header frozen, filters on."""
    from .export import export_xlsx

    with _user_errors():
        run, _, privacy = _load_run(run_dir, config, pseudonymise, redact)
        written = export_xlsx(run, out_file, theme_id=theme, privacy=privacy)
    _privacy_line(privacy, redact)
    out.print(f"Written: {escape(str(written))}")


@codebook_app.command("validate")
def codebook_validate(file: Annotated[Path, typer.Argument(help="Codebook YAML file.")]) -> None:
    """Check a codebook and list every problem at once, with YAML paths and lines."""
    from .codebook import Codebook

    with _user_errors():
        cb = Codebook.load(file)
    out.print(f"{escape(str(file))}: valid — {cb.name} {cb.version}, {len(cb.themes)} themes, {len(cb)} codes.")


@codebook_app.command("merge")
def codebook_merge(
    file: Annotated[Path, typer.Argument(help="Codebook YAML file to add the drafts to.")],
    suggestions: Annotated[Path, typer.Argument(help="suggestions.yaml written by 'themekit suggest'.")],
    pick: Annotated[str, typer.Option("--pick", help="Draft ids to add, comma-separated.")],
    theme: Annotated[str, typer.Option("--theme", help="Theme id to add them under.")],
    theme_label: Annotated[Optional[str], typer.Option(help="Label for a new theme, when --theme names one that does not exist.")] = None,
    out_file: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the merged codebook here (default: update FILE).")] = None,
) -> None:
    """Add picked draft codes to a theme; bump the minor version and write a changelog entry."""
    from .codebook.edit import merge_drafts

    with _user_errors():
        result = merge_drafts(
            file, suggestions, [p.strip() for p in pick.split(",") if p.strip()], theme=theme, theme_label=theme_label, out=out_file
        )
    created = " (new theme)" if result.new_theme else ""
    out.print(
        f"Added {', '.join(result.added)} under {escape(result.theme)}{created}; version {result.old_version} → "
        f"{result.new_version} → {escape(str(result.path))}"
    )


@codebook_app.command("diff")
def codebook_diff_cmd(
    old: Annotated[Path, typer.Argument(help="Earlier codebook YAML file.")],
    new: Annotated[Path, typer.Argument(help="Later codebook YAML file.")],
) -> None:
    """List codes added, removed, renamed, merged, moved and redefined from OLD to NEW."""
    from .codebook import Codebook
    from .codebook.diff import diff_codebooks

    with _user_errors():
        before, after = Codebook.load(old), Codebook.load(new)
        diff = diff_codebooks(before, after)
    out.print(f"{escape(before.name)} {before.version} → {after.version}: " + ("no code changes" if not diff else f"{len(diff.lines())} change(s)"))
    for line in diff.lines():
        out.print(escape(line))


@codebook_app.command("bump")
def codebook_bump_cmd(
    file: Annotated[Path, typer.Argument(help="Codebook YAML file.")],
    message: Annotated[str, typer.Option("--message", "-m", help="Changelog note: what changed.")],
    major: Annotated[bool, typer.Option("--major", help="Bump the major version (codes removed or meanings changed).")] = False,
    minor: Annotated[bool, typer.Option("--minor", help="Bump the minor version (codes added or refined).")] = False,
    patch: Annotated[bool, typer.Option("--patch", help="Bump the patch version (wording fixes).")] = False,
) -> None:
    """Bump the codebook's version and add a changelog entry (comments and layout are kept)."""
    from .codebook.edit import bump_codebook

    with _user_errors():
        if sum((major, minor, patch)) != 1:
            raise ThemekitError("say which part to bump: exactly one of --major, --minor or --patch.")
        result = bump_codebook(file, "major" if major else "minor" if minor else "patch", message)
    out.print(f"{escape(str(result.path))}: version {result.old_version} → {result.new_version} — {escape(result.note)}")


@codebook_app.command("show")
def codebook_show(file: Annotated[Path, typer.Argument(help="Codebook YAML file.")]) -> None:
    """Print the codebook's themes and codes as a tree."""
    from .codebook import Codebook

    with _user_errors():
        cb = Codebook.load(file)
    tree = Tree(f"[bold]{escape(cb.name)}[/] {escape(cb.version)}")
    for theme in cb.themes:
        branch = tree.add(f"[bold]{escape(theme.label)}[/] [dim]({escape(theme.id)})[/]")
        nodes = {None: branch}
        for code in cb.codes_of(theme.id):
            parent = nodes[code.parent_id]
            nodes[code.id] = parent.add(
                f"{escape(code.label)} [dim]({escape(code.id)})[/]"
                f"{' [yellow](draft)[/]' if code.spec.status == 'draft' else ''} — {escape(code.spec.definition)}"
            )
    out.print(tree)


@export_app.command("qdc")
def export_qdc_cmd(
    codebook: Annotated[Path, typer.Argument(help="Codebook YAML file.")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="REFI-QDA codebook file to write.")] = Path("codebook.qdc"),
) -> None:
    """The codebook as a REFI-QDA codebook (.qdc) for NVivo, ATLAS.ti, MAXQDA or QualCoder."""
    from .codebook import Codebook
    from .refi import export_qdc

    with _user_errors():
        cb = Codebook.load(codebook)
        written = export_qdc(cb, out_file)
    out.print(f"Written: {escape(str(written))} ({len(cb)} codes under {len(cb.themes)} themes)")


@export_app.command("qdpx")
def export_qdpx_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by 'themekit code'.")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="REFI-QDA project file to write.")] = Path("project.qdpx"),
    include_suggested: Annotated[
        bool, typer.Option("--include-suggested", help="Also export suggested (not yet reviewed) machine codings.")
    ] = False,
    pseudonymise: PseudonymiseOption = False,
    redact: RedactOption = None,
    config: ConfigOption = None,
) -> None:
    """The run as a REFI-QDA project (.qdpx): transcripts, codebook, cases and reviewed codings."""
    from .refi import export_qdpx

    with _user_errors():
        run, _, privacy = _load_run(run_dir, config, pseudonymise, redact)
        result = export_qdpx(
            run, out_file, include_suggested=include_suggested, privacy=privacy if pseudonymise or redact is not None else None
        )
    if pseudonymise or redact is not None:
        _privacy_line(privacy, redact)
    for note in result.notes:
        err.print(f"[yellow]Note:[/] {escape(note)}.")
    out.print(
        f"Written: {escape(str(result.path))} ({result.sources} transcripts, {result.codings} codings "
        f"of {result.selections} excerpts)"
    )


@codebook_app.command("import")
def codebook_import_cmd(
    file: Annotated[Path, typer.Argument(help="REFI-QDA codebook (.qdc) from NVivo, ATLAS.ti, MAXQDA or QualCoder.")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Codebook YAML file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Turn a REFI-QDA codebook (.qdc) into a themekit codebook."""
    from .refi import NO_DESCRIPTION, import_qdc

    with _user_errors():
        cb = import_qdc(file, out_file, force=force)
    out.print(f"Written: {escape(str(out_file))} — {len(cb.themes)} themes, {len(cb)} codes (checked: valid).")
    undescribed = sum(1 for c in cb if c.spec.definition == NO_DESCRIPTION)
    if undescribed:
        err.print(f"[yellow]Note:[/] {undescribed} codes had no description; write a definition for each, semantic coding reads them.")
    err.print(
        "[yellow]Note:[/] keywords are empty: rule coding finds nothing until you add some, and semantic coding "
        "relies on the labels and definitions."
    )


@import_app.command("qdpx")
def import_qdpx_cmd(
    file: Annotated[Path, typer.Argument(help="REFI-QDA project (.qdpx) from NVivo, ATLAS.ti, MAXQDA or QualCoder.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to create: transcripts, gold.csv, codebook.yaml.")],
    codebook: Annotated[
        Path | None, typer.Option("--codebook", "-c", help="Keep this codebook's ids for the codes it has (matched by GUID or name).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing non-empty folder.")] = False,
) -> None:
    """Unpack a REFI-QDA project: transcripts, human codings as gold.csv, codebook.yaml, participants.csv."""
    from .refi import import_qdpx

    with _user_errors():
        result = import_qdpx(file, out_dir, codebook=codebook, force=force)
    for note in result.notes:
        err.print(f"[yellow]Note:[/] {escape(note)}.")
    coders = f" by {len(result.coders)} coder{'s' if len(result.coders) != 1 else ''} ({', '.join(result.coders)})" if result.coders else ""
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


@review_app.command("export")
def review_export_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by 'themekit code'.")],
    to: Annotated[Path, typer.Option("--to", help="Review sheet to write: .xlsx (with drop-downs) or .csv.")],
    include_reviewed: Annotated[bool, typer.Option("--all", help="Also list codings already accepted, rejected or added.")] = False,
    project: ProjectOption = Path(".themekit/project.db"),
) -> None:
    """Write a review sheet: one row per suggested coding, with decision, code and note columns to fill."""
    from .pipeline import Run
    from .store import export_review, open_project

    with _user_errors():
        run = Run.load(run_dir)
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
    from .store import import_review, open_project

    with _user_errors():
        with open_project(project) as store:
            result = import_review(sheet, store, coder=coder)
        counts = ", ".join(f"{n} {k}" for k, n in result.counts.items())
        out.print(
            f"Recorded {result.recorded} decision(s) by {escape(result.coder)}: {counts}; "
            f"{result.unchanged} already recorded, {result.blank} row(s) left blank."
        )
        if result.problems:
            raise ThemekitError(result.problem_message())


@review_app.command("status")
def review_status_cmd(
    project: ProjectOption = Path(".themekit/project.db"),
) -> None:
    """How much of the latest run is reviewed, per code."""
    from rich.table import Table

    from .store import open_project, review_status

    with _user_errors():
        with open_project(project) as store:
            frame = review_status(store)
    table = Table("code", "codings", "to review", "accepted", "rejected", "human", "reviewed")
    for code, row in frame.iterrows():
        table.add_row(escape(str(code)), *(str(int(row[k])) for k in ("codings", "suggested", "accepted", "rejected", "human")), f"{row['reviewed_pct']:.0f}%")
    out.print(table)
    total, todo = int(frame["codings"].sum()), int(frame["suggested"].sum())
    out.print(f"{total - todo} of {total} codings reviewed.")


@review_app.command("gold")
def review_gold_cmd(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Gold CSV to write.")],
    project: ProjectOption = Path(".themekit/project.db"),
) -> None:
    """Write people's decisions as a gold file, for 'themekit evaluate --gold' or 'themekit code --gold'."""
    from .export.run_folder import atomic_write_text
    from .store import decisions_gold, open_project

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

    from .store import open_project

    with _user_errors():
        with open_project(project) as store:
            runs = store.runs()
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
        out.print(f"No runs recorded in {escape(str(project))} yet.")


def main() -> None:
    app(prog_name="themekit")


if __name__ == "__main__":
    sys.exit(main())
