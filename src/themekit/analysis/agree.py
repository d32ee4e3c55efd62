"""Agreement between human coders: percent agreement, Cohen's kappa, Krippendorff's alpha.

Each coder's file is read by the same reader as gold files
(:mod:`themekit.human.coderfile`): long (``transcript``, ``code`` and
``char_start``/``char_end`` or ``segment``) or wide (one row per unit, its id
in one column and its codes in several: ``layout``), CSV in any common
encoding with ``,`` or ``;``, or .xlsx. The units compared are the excerpts
any coder coded: with a run (``run=``), spans are mapped onto the run's
segments, so coders who marked slightly different spans of the same sentence
agree; without one, a unit is an exact span, segment number or (wide file)
unit id.

A unit a coder's file does not list (or, in a wide file, lists with every
code cell empty) is *missing* for that coder, not "no code": Krippendorff's
alpha (nominal) takes the missing values as such, Cohen's kappa (exactly two
coders) and percent agreement use the units both coded.
``absent_means_no_code=True`` says instead that every coder read every unit.
``level=N`` compares hierarchical codes (``parent->child``) at depth N.
The result lists what may make the figures wrong (a coder with no rows, few
or no shared units, unit ids differing only in case, coders locating units in
different ways, one unit id on different answers) as warnings, which
``strict=True`` turns into an error, and flags codes that look like one code
spelt two ways.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from themekit.codebook import Codebook
from themekit.errors import GoldError, OptionError
from themekit.human.coderfile import CoderFile, WideLayout, read_coder_file
from themekit.human.gold import map_gold
from themekit.models import Corpus
from themekit.runs.folder import read_run
from themekit.runs.record import RunRecord
from themekit.util.atomic import atomic_write_text
from themekit.util.progress import ProgressCallback

__all__ = [
    "MIN_SHARED_UNITS",
    "WARNING_PARAMS",
    "Agreement",
    "agree",
    "agree_project",
    "code_at_level",
    "near_duplicate_codes",
]

#: Fewer units coded by every coder than this, and the figures get a warning.
MIN_SHARED_UNITS = 10
#: The parameters the warnings name (the command line writes them as its flags).
#: Problem rows quoted in a warning; the rest are counted.
SKIPPED_SHOWN = 5
WARNING_PARAMS = ("absent_means_no_code", "run", "strict", "unit_column", "code_columns")


@dataclass
class Agreement:
    coders: list[str]
    per_code: pd.DataFrame
    overall: dict[str, Any]
    disagreements: pd.DataFrame
    #: what may make the figures wrong, each saying what to do (``strict=True`` refuses instead)
    warnings: list[str] = field(default_factory=list)
    #: pairs of codes that look like one code spelt two ways: codes, kind (case, whitespace, spelling), counts
    near_duplicates: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 2,
            "coders": self.coders,
            "overall": self.overall,
            "warnings": self.warnings,
            "near_duplicates": self.near_duplicates,
            "per_code": self.per_code.replace({np.nan: None}).to_dict(orient="records"),
            "disagreements": self.disagreements.to_dict(orient="records"),
        }

    def save(self, path: str | Path) -> Path:
        return atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")


@dataclass
class _Coder:
    """One coder's (transcript, unit, code) rows (code '' for a unit coded with none) and how the file said them."""

    name: str
    path: Path
    rows: pd.DataFrame
    kind: str  # "span", "segment", "unit id" or "run segment"
    file: CoderFile
    #: rows that could not be placed on the run's segments, each with its row number and why
    skipped: list[str] = field(default_factory=list)

    @property
    def units(self) -> set[tuple[str, str]]:
        return set(zip(self.rows["transcript"], self.rows["unit"]))


def code_at_level(code: str, level: int | None, separator: str = "->") -> str:
    """The code at depth ``level`` of its path (``a->b->c`` at level 1 is ``a``); the whole code if shallower."""
    if not level or not code:
        return code
    return separator.join(part.strip() for part in code.split(separator)[:level])


