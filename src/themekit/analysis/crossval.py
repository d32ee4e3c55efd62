"""How well does themekit code *my* interviews? Cross-validation grouped by transcript.

Given a run and human codings of some of its transcripts, the transcripts
the codings name are dealt into ``folds`` groups; for each group the run's
corpus is coded again with the run's settings and the classifier trained on
the other groups' codings only, and the group's own transcripts are scored.
No interview is learned from before it is scored. The pooled figures score
every held-out transcript together; the spread across folds says how much
they vary from interview to interview.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from themekit.analysis.evaluate import Evaluation, Scope, beside_second_coder, evaluate_frames
from themekit.errors import OptionError
from themekit.human.coderfile import WideLayout
from themekit.human.gold import HumanCodings, map_gold
from themekit.nlp.embed import DEFAULT_CACHE_DIR
from themekit.pipeline import steps as pipeline
from themekit.runs.folder import read_run
from themekit.runs.record import RunRecord, run_embedding_model
from themekit.util.atomic import atomic_write_text

__all__ = ["CrossValidation", "cross_validate"]


@dataclass
class CrossValidation:
    """Pooled held-out figures, each fold's, and per code the mean and spread over folds."""

    pooled: Evaluation
    folds: list[dict[str, Any]]
    per_code: pd.DataFrame

    @property
    def skipped(self) -> list[str]:
        """The gold rows left out of training and scoring (or not matching their text), each with its row number."""
        return self.pooled.overall["skipped"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "pooled": self.pooled.to_dict(),
            "folds": self.folds,
            "per_code": self.per_code.replace({np.nan: None}).to_dict(orient="records"),
        }

    def save(self, path: str | Path) -> Path:
        return atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")


def cross_validate(
    run: RunRecord | str | Path,
    gold: str | Path,
    *,
    folds: int = 5,
    min_support: int = 5,
    scope: Scope = "transcript",
    strict: bool = False,
    cache_dir: str | Path | None = DEFAULT_CACHE_DIR,
    progress: Callable[[str, int, int], None] | None = None,
    layout: WideLayout | None = None,
    sheet: str | None = None,
    second_coder: str | Path | None = None,
    level: int | None = None,
    separator: str | None = None,
    adapt_encoder: bool | None = None,
) -> CrossValidation:
    """Train on the human codings of all folds but one, code and score the held-out fold; every fold in turn.

    The run's settings (unit, methods, spaCy model, interviewer labels) are
    kept, the classifier is added to its methods, and no project store is
    used, so stored decisions cannot leak into the figures.

    Human codings are read as :func:`~themekit.analysis.evaluate.evaluate` reads them: rows that cannot be placed
    are left out of training and scoring alike and listed in ``pooled.overall["skipped"]`` (``strict=True``
    refuses the file before any fold is coded); ``level``/``separator`` say how code paths are read.

    ``second_coder``: a second person's codings of the same interviews: the pooled held-out figures gain, per
    code, the second coder's kappa beside the machine's (see :func:`themekit.analysis.evaluate.beside_second_coder`).

    ``adapt_encoder``: whether each fold's classifier learns from the encoder adapted to the corpus
    (:mod:`themekit.nlp.adapt`); ``None``: as the run did.
    """
    if not isinstance(run, RunRecord):
        run = read_run(run)
    human = HumanCodings.from_file(
        gold, layout=layout, sheet=sheet, level=level, separator=separator, progress=progress
    )
    groups = _folds(run, human, folds)
    if strict:  # refuse the file now, not after coding a fold
        map_gold(human.source, run.segments, human.code_names(run.codebook), frame=human.placeable(),
                 turns=run.corpus.turns, transcripts=run.corpus, strict=True)  # fmt: skip
    methods = list(dict.fromkeys([*run.settings.get("methods", ["rule", "semantic"]), "classifier"]))
    excerpts, segments, summaries = [], [], []
    embedded_with = adapted = None
    for k, held_out in enumerate(groups, start=1):
        fold_run = _code_without(run, human, held_out, k, methods=methods, cache_dir=cache_dir, adapt=adapt_encoder)
        fold_excerpts = fold_run.excerpts[fold_run.excerpts["transcript"].isin(held_out)]
        fold_segments = fold_run.segments[fold_run.segments["transcript"].isin(held_out)]
        result = evaluate_frames(
            fold_excerpts,
            fold_segments,
            human.source,
            run.codebook,
            min_support=min_support,
            turns=fold_run.corpus.turns,
            strict=strict,
            scope=scope,
            frame=human.placeable(held_out),
            transcripts=fold_run.corpus,
            level=level,
            separator=separator,
        )
        excerpts.append(fold_excerpts)
        segments.append(fold_segments)
        summaries.append((held_out, result, _calibration_stats(fold_run.stats)))
        embedded_with = (fold_run.settings.get("embedding") or {}).get("identity")
        adapted = (fold_run.stats.get("classifier_encoder") or {}).get("identity")
        if progress:
            progress("cross-validation", 1, len(groups))
    pooled = evaluate_frames(
        pd.concat(excerpts),
        pd.concat(segments),
        human.source,
        run.codebook,
        min_support=min_support,
        turns=run.corpus.turns,
        strict=strict,
        scope=scope,
        frame=human.placeable(),
        transcripts=run.corpus,
        level=level,
        separator=separator,
    )
    pooled.overall["folds"] = len(groups)
    pooled.overall["embedding"] = embedded_with  # the model the folds embedded with: the run's own
    if adapted is not None:  # and the one their classifiers learned from, adapted to the corpus
        pooled.overall["adapted_encoder"] = adapted
    if second_coder is not None:
        pooled = beside_second_coder(
            pooled, pd.concat(excerpts), pd.concat(segments), human, second_coder, run, min_support=min_support,
            scope=scope, layout=layout, sheet=sheet,
        )  # fmt: skip
    return CrossValidation(
        pooled, [_fold_entry(t, r, c) for t, r, c in summaries], _spread([(t, r) for t, r, _ in summaries])
    )


