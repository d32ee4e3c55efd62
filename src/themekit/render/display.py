"""HTML views for Jupyter: corpus, transcript (coded spans highlighted), codebook, run and summary.

The data classes know nothing of HTML: :data:`HTML_VIEWS` says which view
shows which class, and :func:`register_views` gives them to IPython's HTML
formatter (``import themekit`` does that in a running Jupyter kernel), so a
Transcript, Corpus, Codebook or Summary left at the end of a cell is shown
as its view.

Transcripts are untrusted input, so every piece of text from a transcript,
a codebook or a file name goes through :func:`html.escape`. Views are
bounded: long lists and long transcripts are cut with a note saying how
much is not shown and how to see the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from themekit.errors import OptionError
from themekit.util.clock import clock

if TYPE_CHECKING:
    from themekit.analysis.summarize import ThemeSummary
    from themekit.codebook import Codebook
    from themekit.models import Coding, Corpus, Transcript
    from themekit.runs.record import RunRecord

__all__ = [
    "MAX_CODES",
    "MAX_ROWS",
    "MAX_TRANSCRIPT_CHARS",
    "MAX_TURNS",
    "HTML_VIEWS",
    "CodedTranscript",
    "codebook_html",
    "corpus_html",
    "register_views",
    "run_html",
    "summary_html",
    "transcript_html",
]

#: Most transcripts listed in a corpus view.
MAX_ROWS = 50
#: Most codes shown in a codebook, run or summary view.
MAX_CODES = 300
#: Most turns shown in a transcript view.
MAX_TURNS = 150
#: Most characters of speech shown in a transcript view.
MAX_TRANSCRIPT_CHARS = 60_000

_PALETTE = (
    "#fde68a",
    "#bfdbfe",
    "#bbf7d0",
    "#fecaca",
    "#ddd6fe",
    "#fbcfe8",
    "#a5f3fc",
    "#fed7aa",
    "#d9f99d",
    "#e5e7eb",
)
_TABLE = 'style="border-collapse:collapse;font-size:0.9em"'
_CELL = 'style="border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top"'


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _note(text: str) -> str:
    return f'<p style="color:#666;font-style:italic">{_e(text)}</p>'


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], *, raw: bool = False) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then the caller escaped them)."""
    head = "".join(f"<th {_CELL}>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td {_CELL}>{cell if raw else _e(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table {_TABLE}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _attributes(attributes: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in attributes.items())


def corpus_html(corpus: Corpus, *, max_rows: int = MAX_ROWS) -> str:
    """The corpus: one row per transcript (format, turns, words, attributes) and unreadable files."""
    shown = corpus.transcripts[:max_rows]
    rows = [
        (
            t.id,
            t.participant,
            t.format,
            len(t.turns),
            len(t.participant_turns),
            t.word_count,
            _attributes(t.attributes),
            len(t.warnings),
        )
        for t in shown
    ]
    parts = [
        f"<div><strong>Corpus</strong> {_e(corpus.root)}: {len(corpus.transcripts)} transcripts"
        f"{f', {len(corpus.failures)} unreadable' if corpus.failures else ''}</div>",
        _table(
            ("transcript", "participant", "format", "turns", "participant turns", "words", "attributes", "warnings"),
            rows,
        ),
    ]
    if len(corpus.transcripts) > max_rows:
        parts.append(
            _note(
                f"… {len(corpus.transcripts) - max_rows} more transcripts not shown; corpus.turns and corpus.attributes hold them all."
            )
        )
    if corpus.failures:
        failed = "".join(f"<li>{_e(reason)}</li>" for _, reason in corpus.failures[:max_rows])
        more = len(corpus.failures) - max_rows
        parts.append(f"<div>Could not be read:<ul>{failed}</ul></div>")
        if more > 0:
            parts.append(_note(f"… {more} more unreadable files not shown."))
    return "\n".join(parts)


def distinct_colours(n: int) -> list[str]:
    """``n`` light background colours, no two alike: the palette, then hues spread by the golden angle at two
    lightnesses."""
    extra = [f"hsl({(i * 137.508) % 360:.0f}, 75%, {82 if i % 2 else 72}%)" for i in range(max(0, n - len(_PALETTE)))]
    return [*_PALETTE, *extra][:n]


def _code_colours(codebook: Codebook | None, codes: Sequence[str] | None = None) -> dict[str, str]:
    """A colour per code: per code of ``codes`` (those shown) when given, so the codes on view never share one."""
    ids = list(codes) if codes is not None else [c.id for c in codebook] if codebook is not None else []
    return dict(zip(ids, distinct_colours(len(ids))))


def _spans(codings: Sequence[Coding], start: int, end: int) -> list[tuple[int, int, list[Coding]]]:
    """Pieces of [start, end) with the codings covering each (a sweep over segment boundaries)."""
    inside = [c for c in codings if c.segment.start < end and c.segment.end > start]
    cuts = sorted({start, end} | {max(start, min(end, p)) for c in inside for p in (c.segment.start, c.segment.end)})
    pieces = []
    for a, b in zip(cuts, cuts[1:]):
        if a < b:
            pieces.append((a, b, [c for c in inside if c.segment.start <= a and c.segment.end >= b]))
    return pieces


def _hover(coding: Coding, codebook: Codebook | None) -> str:
    label = coding.code_id
    if codebook is not None:
        try:
            label = f"{codebook.code(coding.code_id).label} ({coding.code_id})"
        except KeyError:
            pass
    extra = ", negated" if coding.negated else ""
    return f"{label}: {coding.method} {coding.score:.2f}{extra}"


def transcript_html(
    transcript: Transcript,
    codings: Sequence[Coding] = (),
    *,
    codebook: Codebook | None = None,
    max_turns: int = MAX_TURNS,
    max_chars: int = MAX_TRANSCRIPT_CHARS,
) -> str:
    """The transcript turn by turn; the spans of ``codings`` highlighted, each code in a colour of its own (a
    legend lists them), their codes shown on hover (``title``)."""
    mine = [c for c in codings if c.segment.transcript is transcript or c.segment.transcript.id == transcript.id]
    order = [c.id for c in codebook] if codebook is not None else []
    present = {c.code_id for c in mine}
    colours = _code_colours(codebook, [k for k in order if k in present] + sorted(present - set(order)))
    header = (
        f"<div><strong>{_e(transcript.participant)}</strong>"
        + (f" · {_e(transcript.id)}" if transcript.participant != transcript.id else "")
        + f" ({_e(transcript.format)}, {len(transcript.turns)} turns, "
        f"{transcript.word_count} words{f', {len(mine)} codings' if codings else ''})"
        + (
            f"<br><span style='color:#555'>{_e(_attributes(transcript.attributes))}</span>"
            if transcript.attributes
            else ""
        )
        + "</div>"
    )
    parts = [header]
    if mine:
        counts: dict[str, int] = {}
        for c in mine:
            counts[c.code_id] = counts.get(c.code_id, 0) + 1
        keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
        legend = " ".join(
            f'<span style="background:{colours.get(k, _PALETTE[0])};padding:0 3px;white-space:nowrap">{_e(k)} ({counts[k]})</span>'
            for k in keys
        )
        parts.append(
            f'<div style="font-size:0.85em;margin:0.3em 0">Codes here (hover a highlighted span for its codes): {legend}</div>'
        )
    if transcript.warnings:
        parts.append(_note("; ".join(transcript.warnings)))
    shown_chars = 0
    shown = 0
    for turn in transcript.turns:
        if shown >= max_turns or shown_chars >= max_chars:
            break
        end = min(turn.end, turn.start + (max_chars - shown_chars))
        pieces = []
        for a, b, covering in _spans(mine, turn.start, end):
            text = _e(transcript.text[a:b])
            if not covering:
                pieces.append(text)
                continue
            colour = colours.get(covering[0].code_id, _PALETTE[0])
            title = _e("; ".join(_hover(c, codebook) for c in covering))
            codes = _e(" ".join(dict.fromkeys(c.code_id for c in covering)))
            pieces.append(f'<mark style="background:{colour}" title="{title}" data-codes="{codes}">{text}</mark>')
        if end < turn.end:
            pieces.append(" …")
        when = ""
        if turn.timestamp is not None:
            when = f' <span style="color:#888">[{clock(turn.timestamp)}]</span>'
        colour = "#555" if turn.role == "interviewer" else "#000"
        parts.append(
            f'<p style="margin:0.3em 0;color:{colour}"><strong>{_e(turn.speaker)}</strong>{when}: {"".join(pieces)}</p>'
        )
        shown += 1
        shown_chars += end - turn.start
    if shown < len(transcript.turns) or shown_chars >= max_chars:
        parts.append(
            _note(
                f"Shown: {shown} of {len(transcript.turns)} turns (at most {max_turns} turns and {max_chars:,} characters); "
                "the whole text is transcript.text."
            )
        )
    return '<div style="max-width:60em">' + "\n".join(parts) + "</div>"


def codebook_html(codebook: Codebook, *, max_codes: int = MAX_CODES) -> str:
    """The codebook as a tree: themes, then codes (and sub-codes) with their definitions and keywords."""
    colours = _code_colours(codebook)
    parts = [
        f"<div><strong>Codebook</strong> {_e(codebook.name)} {_e(codebook.version)} "
        f"({len(codebook.themes)} themes, {len(codebook)} codes, sha256 {_e(codebook.sha256[:12])})</div>"
    ]
    if codebook.spec.description:
        parts.append(f"<p>{_e(codebook.spec.description)}</p>")
    shown = 0
    for theme in codebook.themes:
        if shown >= max_codes:
            break
        items = []
        for code in codebook.codes_of(theme.id):
            if shown >= max_codes:
                break
            shown += 1
            spec = code.spec
            keywords = ", ".join(spec.keywords[:8]) + (" …" if len(spec.keywords) > 8 else "")
            draft = ' <em style="color:#b45309">draft</em>' if spec.status == "draft" else ""
            items.append(
                f'<li style="margin-left:{1.5 * code.depth}em"><span style="background:{colours[code.id]}">&nbsp;&nbsp;</span> '
                f"<strong>{_e(code.label)}</strong> <code>{_e(code.id)}</code>{draft}: {_e(spec.definition)}"
                + (f'<br><span style="color:#555">keywords: {_e(keywords)}</span>' if keywords else "")
                + "</li>"
            )
        description = f": {_e(theme.description)}" if theme.description else ""
        parts.append(
            f"<div><strong>{_e(theme.label)}</strong> <code>{_e(theme.id)}</code>{description}"
            f'<ul style="list-style:none;padding-left:1em">{"".join(items)}</ul></div>'
        )
    if len(codebook) > max_codes:
        parts.append(_note(f"… {len(codebook) - max_codes} more codes not shown; iterate over the codebook for all."))
    return "\n".join(parts)


def run_html(run: RunRecord, *, max_codes: int = MAX_CODES) -> str:
    """Headline counts of a run, then per code: segments coded and participants mentioning it."""
    from themekit.analysis.frames import framework_matrix
    from themekit.analysis.summarize import prevalence_word

    matrix = framework_matrix(run)
    total = len(run.corpus.transcripts)
    used = int((matrix.sum(axis=1) > 0).sum())
    methods = run.settings.get("methods", [])
    methods = ", ".join(methods) if isinstance(methods, list) else str(methods)
    head = (
        f"<div><strong>Run</strong> {_e(run.id)}: {total} transcripts, {len(run.units)} segments, "
        f"{len(run.codings)} codings ({_e(methods or 'methods not recorded')}); codebook {_e(run.codebook.name)} "
        f"{_e(run.codebook.version)}: {used} of {len(run.codebook)} codes used</div>"
    )
    rows = []
    for code in list(run.codebook)[:max_codes]:
        people = int((matrix.loc[code.id] > 0).sum())
        rows.append(
            (
                code.theme_id,
                ("\u2003" * code.depth) + code.label,
                code.id,
                int(matrix.loc[code.id].sum()),
                f"{people} of {total} ({prevalence_word(people, total)})",
            )
        )
    parts = [head, _table(("theme", "code", "id", "segments", "participants"), rows)]
    if len(run.codebook) > max_codes:
        parts.append(_note(f"… {len(run.codebook) - max_codes} more codes not shown; run.matrix() has them all."))
    parts.append(
        _note("Negated and rejected codings are not counted. run.transcript(id) shows one interview with its codes.")
    )
    return "\n".join(parts)


def summary_html(themes: Sequence[ThemeSummary], *, max_codes: int = MAX_CODES) -> str:
    """Theme summaries: per code, prevalence, excerpts, key terms and quotes with attribution."""
    parts = []
    shown = 0
    total_codes = sum(len(t.codes) for t in themes)
    for theme in themes:
        if shown >= max_codes:
            break
        parts.append(f"<h4 style='margin-bottom:0.2em'>{_e(theme.label)} <code>{_e(theme.theme_id)}</code></h4>")
        for code in theme.codes:
            if shown >= max_codes:
                break
            shown += 1
            terms = f"; key terms: {_e(', '.join(code.key_terms))}" if code.key_terms else ""
            quotes = "".join(
                f'<blockquote style="margin:0.2em 1em;color:#333">“{_e(q.text)}” ({_e(q.attribution())})</blockquote>'
                for q in code.quotes
            )
            parts.append(
                f"<div style='margin-left:{1 + 1.5 * code.depth}em'><strong>{_e(code.label)}</strong>: "
                f"{_e(code.prevalence)} ({code.n_transcripts} of {code.total_transcripts}), "
                f"{code.excerpts} excerpt{'s' if code.excerpts != 1 else ''}{terms}{quotes}</div>"
            )
    if total_codes > shown:
        parts.append(_note(f"… {total_codes - shown} more codes not shown."))
    return "\n".join(parts) or _note("No themes.")


#: The HTML view of each data class, by (module, class name): shown in Jupyter once :func:`register_views` ran.
HTML_VIEWS: dict[tuple[str, str], str] = {
    ("themekit.models", "Transcript"): "transcript_html",
    ("themekit.models", "Corpus"): "corpus_html",
    ("themekit.codebook.book", "Codebook"): "codebook_html",
    ("themekit.analysis.summarize", "ThemeSummary"): "theme_html",
    ("themekit.analysis.summarize", "Summary"): "summary_html",
}


def theme_html(theme: ThemeSummary) -> str:
    """One theme's summary (see :func:`summary_html`)."""
    return summary_html([theme])


def register_views(shell: Any) -> None:
    """Show themekit's data classes as their HTML views in the IPython ``shell`` (a Jupyter kernel)."""
    formatter = shell.display_formatter.formatters["text/html"]
    for (module, name), view in HTML_VIEWS.items():
        formatter.for_type_by_name(module, name, globals()[view])


@dataclass(frozen=True)
class CodedTranscript:
    """One transcript with a run's codings: ``run.transcript("KW01")``.

    In Jupyter it shows the interview turn by turn with coded spans
    highlighted; hovering a span shows its codes, methods and scores.
    Rejected codings are not highlighted.
    """

    transcript: Transcript
    codings: tuple[Coding, ...]
    codebook: Codebook

    @classmethod
    def of(cls, run: RunRecord, transcript_id: str) -> CodedTranscript:
        """``transcript_id``: the transcript's id, or its participant's name when no other transcript has it."""
        ids = [t.id for t in run.corpus]
        named = [t.id for t in run.corpus if t.participant == transcript_id]
        if transcript_id not in ids and len(named) == 1:
            transcript_id = named[0]
        if transcript_id not in ids:
            import difflib

            near = difflib.get_close_matches(str(transcript_id), ids, n=3, cutoff=0.5)
            hint = (
                f"did you mean {', '.join(repr(n) for n in near)}?"
                if near
                else f"the transcripts are: {', '.join(ids[:20])}."
            )
            raise OptionError(f"no transcript {transcript_id!r} in this run; {hint}", param="transcript_id")
        transcript = run.corpus[transcript_id]
        codings = tuple(c for c in run.codings if c.segment.transcript.id == transcript_id and c.status != "rejected")
        return cls(transcript, codings, run.codebook)

    def html(self, *, max_turns: int = MAX_TURNS, max_chars: int = MAX_TRANSCRIPT_CHARS) -> str:
        return transcript_html(
            self.transcript, self.codings, codebook=self.codebook, max_turns=max_turns, max_chars=max_chars
        )

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return f"CodedTranscript({self.transcript.id!r}, {len(self.codings)} codings)"
