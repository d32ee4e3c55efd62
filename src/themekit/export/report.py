"""The narrative report: theme headings, prevalence sentences, quotes, methods, charts.

The report is built once as a list of blocks (:func:`report_blocks`) and
rendered to Markdown, a self-contained HTML page, or Word. The run folder's
``summary.md`` is the same report in Markdown, without charts.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field, replace
from pathlib import Path

from themekit._version import __version__
from themekit.analysis.summarize import CodeSummary, ThemeSummary, counted, summarize
from themekit.config import ReportSettings
from themekit.config.options import REPORT_FORMATS
from themekit.export.privacy import Privacy
from themekit.export.word import add_caption, text_width_inches
from themekit.render.charts import CHART_DPI
from themekit.runs.record import RunRecord
from themekit.util.choices import check_choice
from themekit.util.sanitize import xml_safe

__all__ = ["ReportBlock", "report_blocks", "to_markdown", "to_html", "to_docx", "export_report", "REPORT_FORMATS"]


_METHOD_WORDS = {
    "rule": "codebook keywords and token patterns",
    "semantic": "semantic similarity to each code's definition and examples (sentence embeddings)",
    "classifier": "classifiers trained on human codings",
}


@dataclass
class ReportBlock:
    """One piece of the report. ``runs`` are (text, bold) pairs for paragraphs."""

    kind: str  # title | heading | subheading | minor | para | quote | image | note
    text: str = ""
    runs: list[tuple[str, bool]] = field(default_factory=list)
    attribution: str = ""
    image: bytes = b""


def _join(words: list[str]) -> list[tuple[str, bool]]:
    runs: list[tuple[str, bool]] = []
    for i, word in enumerate(words):
        if i:
            runs.append((" and " if i == len(words) - 1 else ", ", False))
        runs.append((word, True))
    return runs


def _who(code: CodeSummary, settings: ReportSettings, noun: str) -> str:
    plural = settings.noun_for(2, noun)
    if code.prevalence == "all":
        return f"All {plural}"
    if code.prevalence == "one":
        return f"One {settings.noun_for(1, noun)}"
    return f"{code.prevalence[:1].upper()}{code.prevalence[1:]} {plural}"


def basis_note(code: CodeSummary) -> str:
    """What a prevalence sentence rests on, when not wholly on reviewed codings: " (machine suggestions, not yet
    reviewed)" or " (reviewed for 3 of them; the rest machine suggestions)"."""
    if code.basis == "machine":
        return " (machine suggestions, not yet reviewed)"
    if code.basis == "mixed":
        return f" (reviewed for {len(code.reviewed)} of them; the rest machine suggestions)"
    return ""


def _low(count: int, settings: ReportSettings) -> str:
    return f"{count} suggestion{'s' if count != 1 else ''} scoring under {settings.confident_score:g}"


def _code_blocks(
    code: CodeSummary, run: RunRecord, settings: ReportSettings, noun: str, privacy: Privacy, *, reviewed_run: bool
) -> list[ReportBlock]:
    """A code's heading, prevalence sentence and quotes; the sentence says what it rests on when the run holds
    reviewed codings (``reviewed_run``; otherwise the methods paragraph says it once for all)."""
    kind = "subheading" if code.depth == 0 else "minor"
    blocks = [ReportBlock(kind, code.label)]
    if code.n_transcripts == 0:
        plural = settings.noun_for(2, noun)
        text = f"No {plural} (0 of {code.total_transcripts}) were coded with this code"
        if code.unconfident:
            text += f" with confidence ({_low(code.unconfident, settings)} not counted)"
        blocks.append(ReportBlock("para", runs=[(text + ".", False)]))
        return blocks
    excerpts = f"{code.excerpts} excerpt{'s' if code.excerpts != 1 else ''}"
    runs = [
        (
            f"{_who(code, settings, noun)} ({code.n_transcripts} of {code.total_transcripts}) mentioned this"
            f"{basis_note(code) if reviewed_run else ''}: {excerpts}",
            False,
        )
    ]
    if code.key_terms:
        runs += [("; key terms ", False), *_join(list(code.key_terms))]
    if code.cooccurring:
        labels = [run.codebook.code(c).label.lower() for c, _ in code.cooccurring]
        runs.append(("; often together with " + ", ".join(labels), False))
    runs.append((".", False))
    blocks.append(ReportBlock("para", runs=runs))
    for quote in code.quotes:
        who = privacy.who(quote.transcript)
        attribution = quote.attribution(settings.attribution, participant=who if who != quote.transcript else None)
        blocks.append(ReportBlock("quote", privacy.text(quote.text), attribution=attribution))
    return blocks


