"""Does the learning review queue teach the classifier faster than reviewing in random order?

The bundled sample is coded once by rules and semantic similarity (no
classifier). An oracle reviewer then answers the suggestions one by one from
the sample's codings/gold.csv, starting from no decisions: accept when gold gives the
suggested code to that segment, change to the segment's first gold code when
gold gives it others, else reject. The same suggestions are reviewed in the
order of :class:`themekit.review.queue.QueueLearner` (retraining in the
background after every batch of decisions, waited for) and in random orders
(several seeds).

After each batch the classifier's macro-F1 is measured by cross-validation on
the gold: the transcripts are dealt into two folds; for each, the classifier
learns from the decisions on the other fold's transcripts and codes the
fold's segments, scored against gold on every segment (codes with at least 5
gold segments; a code with no model scores 0). The table gives the queue's
figure and the median over random seeds at each point, and how many
decisions the queue needs to reach the random order's final figure.

    python benchmarks/review_queue.py [--batch 25] [--steps 20] [--seeds 3] [--json out.json] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import tempfile
import time
from pathlib import Path

import numpy as np

import themekit
from themekit.coding import METHODS, CoderContext
from themekit.human.gold import HumanCodings, load_gold
from themekit.nlp.language import load_pipeline
from themekit.nlp.segment import Segmentation
from themekit.pipeline.steps import resolve_embedder
from themekit.review.queue import QueueLearner
from themekit.review.sheets import review_rows
from themekit.store import Project, decisions_gold

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "transcripts_sample"
CODEBOOK = ROOT / "codebooks" / "ati-keyworker.yaml"
GOLD = SAMPLE / "codings" / "gold.csv"
#: How long each of the queue's retrains took.
TRAINING_SECONDS: list[float] = []


class Scorer:
    """Cross-validated macro-F1 of the classifier trained on a set of decisions, against the gold."""

    def __init__(self, run, cache: Path) -> None:
        self.run = run
        units = run.units
        frame = run.segments[["transcript", "segment", "start", "end", "text"]].astype({"transcript": str})
        mapped = load_gold(GOLD, frame, {c.id for c in run.codebook}, transcripts={t.id: t for t in run.corpus})
        row = {(s.transcript.id, s.index): i for i, s in enumerate(units)}
        self.gold: dict[int, set[str]] = {}
        for t, s, c in mapped.itertuples(index=False):
            self.gold.setdefault(row[(t, s)], set()).update([c] if c else [])
        ids = [t.id for t in run.corpus]
        self.folds = [set(ids[0::2]), set(ids[1::2])]
        embedder = resolve_embedder(None, None, tuple(s.text for s in units))
        self.context = CoderContext(nlp=load_pipeline("blank"), embedder=lambda: embedder, cache_dir=cache)
        self.context.earlier["rule"] = [c for c in run.codings if "rule" in c.method.split("+")]
        self.context.human = HumanCodings.from_frame(decisions_gold(None, run.codebook, decisions=[]), "none")
        self.features = (
            METHODS["classifier"]
            .build(self.context)
            .corpus_features(Segmentation(list(units), unit="sentence"), run.codebook)
        )
        counts: dict[str, int] = {}
        for codes in self.gold.values():
            for c in codes:
                counts[c] = counts.get(c, 0) + 1
        self.scored = [c.id for c in run.codebook if counts.get(c.id, 0) >= 5]

    def macro_f1(self, decisions) -> float:
        predicted: dict[int, set[str]] = {}
        for fold in self.folds:
            train = [d for d in decisions if d.transcript not in fold]
            self.context.human = HumanCodings.from_frame(
                decisions_gold(None, self.run.codebook, decisions=train), "decisions"
            )
            fit = METHODS["classifier"].build(self.context).fit_corpus(self.features, self.run.codebook)
            for code, proba in fit.probabilities.items():
                for i in np.flatnonzero(proba >= fit.threshold):
                    if self.run.units[i].transcript.id in fold:
                        predicted.setdefault(int(i), set()).add(code)
        f1s = []
        for code in self.scored:
            tp = sum(1 for i, codes in predicted.items() if code in codes and code in self.gold.get(i, ()))
            n_pred = sum(1 for codes in predicted.values() if code in codes)
            n_gold = sum(1 for codes in self.gold.values() if code in codes)
            f1s.append(2 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0)
        return float(np.mean(f1s))


def answer(row, gold: dict[int, set[str]], index: dict, codebook_order: list[str]) -> dict:
    """The oracle's decision on a review row, as the project records it."""
    item = row["_item"]
    truth = gold.get(index[(item["transcript"], item["start"], item["end"])], set())
    if item["code"] in truth:
        decision, new_code = "accept", None
    elif truth:
        decision, new_code = "change", next(c for c in codebook_order if c in truth)
    else:
        decision, new_code = "reject", None
    return {**{k: item[k] for k in ("transcript", "transcript_sha256", "start", "end", "quote", "code")},
            "decision": decision, "new_code": new_code, "note": "", "item": item["id"]}  # fmt: skip


