"""Human codings (gold and coder files) read and mapped onto a run's segments.

A gold file is a CSV with ``transcript`` and ``code`` columns and either
character spans (``char_start``, ``char_end``, offsets into themekit's
normalised transcript text) or ``segment`` indices of the run. An empty
``code`` marks an excerpt the coder read and found nothing in. Spans are
matched to segments by overlap (at least half of the segment or half of the
span). The classifier learns from these files, ``evaluate`` scores against
them and ``agree`` compares them.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from themekit.errors import GoldError, GoldFileError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HumanCodings", "MappedGold", "load_gold", "map_gold", "read_gold"]


@dataclass(frozen=True, eq=False)
class HumanCodings:
    """Human codings as the classifier learns from them: the rows of a gold file or of the project's decisions.

    ``rows`` holds every cell as a string with each row's number in its file
    (``_row``, the header is row 1), as :func:`read_gold` gives them; ``source``
    names where they came from (a file path, or "project decisions") in run.json
    and in messages; ``sha256`` identifies their content.
    """

    rows: pd.DataFrame
    source: str
    sha256: str

    @classmethod
    def from_file(cls, path: str | Path, *, source: str | None = None) -> HumanCodings:
        """The codings of a gold/decisions CSV file; ``source`` names it (default: the path)."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise GoldFileError(path, "no such gold/decisions file. Check the path given as gold=", param="gold") from None
        except OSError as exc:
            raise GoldFileError(path, f"cannot read the gold/decisions file ({exc.strerror})") from exc
        return cls(read_gold(path), source or str(path), hashlib.sha256(data).hexdigest())

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, source: str) -> HumanCodings:
        """Codings held in a table (the project's decisions): read as the same CSV text a file of them would hold."""
        import pandas as pd

        text = frame.to_csv(index=False)
        rows = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        rows.insert(0, "_row", range(2, len(rows) + 2))
        return cls(rows, source, hashlib.sha256(text.encode("utf-8")).hexdigest())

    def of_transcripts(self, transcripts: Collection[str], *, keep: bool = True) -> pd.DataFrame:
        """The rows about ``transcripts`` (``keep=False``: all the other rows)."""
        column = next((c for c in self.rows.columns if c.strip().casefold() == "transcript"), None)
        if column is None:
            return self.rows if keep else self.rows.iloc[:0]
        inside = self.rows[column].str.strip().isin(set(transcripts))
        return self.rows[inside if keep else ~inside]

    @property
    def has_codes(self) -> bool:
        """Whether any row gives a code (rows that only mark text as read teach nothing on their own)."""
        column = next((c for c in self.rows.columns if c.strip().casefold() == "code"), None)
        return column is not None and bool((self.rows[column].str.strip() != "").any())


