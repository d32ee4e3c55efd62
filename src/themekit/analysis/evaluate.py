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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from themekit.codebook import Codebook
from themekit.config.options import SCOPES
from themekit.errors import GoldError
from themekit.human.coderfile import WideLayout
from themekit.human.gold import CodeNames, HumanCodings, map_gold
from themekit.models import Transcript
from themekit.runs.folder import read_run
from themekit.runs.record import RunRecord
from themekit.util.choices import check_choice
from themekit.util.progress import ProgressCallback

__all__ = ["SCOPES", "TAKE_OVER_MARGIN", "Evaluation", "Scope", "beside_second_coder", "evaluate", "evaluate_frames"]

Scope = Literal["transcript", "coded"]
#: The machine can take a code over when its kappa with the coder is within this of the second coder's.
TAKE_OVER_MARGIN = 0.1


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
            # a figure that has no value (a code the coder never gave has no average precision) is null, not NaN
            "per_code": self.per_code.astype(object).where(self.per_code.notna(), None).to_dict(orient="records"),
            "errors": self.errors.to_dict(orient="records"),
        }

    def save(self, path: str | Path) -> Path:
        from themekit.util.atomic import atomic_write_text

        return atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")


def _average_precision(y_true: np.ndarray, ranked: list[float]) -> float | None:
    """Average precision of the segments ranked by the code's scores (segments not given the code last, tied):
    how well the scores put the coder's segments first, whatever the cut-off; ``None`` when the coder never gave
    the code. Random order scores the code's share of the segments."""
    if not y_true.any():
        return None
    from sklearn.metrics import average_precision_score

    return round(float(average_precision_score(y_true, ranked)), 4)


def _calibration(probabilities: dict[tuple[str, int, str], float], truth: dict[tuple[str, int], set[str]]) -> dict:
    """How far the codings' probabilities say what the coder did: the codings that have one, their mean
    probability, the share the coder gave too, and the expected calibration error (10 bins)."""
    from themekit.coding.classifier import expected_calibration_error

    p = np.array(list(probabilities.values()))
    y = np.array([code in truth[(tid, seg)] for tid, seg, code in probabilities])
    return {
        "codings": len(p),
        "mean_probability": round(float(p.mean()), 4),
        "coder_gave": round(float(y.mean()), 4),
        "ece": round(expected_calibration_error(y, p), 4),
    }


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


