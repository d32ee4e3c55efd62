"""What each page shows, as plain data for the templates: the transcript list, a transcript cut into pieces with
the codings over them, the codebook, search results. No HTML here: the templates escape every value."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from themekit.review.sheets import _item_id
from themekit.util.clock import clock
from themekit.web._palette import code_style, highlight_style

if TYPE_CHECKING:
    from themekit.codebook import Codebook
    from themekit.models import Coding, Transcript, Turn
    from themekit.runs.record import RunRecord

__all__ = [
    "Chip",
    "Piece",
    "codebook_panel",
    "coding_id",
    "coding_key",
    "search",
    "transcript_list",
    "transcript_turns",
]

#: Search results shown at most, and characters of context on each side of a match.
MAX_HITS = 200
HIT_CONTEXT = 80


def coding_id(coding: Coding) -> str:
    """A coding's id on the pages: the id its review sheet row has (same transcript, characters and code)."""
    seg, t = coding.segment, coding.segment.transcript
    return _item_id(t.id, t.sha256, seg.start, seg.end, coding.code_id)


def code_index(codebook: Codebook) -> dict[str, int]:
    return {c.id: k for k, c in enumerate(codebook)}


def transcript_list(run: RunRecord, codings: list[Coding]) -> list[dict[str, Any]]:
    """One row per transcript: its participant's name, words, segments, codings that count, suggested and decided
    codings."""
    segments: dict[str, int] = defaultdict(int)
    for seg in run.units:
        segments[seg.transcript.id] += 1
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"codings": 0, "suggested": 0, "decided": 0})
    for c in codings:
        row = counts[c.segment.transcript.id]
        row["codings"] += c.status != "rejected"
        row["suggested"] += c.status == "suggested"
        row["decided"] += c.status != "suggested"
    return [
        {
            "id": t.id,
            "participant": t.participant,
            "words": t.word_count,
            "segments": segments[t.id],
            **counts[t.id],
            "attributes": ", ".join(f"{k}: {v}" for k, v in t.attributes.items()),
        }
        for t in run.corpus
    ]


@dataclass
class Chip:
    """One coding as the page shows it beside its text."""

    id: str
    code: str
    label: str
    index: int
    status: str
    method: str
    score: float
    evidence: str
    swatch: str
    #: the chance that a coder gives the code here (``None``: rule matches and people's codings have none)
    probability: float | None
    #: the id of the latest decision record on the coding when the page was drawn (0: none); sent back with a
    #: decision, so a decision made since in another tab is told, not overwritten
    seen: int = 0


@dataclass
class Piece:
    """A stretch of a turn's text under the same codings (offset into themekit's text of the transcript)."""

    offset: int
    text: str
    style: str = ""
    codes: list[str] = field(default_factory=list)
    hit: bool = False
    #: the first piece of the search match: the page scrolls to it
    anchor: bool = False
    #: the codings of segments that end here, shown after the text
    chips: list[Chip] = field(default_factory=list)


def coding_key(coding: Coding) -> tuple[str, str, int, int, str]:
    """The coding as :meth:`themekit.store.db.Project.latest_records` keys it."""
    seg, t = coding.segment, coding.segment.transcript
    return (t.id, t.sha256, seg.start, seg.end, coding.code_id)


def _chip(c: Coding, labels: dict[str, str], index: dict[str, int], versions: Mapping[tuple, int]) -> Chip:
    k = index.get(c.code_id, 0)
    return Chip(
        coding_id(c),
        c.code_id,
        labels.get(c.code_id, c.code_id),
        k,
        c.status,
        c.method,
        round(c.score, 2),
        c.evidence,
        code_style(k)["swatch"],
        None if c.probability is None else round(c.probability, 2),
        versions.get(coding_key(c), 0),
    )