def methods_paragraph(run: RunRecord, settings: ReportSettings, themes: list[ThemeSummary] | None = None) -> str:
    """The report's first paragraph: what was coded, how, and what its counts rest on (``themes``: the summary
    the report shows, for how many codings it leaves out and whether any was reviewed)."""
    cb = run.codebook
    noun = settings.noun_for(2, cb.spec.participant_noun)
    n = len(run.corpus.transcripts)
    coded, _ = run.methods_that_coded()  # what gave codings, not what was only asked for
    methods = "; ".join(_METHOD_WORDS.get(m, m) for m in coded) or "no method that gave a coding"
    unit = run.settings.get("unit", "sentence")
    failed = len(run.corpus.failures)
    text = (
        f"This summary draws on {n} interview transcript{'s' if n != 1 else ''} with {noun}, coded with the codebook "
        f"“{cb.name}” (version {cb.version}, {len(cb)} code{'s' if len(cb) != 1 else ''} in {len(cb.themes)} theme{'s' if len(cb.themes) != 1 else ''}) by themekit {__version__}. "
        f"Each {unit} of participant speech was coded using {methods}. "
        f"Prevalence words count the {noun} whose transcript holds at least one coded excerpt; "
        + (
            "every machine suggestion not rejected counts"
            if settings.count == "all"
            else "codings a person made or accepted count, and machine suggestions only when they score at least "
            f"{settings.confident_score:g} (of 1)"
        )
        + "; negated mentions are not counted."
    )
    if themes is not None:
        codes = [code for theme in themes for code in theme.codes]
        low = sum(code.unconfident for code in codes)
        if low:
            text += (
                f" {_low(low, settings)[0].upper()}{_low(low, settings)[1:]} {'is' if low == 1 else 'are'} not counted."
            )
        if not any(code.reviewed for code in codes):
            text += " No coding has been reviewed yet: every count below rests on machine suggestions."
        else:
            text += " Where a count rests on machine suggestions not yet reviewed, its sentence says so."
    fallback = run.embedding_fallback()
    if fallback is not None:
        text += (
            " Semantic similarity was measured with a TF-IDF + SVD fallback fitted on these transcripts, not a "
            f"sentence-embedding model ({fallback}), so its suggestions are weaker."
        )
    if failed:
        text += f" {failed} transcript{'s' if failed != 1 else ''} could not be read and {'are' if failed != 1 else 'is'} not included."
    return text + f" Run {run.id}."


def report_blocks(
    run: RunRecord,
    *,
    settings: ReportSettings | None = None,
    themes: list[ThemeSummary] | None = None,
    theme_id: str | None = None,
    charts: bool = True,
    notes: bool = False,
    appendix: bool = False,
    privacy: Privacy | None = None,
) -> list[ReportBlock]:
    """The report for ``run`` (one theme with ``theme_id``) as blocks; ``privacy`` pseudonymises and redacts.

    ``notes`` adds themekit's own notes (transcripts not coded, speaker detection and other reading notes) at the
    end; with ``appendix`` they go under one "Appendix: notes on the transcripts" heading."""
    settings = settings or ReportSettings()
    privacy = privacy or Privacy()
    themes = themes if themes is not None else summarize(run, settings=settings)
    if theme_id is not None:
        from themekit.errors import OptionError

        chosen = [t for t in themes if t.theme_id == theme_id]
        if not chosen:
            raise OptionError(
                f"no theme '{theme_id}' in the codebook; themes are: {', '.join(t.theme_id for t in themes)}",
                param="theme_id",
            )
        themes = chosen
    noun = run.codebook.spec.participant_noun
    reviewed_run = any(code.reviewed for theme in themes for code in theme.codes)
    blocks = [
        ReportBlock("title", f"{run.codebook.name}: theme summary"),
        ReportBlock("para", runs=[(methods_paragraph(run, settings, themes), False)]),
    ]
    # the charts count what the prevalence sentences count (a person's codings, confident suggestions)
    charted = replace(run, codings=[c for c in run.codings if counted(c, settings)]) if charts else run
    for theme in themes:
        blocks.append(ReportBlock("heading", theme.label))
        if theme.description:
            blocks.append(ReportBlock("para", runs=[(theme.description, False)]))
        if charts:
            blocks += _theme_charts(charted, theme, settings, noun, privacy)
        for code in theme.codes:
            blocks.extend(_code_blocks(code, run, settings, noun, privacy, reviewed_run=reviewed_run))
    if notes:
        blocks += _note_blocks(run, privacy, appendix=appendix)
    return blocks


