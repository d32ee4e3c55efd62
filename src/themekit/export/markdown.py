"""The run's Markdown summary: themes in codebook order, prevalence, quotes."""

from __future__ import annotations

from ..pipeline import Run
from ..summarize import CodeSummary, ThemeSummary, summarize

__all__ = ["summary_markdown"]


def _plural(noun: str, count: int) -> str:
    if count == 1:
        return noun
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"


def _escape(text: str) -> str:
    """Keep transcript text from being read as Markdown markup."""
    out = text.replace("\\", "\\\\")
    for ch in "*_`[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return " ".join(out.split())


def _code_lines(code: CodeSummary, noun: str) -> list[str]:
    level = "###" if code.depth == 0 else "####"
    lines = [f"{level} {code.label}", ""]
    count, total = code.n_transcripts, code.total_transcripts
    if count == 0:
        lines += [f"No {_plural(noun, 2)} (0 of {total}) were coded with this code.", ""]
        return lines
    who = {"all": f"All {_plural(noun, 2)}", "one": f"One {noun}"}.get(code.prevalence, f"{code.prevalence.capitalize()} {_plural(noun, 2)}")
    terms = ", ".join(f"**{t}**" for t in code.key_terms)
    excerpts = f"{code.excerpts} {_plural('excerpt', code.excerpts)}"
    lines.append(f"{who} ({count} of {total}) mentioned this: {excerpts}" + (f"; key terms {terms}." if terms else "."))
    lines.append("")
    for q in code.quotes:
        lines += [f"> \"{_escape(q.text)}\" — {q.transcript}", ""]
    return lines


def summary_markdown(run: Run, themes: list[ThemeSummary] | None = None) -> str:
    """Render ``summary.md`` for a run."""
    themes = themes if themes is not None else summarize(run)
    cb = run.codebook
    noun = cb.spec.participant_noun
    n = len(run.corpus.transcripts)
    lines = [
        f"# {cb.name}: theme summary",
        "",
        f"{n} {_plural('transcript', n)} coded with codebook version {cb.version} "
        f"(sha256 {cb.sha256[:12]}), methods: {', '.join(run.settings['methods'])}; "
        f"{len(run.segments)} participant segments, {len(run.codings)} codings. Run {run.id}.",
        "",
    ]
    for theme in themes:
        lines += [f"## {theme.label}", ""]
        if theme.description:
            lines += [theme.description, ""]
        for code in theme.codes:
            lines += _code_lines(code, noun)
    if run.corpus.failures:
        lines += ["## Transcripts not coded", ""]
        lines += [f"- {_escape(reason)}" for _, reason in run.corpus.failures]
        lines.append("")
    warned = [(t.id, w) for t in run.corpus for w in t.warnings]
    if warned:
        lines += ["## Notes on transcripts", ""]
        lines += [f"- {tid}: {_escape(w)}" for tid, w in warned]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