def evaluate(
    run: RunRecord | str | Path,
    gold: str | Path,
    *,
    min_support: int = 5,
    strict: bool = False,
    scope: Scope = "transcript",
    layout: WideLayout | None = None,
    sheet: str | None = None,
    second_coder: str | Path | None = None,
    level: int | None = None,
    separator: str | None = None,
    progress: ProgressCallback | None = None,
) -> Evaluation:
    """Score a run (a :class:`~themekit.Run` or a run folder) against a gold file.

    ``scope="transcript"`` (the default) scores every participant segment of each transcript the gold file
    names, a segment without a gold code counting as "no code": a coder who codes a transcript reads all of
    it, so the machine's false alarms on talk the coder left uncoded count. ``scope="coded"`` scores only the
    segments the gold file touches.

    Human codings are read as other tools leave them (see :func:`themekit.human.gold.map_gold`): spans of one code
    that overlap merge, spans running from the interviewer's question into the answer are trimmed to the
    participant's speech; the file may be CSV in any common encoding with ``,`` or ``;``, or .xlsx (``sheet``),
    and wide (one row per unit, several code columns: ``layout``, see :mod:`themekit.human.coderfile`); rows that
    cannot be placed are left out and listed in ``overall["skipped"]`` (each with its row number in the file and
    the row's own offsets or quote), and ``strict=True`` refuses the file instead. A cell naming several codes (a
    line each, or separated by ';') gives a coding per code; ``separator`` splits code paths at one more
    separator (``" - "`` for "Theme - Code") and ``level`` reads them at that depth (see
    :class:`themekit.human.gold.CodeNames`).

    ``second_coder``: a second person's codings of the same interviews (same formats): per code, the machine's
    kappa with the coder is set beside the two coders' own (see :func:`beside_second_coder`).

    ``progress(stage, advance, total)`` hears how much of the gold file is read and placed (stages
    ``human:read`` and ``human:place``), for a bar on a file of many rows.
    """
    if not isinstance(run, RunRecord):
        run = read_run(run)
    # read once: its rows are scored, its hash tells the classifier's own file
    human = HumanCodings.from_file(
        gold, layout=layout, sheet=sheet, level=level, separator=separator, progress=progress
    )
    excerpts, segments, turns = run.excerpts, run.segments, run.corpus.turns
    result = evaluate_frames(
        excerpts,
        segments,
        gold,
        run.codebook,
        min_support=min_support,
        turns=turns,
        strict=strict,
        scope=scope,
        frame=human.placeable(progress=progress),
        transcripts=run.corpus,
        level=level,
        separator=separator,
        progress=progress,
    )
    seen = _learned_from(run, result)
    if seen:
        # the classifier learned from some of the scored transcripts (same id and content): score the others apart
        result.overall["trained_on_scored_transcripts"] = seen
        unseen = [t.id for t in run.corpus if t.id not in seen]
        try:
            apart = evaluate_frames(
                excerpts[excerpts["transcript"].isin(unseen)],
                segments[segments["transcript"].isin(unseen)],
                gold,
                run.codebook,
                min_support=min_support,
                turns=turns,
                scope=scope,
                frame=human.placeable(unseen),
                transcripts=run.corpus,
                level=level,
                separator=separator,
            )
            result.overall["unseen"] = {
                k: apart.overall[k] for k in ("segments_scored", "codes_scored", "micro", "macro")
            }
        except GoldError:
            result.overall["unseen"] = None  # no transcript the classifier did not learn from is in the gold file
    if second_coder is not None:
        result = beside_second_coder(
            result, excerpts, segments, human, second_coder, run, min_support=min_support, scope=scope,
            layout=layout, sheet=sheet,
        )  # fmt: skip
    return _warn_if_trained_on(result, run.settings, human.sha256)


def beside_second_coder(
    result: Evaluation,
    excerpts: pd.DataFrame,
    segments: pd.DataFrame,
    human: HumanCodings,
    second_coder: str | Path,
    run: RunRecord,
    *,
    min_support: int = 5,
    scope: Scope = "transcript",
    layout: WideLayout | None = None,
    sheet: str | None = None,
) -> Evaluation:
    """Can the machine take a code over? Per code, the machine's kappa with the coder beside the second coder's
    kappa with the same coder, both on the interviews both people coded.

    ``result`` (the machine against the coder, from :func:`evaluate` or cross-validation's pooled figures) gains
    per code ``second_coder_kappa``, ``machine_kappa_both`` (the machine on those same interviews) and
    ``takes_over`` (the machine within ``TAKE_OVER_MARGIN`` of the second coder, and the code coded by the
    coder at least ``min_support`` times there); ``overall["second_coder"]`` gives the file, the interviews, the
    macro kappas and the codes the machine could take over."""
    # read as the first coder's file is read: the same layout and sheet, code paths at the same level
    second = HumanCodings.from_file(
        second_coder, layout=layout, sheet=sheet, level=human.level, separator=human.separator
    )
    mapped = map_gold(
        second.source,
        segments,
        second.code_names(run.codebook),
        frame=second.placeable(),
        turns=run.corpus.turns,
        transcripts=run.corpus,
    )
    both = sorted(set(result.overall["transcripts"]) & set(mapped.codings["transcript"].astype(str)))
    if not both:
        raise GoldError(
            second.source,
            ["no interview is coded in both files: give the second coder's codings of the same transcripts"],
        )
    in_both = segments["transcript"].astype(str).isin(both)
    common = dict(
        min_support=min_support,
        turns=run.corpus.turns,
        scope=scope,
        transcripts=run.corpus,
        level=human.level,
        separator=human.separator,
    )
    theirs = mapped.codings[mapped.codings["code"] != ""]
    second_result = evaluate_frames(
        theirs, segments[in_both], human.source, run.codebook, frame=human.placeable(both), **common
    )
    machine = evaluate_frames(
        excerpts[excerpts["transcript"].astype(str).isin(both)],
        segments[in_both],
        human.source,
        run.codebook,
        frame=human.placeable(both),
        **common,
    )
    per_code = result.per_code.copy()
    second_kappa = second_result.per_code.set_index("code")["kappa"]
    machine_kappa = machine.per_code.set_index("code")["kappa"]
    support = machine.per_code.set_index("code")["support"]
    per_code["second_coder_kappa"] = per_code["code"].map(second_kappa)
    per_code["machine_kappa_both"] = per_code["code"].map(machine_kappa)
    per_code["takes_over"] = (
        (per_code["machine_kappa_both"] >= per_code["second_coder_kappa"] - TAKE_OVER_MARGIN)
        & (per_code["code"].map(support) >= min_support)
    ).astype(bool)
    eligible = per_code[per_code["code"].map(support) >= min_support]
    overall = dict(result.overall)
    overall["second_coder"] = {
        "file": str(second.source),
        "transcripts": both,
        "skipped": mapped.skipped,
        "macro_kappa_second_coder": round(float(eligible["second_coder_kappa"].mean()), 4) if len(eligible) else None,
        "macro_kappa_machine": round(float(eligible["machine_kappa_both"].mean()), 4) if len(eligible) else None,
        "takes_over": sorted(per_code.loc[per_code["takes_over"], "code"]),
        "margin": TAKE_OVER_MARGIN,
    }
    return Evaluation(per_code, overall, result.errors)