def review(
    run, scorer: Scorer, project_path: Path, cache: Path, *, seed: int | None, batch: int, steps: int
) -> list[float]:
    """Macro-F1 after each batch of decisions, reviewing in queue order (``seed`` None) or a random order."""
    rows = review_rows(run)
    index = {(s.transcript.id, s.start, s.end): i for i, s in enumerate(run.units)}
    order = [c.id for c in run.codebook]
    project = Project(project_path)
    project.record_run(run)
    project.add_review_items([{**r["_item"], "run": project.run_key(run)} for r in rows])
    learner = QueueLearner(project, run, coder="oracle", retrain_every=batch, cache_dir=cache) if seed is None else None
    if seed is not None:
        random.Random(seed).shuffle(rows)
    decided: set[str] = set()
    figures = []
    try:
        for _ in range(steps):
            if learner is not None:
                learner.wait()
                if learner.training_seconds is not None:
                    TRAINING_SECONDS.append(learner.training_seconds)
                rows = learner.order(rows)
            todo = [r for r in rows if r["id"] not in decided][:batch]
            project.add_decisions([answer(r, scorer.gold, index, order) for r in todo], coder="oracle")
            decided.update(r["id"] for r in todo)
            if learner is not None:
                for _ in todo:
                    learner.note_decision()
            figures.append(scorer.macro_f1(project.decisions()))
    finally:
        if learner is not None:
            learner.close()
        project.close()
    return figures


def needed(curve: list[float], target: float, batch: int) -> int | None:
    """Decisions the curve needs to reach ``target`` (None: not within the curve)."""
    return next(((k + 1) * batch for k, f in enumerate(curve) if f >= target - 1e-9), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=25, help="decisions between retrains and measurements")
    parser.add_argument("--steps", type=int, default=20, help="batches reviewed")
    parser.add_argument("--seeds", type=int, default=3, help="random orders")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--cache", type=Path, help="embedding cache folder to reuse (default: a fresh one)")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp) / "cache"
        run = themekit.code(SAMPLE, CODEBOOK, methods="rule,semantic", cache_dir=cache, project=None, gold=None)
        scorer = Scorer(run, cache)
        queue = review(run, scorer, Path(tmp) / "queue.db", cache, seed=None, batch=args.batch, steps=args.steps)
        randoms = [review(run, scorer, Path(tmp) / f"random{s}.db", cache, seed=s, batch=args.batch, steps=args.steps)
                   for s in range(args.seeds)]  # fmt: skip
    median = [float(np.median(col)) for col in zip(*randoms)]
    target = median[-1]
    print(f"Sample: {len(review_rows(run))} suggestions, {len(scorer.scored)} codes scored; machine: {platform.machine()}, "
          f"Python {platform.python_version()}; {time.perf_counter() - started:.0f} s")  # fmt: skip
    print(f"{'decisions':>9} | {'queue':>6} | {'random (median of ' + str(args.seeds) + ')':>22}")
    for k, (q, r) in enumerate(zip(queue, median)):
        print(f"{(k + 1) * args.batch:>9} | {q:>6.3f} | {r:>22.3f}")
    reach = needed(queue, target, args.batch)
    total = args.batch * args.steps
    print(f"random order after {total} decisions: macro-F1 {target:.3f}; the queue reaches it after "
          f"{reach if reach is not None else f'more than {total}'} decisions")  # fmt: skip
    if TRAINING_SECONDS:
        print(f"queue retrains: median {np.median(TRAINING_SECONDS):.1f} s, longest {max(TRAINING_SECONDS):.1f} s, "
              f"first (features of every segment too) {TRAINING_SECONDS[0]:.1f} s")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"batch": args.batch, "queue": queue, "random": randoms, "random_median": median,
                                         "queue_reaches_random_final_at": reach,
                                         "training_seconds": TRAINING_SECONDS}, indent=2) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