def _theme_charts(
    run: RunRecord, theme: ThemeSummary, settings: ReportSettings, noun: str, privacy: Privacy
) -> list[ReportBlock]:
    """A theme's two charts, below its description: how many participants mention each of its codes, and excerpts
    per code and participant. One theme's codes at a time, so each chart fits below its paragraph at 9 pt."""
    from themekit.render.charts import bars_measure, chart_note, frequency_chart, heatmap_chart

    codes = [c.id for c in run.codebook.codes_of(theme.theme_id)]
    if not codes:
        return []
    people, person = settings.noun_for(2, noun), settings.noun_for(1, noun)
    blocks = [
        ReportBlock(
            "image",
            f"{theme.label}: {_bars_caption(bars_measure(run, codes), people)}",
            image=frequency_chart(run, codes=codes, noun=people),
        ),
        ReportBlock(
            "image",
            f"{theme.label}: excerpts per code and {person}",
            image=heatmap_chart(run, rename=privacy.names(run.corpus), codes=codes),
        ),
    ]
    note = chart_note(run, codes)
    return [*blocks, ReportBlock("note", note)] if note is not None else blocks


def _bars_caption(chosen, people: str) -> str:
    """What the bars show, and why it is a share of words when it is (participant counts that do not differ)."""
    if chosen.measure == "participants":
        return f"{people} mentioning each code"
    counts, total = chosen.mentions, chosen.total
    words = f"share of {people}{'’' if people.endswith('s') else '’s'} words coded with each code"
    if len(counts) > 1 and len(set(counts)) == 1:
        why = f"all {total}" if counts[0] == total else f"{counts[0]} of {total}"
        return f"{words} (every code is mentioned by {why} {people})"
    if len(counts) == 1:
        return f"{words} ({counts[0]} of {total} {people} mention it)"
    at_most = sum(n == total for n in counts)
    return f"{words} ({at_most} of its {len(counts)} codes are mentioned by all {total} {people})"


def _note_blocks(run: RunRecord, privacy: Privacy, *, appendix: bool) -> list[ReportBlock]:
    """Transcripts not coded and themekit's notes on the others; under one appendix heading with ``appendix``."""
    warned = [f"{t.id}: {w}" for t in run.corpus for w in t.warnings]
    if not run.corpus.failures and not warned:
        return []
    level = "subheading" if appendix else "heading"
    blocks = [ReportBlock("heading", "Appendix: notes on the transcripts")] if appendix else []
    if run.corpus.failures:
        blocks.append(ReportBlock(level, "Transcripts not coded"))
        blocks += [ReportBlock("note", privacy.text(reason)) for _, reason in run.corpus.failures]
    if warned:
        blocks.append(ReportBlock(level, "Notes on transcripts"))
        blocks += [ReportBlock("note", privacy.text(w)) for w in warned]
    return blocks


def _md_escape(text: str) -> str:
    """Escape Markdown markup and fold line breaks (spaces at the ends are kept)."""
    out = text.replace("\\", "\\\\")
    for ch in "*_`[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\r", " ").replace("\n", " ")


