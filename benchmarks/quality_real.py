"""Coding quality on real interviews nobody here wrote: the PDPilot user-study interviews in ../shared/dev-data.

Seven real interviews, hand-coded by the study's authors in MAXQDA (262
codings under 9 top-level codes; BSD-3-Clause, see the data's README). The
codebook is written only from the study's code system: one code per
top-level code, its label the code's name, its definition the code's memo,
its include criteria the names of its sub-codes. No example, keyword or
threshold comes from the coded text. The learned figures add the classifier
and cross-validate by transcript (``--cv 2``: trained on the authors'
codings of half the interviews, scored on the other half, both ways). Codings are scored at the top-level
code, segment by segment (the run's unit), with ``scope="transcript"``: every participant segment of
every interview counts, a segment the authors left uncoded being "no code". Units of different sizes
are also scored on one footing, turn by turn: a turn has the codes of any of its units.

    python benchmarks/quality_real.py [--data PATH] [--unit turn] [--json results.json] [--curve 2,3,4,7] [--adapt-encoder]
                                      [--codes sub]

``--codes sub`` codes with the study's 46 second-level codes instead (25 of them coded in 5 turns or more):
a codebook of many rare codes, as many studies have.

``--curve`` adds a learning curve: the learned figures with K folds for each K given, so with more
interviews to learn from each time (K folds of 7 interviews: each model learns from 7 - 7/K of them).

Without the data (a clone without ../shared) it says so and exits 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

import themekit
from themekit.analysis.crossval import cross_validate
from themekit.analysis.evaluate import evaluate, evaluate_frames

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmarks' own helpers
from machine import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "dev-data" / "pdpilot-interviews"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_")


def _code_id(path: str) -> str:
    """A code's id from its path in the code system (``Top > Sub``), within the 64 characters an id may have."""
    return _slug(path)[:60].rstrip("_")


def codebook_from_code_system(data: Path, depth: int = 1) -> dict:
    """The codebook the study's code system gives: names and memos only. ``depth`` 1: one code per top-level code;
    2: one per second-level code (``Top > Sub``, 46 codes, most of them rare), each named by its own name."""
    rows = list(csv.DictReader((data / "code_system.csv").open(encoding="utf-8")))
    tops = [r for r in rows if r["code_path"].count(">") == depth - 1]
    codes = []
    for top in tops:
        children = [
            r["code_path"].split(" > ")[-1] for r in rows if r["code_path"].startswith(top["code_path"] + " > ")
        ]
        name = top["code_path"].split(" > ")[-1]
        codes.append(
            {
                "id": _code_id(top["code_path"]),
                "label": name,
                "definition": top["memo"].strip() or name,
                "include": list(dict.fromkeys(children))[:20],
            }
        )
    return {
        "schema_version": 1,
        "name": "PDPilot user study (from the study's code system)",
        "version": "1.0.0",
        "themes": [{"id": "study", "label": "PDPilot user study", "codes": codes}],
    }


def gold_from_coded_segments(data: Path, out: Path, depth: int = 1) -> Path:
    """The authors' codings as a themekit gold file: spans by offsets into the transcript files (source offsets,
    which themekit converts to its own text), codes at ``depth`` (1: top-level; 2: second-level, codings made at
    the top level left out); the quoted text is checked against each span."""
    with (data / "coded_segments.csv").open(encoding="utf-8") as fh, out.open("w", encoding="utf-8", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["transcript", "source_start", "source_end", "code", "text"])
        for row in csv.DictReader(fh):
            path = row["code_path"].split(" > ")
            if row["char_start"] and len(path) >= depth:
                writer.writerow(
                    [row["transcript"], row["char_start"], row["char_end"], _code_id(" > ".join(path[:depth])),
                     row["text"]]
                )  # fmt: skip
    return out


def turn_frames(run) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The run's codings and segments seen turn by turn: each turn one segment (from its first unit's start to its
    last unit's end), with the codes of all its units."""
    units = run.segments
    turns = (
        units.groupby(["transcript", "turn"], observed=True)
        .agg(start=("start", "min"), end=("end", "max"))
        .reset_index()
    )
    text = {t.id: t.text for t in run.corpus}
    turns["text"] = [text[str(t)][a:b] for t, a, b in zip(turns["transcript"], turns["start"], turns["end"])]
    segments = turns.rename(columns={"turn": "segment"})[["transcript", "segment", "start", "end", "text"]]
    excerpts = run.excerpts[["transcript", "turn", "code", "negated", "score", "probability"]].rename(
        columns={"turn": "segment"}
    )
    return excerpts, segments


def _figures(result, **extra) -> dict:
    """The headline figures of one evaluation: its ``overall``, and how densely it codes beside the coder: codes per
    unit (machine and human) and the largest ratio of a code's machine count to its human count (codes with at
    least 5 human units)."""
    o, per_code = result.overall, result.per_code
    eligible = per_code[per_code["support"] >= 5]
    figures = {
        "segments": o["segments_scored"],
        "codes_scored": o["codes_scored"],
        "micro": o["micro"],
        "macro": o["macro"],
        "codes_per_unit": round(float(per_code["predicted"].sum()) / max(o["segments_scored"], 1), 3),
        "human_codes_per_unit": round(float(per_code["support"].sum()) / max(o["segments_scored"], 1), 3),
        "max_prevalence_ratio": round(float((eligible["predicted"] / eligible["support"]).max()), 2),
        "per_code": result.to_dict()["per_code"],
        # how far the codings' probabilities say how often the coder gave such codings (scored interviews only)
        "calibration": o.get("calibration"),
        "ece": (o.get("calibration") or {}).get("ece"),
    }
    return {**figures, "skipped": len(o["skipped"]), **extra}


