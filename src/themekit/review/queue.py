"""A review queue that learns from every decision: the suggestions that teach the classifier most come first.

:func:`queue_order` is the rule. Each suggestion has a probability for its
suggested code, calibrated so that 0.5 is the decision threshold: the current
classifier's where that code has a model, else the suggestion's own score
(every method's score is calibrated the same way), which is the cold start
before any model. Then:

1. Codes with fewer than ``few`` positives (:data:`FEW_POSITIVES`, the
   classifier's own minimum to train a code) come first, round-robin: the code
   with the fewest positives (then codebook order) gives its likeliest positive
   (highest probability), then the next code, and so on; each gives at most as
   many suggestions as it lacks positives. A code has no model to be unsure
   about until it has positives, and negatives come with every decision on
   other codes. A code whose suggestions keep being rejected leaves this group
   after ``PATIENCE`` x ``few`` decisions.
2. Then every other suggestion, least certain first (uncertainty sampling):
   by its distance from the threshold, ``|p - 0.5|``, stretched by
   ``sqrt((1 + n) / (1 + few))`` where ``n`` is its code's decisions, so codes
   with few decisions come forward.

Ties go to transcript order (the order the rows were given in).

:class:`QueueLearner` keeps a classifier trained on the decisions so far.
Every ``retrain_every`` decisions it retrains in one background thread (a
retrain asked for while one runs is run once after it); each retrain reads
the project's decisions afresh, learns with
:meth:`themekit.coding.classifier.ClassifierCoder.fit_corpus` from features of
the run's segments computed once (embeddings through the embedding cache), and
replaces the model with a new immutable snapshot in one assignment, so
:meth:`QueueLearner.order` never waits. A retrain that fails is logged and its
message kept in :attr:`QueueLearner.error`; the last good model stays.

Per code, :meth:`QueueLearner.status` gives the decisions and positives so far,
and how far the classifier agrees with the coder: F1 and Cohen's kappa of
its cross-validated predictions on the decided segments (3 folds grouped by
transcript when the decisions cover two transcripts or more, else by segment)
at its decision threshold. They are ``None`` until the code has
:data:`MIN_AGREEMENT` positive and as many negative segments (the classifier's
own minimum to train a code). A code is ``ready`` once its kappa reaches
:data:`READY_KAPPA` (0.6, the lower bound of "substantial" agreement in Landis
and Koch's reading, and a common bar between two human coders) on at least
:data:`READY_POSITIVES` positives, so a kappa from a handful of examples does
not count. The threshold is chosen on the same held-out predictions, so the
figures lean slightly optimistic.

Which decisions teach: those of ``coder`` when one is given (the agreement is
the classifier's with that coder), else everyone's, without disputed ones
(:func:`themekit.store.settled`); only decisions on the run's transcripts as
the run read them (same content hash) count.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from themekit.coding.classifier import MIN_POSITIVES
from themekit.errors import OptionError
from themekit.human.gold import HumanCodings
from themekit.nlp.embed import DEFAULT_CACHE_DIR
from themekit.runs.record import RunRecord, run_embedding_model

if TYPE_CHECKING:
    from themekit.coding.classifier import SegmentFit
    from themekit.store import Decision, Project

__all__ = [
    "FEW_POSITIVES",
    "MIN_AGREEMENT",
    "PATIENCE",
    "READY_KAPPA",
    "READY_POSITIVES",
    "QueueLearner",
    "queue_order",
]

#: Codes with fewer positives than this come first in the queue, round-robin: the classifier's minimum to train one.
FEW_POSITIVES = MIN_POSITIVES
#: A code stays among the first while it has fewer positives than ``FEW_POSITIVES`` and fewer decisions than this
#: many times it.
PATIENCE = 3
#: Positive and negative decided segments a code needs before its agreement is measured.
MIN_AGREEMENT = MIN_POSITIVES
#: Cross-validated Cohen's kappa at which a code is ready: the classifier may code it alone.
READY_KAPPA = 0.6
#: Positives a code needs, besides its kappa, to be ready.
READY_POSITIVES = 10

log = logging.getLogger(__name__)


def queue_order(
    rows: Sequence[dict[str, Any]],
    probabilities: Mapping[str, float],
    decision_counts: Mapping[str, int],
    *,
    positive_counts: Mapping[str, int] | None = None,
    few: int = FEW_POSITIVES,
    codes: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """``rows`` (review rows: ``id``, ``suggested_code``, ``score``) most teaching first, by the rule in the module's
    documentation. ``probabilities``: row id → the current model's calibrated probability for the row's code (rows
    left out use their ``score``); ``decision_counts``, ``positive_counts``: code → decisions and positives so far
    (positives default to the decisions); ``codes``: codebook order, for ties."""
    positives = decision_counts if positive_counts is None else positive_counts
    rank = {code: k for k, code in enumerate(codes)}
    by_code: dict[str, list[tuple[float, int]]] = {}
    for k, row in enumerate(rows):
        by_code.setdefault(row["suggested_code"], []).append((float(probabilities.get(row["id"], row["score"])), k))
    lacking = [c for c in by_code if positives.get(c, 0) < few and decision_counts.get(c, 0) < PATIENCE * few]
    lacking.sort(key=lambda c: (positives.get(c, 0), rank.get(c, len(rank)), min(k for _, k in by_code[c])))
    turns = {
        c: [k for _, k in sorted(by_code[c], key=lambda e: (-e[0], e[1]))][: few - positives.get(c, 0)] for c in lacking
    }
    first: list[int] = []
    for depth in range(max((len(t) for t in turns.values()), default=0)):
        first.extend(turns[c][depth] for c in lacking if depth < len(turns[c]))
    taken = set(first)
    rest = [
        (abs(p - 0.5) * math.sqrt((1 + decision_counts.get(code, 0)) / (1 + few)), k)
        for code, entries in by_code.items() for p, k in entries if k not in taken
    ]  # fmt: skip
    return [rows[k] for k in first] + [rows[k] for _, k in sorted(rest)]


@dataclass(frozen=True)
class _Model:
    """One finished retrain, never changed after: calibrated scores per code and segment, agreement per code."""

    scores: dict[str, np.ndarray] = field(default_factory=dict)
    agreement: dict[str, tuple[float, float]] = field(default_factory=dict)  # code → (cv F1, cv kappa)
    decisions: int = 0


#: A trainer: the decisions as human codings → what the classifier learned (see ``ClassifierCoder.fit_corpus``).
Trainer = Callable[[HumanCodings], "SegmentFit"]


class QueueLearner:
    """A review queue for ``run`` (recorded in ``project``) whose classifier learns from ``coder``'s decisions.

    ``retrain_every``: decisions between retrains. ``blind``: the reviewer sees and teaches with their own
    decisions only (needs ``coder``). ``embedding_model``, ``cache_dir``: as for :func:`themekit.code` (default:
    the configured or installed model, the default cache). ``trainer``: replaces the classifier (tests).
    When the project already holds decisions, a first retrain starts at once.
    """

    def __init__(
        self,
        project: Project,
        run: RunRecord,
        *,
        coder: str | None = None,
        retrain_every: int = 10,
        blind: bool = False,
        embedding_model: str | Path | None = None,
        cache_dir: str | Path | None = DEFAULT_CACHE_DIR,
        trainer: Trainer | None = None,
    ) -> None:
        coder = (coder or "").strip() or None
        if blind and coder is None:
            raise OptionError("a blind queue is for one coder: give coder=NAME", param="coder")
        if retrain_every < 1:
            raise OptionError(
                f"retrain_every={retrain_every}: retrain after at least 1 decision", param="retrain_every"
            )
        self.project_path = Path(project.path)
        self.run, self.coder, self.blind, self.retrain_every = run, coder, blind, retrain_every
        #: what the background retrain is doing now, in words ("" while none runs): shown as it goes
        self.progress = ""
        self._trainer = trainer or _ClassifierTrainer(run, embedding_model, cache_dir, report=self._report)
        self._row_of = {(s.transcript.id, s.start, s.end): i for i, s in enumerate(run.units)}
        self._sha = {t.id: t.sha256 for t in run.corpus}
        self._model = _Model()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False
        self._closed = False
        self._since = 0
        self._read: tuple[tuple[int, int], list[Decision]] | None = None
        #: the message of the last retrain that failed (``None`` after one succeeds)
        self.error: str | None = None
        #: seconds the last finished retrain took (``None`` before one)
        self.training_seconds: float | None = None
        #: the decisions the last retrain could not place on the run's segments, each with why (left out, not fatal)
        self.skipped: list[str] = []
        if self._decisions():
            self._retrain()

    # -- the request side: never waits for training -----------------------------------------------------------------

    def order(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """``rows`` (from :func:`themekit.review.sheets.review_rows`), most teaching first, by the latest model;
        rows whose coding the teaching decisions already decided go last, in the order given."""
        model = self._model
        probabilities: dict[str, float] = {}
        for row in rows:
            item = row["_item"]
            scores = model.scores.get(item["code"])
            i = self._row_of.get((item["transcript"], item["start"], item["end"]))
            if scores is not None and i is not None:
                probabilities[row["id"]] = float(scores[i])
        tally, decided = self._tally()
        counts, positives = {c: n for c, (n, _) in tally.items()}, {c: p for c, (_, p) in tally.items()}
        key = lambda row: (row["_item"]["transcript"], row["_item"]["start"], row["_item"]["end"], row["_item"]["code"])
        open_rows = [r for r in rows if key(r) not in decided]
        ordered = queue_order(
            open_rows, probabilities, counts, positive_counts=positives, codes=[c.id for c in self.run.codebook]
        )
        return ordered + [r for r in rows if key(r) in decided]

    def note_decision(self) -> None:
        """Count a recorded decision; every ``retrain_every`` of them start a retrain in the background."""
        self._read = None  # read the decisions again, whatever the store's mark says
        with self._lock:
            self._since += 1
            due = self._since >= self.retrain_every
            if due:
                self._since = 0
        if due:
            self._retrain()

    def status(self) -> list[dict[str, Any]]:
        """Per code of the run's codebook: decisions and positives so far, the classifier's cross-validated F1
        and kappa against the coder (``None`` until measured), and whether the code is ready."""
        model, (tally, _) = self._model, self._tally()
        rows = []
        for code in self.run.codebook:
            decided, positives = tally.get(code.id, (0, 0))
            f1, kappa = model.agreement.get(code.id, (None, None))
            ready = kappa is not None and kappa >= READY_KAPPA and positives >= READY_POSITIVES
            rows.append({"code": code.id, "label": code.label, "decisions": decided, "positives": positives,
                         "cv_f1": f1, "cv_kappa": kappa, "ready": ready})  # fmt: skip
        return rows

    @property
    def training(self) -> bool:
        """Whether a retrain is running."""
        with self._lock:
            return self._thread is not None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: no retrain starts any more."""
        return self._closed

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no retrain runs or is due (at most ``timeout`` seconds); whether training has ended."""
        with self._lock:
            thread = self._thread
        while thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                return False
            with self._lock:
                thread = self._thread
        return True

    def close(self) -> None:
        """Stop: no retrain starts any more; wait for the running one to end."""
        with self._lock:
            self._closed, self._again = True, False
            thread = self._thread
        if thread is not None:
            thread.join()

    # -- the background side ------------------------------------------------------------------------------------------

    def _retrain(self) -> None:
        with self._lock:
            if self._closed:
                return
            if self._thread is not None:
                self._again = (
                    True  # the running retrain may have read the decisions before the latest: once more after it
                )
                return
            self._thread = threading.Thread(target=self._work, name="themekit-queue-retrain", daemon=True)
            self._thread.start()

    def _report(self, text: str) -> None:
        self.progress = text  # one assignment: a request reading it sees the old text or the new

    def _work(self) -> None:
        while True:
            started = time.perf_counter()
            try:
                self._model = self._train()
                self.error = None
                self.training_seconds = round(time.perf_counter() - started, 3)
            except Exception as exc:
                log.exception("retraining the review queue's classifier failed")
                self.error = f"retraining failed: {exc}"
            with self._lock:
                if not self._again or self._closed:
                    self._thread = None
                    self._report("")
                    return
                self._again = False

    def _train(self) -> _Model:
        from themekit.store import decisions_gold

        self._report("reading the decisions")
        decisions = self._decisions()
        human = HumanCodings.from_frame(
            decisions_gold(None, self.run.codebook, decisions=decisions), "project decisions"
        )  # type: ignore[arg-type]
        self._report(f"training the classifier on {len(decisions)} decision(s)")
        fit = self._trainer(human)
        self.skipped = list(getattr(fit, "skipped", []))
        scores = {code: s for code in fit.probabilities if (s := fit.scores(code)) is not None}
        self._report("measuring how far the classifier agrees with the decisions")
        return _Model(scores, _agreement(fit), len(decisions))

    # -- the decisions ------------------------------------------------------------------------------------------------

    def _decisions(self) -> list[Decision]:
        """The decisions that teach (see the module's documentation), read with a connection of this thread's own;
        read again only when the store's mark (count, latest id) moved or a decision was noted since."""
        from themekit.store import Project, settled

        with Project(self.project_path) as project:
            mark = project.decisions_mark()
            cached = self._read
            if cached is not None and cached[0] == mark:
                return cached[1]  # nothing recorded since: no need to read them all again
            decisions = project.decisions()
        mine = [
            d
            for d in decisions
            if (self.coder is None or d.coder == self.coder) and self._sha.get(d.transcript) == d.transcript_sha256
        ]
        teaching = settled(mine)
        self._read = (mark, teaching)  # one assignment: a thread reading it sees the old pair or the new
        return teaching

    def _tally(self) -> tuple[dict[str, tuple[int, int]], set[tuple[str, int, int, str]]]:
        """Per code: (decided spans, spans given the code), from each span's latest decision on the code; and the
        (transcript, start, end, code) of every coding decided."""
        from themekit.store import resolve_code_ids

        ids = resolve_code_ids(self.run.codebook)
        latest: dict[tuple[str, int, int, str], Decision] = {}
        for d in self._decisions():
            latest[(d.transcript, d.start, d.end, d.code)] = d
        counts: dict[str, list[int]] = {}
        for d in latest.values():
            verdicts = {"accept": [(d.code, 1)], "add": [(d.code, 1)], "reject": [(d.code, 0)]}.get(
                d.decision, [(d.code, 0), (d.new_code or "", 1)]
            )
            for code, given in verdicts:
                if code in ids:
                    entry = counts.setdefault(ids[code], [0, 0])
                    entry[0] += 1
                    entry[1] += given
        return {code: (n, p) for code, (n, p) in counts.items()}, set(latest)


def _agreement(fit: SegmentFit) -> dict[str, tuple[float, float]]:
    """Per code with enough positives and negatives: cross-validated (F1, Cohen's kappa) at the fit's threshold."""
    from sklearn.metrics import cohen_kappa_score, f1_score

    figures = {}
    for code, (y, proba) in fit.held_out.items():
        if y.sum() < MIN_AGREEMENT or len(y) - y.sum() < MIN_AGREEMENT:
            continue
        predicted = (proba >= fit.threshold).astype(int)
        kappa = float(np.nan_to_num(cohen_kappa_score(y, predicted)))  # y holds both classes: nan only if degenerate
        figures[code] = (round(float(f1_score(y, predicted, zero_division=0)), 4), round(kappa, 4))
    return figures


class _ClassifierTrainer:
    """The classifier as the pipeline builds it for ``run`` (its rules' codings as features), learning again from
    each set of decisions; the features of the run's segments are computed on the first fit, in its thread."""

    def __init__(
        self,
        run: RunRecord,
        embedding_model: str | Path | None,
        cache_dir: str | Path | None,
        *,
        report: Callable[[str], None] = lambda text: None,
    ) -> None:
        self.run, self.embedding_model, self.cache_dir, self.report = run, embedding_model, cache_dir, report
        self._context: Any = None
        self._features: Any = None

    def _setup(self) -> None:
        from themekit.coding import CoderContext
        from themekit.config import load_settings
        from themekit.nlp.language import load_pipeline
        from themekit.nlp.segment import Segmentation
        from themekit.pipeline.steps import resolve_embedder

        self.report("loading the embedding model (first training only)")
        config = load_settings(None)
        # the model asked for, else the one the run embedded with, else the default
        model = self.embedding_model or run_embedding_model(self.run.settings) or config.embedding.model
        sha = config.embedding.sha256
        texts = tuple(s.text for s in self.run.units)
        embedder = resolve_embedder(model, sha, texts)
        self.report(f"reading the features of the run's {len(texts):,} segments (first training only)")
        # the adapted encoder only where the run kept it: its cross-validation may have found the model as it is better
        adapt = bool(self.run.settings.get("adapt_encoder")) and (
            (self.run.stats.get("classifier_encoder") or {}).get("used") is not False
        )
        context = CoderContext(nlp=load_pipeline(self.run.settings.get("spacy_model", "blank")), embedder=lambda: embedder,
                               cache_dir=Path(self.cache_dir) if self.cache_dir else None, adapt=adapt)  # fmt: skip
        context.earlier["rule"] = [c for c in self.run.codings if "rule" in c.method.split("+")]
        segmentation = Segmentation(segments=list(self.run.units), unit=self.run.settings.get("unit"))
        empty = HumanCodings.from_frame(_empty_gold(), "no decisions")
        self._features = self._coder(context, empty).corpus_features(segmentation, self.run.codebook)
        self._context = context

    @staticmethod
    def _coder(context: Any, human: HumanCodings) -> Any:
        from themekit.coding import METHODS

        context.human = human
        return METHODS["classifier"].build(context)

    def __call__(self, human: HumanCodings) -> SegmentFit:
        if self._features is None:
            self._setup()
            self.report("training the classifier")
        return self._coder(self._context, human).fit_corpus(self._features, self.run.codebook)


def _empty_gold() -> Any:
    import pandas as pd

    return pd.DataFrame(columns=["transcript", "char_start", "char_end", "code", "text"])
