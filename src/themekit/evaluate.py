"""Machine codings against human (gold) codings: precision, recall, F1, kappa.

A gold file is a CSV with ``transcript`` and ``code`` columns and either
character spans (``char_start``, ``char_end``, offsets into themekit's
normalised transcript text) or ``segment`` indices of the run. An empty
``code`` marks an excerpt the coder read and found nothing in. Gold spans are
matched to the run's segments by overlap (at least half of the segment or
half of the span). Only segments the gold file covers are scored, since
human coders rarely code every sentence: a machine coding elsewhere is
neither right nor wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .codebook import Codebook
from .errors import ThemekitError

__all__ = ["Evaluation", "GoldError", "evaluate", "evaluate_frames", "load_gold", "read_gold"]


class GoldError(ThemekitError):
    """A gold or coder file has problems; every one is listed with its row number."""

    code = "E500"

    def __init__(self, path: str | Path, problems: list[str]) -> None:
        self.path = Path(path)
        self.problems = problems
        lines = [f"{self.path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}; fix them and run again:"]
        lines += [f"  - {p}" for p in problems[:50]]
        if len(problems) > 50:
            lines.append(f"  - … and {len(problems) - 50} more")
        super().__init__("\n".join(lines))


def _read_csv(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ThemekitError(f"{path}: no such file. Check the path.") from None
    except Exception as exc:
        raise ThemekitError(f"{path}: could not be read as CSV ({exc}). Save it as CSV (UTF-8).") from None


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
    return pd.DataFrame(rows, columns=["transcript", "segment", "code"]).drop_duplicates()


@dataclass
class Evaluation:
    """Per-code and overall agreement of a run with gold codings."""

    per_code: pd.DataFrame
    overall: dict[str, Any]
    errors: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "overall": self.overall,
            "per_code": self.per_code.to_dict(orient="records"),
            "errors": self.errors.to_dict(orient="records"),
        }

    def save(self, path: str | Path) -> Path:
        from .export.run_folder import atomic_write_text

        return atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")


def _kappa(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from sklearn.metrics import cohen_kappa_score

    if len(set(y_true.tolist()) | set(y_pred.tolist())) < 2:
        return 1.0  # both say "absent" everywhere: perfect, though trivial, agreement
    return float(cohen_kappa_score(y_true, y_pred))


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate(run: Any, gold: str | Path, *, min_support: int = 5) -> Evaluation:
    """Score a run (a :class:`~themekit.Run` or a run folder) against a gold file."""
    from .pipeline import Run

    if isinstance(run, Run):
        result = evaluate_frames(run.excerpts, run.segments, gold, run.codebook, min_support=min_support)
        return _warn_if_trained_on(result, run.settings, gold)
    folder = Path(run)
    needed = [folder / "excerpts.parquet", folder / "segments.parquet", folder / "codebook.yaml"]
    absent = [p.name for p in needed if not p.is_file()]
    if absent:
        raise ThemekitError(f"{folder}: not a themekit run folder (missing {', '.join(absent)}). Give the folder 'themekit code' wrote.")
    result = evaluate_frames(
        pd.read_parquet(needed[0]), pd.read_parquet(needed[1]), gold, Codebook.load(needed[2]), min_support=min_support
    )
    record = folder / "run.json"
    settings = json.loads(record.read_text(encoding="utf-8")).get("settings", {}) if record.is_file() else {}
    return _warn_if_trained_on(result, settings, gold)


def _warn_if_trained_on(result: Evaluation, settings: dict[str, Any], gold: str | Path) -> Evaluation:
    """Flag the figures when the run's classifier learned from this very gold file."""
    import hashlib

    trained = (settings.get("gold") or {}).get("sha256")
    if trained and trained == hashlib.sha256(Path(gold).read_bytes()).hexdigest():
        result.overall["warning"] = (
            "the run's classifier was trained on this gold file, so these figures overstate its quality; "
            "code with --method rule,semantic, or hold transcripts out (benchmarks/quality.py), for a fair measure"
        )
    return result


def evaluate_frames(
    excerpts: pd.DataFrame,
    segments: pd.DataFrame,
    gold_path: str | Path,
    codebook: Codebook,
    *,
    min_support: int = 5,
) -> Evaluation:
    """Score machine codings (``excerpts``) against a gold file on the segments it covers.

    Macro figures average the codes with at least ``min_support`` gold segments.
    """
    gold = load_gold(gold_path, segments, {c.id for c in codebook})
    covered = gold[["transcript", "segment"]].drop_duplicates()
    covered_keys = set(map(tuple, covered.to_numpy().tolist()))
    truth: dict[tuple[str, int], set[str]] = {k: set() for k in covered_keys}
    for tid, seg, code in gold.itertuples(index=False):
        if code:
            truth[(tid, seg)].add(code)
    predicted: dict[tuple[str, int], set[str]] = {k: set() for k in covered_keys}
    if "negated" in excerpts:
        excerpts = excerpts[~excerpts["negated"].astype(bool)]
    for tid, seg, code in excerpts[["transcript", "segment", "code"]].itertuples(index=False):
        key = (str(tid), int(seg))
        if key in predicted:
            predicted[key].add(str(code))
    keys = sorted(covered_keys)
    text = segments.set_index(["transcript", "segment"])["text"]
    records, errors = [], []
    for code in codebook:
        y_true = np.array([code.id in truth[k] for k in keys])
        y_pred = np.array([code.id in predicted[k] for k in keys])
        tp = int((y_true & y_pred).sum())
        fp = int((~y_true & y_pred).sum())
        fn = int((y_true & ~y_pred).sum())
        precision, recall, f1 = _prf(tp, fp, fn)
        records.append(
            {
                "code": code.id,
                "support": int(y_true.sum()),
                "predicted": int(y_pred.sum()),
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "precision": round(precision, 4),
                "recall": round(recall, 4),
                "f1": round(f1, 4),
                "kappa": round(_kappa(y_true, y_pred), 4),
            }
        )
        for k, t, p in zip(keys, y_true, y_pred):
            if t != p:
                errors.append(
                    {"kind": "miss" if t else "false alarm", "code": code.id, "transcript": k[0], "segment": k[1], "text": text.get(k, "")}
                )
    per_code = pd.DataFrame.from_records(records)
    eligible = per_code[per_code["support"] >= min_support]
    tp, fp, fn = int(per_code["tp"].sum()), int(per_code["fp"].sum()), int(per_code["fn"].sum())
    micro_p, micro_r, micro_f1 = _prf(tp, fp, fn)
    overall = {
        "segments_scored": len(keys),
        "gold_codings": int(per_code["support"].sum()),
        "machine_codings": int(per_code["predicted"].sum()),
        "min_support": min_support,
        "codes_scored": int(len(eligible)),
        "micro": {"precision": round(micro_p, 4), "recall": round(micro_r, 4), "f1": round(micro_f1, 4)},
        "macro": {
            "precision": round(float(eligible["precision"].mean()), 4) if len(eligible) else None,
            "recall": round(float(eligible["recall"].mean()), 4) if len(eligible) else None,
            "f1": round(float(eligible["f1"].mean()), 4) if len(eligible) else None,
            "kappa": round(float(eligible["kappa"].mean()), 4) if len(eligible) else None,
        },
    }
    return Evaluation(per_code, overall, pd.DataFrame.from_records(errors, columns=["kind", "code", "transcript", "segment", "text"]))