def _learned_from(run: RunRecord, result: Evaluation) -> list[str]:
    """The scored transcripts whose human codings trained the run's classifier, matched by id and content."""
    trained = run.stats.get("classifier_trained_on") or {}
    scored = set(result.overall["transcripts"])
    return sorted(t.id for t in run.corpus if t.id in trained and trained[t.id] in (None, t.sha256) and t.id in scored)


def _warn_if_trained_on(result: Evaluation, settings: dict[str, Any], gold_sha256: str) -> Evaluation:
    """Flag the figures when the run's classifier learned from this very gold file, or from any scored transcript."""
    trained = (settings.get("gold") or {}).get("sha256")
    if trained and trained == gold_sha256:
        result.overall["warning"] = (
            "the run's classifier was trained on this gold file, so these figures overstate its quality; "
            "code with methods='rule,semantic', or hold transcripts out (evaluate with folds), for a fair measure"
        )
    elif result.overall.get("trained_on_scored_transcripts"):
        seen = result.overall["trained_on_scored_transcripts"]
        result.overall["warning"] = (
            f"the run's classifier learned from human codings of {len(seen)} of the scored transcripts "
            f"({', '.join(seen[:5])}{' …' if len(seen) > 5 else ''}), so these figures overstate its quality; "
            "the figures on the others are under 'unseen'"
        )
    return result


def _scored_segments(gold: pd.DataFrame, segments: pd.DataFrame, scope: Scope) -> set[tuple[str, int]]:
    """The (transcript, segment) keys scored: those the gold touches, and with ``scope="transcript"`` every
    participant segment of the transcripts it names."""
    covered = gold[["transcript", "segment"]].drop_duplicates()
    keys = set(map(tuple, covered.to_numpy().tolist()))
    if scope == "transcript":
        named = set(gold["transcript"])
        spoken = segments if "role" not in segments else segments[segments["role"].astype(str) == "participant"]
        keys |= {(str(t), int(i)) for t, i in zip(spoken["transcript"], spoken["segment"]) if str(t) in named}
    return keys


