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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from themekit.errors import GoldError, GoldFileError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HumanCodings", "load_gold", "read_gold"]


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


def load_gold(
    path: str | Path,
    segments: pd.DataFrame,
    codebook_codes: set[str] | None = None,
    *,
    frame: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Map a gold file onto segments: one row per (transcript, segment, code); code '' for none.

    ``segments`` has columns transcript, segment, start, end (a run's segment
    table). Problems (missing columns, unknown transcripts or codes, bad,
    inverted or overlapping spans, spans matching no segment) are collected
    and raised together with row numbers (the header is row 1). ``frame``
    (from :func:`read_gold`, perhaps filtered) is used instead of reading ``path``.
    """
    if frame is None:
        frame = read_gold(path)
    columns = {c.strip().casefold(): c for c in frame.columns if c != "_row"}
    problems: list[str] = []
    has_span = "char_start" in columns and "char_end" in columns
    has_segment = "segment" in columns
    missing = [c for c in ("transcript", "code") if c not in columns]
    if not (has_span or has_segment):
        missing.append("char_start and char_end (or segment)")
    if missing:
        raise GoldError(path, [f"missing column(s): {', '.join(missing)} (columns are: {', '.join(columns.values())})"])
    col = lambda name: columns[name]  # noqa: E731
    by_transcript = {tid: g.sort_values("start") for tid, g in segments.groupby("transcript", observed=True)}
    rows: list[tuple[str, int, str]] = []
    spans_seen: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
    for record in frame.to_dict(orient="records"):
        row = record["_row"]
        tid = str(record[col("transcript")]).strip()
        code = str(record[col("code")]).strip()
        if tid not in by_transcript:
            problems.append(f"row {row}: unknown transcript '{tid}' (the run has: {', '.join(sorted(by_transcript))})")
            continue
        if code and codebook_codes is not None and code not in codebook_codes:
            problems.append(f"row {row}: code '{code}' is not in the codebook")
            continue
        segs = by_transcript[tid]
        if has_span and str(record[col("char_start")]).strip():
            try:
                start, end = int(record[col("char_start")]), int(record[col("char_end")])
            except ValueError:
                problems.append(f"row {row}: char_start/char_end must be whole numbers")
                continue
            if start < 0 or end <= start:
                problems.append(f"row {row}: span {start}-{end} is empty or inverted; char_end must be after char_start")
                continue
            if code:
                for other_row, s0, e0 in spans_seen.get((tid, code), []):
                    if start < e0 and s0 < end:
                        problems.append(f"row {row}: span {start}-{end} overlaps row {other_row} ({s0}-{e0}) with the same code '{code}'")
                        break
                spans_seen.setdefault((tid, code), []).append((row, start, end))
            overlap = np.minimum(segs["end"].to_numpy(), end) - np.maximum(segs["start"].to_numpy(), start)
            length = (segs["end"] - segs["start"]).to_numpy()
            hit = (overlap > 0) & ((overlap * 2 >= length) | (overlap * 2 >= end - start))
            matched = segs["segment"].to_numpy()[hit]
            if len(matched) == 0:
                problems.append(f"row {row}: span {start}-{end} of {tid} matches no coded participant segment")
                continue
        else:
            try:
                seg = int(record[col("segment")])
            except (ValueError, KeyError):
                problems.append(f"row {row}: needs char_start and char_end, or a segment number")
                continue
            if seg not in set(segs["segment"]):
                problems.append(f"row {row}: {tid} has no segment {seg}")
                continue
            matched = [seg]
        rows.extend((tid, int(s), code) for s in matched)
    if problems:
        raise GoldError(path, problems)
    import pandas as pd

    return pd.DataFrame(rows, columns=["transcript", "segment", "code"]).drop_duplicates()