def to_markdown(blocks: list[ReportBlock], *, image_dir: Path | None = None) -> str:
    lines: list[str] = []
    images = 0
    for b in blocks:
        if b.kind == "title":
            lines += [f"# {_md_escape(b.text)}", ""]
        elif b.kind == "heading":
            lines += [f"## {_md_escape(b.text)}", ""]
        elif b.kind == "subheading":
            lines += [f"### {_md_escape(b.text)}", ""]
        elif b.kind == "minor":
            lines += [f"#### {_md_escape(b.text)}", ""]
        elif b.kind == "para":
            text = "".join(f"**{_md_escape(t.strip())}**" if bold else _md_escape(t) for t, bold in b.runs)
            lines += [" ".join(text.split()), ""]
        elif b.kind == "quote":
            lines += [" ".join(f'> "{_md_escape(b.text)}" — {_md_escape(b.attribution)}'.split()), ""]
        elif b.kind == "note":
            lines += [f"- {_md_escape(b.text)}"]
        elif b.kind == "image" and image_dir is not None:
            images += 1
            name = f"chart-{images}.png"
            image_dir.mkdir(parents=True, exist_ok=True)
            (image_dir / name).write_bytes(b.image)
            lines += [
                f"![{_md_escape(b.text)}]({image_dir.name}/{name})",
                "",
                f"*Figure {images}: {_md_escape(b.text)}*",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
body{font-family:Georgia,'Times New Roman',serif;max-width:46em;margin:2em auto;padding:0 1em;line-height:1.55;color:#222}
h1{font-size:1.7em;border-bottom:2px solid #3b6ea5;padding-bottom:.2em}h2{color:#3b6ea5;margin-top:1.8em}
h3{margin-bottom:.3em}h4{margin-bottom:.2em;font-style:italic}
blockquote{margin:.6em 0 .9em 1.5em;padding-left:1em;border-left:3px solid #c9d6e6;font-style:italic}
blockquote footer{font-style:normal;font-size:.9em;color:#555;margin-top:.2em}
figure{margin:1.2em 0}figure img{max-width:100%}figcaption{font-size:.9em;color:#555}
""".strip()


def to_html(blocks: list[ReportBlock]) -> str:
    """A single self-contained page: styles inline, charts embedded as data URIs, all text escaped."""
    title = next((b.text for b in blocks if b.kind == "title"), "themekit report")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
    ]
    tags = {"title": "h1", "heading": "h2", "subheading": "h3", "minor": "h4"}
    figures = 0
    for b in blocks:
        if b.kind in tags:
            parts.append(f"<{tags[b.kind]}>{html.escape(b.text)}</{tags[b.kind]}>")
        elif b.kind == "para":
            inner = "".join(f"<strong>{html.escape(t)}</strong>" if bold else html.escape(t) for t, bold in b.runs)
            parts.append(f"<p>{inner}</p>")
        elif b.kind == "quote":
            parts.append(
                f"<blockquote><p>“{html.escape(b.text)}”</p><footer>— {html.escape(b.attribution)}</footer></blockquote>"
            )
        elif b.kind == "note":
            parts.append(f'<p class="note">{html.escape(b.text)}</p>')
        elif b.kind == "image":
            figures += 1
            data = base64.b64encode(b.image).decode("ascii")
            parts.append(
                f'<figure><img alt="{html.escape(b.text)}" src="data:image/png;base64,{data}">'
                f"<figcaption>Figure {figures}: {html.escape(b.text)}</figcaption></figure>"
            )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def to_docx(blocks: list[ReportBlock]):
    """A python-docx Document with Word's own Title, Heading, Quote and Caption styles.

    Charts are placed at the size they were drawn (never scaled past the text width), so their 9-point labels
    print at 9 points, each kept on the page of its numbered caption below it ("Figure 1: …")."""

    import docx

    document = docx.Document()
    levels = {"title": 0, "heading": 1, "subheading": 2, "minor": 3}
    figures = 0
    for b in blocks:
        if b.kind in levels:
            document.add_heading(xml_safe(b.text), level=levels[b.kind])
        elif b.kind == "para":
            paragraph = document.add_paragraph()
            for text, bold in b.runs:
                paragraph.add_run(xml_safe(text)).bold = bold
        elif b.kind == "quote":
            paragraph = document.add_paragraph(style="Quote")
            paragraph.add_run(f"“{xml_safe(b.text)}”")
            paragraph.add_run(f" — {xml_safe(b.attribution)}").italic = False
        elif b.kind == "note":
            document.add_paragraph(xml_safe(b.text), style="List Bullet")
        elif b.kind == "image":
            figures += 1
            _add_chart(document, b.image)
            add_caption(document, "Figure", figures, xml_safe(b.text))
    return document


def _add_chart(document, image: bytes) -> None:
    """The PNG at its drawn size (its dpi), shrunk only to fit the text width, kept with the caption after it."""
    import io

    from docx.shared import Inches
    from PIL import Image

    with Image.open(io.BytesIO(image)) as picture:
        dpi = picture.info.get("dpi", (CHART_DPI, CHART_DPI))[0] or CHART_DPI
        width = picture.width / dpi
    shape = document.add_picture(io.BytesIO(image), width=Inches(min(width, text_width_inches(document))))
    # no space around the picture: LibreOffice otherwise puts 0.125 in on its left and it runs past the right margin
    for side in ("distT", "distB", "distL", "distR"):
        shape._inline.set(side, "0")
    document.paragraphs[-1].paragraph_format.keep_with_next = True


def export_report(
    run: RunRecord,
    out: str | Path,
    *,
    format: str = "docx",
    settings: ReportSettings | None = None,
    theme_id: str | None = None,
    charts: bool = True,
    appendix: bool = False,
    privacy: Privacy | None = None,
) -> Path:
    """Write the report as Markdown (charts as PNGs beside it), HTML or Word; atomically.

    The report holds what a reader of the study needs; themekit's own notes (transcripts it could not read, how
    it told speakers apart) are added as an appendix only with ``appendix``."""
    from themekit.util.atomic import atomic_write_bytes, atomic_write_text

    check_choice(format, REPORT_FORMATS, what="report format", param="format")
    out = Path(out)
    blocks = report_blocks(
        run, settings=settings, theme_id=theme_id, charts=charts, notes=appendix, appendix=True, privacy=privacy
    )
    if format == "md":
        return atomic_write_text(
            out, to_markdown(blocks, image_dir=out.with_name(out.stem + "_charts") if charts else None)
        )
    if format == "html":
        return atomic_write_text(out, to_html(blocks))
    import io

    buffer = io.BytesIO()
    to_docx(blocks).save(buffer)
    return atomic_write_bytes(out, buffer.getvalue())
