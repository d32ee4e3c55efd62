"""The learning review queue: what comes first, what the status says, and that training never blocks a request."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import themekit
from themekit.coding.classifier import SegmentFit
from themekit.errors import OptionError
from themekit.review.queue import READY_KAPPA, QueueLearner, queue_order
from themekit.review.sheets import review_rows
from themekit.store import Project

from .conftest import write


def rows_of(*specs: tuple[str, str, float]) -> list[dict]:
    """Review rows as the queue reads them: (id, suggested code, score)."""
    return [{"id": i, "suggested_code": code, "score": score} for i, code, score in specs]


def ids(rows: list[dict]) -> list[str]:
    return [r["id"] for r in rows]


def test_queue_order_puts_the_least_certain_suggestions_first():
    rows = rows_of(("a1", "debt", 0.9), ("a2", "debt", 0.9), ("b1", "trust", 0.9), ("b2", "trust", 0.9))
    probabilities = {"a1": 0.95, "a2": 0.52, "b1": 0.45, "b2": 0.10}
    assert ids(queue_order(rows, probabilities, {"debt": 20, "trust": 20})) == ["a2", "b1", "b2", "a1"]


def test_queue_order_without_a_model_uses_the_scores_nearest_the_threshold():
    rows = rows_of(("a1", "debt", 0.95), ("a2", "debt", 0.55), ("a3", "debt", 0.55))
    # a2 and a3 tie: transcript order (the order given) decides
    assert ids(queue_order(rows, {}, {"debt": 50})) == ["a2", "a3", "a1"]


def test_queue_order_serves_codes_short_of_positives_first_round_robin():
    rows = rows_of(
        ("d1", "debt", 0.51), ("d2", "debt", 0.52),
        ("t1", "trust", 0.9), ("t2", "trust", 0.8), ("t3", "trust", 0.7),
        ("l1", "lonely", 0.95), ("l2", "lonely", 0.6),
    )  # fmt: skip
    order = ids(queue_order(rows, {}, {"debt": 30, "trust": 0, "lonely": 1}, few=2))
    # trust (no positives) then lonely (one), each its likeliest positive first; trust lacks two positives, lonely one;
    # then the rest by uncertainty, debt's stretched by its 30 decisions
    assert order == ["t1", "l1", "t2", "d1", "d2", "l2", "t3"]


def test_queue_order_lets_a_code_whose_suggestions_keep_failing_drop_back():
    rows = rows_of(("d1", "debt", 0.9), ("t1", "trust", 0.56))
    # debt: 5 decisions, none positive (under PATIENCE (3) x few (2): still served first); then 7, and it drops back
    assert ids(queue_order(rows, {}, {"debt": 5, "trust": 9}, positive_counts={"debt": 0, "trust": 9}, few=2)) == [
        "d1",
        "t1",
    ]
    assert ids(queue_order(rows, {}, {"debt": 7, "trust": 9}, positive_counts={"debt": 0, "trust": 9}, few=2)) == [
        "t1",
        "d1",
    ]


def test_queue_order_brings_codes_with_fewer_decisions_forward():
    rows = rows_of(("d1", "debt", 0.9), ("t1", "trust", 0.9))
    # debt's suggestion is nearer the threshold, but debt has 100 decisions and trust 5
    assert ids(queue_order(rows, {"d1": 0.55, "t1": 0.6}, {"debt": 100, "trust": 5}, few=5)) == ["t1", "d1"]


# -- the learner on a run built by hand ------------------------------------------------------------------------


def decide(project: Project, run, choices: dict[tuple[str, int, str], str], coder: str = "alex") -> None:
    """Record decisions on the run's segments: (transcript, segment, code) → accept / reject / add."""
    units = {(s.transcript.id, s.index): s for s in run.units}
    project.add_decisions(
        [
            {"transcript": t, "transcript_sha256": units[(t, i)].transcript.sha256, "start": units[(t, i)].start,
             "end": units[(t, i)].end, "quote": units[(t, i)].text, "code": code, "decision": decision}
            for (t, i, code), decision in choices.items()
        ],
        coder=coder,
    )  # fmt: skip


