"""``themekit code`` and ``themekit suggest``: coding transcripts, and draft codes for what the codebook misses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from themekit.cli.app import _Progress, _user_errors, app, as_flags, err
from themekit.cli.options import (
    DEFAULT_CACHE_DIR,
    DEFAULT_PROJECT,
    CacheDirOption,
    CodebookOption,
    CodeColumns,
    CodeLevel,
    CodeSeparator,
    ConfigOption,
    EmbeddingModelOption,
    EmbeddingSha256Option,
    EngineOption,
    InterviewerLabelOption,
    MethodOption,
    NoCacheOption,
    ProjectOption,
    QuietOption,
    SpacyModelOption,
    SpeakerColumnOption,
    TextColumnOption,
    TranscriptsArgument,
    UnitOption,
    _layout,
    coding_options,
    gold_option,
    out_option,
)
from themekit.util.limits import MAX_FILE_BYTES, MB


def _human_codings(
    gold: Path | None,
    unit_column: str | None,
    code_columns: str | None,
    level: int | None,
    separator: str | None,
    progress: Any = None,
) -> Any:
    """The --gold file as the flags say to read it: a wide file of survey codes (``--unit-column`` and
    ``--code-columns``, as ``evaluate`` and ``agree`` read one), code paths at ``--level``/``--separator``."""
    from themekit.human.gold import HumanCodings

    if gold is None or not (code_columns or level or separator):
        return gold
    layout = _layout(unit_column, code_columns, None) if code_columns else None
    # a coder's sheet of responses: a row left without codes was read and given none, and teaches that
    return HumanCodings.from_file(
        gold, layout=layout, level=level, separator=separator, keep_uncoded=layout is not None, progress=progress
    )


@app.command("code")
def code_cmd(
    transcripts: TranscriptsArgument,
    codebook: CodebookOption,
    out_dir: Annotated[Path, out_option("Run folder to create.")],
    unit: UnitOption = None,
    method: MethodOption = None,
    interviewer_label: InterviewerLabelOption = None,
    spacy_model: SpacyModelOption = "blank",
    gold: Annotated[Path | None, gold_option()] = None,
    level: CodeLevel = None,
    separator: CodeSeparator = None,
    code_columns: CodeColumns = None,
    text_column: TextColumnOption = None,
    speaker_column: SpeakerColumnOption = None,
    unit_column: Annotated[
        str | None,
        typer.Option(
            help="Code a table of survey responses (one .csv/.xlsx): the column naming each response; the answer is --text-column."
        ),
    ] = None,
    embedding_model: EmbeddingModelOption = None,
    embedding_sha256: EmbeddingSha256Option = None,
    adapt_encoder: Annotated[
        bool,
        typer.Option(
            "--adapt-encoder",
            help="With human codings: the classifier learns from the embedding model fine-tuned on the corpus' own "
            "sentences (no codings used; about 75 s per 1,000 sentences the first time, then cached).",
        ),
    ] = False,
    cache_dir: CacheDirOption = DEFAULT_CACHE_DIR,
    no_cache: NoCacheOption = False,
    min_score: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Drop codings scoring below this (0.5 = each method's threshold).")
    ] = 0.5,
    max_file_mb: Annotated[
        float, typer.Option(help="Refuse transcript files larger than this many MB.")
    ] = MAX_FILE_BYTES / MB,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing run folder.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail if any transcript cannot be read.")] = False,
    quiet: QuietOption = False,
    project: ProjectOption = DEFAULT_PROJECT,
    config: ConfigOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes coding (this one and N-1 started; default: one per core; 1: no pool; small corpora run in process).",
        ),
    ] = None,
    engine: EngineOption = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address tcp://HOST:PORT (with --engine dask; default: a local cluster)."),
    ] = None,
) -> None:
    """Code every participant excerpt of TRANSCRIPTS with the codebook; write a run folder.

    Human decisions stored in the project are applied, and the run is recorded there."""
    from themekit.api import code
    from themekit.config import load_settings
    from themekit.runs.folder import check_run_folder
    from themekit.util.atomic import folder_lock, recover_folder

    progress = _Progress(enabled=not quiet)
    with _user_errors():
        options = coding_options(
            unit=unit, method=method, interviewer_label=interviewer_label, spacy_model=spacy_model,
            max_file_bytes=int(max_file_mb * MB), text_column=text_column, speaker_column=speaker_column,
            unit_column=unit_column, embedding_model=embedding_model, embedding_sha256=embedding_sha256,
            adapt_encoder=adapt_encoder, cache_dir=cache_dir, no_cache=no_cache, min_score=min_score, strict=strict,
            workers=workers, engine=engine, scheduler=scheduler,
        )  # fmt: skip
        settings = load_settings(config)
        with folder_lock(out_dir):
            for note in recover_folder(out_dir):
                err.print(f"[yellow]Note:[/] {escape(note)}")
            check_run_folder(out_dir, force=force)
            try:
                run = code(
                    transcripts,
                    codebook,
                    options=options,
                    gold=_human_codings(gold, unit_column, code_columns, level, separator, progress),
                    project=project,
                    config=settings,
                    progress=progress,
                )
                run.save(out_dir, force=force, settings=settings.report)
            finally:
                progress.close()
    _report_run(run, out_dir, quiet=quiet, methods_chosen=method is not None)


#: The closing line of a run whose methods were left to the default and that had no human codings to learn from.
NO_HUMAN_CODINGS = "No human codings: the classifier did not run (add --gold FILE{example})"


def _no_human_codings(run) -> str:
    """The closing hint, naming the human codings kept in a ``codings/`` subfolder of the transcripts (as the
    bundled sample keeps its own) when there are some."""
    found = Path(run.corpus.root) / "codings" / "gold.csv"
    return NO_HUMAN_CODINGS.format(example=f", e.g. {found}" if found.is_file() else " of human codings")


def _report_run(run, out_dir: Path, *, quiet: bool, methods_chosen: bool = True) -> None:
    """What ``themekit code`` says when a run is written: skipped files, warnings, orphaned decisions, and unless
    ``quiet`` what ran, on what, and what came of it (with the default methods and no human codings, how to add
    them)."""
    for _, reason in run.corpus.failures:
        err.print(f"[yellow]Skipped:[/] {escape(as_flags(reason, ('text_column', 'speaker_column', 'unit_column')))}")
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
    skipped = run.stats.get("classifier_skipped") or []
    if skipped:
        rows = len({line.partition(":")[0] for line in skipped})
        err.print(
            f"[yellow]Human codings:[/] {rows} row(s) left out or not matching their text (listed in run.json under stats.classifier_skipped):"
        )
        for line in skipped[:10] + ([f"… and {len(skipped) - 10} more"] if len(skipped) > 10 else []):
            err.print(f"  - {escape(line)}")
    if quiet:
        return
    fallback = run.embedding_fallback()
    if fallback is not None:
        err.print(
            "[yellow]Warning:[/] semantic coding used the TF-IDF + SVD fallback, not a sentence-embedding model "
            f"({escape(fallback)}); its suggestions are weaker"
        )
    cache = run.stats.get("embedding_cache")
    if cache:
        err.print(f"Embedding cache: {cache['hits']} hits, {cache['misses']} new")
    chunked = run.stats.get("embedding_chunked")
    if chunked:
        err.print(f"{chunked} segment(s) longer than the embedding model's window were embedded in chunks and pooled")
    learned = run.stats.get("classifier")
    if learned is not None:
        err.print(_classifier_line(run, learned))
    if decisions and any(decisions["applied"].values()):
        applied = decisions["applied"]
        err.print(
            f"Human decisions applied: {applied['accepted']} accepted, {applied['rejected']} rejected, "
            f"{applied['human']} human codings"
        )
    if "unit" not in run.settings.get("table_columns", {}):  # survey answers are named by their ids
        from themekit.ingest.names import describe_names

        err.print(escape(describe_names(run.corpus)))
    used = len({c.code_id for c in run.codings})
    gave, silent = run.methods_that_coded()
    err.print(
        f"Coded {len(run.corpus.transcripts)} transcripts with {', '.join(gave) or 'no method'}: "
        f"{len(run.units)} segments, {len(run.codings)} codings with {used} of {len(run.codebook)} codes → {escape(str(out_dir))}"
    )
    for method, why in silent:
        err.print(f"[yellow]Note:[/] {method} gave no coding: {escape(why)}")
    if not methods_chosen and "classifier" not in run.settings["methods"]:
        err.print(escape(_no_human_codings(run)))


def _classifier_line(run, learned: dict) -> str:
    """What the classifier learned from: which file, how many codings, how many codes got a model, and whether
    it learned from the very transcripts it coded (its codings there echo the people's, not a measure)."""
    source = run.settings.get("gold", {}).get("path") or "the project's review decisions"
    entry = next(iter(learned.values()), {})
    examples = entry.get("positives", 0) + entry.get("negatives", 0)
    codings = sum(e.get("positives", 0) for e in learned.values())
    trained = sum(1 for e in learned.values() if e.get("trained"))
    line = (
        f"Classifier trained on {escape(str(source))}: {codings} human codings of {examples} excerpts, "
        f"models for {trained} of {len(run.codebook)} codes"
    )
    reused = (run.stats.get("classifier_fit_cache") or {}).get("hits", 0)
    if reused:
        line += f" ({reused} read back from an identical earlier fit, not trained again)"
    encoder = run.stats.get("classifier_encoder")
    if encoder and "skipped" in encoder:
        line += f"\n[yellow]Note:[/] the encoder was not adapted: {escape(encoder['skipped'])}"
    elif encoder:
        how = "read back from the cache" if encoder["cached"] else f"trained in {encoder['seconds']:.0f} s"
        ap = encoder.get("cv_average_precision") or {}
        versus = (
            f"; cross-validated average precision {ap['adapted']:.2f}, the encoder as it is {ap['as it is']:.2f}"
            if ap.get("adapted") is not None and ap.get("as it is") is not None
            else ""
        )
        sentences = f"the encoder adapted to the corpus' {encoder['sentences']:,} sentences ({how}{versus})"
        if encoder.get("used", True):
            line += f"\nIts features come from {sentences}"
        else:
            line += f"\n[yellow]Note:[/] {sentences} ranked the coder's excerpts worse: the features come from the encoder as it is"
    limited = run.stats.get("rate_limited") or {}
    if limited.get("dropped"):
        dropped, n = limited["dropped"], len(limited["limits"])
        line += (
            f"\n{n} code{'s' if n != 1 else ''} the coder gave too rarely to learn {'are' if n != 1 else 'is'} "
            f"suggested about as rarely as the coder gave {'them' if n != 1 else 'it'}: {sum(dropped.values())} "
            f"weaker suggestion{'s' if sum(dropped.values()) != 1 else ''} left out (run.json: stats.rate_limited)"
        )
    seen = run.stats.get("classifier_trained_on") or {}
    same = [t.id for t in run.corpus if t.id in seen and seen[t.id] in (None, t.sha256)]
    if same:
        line += (
            f"\n[yellow]Note:[/] it learned from {len(same)} of the {len(run.corpus.transcripts)} transcripts it coded "
            f"({escape(', '.join(same[:5]))}{', ...' if len(same) > 5 else ''}): its codings there repeat the human "
            "ones. For a fair measure: themekit evaluate RUN --gold FILE --cv 5; to code without it: --method rule,semantic"
        )
    return line


@app.command("suggest")
def suggest_cmd(
    transcripts: TranscriptsArgument,
    codebook: CodebookOption,
    out_dir: Annotated[Path, out_option("Folder for suggestions.yaml, suggestions.md and topics.csv.")],
    all_segments: Annotated[
        bool, typer.Option("--all", help="Cluster every participant segment, not only the uncoded ones.")
    ] = False,
    topics: Annotated[
        int | None, typer.Option("--topics", min=1, help="Number of topics (default: from the corpus size).")
    ] = None,
    min_topic_size: Annotated[
        int | None, typer.Option(min=1, help="Smallest topic to suggest (default: 1% of segments, at least 5).")
    ] = None,
    min_coherence: Annotated[
        float | None,
        typer.Option(
            min=-1.0,
            max=1.0,
            help="Drop topics whose segments are less similar than this on average (default: 0.2; -1 keeps all).",
        ),
    ] = None,
    examples: Annotated[int, typer.Option(min=1, max=10, help="Example quotes per draft code.")] = 5,
    method: MethodOption = None,
    unit: UnitOption = None,
    interviewer_label: InterviewerLabelOption = None,
    gold: Annotated[Path | None, gold_option()] = None,
    embedding_model: EmbeddingModelOption = None,
    text_column: TextColumnOption = None,
    speaker_column: SpeakerColumnOption = None,
    embedding_sha256: EmbeddingSha256Option = None,
    cache_dir: CacheDirOption = DEFAULT_CACHE_DIR,
    no_cache: NoCacheOption = False,
    force: Annotated[bool, typer.Option("--force", help="Replace suggestions already in the folder.")] = False,
    quiet: QuietOption = False,
    config: ConfigOption = None,
) -> None:
    """Suggest draft codes for what the codebook misses: BERTopic over uncoded participant segments."""
    from themekit.analysis.topics import MIN_COHERENCE, suggest_topics

    progress = _Progress(enabled=not quiet)
    with _user_errors(), progress:
        options = coding_options(
            unit=unit, method=method, interviewer_label=interviewer_label, text_column=text_column,
            speaker_column=speaker_column, embedding_model=embedding_model, embedding_sha256=embedding_sha256,
            cache_dir=cache_dir, no_cache=no_cache,
        )  # fmt: skip
        suggestions = suggest_topics(
            transcripts,
            codebook,
            all_segments=all_segments,
            n_topics=topics,
            min_topic_size=min_topic_size,
            min_coherence=MIN_COHERENCE if min_coherence is None else min_coherence,
            examples=examples,
            options=options,
            gold=gold,
            config=config,
            progress=progress,
        )
        progress.close()  # before anything is printed
        suggestions.save(out_dir, force=force)
    if not quiet:
        src = suggestions.source
        for d in suggestions.drafts:
            near = f" — overlaps {d.overlaps[0].code_id}" if d.overlaps else ""
            err.print(
                f"  {escape(d.id)}: {d.size} segments, {d.transcripts} transcripts, coherence {d.coherence:.2f}{escape(near)}"
            )
        err.print(
            f"{len(suggestions.drafts)} draft codes from {src['clustered']} {'' if src['scope'] == 'all' else 'uncoded '}"
            f"segments ({src['outliers']} fit no topic, {src.get('not_drafted', 0)} in topics too narrow, of filler alone or incoherent; "
            f"{src.get('small_talk', 0)} small talk not clustered; {len(src.get('dropped', []))} incoherent topics dropped) → {escape(str(out_dir / 'suggestions.yaml'))}"
        )
