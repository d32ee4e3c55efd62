"""Agreement between human coders: percent agreement, Cohen's kappa, Krippendorff's alpha.

Each coder's file has the gold format (``transcript``, ``code`` and
``char_start``/``char_end`` or ``segment``). The units compared are the
excerpts any coder coded: with a run (``run=``), spans are mapped onto the
run's segments by overlap, so coders who marked slightly different spans of
the same sentence agree; without one, a unit is an exact span or segment
number. For each code every coder says present or absent for every unit (a
unit a coder did not code counts as absent: coders are taken to have read
the same transcripts). Cohen's kappa needs exactly two coders;
Krippendorff's alpha (nominal) takes any number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from themekit.codebook import Codebook
from themekit.errors import GoldError, ThemekitError
from themekit.gold import load_gold, read_gold
from themekit.run import Run
from themekit.runfolder import read_run
from themekit.util.atomic import atomic_write_text

__all__ = ["Agreement", "agree"]


@dataclass
class Agreement:
    coders: list[str]
    per_code: pd.DataFrame
    overall: dict[str, Any]
    disagreements: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "coders": self.coders,
            "overall": self.overall,
            "per_code": self.per_code.replace({np.nan: None}).to_dict(orient="records"),
            "disagreements": self.disagreements.to_dict(orient="records"),
        }

    def save(self, path: str | Path) -> Path:
        return atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")


def _units_without_run(path: Path, frame: pd.DataFrame, codes: set[str] | None) -> pd.DataFrame:
    columns = {c.strip().casefold(): c for c in frame.columns if c != "_row"}
    span = "char_start" in columns and "char_end" in columns
    needed = ["transcript", "code"] + ([] if span or "segment" in columns else ["char_start and char_end (or segment)"])
    missing = [c for c in needed if c not in columns]
    if missing:
        raise GoldError(path, [f"missing column(s): {', '.join(missing)} (columns are: {', '.join(columns.values())})"])
    problems, rows = [], []
    text_col = columns.get("text")
    for record in frame.to_dict(orient="records"):
        row, tid, code = record["_row"], str(record[columns["transcript"]]).strip(), str(record[columns["code"]]).strip()
        if not tid:
            problems.append(f"row {row}: empty transcript")
            continue
        if code and codes is not None and code not in codes:
            problems.append(f"row {row}: code '{code}' is not in the codebook")
            continue
        try:
            if span:
                start, end = int(record[columns["char_start"]]), int(record[columns["char_end"]])
                if start < 0 or end <= start:
                    problems.append(f"row {row}: span {start}-{end} is empty or inverted; char_end must be after char_start")
                    continue
                unit = f"{start}-{end}"
            else:
                unit = str(int(record[columns["segment"]]))
        except ValueError:
            problems.append(f"row {row}: positions must be whole numbers")
            continue
        rows.append((tid, unit, code, str(record[text_col]) if text_col else ""))
    if problems:
        raise GoldError(path, problems)
    return pd.DataFrame(rows, columns=["transcript", "unit", "code", "text"])


def _run_segments(run: Run | str | Path) -> tuple[pd.DataFrame, set[str]]:
    if not isinstance(run, Run):
        run = read_run(run)
    return run.segments, {c.id for c in run.codebook}


def agree(files: list[str | Path], *, run: Any = None, codebook: Any = None) -> Agreement:
    """Agreement between the coders whose files are given (coder names are the file names' stems)."""
    import krippendorff
    from sklearn.metrics import cohen_kappa_score

    paths = [Path(f) for f in files]
    if len(paths) < 2:
        raise ThemekitError("agreement needs at least two coder files, e.g. themekit agree coder_a.csv coder_b.csv")
    names = [p.stem for p in paths]
    if len(set(names)) != len(names):
        raise ThemekitError(f"coder files need distinct names (got: {', '.join(names)}); rename them after their coders")
    codes: set[str] | None = None
    if codebook is not None:
        codes = {c.id for c in (codebook if isinstance(codebook, Codebook) else Codebook.load(codebook))}
    by_coder: dict[str, pd.DataFrame] = {}
    texts: dict[tuple[str, str], str] = {}
    if run is not None:
        segments, run_codes = _run_segments(run)
        codes = codes or run_codes
        seg_text = {(t, str(s)): x for t, s, x in zip(segments["transcript"], segments["segment"], segments["text"])}
        for name, path in zip(names, paths):
            gold = load_gold(path, segments, codes)
            frame = pd.DataFrame({"transcript": gold["transcript"], "unit": gold["segment"].astype(str), "code": gold["code"]})
            by_coder[name] = frame
        texts = seg_text
    else:
        for name, path in zip(names, paths):
            frame = _units_without_run(path, read_gold(path), codes)
            for t, u, x in zip(frame["transcript"], frame["unit"], frame["text"]):
                if x:
                    texts.setdefault((t, u), x)
            by_coder[name] = frame[["transcript", "unit", "code"]]
    units = sorted({(t, u) for f in by_coder.values() for t, u in zip(f["transcript"], f["unit"])})
    index = {u: i for i, u in enumerate(units)}
    all_codes = sorted({c for f in by_coder.values() for c in f["code"] if c} | (codes or set()))
    presence = {name: np.zeros((len(units), len(all_codes)), dtype=int) for name in names}
    col = {c: j for j, c in enumerate(all_codes)}
    for name, frame in by_coder.items():
        for t, u, c in frame.itertuples(index=False):
            if c:
                presence[name][index[(t, u)], col[c]] = 1
    records, disagreements = [], []
    for code in all_codes:
        j = col[code]
        matrix = np.array([presence[n][:, j] for n in names])  # coders x units
        pairs = list(combinations(range(len(names)), 2))
        percent = float(np.mean([(matrix[a] == matrix[b]).mean() for a, b in pairs])) if units else float("nan")
        kappa = None
        if len(names) == 2 and units:
            if len(set(matrix[0]) | set(matrix[1])) < 2:
                kappa = 1.0
            else:
                kappa = round(float(cohen_kappa_score(matrix[0], matrix[1])), 4)
        try:
            alpha = round(float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")), 4)
        except (ValueError, ZeroDivisionError):
            alpha = None  # one value only: alpha is undefined
        records.append(
            {
                "code": code,
                "units": len(units),
                **{f"n_{n}": int(matrix[k].sum()) for k, n in enumerate(names)},
                "percent_agreement": round(percent, 4),
                "kappa": kappa,
                "alpha": alpha,
            }
        )
        for i in np.flatnonzero(matrix.min(axis=0) != matrix.max(axis=0)):
            t, u = units[i]
            disagreements.append(
                {
                    "code": code,
                    "transcript": t,
                    "unit": u,
                    "applied_by": ", ".join(n for k, n in enumerate(names) if matrix[k, i]),
                    "not_by": ", ".join(n for k, n in enumerate(names) if not matrix[k, i]),
                    "text": texts.get((t, u), ""),
                }
            )
    per_code = pd.DataFrame.from_records(records)
    used = per_code[per_code[[f"n_{n}" for n in names]].sum(axis=1) > 0] if len(per_code) else per_code
    overall = {
        "coders": len(names),
        "units": len(units),
        "codes": int(len(used)),
        "percent_agreement": round(float(used["percent_agreement"].mean()), 4) if len(used) else None,
        "mean_kappa": round(float(pd.to_numeric(used["kappa"]).mean()), 4) if len(names) == 2 and len(used) else None,
        "mean_alpha": round(float(pd.to_numeric(used["alpha"]).mean()), 4) if len(used) and used["alpha"].notna().any() else None,
    }
    return Agreement(names, per_code, overall, pd.DataFrame.from_records(disagreements, columns=["code", "transcript", "unit", "applied_by", "not_by", "text"]))