def evaluate_frames(
    excerpts: pd.DataFrame,
    segments: pd.DataFrame,
    gold_path: str | Path,
    codebook: Codebook,
    *,
    min_support: int = 5,
    turns: pd.DataFrame | None = None,
    strict: bool = False,
    scope: Scope = "transcript",
    frame: pd.DataFrame | None = None,
    transcripts: Iterable[Transcript] | None = None,
    level: int | None = None,
    separator: str | None = None,
    progress: ProgressCallback | None = None,
) -> Evaluation:
    """Score machine codings (``excerpts``) against a gold file on the segments it covers.

    Macro figures average the codes with at least ``min_support`` gold segments. ``turns`` (the corpus' turn
    table) lets spans be trimmed to participant speech; ``strict`` refuses a file with any row left out.
    ``frame``: the gold rows (as :func:`themekit.human.gold.read_gold` gives them) instead of reading ``gold_path``.
    ``transcripts`` (the run's corpus) lets rows locate their span by source offsets or by their quoted text.
    ``level``/``separator``: how the rows' code paths are read (see :class:`themekit.human.gold.CodeNames`).
    """
    names = CodeNames(codebook, level=level, separator=separator)
    mapped = map_gold(
        gold_path, segments, names, frame=frame, turns=turns, transcripts=transcripts, strict=strict, progress=progress
    )
    gold = mapped.codings
    if gold.empty:
        reason = "it has no rows" if not mapped.skipped else f"none of its {len(mapped.skipped)} rows could be placed"
        raise GoldError(gold_path, [f"nothing to score: {reason}", *mapped.skipped])
    check_choice(scope, SCOPES, what="scope", param="scope")
    covered_keys = _scored_segments(gold, segments, scope)
    truth: dict[tuple[str, int], set[str]] = {k: set() for k in covered_keys}
    for tid, seg, code in gold.itertuples(index=False):
        if code:
            truth[(tid, seg)].add(code)
    predicted: dict[tuple[str, int], set[str]] = {k: set() for k in covered_keys}
    scores: dict[tuple[str, int, str], float] = {}  # each coding's score, for the ranking's average precision
    if "negated" in excerpts:
        excerpts = excerpts[~excerpts["negated"].astype(bool)]
    given = excerpts[["transcript", "segment", "code"]].itertuples(index=False)
    chances = excerpts["probability"] if "probability" in excerpts else [None] * len(excerpts)
    probabilities: dict[tuple[str, int, str], float] = {}  # each coding's probability, for the calibration
    for (tid, seg, code), score, chance in zip(
        given, excerpts["score"] if "score" in excerpts else [1.0] * len(excerpts), chances
    ):
        key = (str(tid), int(seg))
        if key in predicted:
            predicted[key].add(str(code))
            scores[(*key, str(code))] = max(float(score), scores.get((*key, str(code)), 0.0))
            if chance is not None and not pd.isna(chance):
                probabilities[(*key, str(code))] = max(float(chance), probabilities.get((*key, str(code)), 0.0))
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
        ranked = [scores.get((*k, code.id), 0.0) for k in keys]
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
                "average_precision": _average_precision(y_true, ranked),
            }
        )
        for k, t, p in zip(keys, y_true, y_pred):
            if t != p:
                errors.append(
                    {
                        "kind": "miss" if t else "false alarm",
                        "code": code.id,
                        "transcript": k[0],
                        "segment": k[1],
                        "text": text.get(k, ""),
                    }
                )
    per_code = pd.DataFrame.from_records(records)
    eligible = per_code[per_code["support"] >= min_support]
    tp, fp, fn = int(per_code["tp"].sum()), int(per_code["fp"].sum()), int(per_code["fn"].sum())
    micro_p, micro_r, micro_f1 = _prf(tp, fp, fn)
    overall = {
        "scope": scope,
        "transcripts": sorted({k[0] for k in keys}),
        "segments_scored": len(keys),
        "gold_codings": int(per_code["support"].sum()),
        "machine_codings": int(per_code["predicted"].sum()),
        "min_support": min_support,
        "codes_scored": int(len(eligible)),
        "skipped": mapped.skipped,
        "micro": {"precision": round(micro_p, 4), "recall": round(micro_r, 4), "f1": round(micro_f1, 4)},
        "macro": {
            "precision": round(float(eligible["precision"].mean()), 4) if len(eligible) else None,
            "recall": round(float(eligible["recall"].mean()), 4) if len(eligible) else None,
            "f1": round(float(eligible["f1"].mean()), 4) if len(eligible) else None,
            "kappa": round(float(eligible["kappa"].mean()), 4) if len(eligible) else None,
            "average_precision": round(float(eligible["average_precision"].mean()), 4) if len(eligible) else None,
        },
    }
    if probabilities:
        overall["calibration"] = _calibration(probabilities, truth)
    if mapped.read_as:
        overall["columns_read_as"] = mapped.read_as
    if level is not None or separator is not None:
        overall["code_paths"] = {"level": level, "separator": separator}
    return Evaluation(
        per_code, overall, pd.DataFrame.from_records(errors, columns=["kind", "code", "transcript", "segment", "text"])
    )