def _calibration(crossed) -> dict:
    """The classifier's expected calibration error as it measures it at training time, by cross-validation within
    each fold's training interviews (the mean over folds). The table's ECE is that of the held-out codings."""
    eces = [f["classifier"]["cv_ece"] for f in crossed.folds if (f.get("classifier") or {}).get("cv_ece") is not None]
    return {"ece_within_training": round(sum(eces) / len(eces), 4) if eces else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--unit", default="turn", choices=["turn", "paragraph", "sentence", "passage"])
    parser.add_argument("--methods", default="rule,semantic")
    parser.add_argument(
        "--cv", type=int, default=2, help="folds for the learned figures (2: half the interviews each way; 0: none)"
    )
    parser.add_argument(
        "--curve", default="", help="fold counts for a learning curve, e.g. 2,3,4,7 (7: leave one interview out)"
    )
    parser.add_argument(
        "--adapt-encoder", action="store_true", help="the classifier learns from the model adapted to the interviews"
    )
    parser.add_argument(
        "--codes", default="top", choices=["top", "sub"],
        help="top: the 9 top-level codes; sub: the 46 second-level codes (most coded fewer than 10 times)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    depth = 1 if args.codes == "top" else 2
    if not (args.data / "coded_segments.csv").is_file():
        print(f"no real interviews at {args.data}: nothing measured (the data lives in ../shared/dev-data).")
        return 0
    with tempfile.TemporaryDirectory(prefix="themekit-real-") as tmp:
        work = Path(tmp)
        codebook = work / "codebook.yaml"
        codebook.write_text(
            yaml.safe_dump(codebook_from_code_system(args.data, depth), sort_keys=False, allow_unicode=True)
        )
        gold = gold_from_coded_segments(args.data, work / "gold.csv", depth)
        started = time.perf_counter()
        run = themekit.code(
            args.data / "transcripts",
            codebook,
            unit=args.unit,
            methods=args.methods,
            interviewer_labels=["Dan"],
            cache_dir=ROOT / ".themekit" / "cache",
            project=None,
            adapt_encoder=args.adapt_encoder,
        )
        seconds = time.perf_counter() - started
        results = {}
        for scope in ("transcript", "coded"):
            results[scope] = _figures(evaluate(run, gold, min_support=5, scope=scope))
        # every unit scored on one footing: a turn has the codes of any of its units, the authors' spans mapped to turns
        by_turn, segments = turn_frames(run)
        turn_result = evaluate_frames(
            by_turn,
            segments,
            gold,
            run.codebook,
            min_support=5,
            turns=run.corpus.turns,
            scope="transcript",
            transcripts=run.corpus,
        )
        results["transcript, turn by turn"] = _figures(turn_result)
        if args.cv:
            started_cv = time.perf_counter()
            crossed = cross_validate(
                run, gold, folds=args.cv, min_support=5, scope="transcript", cache_dir=ROOT / ".themekit" / "cache"
            )
            results[f"learned, {args.cv}-fold by transcript"] = _figures(
                crossed.pooled, seconds=round(time.perf_counter() - started_cv, 1), **_calibration(crossed)
            )
        for k in [int(k) for k in args.curve.split(",") if k.strip()]:
            crossed = cross_validate(
                run, gold, folds=k, min_support=5, scope="transcript", cache_dir=ROOT / ".themekit" / "cache"
            )
            learned_from = sum(len(run.corpus) - len(f["transcripts"]) for f in crossed.folds) / len(crossed.folds)
            results[f"learned, {k}-fold by transcript ({learned_from:.1f} interviews learned from)"] = _figures(
                crossed.pooled, **_calibration(crossed)
            )
    print(
        f"PDPilot interviews: {len(run.corpus)} transcripts, unit {args.unit}, methods {args.methods}, "
        f"{len(run.codebook)} codes ({args.codes}), coded in {seconds:.1f} s"
    )
    print(f"machine: {machine()}")
    print(
        "| scope | segments | codes | micro P/R/F1 | macro P/R/F1 | mean kappa | macro AP | codes per unit (human) "
        "| largest code / human | ECE of the probabilities |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for scope, r in results.items():
        m, M = r["micro"], r["macro"]
        ece = "" if r.get("ece") is None else f"{r['ece']:.3f}"
        print(
            f"| {scope} | {r['segments']} | {r['codes_scored']} | {m['precision']:.2f}/{m['recall']:.2f}/{m['f1']:.2f} | "
            f"{M['precision']:.2f}/{M['recall']:.2f}/{M['f1']:.2f} | {M['kappa']:.2f} | {M['average_precision']:.3f} | "
            f"{r['codes_per_unit']:.2f} ({r['human_codes_per_unit']:.2f}) | {r['max_prevalence_ratio']:.2f}x | {ece} |"
        )
    for scope, r in results.items():
        if scope.startswith("learned") or scope == "transcript":
            print(
                f"\nper code, {scope}:\n| code | human | machine | P | R | F1 | kappa | AP |\n"
                "| --- | --- | --- | --- | --- | --- | --- | --- |"
            )
            for c in r["per_code"]:
                print(
                    f"| {c['code']} | {c['support']} | {c['predicted']} | {c['precision']:.2f} | {c['recall']:.2f} | "
                    f"{c['f1']:.2f} | {c['kappa']:.2f} | {'' if c['average_precision'] is None else format(c['average_precision'], '.2f')} |"
                )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "unit": args.unit,
                    "methods": args.methods,
                    "codes": args.codes,
                    "adapt_encoder": args.adapt_encoder,
                    "results": results,
                },
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