def _units_without_run(path: Path, file: CoderFile, codes: set[str] | None) -> tuple[pd.DataFrame, str]:
    """A coder's (transcript, unit, code, text) rows with exact spans, segment numbers or unit ids as units."""
    frame = file.rows
    if file.layout is not None:
        unknown = [
            f"row {r}: code '{c}' is not in the codebook"
            for r, c in zip(frame["_row"], frame["code"])
            if c and codes is not None and c not in codes
        ]
        if unknown:
            raise GoldError(path, unknown)
        return pd.DataFrame(
            {"transcript": frame["transcript"], "unit": "", "code": frame["code"], "text": frame["text"]}
        ), "unit id"
    columns = {c.strip().casefold(): c for c in frame.columns if c != "_row"}
    span = "char_start" in columns and "char_end" in columns
    needed = ["transcript", "code"] + ([] if span or "segment" in columns else ["char_start and char_end (or segment)"])
    missing = [c for c in needed if c not in columns]
    if missing:
        error = GoldError(
            path,
            [
                (
                    f"missing column(s): {', '.join(missing)} (columns are: {', '.join(columns.values()) or 'none'}); "
                    "for a file with one row per unit and several code columns give unit_column= and code_columns="
                )
            ],
        )
        error.params = ("unit_column", "code_columns")
        raise error
    problems, rows = [], []
    text_col = columns.get("text")
    for record in frame.to_dict(orient="records"):
        row, tid, code = (
            record["_row"],
            str(record[columns["transcript"]]).strip(),
            str(record[columns["code"]]).strip(),
        )
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
                    problems.append(
                        f"row {row}: span {start}-{end} is empty or inverted; char_end must be after char_start"
                    )
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
    return pd.DataFrame(rows, columns=["transcript", "unit", "code", "text"]), "span" if span else "segment"


def _run_segments(run: RunRecord | str | Path) -> tuple[pd.DataFrame, set[str], Corpus]:
    if not isinstance(run, RunRecord):
        run = read_run(run)
    return run.segments, {c.id for c in run.codebook}, run.corpus


def agree(
    files: list[str | Path],
    *,
    run: Any = None,
    codebook: Any = None,
    layout: WideLayout | None = None,
    sheet: str | None = None,
    level: int | None = None,
    separator: str = "->",
    absent_means_no_code: bool = False,
    strict: bool = False,
    progress: ProgressCallback | None = None,
) -> Agreement:
    """Agreement between the coders whose files are given (coder names are the file names' stems).

    ``layout`` reads wide files (one row per unit); ``sheet`` picks an .xlsx sheet; ``level``/``separator``
    compare hierarchical codes at one depth; ``absent_means_no_code`` counts a unit a coder did not list as
    coded with no code; ``strict`` refuses what would otherwise be warnings. ``progress(stage, advance, total)``
    hears how much of each file is read and placed (stages ``human:read:NAME``, ``human:place:NAME``).
    """
    paths = [Path(f) for f in files]
    if len(paths) < 2:
        raise OptionError("agreement needs at least two coder files, one per coder (coder_a.csv coder_b.csv)")
    names = [p.stem for p in paths]
    if len(set(names)) != len(names):
        raise OptionError(f"coder files need distinct names (got: {', '.join(names)}); rename them after their coders")
    if level is not None and level < 1:
        raise OptionError(
            f"level={level} is not a depth; give 1 for the top of each code's path, 2 for the next", param="level"
        )
    if not separator:
        raise OptionError(
            "separator= is empty; give the text between a code's levels, such as '->', '>' or '/'", param="separator"
        )
    codes: set[str] | None = None
    if codebook is not None:
        codes = {c.id for c in (codebook if isinstance(codebook, Codebook) else Codebook.load(codebook))}
    files_read = [
        read_coder_file(
            p, layout=layout, sheet=sheet, keep_uncoded=absent_means_no_code, progress=_of_coder(progress, name)
        )
        for p, name in zip(paths, names)
    ]
    if run is not None:
        coders, texts = _units_on_run(run, names, paths, files_read, codes, progress)
    else:
        coders, texts = _units_as_given(names, paths, files_read, codes)
    for coder in coders:
        coder.rows = coder.rows.assign(code=[code_at_level(c, level, separator) for c in coder.rows["code"]])
    return _compare(
        coders,
        texts,
        run=run is not None,
        level=level,
        separator=separator,
        absent_means_no_code=absent_means_no_code,
        strict=strict,
    )