class GatedTrainer:
    """A trainer that waits for ``gate`` and then gives ``fit``; counts its calls and the decisions it saw."""

    def __init__(self, fit: SegmentFit) -> None:
        self.fit = fit
        self.gate = threading.Event()
        self.started = threading.Event()
        self.calls = 0
        self.seen: list[int] = []

    def __call__(self, human):
        self.calls += 1
        self.seen.append(len(human.rows))
        self.started.set()
        assert self.gate.wait(30), "the test never opened the gate"
        return self.fit


def a_fit(run, debt_scores: dict[tuple[str, int], float]) -> SegmentFit:
    """A fit whose debt model gives these probabilities (0 elsewhere), with held-out predictions for debt that
    agree with the coder on 11 of 12 segments."""
    proba = np.array([debt_scores.get((s.transcript.id, s.index), 0.0) for s in run.units])
    y = np.array([1] * 6 + [0] * 6)
    held = np.array([0.9] * 6 + [0.1] * 5 + [0.8])
    return SegmentFit(0.5, {"debt": proba}, {}, {"debt": (y, held)}, [])


def test_queue_learner_counts_decisions_per_code_and_reports_agreement(tiny_run, tmp_path):
    project = Project(tmp_path / "project.db")
    decide(
        project, tiny_run, {("P01", 1, "debt"): "accept", ("P02", 1, "debt"): "reject", ("P01", 2, "trust"): "accept"}
    )
    decide(project, tiny_run, {("P01", 0, "debt"): "add"}, coder="sam")
    trainer = GatedTrainer(a_fit(tiny_run, {}))
    learner = QueueLearner(project, tiny_run, coder="alex", retrain_every=5, trainer=trainer)
    try:
        status = {s["code"]: s for s in learner.status()}
        assert list(status) == ["loneliness", "debt", "trust"]
        # sam's decision is not alex's: it neither counts nor teaches
        assert (status["debt"]["decisions"], status["debt"]["positives"]) == (2, 1)
        assert (status["trust"]["decisions"], status["trust"]["positives"]) == (1, 1)
        assert status["debt"]["cv_kappa"] is None  # the first retrain (decisions exist) is still waiting
        assert learner.training
        assert trainer.started.wait(30) and learner.progress == "training the classifier on 3 decision(s)"
        trainer.gate.set()
        assert learner.wait(30) and learner.progress == ""
        status = {s["code"]: s for s in learner.status()}
        assert status["debt"]["cv_f1"] == pytest.approx(12 / 13, abs=1e-4)
        assert status["debt"]["cv_kappa"] == pytest.approx(5 / 6, abs=1e-4)
        assert status["debt"]["cv_kappa"] >= READY_KAPPA and not status["debt"]["ready"]  # one positive is not enough
        assert status["loneliness"]["cv_kappa"] is None and not status["loneliness"]["ready"]
        assert trainer.seen == [3]  # alex's three decisions taught it
    finally:
        learner.close()


