"""Tables for analysis in pandas: the framework matrix, quotes and co-occurrence.

The thin methods on :class:`~themekit.Run` (``run.matrix()``,
``run.quotes()``, ``run.cooccurrence()``) call the functions here; the run's
own tables (``run.excerpts``, ``run.segments``) are built in
:mod:`themekit.runs.record`, the corpus' (``corpus.turns``, ``corpus.attributes``)
in :mod:`themekit.models`.

Counts leave out negated mentions ("I never felt lonely") and codings a
person rejected, as the summary and the report do.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Literal

from themekit.errors import OptionError
from themekit.models import ATTRIBUTE_MISSING, attributes_frame
from themekit.util.choices import check_choice
from themekit.util.clock import clock

if TYPE_CHECKING:
    import pandas as pd

    from themekit.config import ReportSettings
    from themekit.runs.record import RunRecord

__all__ = [
    "QUOTE_COLUMNS",
    "cooccurrence",
    "counted_codings",
    "excerpt_counts",
    "framework_matrix",
    "quotes_frame",
    "resolve_code",
    "talk_share",
]

#: Columns of ``run.quotes(code)``, in order.
QUOTE_COLUMNS = (
    "quote",
    "participant",
    "score",
    "transcript",
    "speaker",
    "turn",
    "start",
    "end",
    "time",
    "seconds",
    "trimmed",
)


def counted_codings(run: RunRecord):
    """The codings that count (:attr:`themekit.models.Coding.counts`): not negated and not rejected."""
    return [c for c in run.codings if c.counts]


def framework_matrix(
    run: RunRecord,
    *,
    by: str = "participant",
    values: Literal["segments", "present"] = "segments",
) -> pd.DataFrame:
    """Codes (rows, codebook order, every code) x cases: a framework matrix.

    ``by="participant"``: one column per transcript (a case), in corpus order.
    ``values="segments"``: how many segments of the case were coded with the
    code; ``values="present"``: 1 if the case mentions the code at all, else 0.
    ``by=<attribute>`` (a column of ``participants.csv``): one column per value
    of that attribute, summing its cases' columns, so with ``values="present"``
    a cell is the number of cases in that group who mention the code. Cases
    without the attribute form the group ``"(not given)"``. Counts leave out
    negated and rejected codings.
    """
    import pandas as pd

    check_choice(values, ("segments", "present"), what="matrix values", param="values")
    import numpy as np

    codes = [c.id for c in run.codebook]
    cases = [t.id for t in run.corpus]
    row = {code: i for i, code in enumerate(codes)}
    column = {case: j for j, case in enumerate(cases)}
    table = np.zeros((len(codes), len(cases)), dtype="int64")
    seen: set[tuple[str, int, str]] = set()
    for c in counted_codings(run):
        key = (c.segment.transcript.id, c.segment.index, c.code_id)
        if key in seen or c.code_id not in row or key[0] not in column:
            continue
        seen.add(key)
        table[row[c.code_id], column[key[0]]] += 1
    counts = pd.DataFrame(table, index=pd.Index(codes, name="code"), columns=pd.Index(cases, name="participant"))
    if values == "present":
        counts = (counts > 0).astype("int64")
    if by in ("participant", "transcript"):
        return counts
    attributes = attributes_frame(run.corpus.transcripts)
    if by not in attributes.columns:
        known = ", ".join(attributes.columns) or "none (add a participants.csv beside the transcripts)"
        raise OptionError(
            f"no case attribute {by!r} to group by; use by='participant' or one of the attributes: {known}.", param="by"
        )
    groups = attributes[by].astype(object).where(attributes[by].notna(), ATTRIBUTE_MISSING)
    grouped = counts.T.groupby(groups.reindex(counts.columns).to_numpy(), sort=False).sum().T
    order = [v for v in _group_order(attributes[by]) if v in grouped.columns]
    order += [v for v in grouped.columns if v not in order]
    grouped = grouped[order]
    grouped.columns = pd.Index(order, name=by)
    grouped.index.name = "code"
    return grouped.astype("int64")


def excerpt_counts(run: RunRecord) -> pd.Series:
    """Each code's excerpts (codebook order, every code): the segments coded with it, over all participants."""
    return framework_matrix(run).sum(axis=1).rename("excerpts")