def agree_project(
    project: Any,
    *,
    run: Any = None,
    coders: list[str] | None = None,
    level: int | None = None,
    separator: str = "->",
    strict: bool = False,
) -> Agreement:
    """Agreement between the coders whose review decisions the project store holds, on a recorded run's
    quotes (``run``: a RunRecord, its id or a run folder; default the latest run).

    A unit is a quote a review sheet showed (``transcript``, ``start-end``); a coder who decided any row of a
    quote gave it the codes they accepted, added or changed to, and no other; a quote a coder did not decide
    is missing for them (as in :func:`agree`). ``coders`` picks coders by name (default: all who decided).
    """
    from themekit.store import Project, coder_quotes, open_project

    store = project if isinstance(project, Project) else open_project(project)
    if isinstance(run, (str, Path)) and (Path(run) / "run.json").is_file():
        run = json.loads((Path(run) / "run.json").read_text(encoding="utf-8"))["run_id"]
    elif isinstance(run, Path):
        run = str(run)
    if level is not None and level < 1:
        raise OptionError(
            f"level={level} is not a depth; give 1 for the top of each code's path, 2 for the next", param="level"
        )
    quotes = coder_quotes(store, run)
    found = sorted({c for q in quotes for c in q.readers})
    names = found if not coders else list(dict.fromkeys(coders))
    unknown = [n for n in names if n not in found]
    if unknown or len(names) < 2:
        who = ", ".join(found) or "nobody"
        raise OptionError(
            (
                f"no decisions by {', '.join(unknown)} on this run's quotes (decided by: {who}). "
                if unknown
                else f"agreement needs two coders' decisions on this run's quotes; {store.path} has decisions by {who}. "
            )
            + "Give each coder a blind sheet (themekit review export RUN --to FILE --coder NAME --blind) and import "
            "each filled sheet with its coder's name.",
            param="coders",
        )
    texts, result = {}, []
    for name in names:
        rows = []
        for q in quotes:
            if name in q.readers:
                unit = (q.transcript, f"{q.start}-{q.end}")
                texts[unit] = q.quote
                rows += [(*unit, code) for code in q.given_by(name) or [""]]
        frame = pd.DataFrame(rows, columns=["transcript", "unit", "code"])
        frame["code"] = [code_at_level(c, level, separator) for c in frame["code"]]
        where = Path(f"{store.path}#{name}")
        result.append(_Coder(name, where, frame, "run segment", CoderFile(frame, file_rows=len(frame))))
    return _compare(
        result, texts, run=True, level=level, separator=separator, absent_means_no_code=False, strict=strict
    )


