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
from themekit.errors import GoldError, OptionError
from themekit.gold import load_gold, read_gold
from themekit.models import Corpus
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


def _run_segments(run: Run | str | Path) -> tuple[pd.DataFrame, set[str], Corpus]:
    if not isinstance(run, Run):
        run = read_run(run)
    return run.segments, {c.id for c in run.codebook}, run.corpus


def agree(files: list[str | Path], *, run: Any = None, codebook: Any = None) -> Agreement:
    """Agreement between the coders whose files are given (coder names are the file names' stems)."""
    paths = [Path(f) for f in files]
    if len(paths) < 2:
        raise OptionError("agreement needs at least two coder files, one per coder (coder_a.csv coder_b.csv)")
    names = [p.stem for p in paths]
    if len(set(names)) != len(names):
        raise OptionError(f"coder files need distinct names (got: {', '.join(names)}); rename them after their coders")
    codes: set[str] | None = None
    if codebook is not None:
        codes = {c.id for c in (codebook if isinstance(codebook, Codebook) else Codebook.load(codebook))}
    if run is not None:
        by_coder, texts, codes = _units_on_run(run, names, paths, codes)
    else:
        by_coder, texts = _units_as_given(names, paths, codes)
    units = sorted({(t, u) for f in by_coder.values() for t, u in zip(f["transcript"], f["unit"])})
    all_codes = sorted({c for f in by_coder.values() for c in f["code"] if c} | (codes or set()))
    presence = _presence(by_coder, names, units, all_codes)
    records, disagreements = [], []
    for j, code in enumerate(all_codes):
        matrix = np.array([presence[n][:, j] for n in names])  # coders x units
        records.append(_code_agreement(code, matrix, names, len(units)))
        disagreements += _disagreements(code, matrix, names, units, texts)
    per_code = pd.DataFrame.from_records(records)
    columns = ["code", "transcript", "unit", "applied_by", "not_by", "text"]
    return Agreement(names, per_code, _overall(per_code, names, len(units)), pd.DataFrame.from_records(disagreements, columns=columns))


def _units_on_run(
    run: Any, names: list[str], paths: list[Path], codes: set[str] | None
) -> tuple[dict[str, pd.DataFrame], dict[tuple[str, str], str], set[str]]:
    """Each coder's (transcript, unit, code) rows with the run's segments as units; segment texts; the codes."""
    segments, run_codes, corpus = _run_segments(run)
    codes = codes or run_codes
    by_coder: dict[str, pd.DataFrame] = {}
    for name, path in zip(names, paths):
        gold = load_gold(path, segments, codes, transcripts=corpus)
        by_coder[name] = pd.DataFrame({"transcript": gold["transcript"], "unit": gold["segment"].astype(str), "code": gold["code"]})
    texts = {(t, str(s)): x for t, s, x in zip(segments["transcript"], segments["segment"], segments["text"])}
    return by_coder, texts, codes


def _units_as_given(
    names: list[str], paths: list[Path], codes: set[str] | None
) -> tuple[dict[str, pd.DataFrame], dict[tuple[str, str], str]]:
    """Each coder's (transcript, unit, code) rows with exact spans or segment numbers as units; the first text given per unit."""
    by_coder: dict[str, pd.DataFrame] = {}
    texts: dict[tuple[str, str], str] = {}
    for name, path in zip(names, paths):
        frame = _units_without_run(path, read_gold(path), codes)
        for t, u, x in zip(frame["transcript"], frame["unit"], frame["text"]):
            if x:
                texts.setdefault((t, u), x)
        by_coder[name] = frame[["transcript", "unit", "code"]]
    return by_coder, texts


def _presence(
    by_coder: dict[str, pd.DataFrame], names: list[str], units: list[tuple[str, str]], all_codes: list[str]
) -> dict[str, np.ndarray]:
    """Per coder, a units x codes matrix: 1 where the coder gave the code to the unit."""
    index = {u: i for i, u in enumerate(units)}
    col = {c: j for j, c in enumerate(all_codes)}
    presence = {name: np.zeros((len(units), len(all_codes)), dtype=int) for name in names}
    for name, frame in by_coder.items():
        for t, u, c in frame.itertuples(index=False):
            if c:
                presence[name][index[(t, u)], col[c]] = 1
    return presence


def _code_agreement(code: str, matrix: np.ndarray, names: list[str], n_units: int) -> dict[str, Any]:
    """One code's row: units, how often each coder gave it, percent agreement, Cohen's kappa (two coders), Krippendorff's alpha."""
    import krippendorff
    from sklearn.metrics import cohen_kappa_score

    pairs = list(combinations(range(len(names)), 2))
    percent = float(np.mean([(matrix[a] == matrix[b]).mean() for a, b in pairs])) if n_units else float("nan")
    kappa = None
    if len(names) == 2 and n_units:
        if len(set(matrix[0]) | set(matrix[1])) < 2:
            kappa = 1.0
        else:
            kappa = round(float(cohen_kappa_score(matrix[0], matrix[1])), 4)
    try:
        alpha = round(float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")), 4)
    except (ValueError, ZeroDivisionError):
        alpha = None  # one value only: alpha is undefined
    return {
        "code": code,
        "units": n_units,
        **{f"n_{n}": int(matrix[k].sum()) for k, n in enumerate(names)},
        "percent_agreement": round(percent, 4),
        "kappa": kappa,
        "alpha": alpha,
    }


def _disagreements(
    code: str, matrix: np.ndarray, names: list[str], units: list[tuple[str, str]], texts: dict[tuple[str, str], str]
) -> list[dict[str, str]]:
    """The units where the coders differ on one code: who applied it, who did not, and the unit's text."""
    rows = []
    for i in np.flatnonzero(matrix.min(axis=0) != matrix.max(axis=0)):
        t, u = units[i]
        rows.append(
            {
                "code": code,
                "transcript": t,
                "unit": u,
                "applied_by": ", ".join(n for k, n in enumerate(names) if matrix[k, i]),
                "not_by": ", ".join(n for k, n in enumerate(names) if not matrix[k, i]),
                "text": texts.get((t, u), ""),
            }
        )
    return rows


def _overall(per_code: pd.DataFrame, names: list[str], n_units: int) -> dict[str, Any]:
    """Means over the codes any coder used."""
    used = per_code[per_code[[f"n_{n}" for n in names]].sum(axis=1) > 0] if len(per_code) else per_code
    return {
        "coders": len(names),
        "units": n_units,
        "codes": int(len(used)),
        "percent_agreement": round(float(used["percent_agreement"].mean()), 4) if len(used) else None,
        "mean_kappa": round(float(pd.to_numeric(used["kappa"]).mean()), 4) if len(names) == 2 and len(used) else None,
        "mean_alpha": round(float(pd.to_numeric(used["alpha"]).mean()), 4) if len(used) and used["alpha"].notna().any() else None,
    }