def talk_share(run: RunRecord) -> pd.Series:
    """Each code's share of the participants' talk (codebook order, every code), from 0 to 1: the words of the
    participant segments coded with it over the words of every participant segment of the run.

    Where every participant mentions a code, this still tells a code discussed at length from one touched on
    once; a segment coded with two codes counts for both. Words are counted as ``corpus.turns`` counts them
    (runs of text between spaces); negated and rejected codings are left out."""
    import pandas as pd

    codes = [c.id for c in run.codebook]
    words = {(s.transcript.id, s.index): len(s.text.split()) for s in run.units if s.role == "participant"}
    total = sum(words.values())
    coded: dict[str, int] = dict.fromkeys(codes, 0)
    seen: set[tuple[str, int, str]] = set()
    for c in counted_codings(run):
        unit = (c.segment.transcript.id, c.segment.index)
        if unit not in words or c.code_id not in coded or (*unit, c.code_id) in seen:
            continue
        seen.add((*unit, c.code_id))
        coded[c.code_id] += words[unit]
    shares = [coded[code] / total if total else 0.0 for code in codes]
    return pd.Series(shares, index=pd.Index(codes, name="code"), name="talk share", dtype="float64")


def _group_order(column: pd.Series) -> list:
    if hasattr(column, "cat"):
        values = list(column.cat.categories)
    else:
        values = sorted(column.dropna().unique().tolist())
    return values + [ATTRIBUTE_MISSING]


def cooccurrence(run: RunRecord, *, by: Literal["segment", "participant"] = "segment") -> pd.DataFrame:
    """Codes x codes (codebook order): how often two codes occur together.

    ``by="segment"``: the number of segments coded with both codes; the
    diagonal is the number of segments coded with the code. ``by="participant"``:
    the number of participants (transcripts) who mention both codes anywhere
    in their interview. Symmetric; negated and rejected codings left out.
    """
    import numpy as np
    import pandas as pd

    check_choice(by, ("segment", "participant"), what="co-occurrence unit", param="by")
    codes = [c.id for c in run.codebook]
    position = {code: i for i, code in enumerate(codes)}
    units: dict[tuple, set[int]] = {}
    for c in counted_codings(run):
        if c.code_id not in position:
            continue
        key = (c.segment.transcript.id, c.segment.index) if by == "segment" else (c.segment.transcript.id,)
        units.setdefault(key, set()).add(position[c.code_id])
    table = np.zeros((len(codes), len(codes)), dtype="int64")
    for present in units.values():
        idx = sorted(present)
        table[np.ix_(idx, idx)] += 1
    return pd.DataFrame(table, index=pd.Index(codes, name="code"), columns=pd.Index(codes, name="code"))


def resolve_code(run: RunRecord, code: str) -> str:
    """The code id for ``code`` (an id or a label, any case: :meth:`Codebook.id_named`); unknown, or a label
    several codes share → OptionError with near matches."""
    found = run.codebook.id_named(code)
    if found is not None:
        return found
    ids = [c.id for c in run.codebook]
    folded = {c.id.casefold(): c.id for c in run.codebook} | {c.label.casefold(): c.id for c in run.codebook}
    near = difflib.get_close_matches(str(code), ids, n=3, cutoff=0.5)
    near += [folded[m] for m in difflib.get_close_matches(str(code).casefold(), list(folded), n=3, cutoff=0.5)]
    near = list(dict.fromkeys(near))[:3]
    hint = (
        f"did you mean {', '.join(repr(n) for n in near)}?"
        if near
        else f"the codes are: {', '.join(ids[:20])}{' …' if len(ids) > 20 else ''}."
    )
    raise OptionError(
        f"no code {code!r} in codebook {run.codebook.name!r} {run.codebook.version}; {hint}", param="code"
    )


def quotes_frame(run: RunRecord, code: str, *, n: int = 5, settings: ReportSettings | None = None) -> pd.DataFrame:
    """The ``n`` quotes a report would show for ``code``, best first, as a DataFrame.

    Chosen exactly as :func:`themekit.analysis.summarize` chooses them (see
    :func:`~themekit.analysis.summarize.select_quotes`); columns as in :data:`QUOTE_COLUMNS`,
    ``participant`` being the attribution a report prints (the participant's name by default), ``time`` where
    the turn starts as ``h:mm:ss`` and ``seconds`` the same as a number.
    """
    import pandas as pd

    from themekit.analysis.summarize import QuoteRanker, select_quotes
    from themekit.config import ReportSettings

    if n < 1:
        raise OptionError("n must be at least 1: the number of quotes to show.", param="n")
    settings = settings or ReportSettings()
    code_id = resolve_code(run, code)
    codings = [c for c in run.codings if c.code_id == code_id and c.status != "rejected"]
    quotes = select_quotes(codings, n, words=settings.quote_words, ranker=QuoteRanker(run.codings))
    rows = [
        (
            q.text,
            q.attribution(settings.attribution),
            q.score,
            q.transcript,
            q.speaker,
            q.turn,
            q.start,
            q.end,
            clock(q.timestamp) or None,
            q.timestamp,
            q.trimmed,
        )
        for q in quotes
    ]
    frame = pd.DataFrame.from_records(rows, columns=list(QUOTE_COLUMNS))
    return frame.astype(
        {
            "score": "float64",
            "turn": "int64",
            "start": "int64",
            "end": "int64",
            "seconds": "float64",
            "trimmed": "bool",
        }
    )