def _compare(
    coders: list[_Coder],
    texts: dict[tuple[str, str], str],
    *,
    run: bool,
    level: int | None,
    separator: str,
    absent_means_no_code: bool,
    strict: bool,
) -> Agreement:
    names = [c.name for c in coders]
    units = sorted(set().union(*(c.units for c in coders)))
    coded = {c.name: set(units) if absent_means_no_code else c.units for c in coders}
    shared = set.intersection(*coded.values()) if coded else set()
    all_codes = sorted({x for c in coders for x in c.rows["code"] if x})
    presence = _presence(coders, units, all_codes, coded)
    records, disagreements = [], []
    for j, code in enumerate(all_codes):
        matrix = np.array([presence[n][:, j] for n in names])  # coders x units, nan where a coder did not code the unit
        records.append(_code_agreement(code, matrix, names, len(shared)))
        disagreements += _disagreements(code, matrix, names, units, texts)
    per_code = pd.DataFrame.from_records(records, columns=_per_code_columns(names))
    warnings = _warnings(coders, coded, units, shared, run=run)
    if strict and warnings:
        error = GoldError(
            " and ".join(str(c.path) for c in coders),
            [*warnings, "(strict=True refuses these; leave it out to get the figures with warnings)"],
        )
        error.params = WARNING_PARAMS
        raise error
    overall = {
        **_overall(per_code, names, len(units)),
        "coded_units": {n: len(coded[n]) for n in names},
        "shared_units": len(shared),
        "level": level,
        "separator": separator if level else None,
        "absent_means_no_code": absent_means_no_code,
    }
    counts = {c.name: Counter(x for x in c.rows["code"] if x) for c in coders}
    columns = ["code", "transcript", "unit", "applied_by", "not_by", "text"]
    return Agreement(
        names,
        per_code,
        overall,
        pd.DataFrame.from_records(disagreements, columns=columns),
        warnings,
        near_duplicate_codes(counts),
    )


def _per_code_columns(names: list[str]) -> list[str]:
    return ["code", "units", "units_with_code", *(f"n_{n}" for n in names), "percent_agreement", "kappa", "alpha"]


def _of_coder(progress: ProgressCallback | None, name: str) -> ProgressCallback | None:
    """``progress`` with each stage named after the coder whose file it reads: one bar per file."""
    if progress is None:
        return None
    return lambda stage, advance, total: progress(f"{stage}:{name}", advance, total)


def _units_on_run(
    run: Any,
    names: list[str],
    paths: list[Path],
    files: list[CoderFile],
    codes: set[str] | None,
    progress: ProgressCallback | None = None,
) -> tuple[list[_Coder], dict[tuple[str, str], str]]:
    """Each coder's (transcript, unit, code) rows with the run's segments as units; segment texts."""
    segments, run_codes, corpus = _run_segments(run)
    codes = codes or run_codes
    coders = []
    for name, path, file in zip(names, paths, files):
        mapped = map_gold(
            path, segments, codes, transcripts=corpus, frame=file.rows, progress=_of_coder(progress, name)
        )
        gold = mapped.codings
        rows = pd.DataFrame(
            {"transcript": gold["transcript"], "unit": gold["segment"].astype(str), "code": gold["code"]}
        )
        coders.append(_Coder(name, path, rows, "run segment", file, mapped.skipped))
    texts = {(t, str(s)): x for t, s, x in zip(segments["transcript"], segments["segment"], segments["text"])}
    return coders, texts


def _units_as_given(
    names: list[str], paths: list[Path], files: list[CoderFile], codes: set[str] | None
) -> tuple[list[_Coder], dict[tuple[str, str], str]]:
    """Each coder's (transcript, unit, code) rows with exact spans, segment numbers or unit ids as units; the
    first text given per unit."""
    coders = []
    texts: dict[tuple[str, str], str] = {}
    for name, path, file in zip(names, paths, files):
        frame, kind = _units_without_run(path, file, codes)
        for t, u, x in zip(frame["transcript"], frame["unit"], frame["text"]):
            if x:
                texts.setdefault((t, u), x)
        coders.append(_Coder(name, path, frame[["transcript", "unit", "code"]], kind, file))
    return coders, texts


def _presence(
    coders: list[_Coder], units: list[tuple[str, str]], all_codes: list[str], coded: dict[str, set[tuple[str, str]]]
) -> dict[str, np.ndarray]:
    """Per coder, a units x codes matrix: 1 where the coder gave the code to the unit, 0 where not, nan for a
    unit the coder did not code."""
    index = {u: i for i, u in enumerate(units)}
    col = {c: j for j, c in enumerate(all_codes)}
    presence = {}
    for coder in coders:
        matrix = np.full((len(units), len(all_codes)), np.nan)
        matrix[[index[u] for u in coded[coder.name]], :] = 0.0
        for t, u, c in coder.rows.itertuples(index=False):
            if c:
                matrix[index[(t, u)], col[c]] = 1.0
        presence[coder.name] = matrix
    return presence