def test_queue_learner_note_decision_returns_while_training_runs_and_queues_one_retrain(tiny_run, tmp_path):
    project = Project(tmp_path / "project.db")
    trainer = GatedTrainer(a_fit(tiny_run, {("P02", 1): 0.49, ("P01", 1): 0.99}))
    learner = QueueLearner(project, tiny_run, coder="alex", retrain_every=2, trainer=trainer)
    rows = review_rows(tiny_run)
    debt = {r["transcript"]: r["id"] for r in rows if r["suggested_code"] == "debt"}  # P01 0.95, P02 0.85, P03 0.70

    def debt_order() -> list[str]:
        inverse = {v: k for k, v in debt.items()}
        return [inverse[i] for i in ids(learner.order(rows)) if i in inverse]

    assert debt_order() == ["P01", "P02", "P03"]  # cold start, debt without positives: the likeliest positive first
    assert not learner.training and trainer.calls == 0  # no decisions: nothing to learn yet
    # five debt positives, none on the suggestions in the queue (a decided suggestion goes to the end)
    decide(project, tiny_run, {(t, i, "debt"): "add" for t, i in [("P01", 0), ("P01", 2), ("P02", 0), ("P02", 2)]})
    first = tiny_run.units[0]
    project.add_decisions(
        [
            {
                "transcript": "P01",
                "transcript_sha256": first.transcript.sha256,
                "start": first.start,
                "end": first.start + 8,
                "quote": first.text[:8],
                "code": "debt",
                "decision": "add",
            }
        ],
        coder="alex",
    )
    learner.note_decision()
    assert not learner.training
    learner.note_decision()  # the second: a retrain starts, and the call has returned while it waits at the gate
    assert trainer.started.wait(30) and learner.training
    # five positives: debt is ordered by uncertainty now, still by the scores (no finished model), without waiting
    assert debt_order() == ["P03", "P02", "P01"]
    for _ in range(6):  # three more retrains asked for while one runs: one more run after it, not three
        learner.note_decision()
    trainer.gate.set()
    assert learner.wait(30) and not learner.training
    assert trainer.calls == 2
    # the model's probabilities now: P02 0.49 (the uncertain one), P01 0.99, P03 0.0
    assert debt_order() == ["P02", "P01", "P03"]
    learner.close()


def test_queue_learner_puts_the_coders_decided_suggestions_last(tiny_run, tmp_path):
    project = Project(tmp_path / "project.db")
    learner = QueueLearner(project, tiny_run, coder="alex", trainer=GatedTrainer(a_fit(tiny_run, {})))
    rows = review_rows(tiny_run)
    before = learner.order(rows)
    decide(project, tiny_run, {("P01", 0, "loneliness"): "reject"}, coder="sam")  # someone else's: no change
    assert ids(learner.order(rows)) == ids(before)
    decide(project, tiny_run, {("P01", 0, "loneliness"): "reject"})
    after = learner.order(rows)
    assert (after[-1]["transcript"], after[-1]["suggested_code"], after[-1]["quote"]) == (
        "P01",
        "loneliness",
        tiny_run.units[0].text,
    )
    assert sorted(ids(after)) == sorted(ids(rows))
    learner.close()


def test_queue_learner_keeps_the_last_model_when_a_retrain_fails(tiny_run, tmp_path):
    project = Project(tmp_path / "project.db")
    decide(project, tiny_run, {("P01", 1, "debt"): "accept"})
    fits = [a_fit(tiny_run, {})]

    def trainer(human):
        if not fits:
            raise ValueError("the model exploded")
        return fits.pop()

    learner = QueueLearner(project, tiny_run, coder="alex", retrain_every=1, trainer=trainer)
    assert learner.wait(30) and learner.error is None
    learner.note_decision()
    assert learner.wait(30)
    assert learner.error == "retraining failed: the model exploded"
    assert {s["code"]: s["cv_kappa"] for s in learner.status()}["debt"] == pytest.approx(5 / 6, abs=1e-4)
    learner.close()


def test_queue_learner_close_stops_retraining(tiny_run, tmp_path):
    project = Project(tmp_path / "project.db")
    decide(project, tiny_run, {("P01", 1, "debt"): "accept"})
    trainer = GatedTrainer(a_fit(tiny_run, {}))
    learner = QueueLearner(project, tiny_run, coder="alex", retrain_every=1, trainer=trainer)
    assert trainer.started.wait(30)
    learner.note_decision()  # queued behind the running retrain
    closer = threading.Thread(target=learner.close)
    closer.start()
    for _ in range(3000):  # until close() has said no retrain may start (it then waits for the running one)
        if learner.closed:
            break
        threading.Event().wait(0.01)
    trainer.gate.set()
    closer.join(30)
    assert not closer.is_alive() and not learner.training
    learner.note_decision()  # after close: nothing starts
    assert not learner.training and trainer.calls == 1