def _turn_pieces(
    t: Transcript,
    turn: Turn,
    spans: list[tuple[int, int, list[Coding]]],
    labels: dict[str, str],
    index: dict[str, int],
    hit: tuple[int, int] | None,
    versions: Mapping[tuple, int],
) -> list[Piece]:
    cuts = {turn.start, turn.end}
    for start, end, _ in spans:
        cuts.update(p for p in (start, end) if turn.start < p < turn.end)
    if hit:
        cuts.update(p for p in hit if turn.start < p < turn.end)
    edges = sorted(cuts)
    pieces = []
    for a, b in pairwise(edges):
        over = [c for s, e, cs in spans if s <= a and b <= e for c in cs if c.status != "rejected"]
        codes = sorted({c.code_id for c in over}, key=lambda x: index.get(x, 0))
        piece = Piece(
            a,
            t.text[a:b],
            highlight_style([index.get(x, 0) for x in codes]),
            codes,
            hit=bool(hit) and hit[0] <= a and b <= hit[1],
        )
        piece.chips = [_chip(c, labels, index, versions) for s, e, cs in spans if e == b for c in cs]
        pieces.append(piece)
    return pieces


def transcript_turns(
    run: RunRecord,
    transcript: Transcript,
    codings: Iterable[Coding],
    *,
    hit: tuple[int, int] | None = None,
    versions: Mapping[tuple, int] | None = None,
) -> list[dict[str, Any]]:
    """The transcript's turns, each with its speaker, role, time and pieces of text with their codings;
    ``versions``: coding (:func:`coding_key`) → the id of its latest decision record."""
    versions = versions or {}
    labels = {c.id: c.label for c in run.codebook}
    index = code_index(run.codebook)
    by_span: dict[tuple[int, int], list[Coding]] = defaultdict(list)
    for c in codings:
        if c.segment.transcript.id == transcript.id:
            by_span[(c.segment.start, c.segment.end)].append(c)
    spans = sorted((s, e, sorted(cs, key=lambda c: index.get(c.code_id, 0))) for (s, e), cs in by_span.items())
    turns, k = [], 0
    for turn in transcript.turns:
        while k < len(spans) and spans[k][1] <= turn.start:
            k += 1
        inside = []
        for span in spans[k:]:
            if span[0] >= turn.end:
                break
            inside.append(span)
        turns.append(
            {
                "speaker": turn.speaker,
                "role": turn.role,
                "time": clock(turn.timestamp),
                "pieces": _turn_pieces(transcript, turn, inside, labels, index, hit, versions),
            }
        )
    first = next((p for turn in turns for p in turn["pieces"] if p.hit), None)
    if first is not None:
        first.anchor = True
    return turns


def codebook_panel(codebook: Codebook) -> list[dict[str, Any]]:
    """Themes with their codes: colour, definition, include and exclude criteria, examples."""
    index = code_index(codebook)
    themes = []
    for theme in codebook.themes:
        codes = [
            {
                "id": c.id,
                "label": c.label,
                "depth": c.depth,
                "definition": c.spec.definition,
                "include": c.spec.include,
                "exclude": c.spec.exclude,
                "examples": c.spec.examples,
                **code_style(index[c.id]),
            }
            for c in codebook.codes_of(theme.id)
        ]
        themes.append({"id": theme.id, "label": theme.label, "codes": codes})
    return themes


def search(run: RunRecord, query: str) -> tuple[list[dict[str, Any]], bool]:
    """Every place ``query`` (words, any case) occurs in the transcripts: transcript, speaker, the words around it,
    offsets; and whether there were more than :data:`MAX_HITS`."""
    needle = " ".join(query.split()).casefold()
    hits: list[dict[str, Any]] = []
    if not needle:
        return hits, False
    for t in run.corpus:
        folded = t.text.casefold()
        if len(folded) != len(t.text):  # casefold changed lengths (ß → ss): search the text as it is
            folded = t.text.lower() if len(t.text.lower()) == len(t.text) else t.text
        at = folded.find(needle)
        while at >= 0:
            if len(hits) == MAX_HITS:
                return hits, True
            end = at + len(needle)
            speaker = next((u.speaker for u in t.turns if u.start <= at < u.end), "")
            hits.append(
                {
                    "transcript": t.id,
                    "participant": t.participant,
                    "speaker": speaker,
                    "start": at,
                    "end": end,
                    "before": " ".join(t.text[max(0, at - HIT_CONTEXT) : at].split()),
                    "match": t.text[at:end],
                    "after": " ".join(t.text[end : end + HIT_CONTEXT].split()),
                }
            )
            at = folded.find(needle, end)
    return hits, False