def _code_agreement(code: str, matrix: np.ndarray, names: list[str], n_shared: int) -> dict[str, Any]:
    """One code's row: units all coders coded, those of the compared units any coder gave it, how often each
    coder gave it, percent agreement and Cohen's kappa on the units each pair coded, Krippendorff's alpha."""
    import krippendorff
    from sklearn.metrics import cohen_kappa_score

    agreements = []
    for a, b in combinations(range(len(names)), 2):
        both = ~np.isnan(matrix[a]) & ~np.isnan(matrix[b])
        if both.any():
            agreements.append(float((matrix[a][both] == matrix[b][both]).mean()))
    compared = (~np.isnan(matrix)).sum(axis=0) >= 2
    kappa = None
    if len(names) == 2 and compared.any():
        x, y = matrix[0][compared], matrix[1][compared]
        kappa = 1.0 if len(set(x) | set(y)) < 2 else round(float(cohen_kappa_score(x, y)), 4)
    try:
        alpha = round(float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")), 4)
    except (ValueError, ZeroDivisionError):
        alpha = None  # one value only, or no unit coded twice: alpha is undefined
    if alpha is not None and np.isnan(alpha):
        alpha = None
    return {
        "code": code,
        "units": n_shared,
        "units_with_code": int((np.nan_to_num(matrix[:, compared]).max(axis=0) > 0).sum()) if compared.any() else 0,
        **{f"n_{n}": int(np.nansum(matrix[k])) for k, n in enumerate(names)},
        "percent_agreement": round(float(np.mean(agreements)), 4) if agreements else None,
        "kappa": kappa,
        "alpha": alpha,
    }


def _disagreements(
    code: str, matrix: np.ndarray, names: list[str], units: list[tuple[str, str]], texts: dict[tuple[str, str], str]
) -> list[dict[str, str]]:
    """The units where the coders who coded them differ on one code: who applied it, who did not, the unit's text."""
    rows = []
    differ = (np.nanmin(matrix, axis=0) != np.nanmax(matrix, axis=0)) if matrix.size else np.zeros(0, bool)
    for i in np.flatnonzero(differ):
        t, u = units[i]
        rows.append(
            {
                "code": code,
                "transcript": t,
                "unit": u,
                "applied_by": ", ".join(n for k, n in enumerate(names) if matrix[k, i] == 1),
                "not_by": ", ".join(n for k, n in enumerate(names) if matrix[k, i] == 0),
                "text": texts.get((t, u), ""),
            }
        )
    return rows


def _overall(per_code: pd.DataFrame, names: list[str], n_units: int) -> dict[str, Any]:
    """Means over the codes any coder gave on a unit that at least two coders coded."""
    used = per_code[per_code["units_with_code"] > 0]
    mean = lambda column: round(float(pd.to_numeric(used[column]).mean()), 4) if used[column].notna().any() else None
    return {
        "coders": len(names),
        "units": n_units,
        "codes": int(len(used)),
        "percent_agreement": mean("percent_agreement") if len(used) else None,
        "mean_kappa": mean("kappa") if len(names) == 2 and len(used) else None,
        "mean_alpha": mean("alpha") if len(used) else None,
    }


def _warnings(
    coders: list[_Coder],
    coded: dict[str, set[tuple[str, str]]],
    units: list[tuple[str, str]],
    shared: set,
    *,
    run: bool,
) -> list[str]:
    """What may make the figures wrong, each saying what to do."""
    warnings = [note for c in coders for note in c.file.notes]
    for c in coders:
        if c.skipped:
            shown = "; ".join(c.skipped[:SKIPPED_SHOWN]) + ("; …" if len(c.skipped) > SKIPPED_SHOWN else "")
            warnings.append(
                f"{c.path}: {len(c.skipped)} problem(s) with rows placed on the run's segments (rows that cannot be "
                f"placed are left out of the figures): {shown}"
            )
        if c.file.file_rows == 0:
            warnings.append(
                f"{c.path} has no rows (a header only), so {c.name} coded nothing; give the file with {c.name}'s codings, or leave it out"
            )
        elif not c.units:
            warnings.append(
                f"{c.path}: every row's code cells are empty, so {c.name} coded no unit; if empty cells mean 'no code', "
                "give absent_means_no_code=True"
            )
    label = lambda key: " ".join(k for k in key if k)
    if units and not shared:
        examples = "; ".join(f"{c.name}'s look like '{label(min(c.units))}'" for c in coders if c.units)
        warnings.append(
            f"the coders share no unit ({', '.join(f'{n} coded {len(u)}' for n, u in coded.items())}), so there is nothing to "
            f"compare: check that the files name units the same way ({examples})"
        )
    elif 0 < len(shared) < MIN_SHARED_UNITS:
        warnings.append(
            f"only {len(shared)} unit(s) are coded by every coder; agreement on fewer than {MIN_SHARED_UNITS} units says "
            "little: have more units double-coded"
        )
    by_fold: dict[tuple[str, ...], set[tuple[str, str]]] = {}
    for key in units:
        by_fold.setdefault(tuple(k.casefold() for k in key), set()).add(key)
    clashes = [sorted(keys) for keys in by_fold.values() if len(keys) > 1]
    if clashes:
        shown = "; ".join(" and ".join(f"'{label(k)}'" for k in keys) for keys in clashes[:5])
        warnings.append(
            f"{len(clashes)} unit id(s) differ only in case ({shown}{' …' if len(clashes) > 5 else ''}) and are counted as "
            "different units; write each id the same way in every file"
        )
    kinds = {c.kind for c in coders if c.units}
    if not run and len(kinds) > 1:
        how = ", ".join(f"{c.path.name} by {c.kind}" for c in coders if c.units)
        warnings.append(
            f"the files locate units in different ways ({how}), so their units cannot match; give every file the same "
            "kind of location, or give run= to map spans and segments onto one run's segments"
        )
    return warnings


def _edits(a: str, b: str, limit: int) -> int:
    """Levenshtein distance between ``a`` and ``b``, or ``limit + 1`` once it is past ``limit``."""
    while a and b and a[0] == b[0]:  # a common prefix or suffix never changes the distance
        a, b = a[1:], b[1:]
    while a and b and a[-1] == b[-1]:
        a, b = a[:-1], b[:-1]
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


_DIGITS = re.compile(r"\d+")


def _near_kind(a: str, b: str) -> str | None:
    """How two codes look like one: 'case', 'whitespace', 'spelling (N edits)', or ``None``. Codes that differ
    only in their numbers (``Q1``, ``Q2``) are different codes, not slips."""
    if a.casefold() == b.casefold():
        return "case"
    squash = lambda s: "".join(s.casefold().replace("_", " ").replace("-", " ").split())
    if squash(a) == squash(b):
        return "whitespace"
    shorter = min(len(a), len(b))
    limit = 0 if shorter < 5 else 1 if shorter < 10 else 2
    if not limit or abs(len(a) - len(b)) > limit or _DIGITS.sub("#", a) == _DIGITS.sub("#", b):
        return None
    distance = _edits(a.casefold(), b.casefold(), limit)
    return f"spelling ({distance} edit{'s' if distance > 1 else ''})" if distance <= limit else None


def near_duplicate_codes(counts: dict[str, Counter]) -> list[dict[str, Any]]:
    """Pairs of codes that differ only in case, in whitespace (or ``_``/``-``), or by a spelling slip (1 edit in
    codes under 10 characters, 2 in longer ones; none under 5), with how often each coder gave each."""
    codes = sorted(set().union(*(c.keys() for c in counts.values()))) if counts else []
    found = []
    for a, b in combinations(codes, 2):
        kind = _near_kind(a, b)
        if kind:
            found.append({"codes": [a, b], "kind": kind, "counts": {n: {a: c[a], b: c[b]} for n, c in counts.items()}})
    return found