def test_queue_learner_blind_needs_a_coder(tiny_run, tmp_path):
    with pytest.raises(OptionError, match="a blind queue is for one coder: give coder=NAME"):
        QueueLearner(Project(tmp_path / "project.db"), tiny_run, blind=True)


# -- the real classifier -----------------------------------------------------------------------------------------

DEBT = [
    "The debts piled up every single month and the bailiff letters kept on coming through the door.",
    "I owed money on the catalogue and the rent arrears were frightening me every single week.",
    "We sorted a payment plan for the council tax debt so the bailiffs would stop calling round.",
    "Her arrears with the landlord were the first thing we tackled because eviction was close.",
    "The loan sharks had him paying back twice what he borrowed and the debt kept growing.",
    "Most of my clients owe something to someone, usually the council or a catalogue company.",
]
TRUST = [
    "Once she trusted me she started telling me what was really going on at home with the kids.",
    "Building rapport takes months, you turn up when you say you will and they learn to trust you.",
    "He only opened up after I kept every appointment for weeks and never once judged him.",
    "Trust is everything in this job, without it nobody tells you the truth about their lives.",
    "She said I was the first worker who listened instead of ticking boxes, so she trusted me.",
    "Keeping my word about small things is how the relationship and the trust got built.",
]


@pytest.mark.slow
def test_queue_learner_trains_the_classifier_on_decisions(tiny_codebook, tmp_path, embedding_cache):
    folder = tmp_path / "transcripts"
    for k, tid in enumerate(("P01", "P02")):
        lines = [
            f"Interviewer: Tell me about your work.\n\n{tid}: {DEBT[i]} {TRUST[i]}\n" for i in range(k * 3, k * 3 + 3)
        ]
        write(folder / f"{tid}.txt", "\n".join(lines))
    project = Project(tmp_path / "project.db")
    run = themekit.code(folder, tiny_codebook, methods="rule", cache_dir=None, project=project)
    choices = {}
    for s in run.units:
        code = "debt" if any(s.text.startswith(t[:30]) for t in DEBT) else "trust"
        choices[(s.transcript.id, s.index, code)] = "accept"
    assert sum(1 for (_, _, c) in choices if c == "debt") == 6
    decide(project, run, choices)
    learner = QueueLearner(project, run, coder="alex", retrain_every=5, cache_dir=embedding_cache)
    try:
        assert learner.wait(300) and learner.error is None
        status = {s["code"]: s for s in learner.status()}
        assert (status["debt"]["decisions"], status["debt"]["positives"]) == (6, 6)
        # every decided trust segment is a negative for debt: 6 and 6, grouped by transcript for the folds
        assert status["debt"]["cv_kappa"] is not None and status["debt"]["cv_f1"] is not None
        assert status["debt"]["cv_kappa"] > 0.5
        assert status["loneliness"]["cv_kappa"] is None
        ranked = learner.order(review_rows(run))
        assert sorted(ids(ranked)) == sorted(ids(review_rows(run)))
    finally:
        learner.close()


def test_queue_learner_sees_decisions_recorded_after_it_started(tiny_run, tmp_path):
    project = Project(tmp_path / "project.db")
    learner = QueueLearner(project, tiny_run, coder="alex", trainer=GatedTrainer(a_fit(tiny_run, {})))
    assert {s["code"]: s["decisions"] for s in learner.status()}["trust"] == 0
    decide(project, tiny_run, {("P01", 2, "trust"): "accept"})  # recorded elsewhere (a sheet), not noted: still seen
    assert {s["code"]: s["decisions"] for s in learner.status()}["trust"] == 1
    decide(project, tiny_run, {("P01", 2, "trust"): "reject"})
    learner.note_decision()
    assert {s["code"]: (s["decisions"], s["positives"]) for s in learner.status()}["trust"] == (1, 0)
    learner.close()