def _read_csv(path: str | Path) -> pd.DataFrame:
    import pandas as pd

    path = Path(path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise GoldFileError(path, "no such file. Check the path.") from None
    except (OSError, ValueError) as exc:  # pandas' parser errors and UnicodeDecodeError are ValueErrors
        raise GoldFileError(path, f"could not be read as CSV ({exc}). Save it as CSV (UTF-8).") from exc


def read_gold(path: str | Path) -> pd.DataFrame:
    """The gold file as strings, with each row's number in the file (header is row 1) as ``_row``."""
    frame = _read_csv(path)
    frame.insert(0, "_row", range(2, len(frame) + 2))
    return frame


@dataclass
class MappedGold:
    """Human codings mapped onto a run's segments, and the rows left out."""

    #: one row per (transcript, segment, code); code '' marks a segment read and found to hold none
    codings: pd.DataFrame
    #: each row left out, with its row number (the header is row 1) and why
    skipped: list[str]


def load_gold(
    path: str | Path,
    segments: pd.DataFrame,
    codebook_codes: set[str] | None = None,
    *,
    frame: pd.DataFrame | None = None,
    turns: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Map a gold file onto segments, refusing it (:class:`GoldError`, every problem with its row) if any row
    cannot be placed; see :func:`map_gold`."""
    return map_gold(path, segments, codebook_codes, frame=frame, turns=turns, strict=True).codings


def map_gold(
    path: str | Path,
    segments: pd.DataFrame,
    codebook_codes: set[str] | None = None,
    *,
    frame: pd.DataFrame | None = None,
    turns: pd.DataFrame | None = None,
    strict: bool = False,
) -> MappedGold:
    """Map a gold file onto segments: one row per (transcript, segment, code); code '' for none.

    ``segments`` has columns transcript, segment, start, end (a run's segment
    table). Human codings are read as people have them: spans of one code that
    overlap (a passage coded twice, sub-codes rolled up) simply cover the same
    segments; with ``turns`` (the corpus' turn table), a span that starts in the
    interviewer's question and runs into the answer is trimmed to the
    participant's speech, and one entirely in interviewer speech is left out
    and listed. Rows that cannot be placed (unknown transcripts or codes, bad or
    inverted spans, spans matching no segment) are left out and listed in
    ``skipped``, with row numbers (the header is row 1); with ``strict`` any of
    them refuses the file (:class:`GoldError`, all listed). Missing columns and
    a file without rows always refuse it. ``frame`` (from :func:`read_gold`,
    perhaps filtered) is used instead of reading ``path``.
    """
    import pandas as pd

    if frame is None:
        frame = read_gold(path)
    columns = {c.strip().casefold(): c for c in frame.columns if c != "_row"}
    has_span = "char_start" in columns and "char_end" in columns
    missing = [c for c in ("transcript", "code") if c not in columns]
    if not (has_span or "segment" in columns):
        missing.append("char_start and char_end (or segment)")
    if missing:
        raise GoldError(path, [f"missing column(s): {', '.join(missing)} (columns are: {', '.join(columns.values()) or 'none'})"])
    by_transcript = {tid: g.sort_values("start") for tid, g in segments.groupby("transcript", observed=True)}
    speech = _speech_by_transcript(turns)
    rows: list[tuple[str, int, str]] = []
    problems: list[str] = []
    for record in frame.to_dict(orient="records"):
        placed = _place_row(record, columns, by_transcript, speech, codebook_codes, has_span=has_span)
        if isinstance(placed, str):
            problems.append(f"row {record['_row']}: {placed}")
        else:
            rows.extend(placed)
    if problems and strict:
        raise GoldError(path, problems)
    return MappedGold(pd.DataFrame(rows, columns=["transcript", "segment", "code"]).drop_duplicates(), problems)


def _speech_by_transcript(turns: pd.DataFrame | None) -> dict[str, tuple[list[tuple[int, int]], list[tuple[int, int]]]] | None:
    """Per transcript: the (start, end) of its participants' turns, and of its interviewers'."""
    if turns is None:
        return None
    speech: dict[str, tuple[list[tuple[int, int]], list[tuple[int, int]]]] = {}
    for tid, role, start, end in turns[["transcript", "role", "start", "end"]].itertuples(index=False):
        parts = speech.setdefault(str(tid), ([], []))
        parts[0 if role == "participant" else 1].append((int(start), int(end)))
    return speech


def _place_row(
    record: dict,
    columns: dict[str, str],
    by_transcript: dict,
    speech: dict | None,
    codebook_codes: set[str] | None,
    *,
    has_span: bool,
) -> list[tuple[str, int, str]] | str:
    """The (transcript, segment, code) rows one gold row gives, or why it gives none."""
    tid = str(record[columns["transcript"]]).strip()
    code = str(record[columns["code"]]).strip()
    if tid not in by_transcript:
        return f"unknown transcript '{tid}' (the run has: {', '.join(sorted(by_transcript))})"
    if code and codebook_codes is not None and code not in codebook_codes:
        return f"code '{code}' is not in the codebook"
    segs = by_transcript[tid]
    if has_span and str(record[columns["char_start"]]).strip():
        try:
            start, end = int(record[columns["char_start"]]), int(record[columns["char_end"]])
        except ValueError:
            return "char_start/char_end must be whole numbers"
        if start < 0 or end <= start:
            return f"span {start}-{end} is empty or inverted; char_end must be after char_start"
        pieces = [(start, end)]
        if speech is not None and tid in speech:
            participant, interviewer = speech[tid]
            pieces = [(max(start, s), min(end, e)) for s, e in participant if s < end and start < e]
            if not pieces and any(s < end and start < e for s, e in interviewer):
                return f"span {start}-{end} of {tid} is interviewer speech only; left out"
        matched: set[int] = set()
        for s, e in pieces:
            overlap = np.minimum(segs["end"].to_numpy(), e) - np.maximum(segs["start"].to_numpy(), s)
            length = (segs["end"] - segs["start"]).to_numpy()
            hit = (overlap > 0) & ((overlap * 2 >= length) | (overlap * 2 >= e - s))
            matched.update(int(x) for x in segs["segment"].to_numpy()[hit])
        if not matched:
            return f"span {start}-{end} of {tid} matches no coded participant segment"
        return [(tid, seg, code) for seg in sorted(matched)]
    try:
        seg = int(record[columns["segment"]])
    except (ValueError, KeyError):
        return "needs char_start and char_end, or a segment number"
    if seg not in set(segs["segment"]):
        return f"{tid} has no segment {seg}"
    return [(tid, seg, code)]