def _folds(run: RunRecord, human: HumanCodings, folds: int) -> list[list[str]]:
    """The transcripts the human codings name, dealt in name order into at most ``folds`` groups."""
    named = human.transcripts_named({t.id for t in run.corpus})
    coded = sorted(t.id for t in run.corpus if t.id in named)
    if folds < 2:
        raise OptionError(f"cross-validation needs at least 2 folds (folds={folds}).", param="folds")
    if len(coded) < 2:
        raise OptionError(
            f"{human.source}: cross-validation needs human codings of at least 2 of the run's transcripts "
            f"(found {len(coded)}); code more interviews by hand, or evaluate without folds=.",
            param="folds",
        )
    k = min(folds, len(coded))
    return [coded[i::k] for i in range(k)]


def _code_without(
    run: RunRecord, human: HumanCodings, held_out: list[str], k: int, *, adapt: bool | None = None, **options: Any
) -> RunRecord:
    """The run's corpus coded again, the classifier trained without the held-out transcripts' codings (from the
    encoder adapted to the corpus where ``adapt`` says so, or, when it is ``None``, where the run's did)."""
    rows = human.of_transcripts(held_out, keep=False)
    digest = hashlib.sha256(rows.to_csv(index=False).encode("utf-8")).hexdigest()
    training = HumanCodings(
        rows,
        f"{human.source} without fold {k} ({', '.join(held_out)})",
        digest,
        whole_transcripts=human.whole_transcripts,
        level=human.level,
        separator=human.separator,
    )
    settings = run.settings
    labels = settings.get("interviewer_labels", "default")
    model = run_embedding_model(settings)
    if model is not None:  # the model the run embedded with, not the default
        options = {"embedding_model": model, **options}
    if adapt if adapt is not None else settings.get("adapt_encoder"):  # the classifier's features, adapted
        options = {"adapt_encoder": True, **options}
    return pipeline.code(
        run.corpus,
        run.codebook,
        unit=settings.get("unit", "sentence"),  # type: ignore[arg-type]
        min_words=settings.get("min_words", 5),
        spacy_model=settings.get("spacy_model", "blank"),
        interviewer_labels=None if labels == "default" else labels,
        code_interviewer=settings.get("code_interviewer", False),
        gold=training,
        project=None,
        **options,
    )


def _calibration_stats(stats: Any) -> dict[str, Any]:
    """How a fold's classifier was calibrated to its training coder: per code threshold, the most codes a segment
    keeps, and the expected calibration error measured by cross-validation within the fold's training part."""
    report = stats.get("classifier") or {}
    return {
        "max_codes": stats.get("classifier_max_codes"),
        "cv_ece": stats.get("classifier_cv_ece"),
        "thresholds": {code: entry["threshold"] for code, entry in report.items() if "threshold" in entry},
        # the training rows left out (listed with the pooled figures' skipped rows)
        "rows_skipped": len(stats.get("classifier_skipped") or []),
    }


def _fold_entry(transcripts: list[str], result: Evaluation, calibration: dict[str, Any]) -> dict[str, Any]:
    o = result.overall
    return {
        "transcripts": transcripts,
        "segments_scored": o["segments_scored"],
        "codes_scored": o["codes_scored"],
        "micro": o["micro"],
        "macro": o["macro"],
        "classifier": calibration,
    }


def _spread(summaries: list[tuple[list[str], Evaluation]]) -> pd.DataFrame:
    """Per code: gold segments in all, and the mean and standard deviation of F1 and kappa over the folds."""
    frames = [r.per_code[["code", "support", "f1", "kappa"]] for _, r in summaries]
    table = pd.concat(frames).groupby("code", sort=False)
    out = pd.DataFrame(
        {
            "support": table["support"].sum(),
            "f1_mean": table["f1"].mean().round(4),
            "f1_sd": table["f1"].std(ddof=0).round(4),
            "kappa_mean": table["kappa"].mean().round(4),
            "kappa_sd": table["kappa"].std(ddof=0).round(4),
        }
    )
    return out.reset_index()
