from __future__ import annotations

import json

import numpy as np
import pytest

from themekit import ThemekitError, code

from .conftest import write

CODEBOOK = """\
schema_version: 1
name: Transport study
version: 1.0.0
themes:
  - id: barriers
    label: Barriers
    codes:
      - id: transport
        label: Transport
        definition: Getting to places.
        examples: ["Getting there was the problem."]
      - id: money
        label: Money
        definition: Having too little money.
        examples: ["Money was tight."]
"""

TRANSPORT = [
    "The bus only runs twice a day from the village.",
    "Without a car you are stuck waiting for the bus.",
    "The bus fare into town costs more than the job pays.",
    "She missed the interview because the bus never came.",
    "There is no bus at all on a Sunday out here.",
    "He walked four miles because the bus was cancelled.",
]
OTHER = [
    "We talked about what she enjoyed doing at school.",
    "He likes working with his hands and fixing things.",
    "The centre has a nice garden where we sometimes meet.",
    "She wanted to try volunteering at the animal shelter.",
    "We made a plan together and wrote it on the board.",
    "He had a good week and felt more settled at home.",
]


@pytest.fixture
def study(tmp_path):
    folder = tmp_path / "study"
    gold_rows = ["transcript,char_start,char_end,code,text"]
    for n in range(4):
        lines = []
        for k in range(6):
            sentence = TRANSPORT[(n + k) % 6] if k % 2 == 0 else OTHER[(n + k) % 6]
            lines.append(f"Interviewer: And then?\n\nP0{n}: {sentence}\n")
        path = write(folder / f"P0{n}.txt", "\n".join(lines))
        from themekit import read_transcript

        t = read_transcript(path)
        for turn in t.participant_turns:
            speech = t.turn_text(turn)
            gold_rows.append(f"P0{n},{turn.start},{turn.end},{'transport' if speech in TRANSPORT else ''},{speech}")
    write(folder / "gold.csv", "\n".join(gold_rows) + "\n")
    write(
        folder / "unseen" / "P99.txt",
        "Interviewer: Anything else?\n\nP99: Honestly the bus is the biggest thing stopping him.\n",
    )
    return folder, write(tmp_path / "codebook.yaml", CODEBOOK)


@pytest.mark.slow
def test_classifier_learns_from_gold_and_reports_cross_validation(study, embedding_cache):
    folder, codebook = study
    run = code(folder, codebook, methods="classifier", cache_dir=embedding_cache)
    report = run.stats["classifier"]
    assert report["transport"]["trained"] is True
    assert report["transport"]["positives"] == 12 and report["transport"]["negatives"] == 12
    assert report["transport"]["cv_folds"] == 3  # folds grouped by transcript: the four interviews dealt into three
    assert run.stats["classifier_prior_weight"] == 1.0  # the codebook's say in the ranking, recorded
    # every transport sentence is about the bus, and no other is: held-out interviews are coded right
    assert report["transport"]["cv_f1"] >= 0.9
    assert report["money"] == {
        "positives": 0,
        "negatives": 24,
        "trained": False,
        "reason": "needs at least 5 positive and 5 negative human codings",
    }
    assert run.settings["gold"]["path"].endswith("gold.csv")
    # what it learned carries over to an interview it has not seen
    unseen = code(
        folder / "unseen", codebook, methods="classifier", gold=folder / "gold.csv", cache_dir=embedding_cache
    )
    [coding] = [c for c in unseen.codings if c.code_id == "transport"]
    assert coding.segment.text.startswith("Honestly the bus")
    assert coding.evidence.startswith("top features: ") and "'bus'" in coding.evidence
    assert "'the'" not in coding.evidence
    assert coding.score >= 0.5


@pytest.mark.slow
def test_classifier_probability_is_shown_beside_the_score(study, embedding_cache, tmp_path):
    import csv

    import pandas as pd

    import themekit
    from themekit.review.sheets import export_review
    from themekit.store import Project

    folder, codebook = study
    project = tmp_path / "project.db"
    run = code(folder, codebook, methods="semantic,classifier", cache_dir=embedding_cache, project=project)
    saved = run.save(tmp_path / "run")
    rows = pd.read_csv(saved / "excerpts.csv")
    learned = rows[rows["code"] == "transport"]
    assert len(learned) and learned["probability"].between(0, 1).all()
    # the calibrated probability the evidence names, in its own column
    assert [f"p={p:.2f}" for p in learned["probability"]] == [e.rsplit("; ", 1)[1] for e in learned["evidence"]]
    # a code the classifier did not learn keeps the semantic coder's probability, the same map for every code
    money = rows[rows["code"] == "money"]
    assert len(money) and money["probability"].between(0, 1).all() and money["method"].eq("semantic").all()
    # read back, and in the review sheet beside the score
    loaded = themekit.Run.load(saved)
    assert sorted(c.probability for c in loaded.codings if c.code_id == "transport") == sorted(learned["probability"])
    sheet = tmp_path / "review.csv"
    assert export_review(loaded, sheet, Project(project)) == len(rows)
    with open(sheet, newline="", encoding="utf-8-sig") as f:
        review = list(csv.DictReader(f))
    probability = {r["quote"]: r["probability"] for r in review if r["suggested_code"] == "transport"}
    assert probability and all(0 <= float(v) <= 1 for v in probability.values())
    assert all("p=" not in r["evidence"] for r in review)
    in_sheet = sorted(float(r["probability"]) for r in review if r["suggested_code"] == "money")
    assert in_sheet == pytest.approx(sorted(money["probability"]), abs=0.001)


def test_classifier_gold_outside_the_corpus_needs_text(study, tmp_path):
    folder, codebook = study
    no_text = write(tmp_path / "no_text.csv", "transcript,char_start,char_end,code\nP00,0,10,transport\n")
    with pytest.raises(ThemekitError) as info:
        code(folder / "unseen", codebook, methods="classifier", gold=no_text, cache_dir=None)
    assert "row 2: transcript 'P00' is not in the corpus being coded, and the file has no 'text' column" in str(
        info.value
    )


@pytest.mark.slow
def test_classifier_is_a_default_method_only_when_gold_exists(study, tmp_path, embedding_cache):
    folder, codebook = study
    with_gold = code(folder, codebook, cache_dir=embedding_cache)
    assert with_gold.settings["methods"] == ["rule", "semantic", "classifier"]
    without = code(folder / "unseen", codebook, cache_dir=embedding_cache)
    assert without.settings["methods"] == ["rule", "semantic"]
    with pytest.raises(
        ThemekitError, match="the classifier method learns from human codings: give a gold/decisions file as gold="
    ):
        code(folder / "unseen", codebook, methods="classifier")
    with pytest.raises(ThemekitError, match="nope.csv: no such gold/decisions file"):
        code(folder, codebook, gold=tmp_path / "nope.csv")


@pytest.mark.slow
def test_classifier_evaluation_on_its_own_gold_is_flagged(study, embedding_cache):
    from themekit.analysis.evaluate import evaluate

    folder, codebook = study
    run = code(folder, codebook, cache_dir=embedding_cache)
    result = evaluate(run, folder / "gold.csv", min_support=1)
    assert "trained on this gold file" in result.overall["warning"]
    fair = evaluate(
        code(folder, codebook, methods="rule,semantic", cache_dir=embedding_cache), folder / "gold.csv", min_support=1
    )
    assert "warning" not in fair.overall


def test_classifier_decision_threshold_comes_from_cross_validation():
    from themekit.coding.classifier import _calibrate, _decision_threshold

    # positives score 0.30 and 0.35 under cross-validation: any cut-off up to 0.30 separates them from
    # the negatives, and of those the one nearest 0.5 is chosen
    held_out = [(np.array([1, 1, 0, 0]), np.array([0.30, 0.35, 0.10, 0.20]))]
    assert _decision_threshold(held_out) == 0.3
    assert _decision_threshold([]) == 0.5
    assert _calibrate(np.array([0.0, 0.15, 0.3, 0.65, 1.0]), 0.3).tolist() == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])


@pytest.mark.slow
def test_classifier_reports_its_decision_threshold(study, embedding_cache):
    folder, codebook = study
    run = code(folder, codebook, methods="classifier", cache_dir=embedding_cache)
    assert 0.2 <= run.stats["classifier_threshold"] <= 0.7
    report = run.stats["classifier"]
    assert run.codings  # what follows checks each of them
    for coding in run.codings:
        # a code's own threshold, chosen by cross-validation on its calibrated probabilities
        threshold = report[coding.code_id].get("threshold", run.stats["classifier_threshold"])
        p = float(coding.evidence.rsplit("p=", 1)[1])
        assert (p >= threshold - 0.005) == (coding.score >= 0.5)


def test_classifier_code_threshold_gives_a_code_as_often_as_the_coder_gives_it():
    from themekit.coding.classifier import _code_threshold

    # the coder gave 10 of 100 segments; held out, 8 of them scored 0.6, two 0.3 and 0.29, and 20 others 0.25: the
    # cut-off that finds all ten would give the code to 30 segments, the code's threshold gives it to 10
    y = np.array([1] * 10 + [0] * 90)
    p = np.concatenate([np.full(8, 0.6), [0.3, 0.29], np.full(20, 0.25), np.full(70, 0.05)])
    cut = _code_threshold(y, p)
    assert cut == 0.29 and (p >= cut).sum() == 10
    # a rare code (4 of 100) is given to its 4 best-scored segments, not to every segment over a shared cut-off
    few = np.array([1] * 4 + [0] * 96)
    q = np.concatenate([np.full(3, 0.7), [0.2], np.full(10, 0.15), np.full(86, 0.1)])
    cut = _code_threshold(few, q)
    assert (q >= cut).sum() == 4
    # the threshold stays where the scores' mapping holds
    assert _code_threshold(few, np.full(100, 0.999)) == 0.99


def test_classifier_calibration_makes_probabilities_mean_what_they_say():
    from themekit.coding.classifier import Calibration, expected_calibration_error

    rng = np.random.default_rng(0)
    truth = rng.random(4000) < 0.15
    # an over-confident model: positives around 0.8, negatives around 0.45 (a balanced model's usual habit)
    raw = np.clip(np.where(truth, rng.normal(0.8, 0.1, 4000), rng.normal(0.45, 0.15, 4000)), 0.01, 0.99)
    assert expected_calibration_error(truth, raw) > 0.2
    calibrated = Calibration.fit(truth, raw)(raw)
    assert expected_calibration_error(truth, calibrated) < 0.05
    # of the segments it scores about 0.5, about half are the code's
    middle = (calibrated > 0.4) & (calibrated < 0.6)
    assert 0.35 < truth[middle].mean() < 0.65


def test_classifier_ranks_with_the_codebook_where_the_codings_say_little():
    from scipy.sparse import csr_matrix
    from sklearn.model_selection import StratifiedKFold

    from themekit.coding.classifier import _fit

    rng = np.random.default_rng(0)
    # 60 coded segments: one feature tells the code's 12 segments a little (half a standard deviation), the rest is noise
    y = np.array([1] * 12 + [0] * 48)
    train = rng.normal(size=(60, 6))
    train[:, 0] += 0.5 * y
    splits = list(StratifiedKFold(3, shuffle=True, random_state=0).split(train, y))
    # four new segments: two the model cannot tell apart, one of them what the codebook describes (2 SD above the
    # corpus mean) and one generic talk (1 SD below); a third with the codings' telling feature and a plain reading;
    # a fourth with neither
    corpus = np.zeros((4, 6))
    corpus[2, 0] = 3.0
    reading = np.array([2.0, -1.0, 0.0, 0.0])
    learned = _fit(csr_matrix(train), y, splits, csr_matrix(corpus), 0, np.zeros(60), reading)
    described, generic, telling, neither = learned.proba
    assert described > generic  # the model alone scores them alike: the codebook decides
    assert telling > neither  # the codings still count where the codebook says nothing
    # a model that learned nothing (no feature varies) leaves the ranking to the codebook
    blank = _fit(csr_matrix(np.zeros((60, 6))), y, splits, csr_matrix(corpus), 0, np.zeros(60), reading)
    assert list(np.argsort(-blank.proba, kind="stable")) == [0, 2, 3, 1]
    # without cross-validation there is no calibration for the mix: the model's own probabilities, as before
    alone = _fit(csr_matrix(train), y, [], csr_matrix(corpus), 0, np.zeros(60), reading)
    assert alone.proba[0] == pytest.approx(alone.proba[1])


def _interview(folder, name: str, answers: list[str]):
    """An interview file of one short question before each answer."""
    return write(folder / f"{name}.txt", "\n".join(f"Interviewer: And then?\n\n{name}: {a}\n" for a in answers))


MONEY = [
    "We never had enough money left at the end of the month.",
    "The rent took nearly all of the money she earned.",
    "He could not afford new shoes for the interview.",
    "Her benefits were cut and the debts kept growing.",
    "Paying the electricity bill meant skipping meals.",
    "They borrowed money from a neighbour to buy food.",
]


@pytest.mark.slow
def test_classifier_cross_validates_by_segment_a_code_coded_in_one_transcript(tmp_path, embedding_cache):
    from themekit import read_transcript

    folder = tmp_path / "study"
    gold_rows = ["transcript,char_start,char_end,code,text"]
    for n in range(3):  # three coded interviews; money talk only in the first
        said = [MONEY[k] if n == 0 else TRANSPORT[k] for k in range(6)] + OTHER
        path = _interview(folder, f"P0{n}", said)
        t = read_transcript(path)
        for turn in t.participant_turns:
            speech = t.turn_text(turn)
            label = "money" if speech in MONEY else "transport" if speech in TRANSPORT else ""
            gold_rows.append(f"P0{n},{turn.start},{turn.end},{label},{speech}")
    for n in range(3, 7):  # four interviews nobody coded: one money turn each
        said = [MONEY[n - 3], *OTHER, *TRANSPORT[:3]]
        _interview(folder, f"P0{n}", said)
    write(folder / "gold.csv", "\n".join(gold_rows) + "\n")
    codebook = write(tmp_path / "codebook.yaml", CODEBOOK)
    run = code(folder, codebook, methods="classifier", cache_dir=embedding_cache)
    money = run.stats["classifier"]["money"]
    # folds by transcript cannot hold money out: folds by segment calibrate it and choose its threshold
    assert money["cv_by"] == "segment" and money["cv_folds"] == 3
    assert "threshold" in money and "calibration" in money and money["cv_f1"] >= 0.8
    assert "cv_by" not in run.stats["classifier"]["transport"]
    given = sorted(c.segment.text for c in run.codings if c.code_id == "money" and c.segment.transcript.id >= "P03")
    assert given == sorted(MONEY[:4])  # the one money turn of each uncoded interview, nothing else


def test_classifier_keeps_as_many_codes_per_segment_as_the_coder_gives():
    from themekit.coding.classifier import _max_codes, _most_probable

    # the coder gave one code to nearly every segment they coded, two to one in two hundred, none to many
    labels = [{"a"}] * 200 + [{"a", "b"}] + [set()] * 40
    assert _max_codes(labels) == 1
    assert _max_codes([{"a"}] * 60 + [{"a", "b"}] * 3) == 2  # two codes on one in twenty: two
    assert _max_codes([{"a", "b"}] * 10 + [{"a"}] * 10) == 2
    given = {"a": np.array([True, True, False]), "b": np.array([True, False, False]), "c": np.array([True] * 3)}
    proba = {"a": np.array([0.9, 0.2, 0.1]), "b": np.array([0.6, 0.1, 0.1]), "c": np.array([0.7, 0.8, 0.1])}
    kept = _most_probable(given, proba, 1)
    assert [k for k in kept if kept[k][0]] == ["a"]  # the most probable of the three
    assert [k for k in kept if kept[k][1]] == ["c"]
    assert [k for k in kept if kept[k][2]] == ["c"]  # given alone: kept


def test_classifier_has_the_last_word_on_codes_it_learned(tiny_codebook):
    from pathlib import Path

    from themekit import Codebook
    from themekit.coding import combine
    from themekit.models import Coding, Segment, Transcript, Turn

    text = "P01: I trust her. I trust the bus. I owe 300."
    turn = Turn(index=0, speaker="P01", role="participant", start=5, end=len(text))
    transcript = Transcript("P01", Path("P01.txt"), "0" * 64, "txt", "utf-8", text, (turn,))
    first, second, third = (Segment(transcript, i, 0, s, e) for i, (s, e) in enumerate([(5, 17), (18, 34), (35, 45)]))
    codings = [
        Coding(first, "trust", "support", "rule", 0.8, "matched: trust"),
        Coding(first, "trust", "support", "semantic", 0.7, "definition: …", probability=0.3),
        Coding(first, "trust", "support", "classifier", 0.6, "top features: 'trust her'; p=0.55", probability=0.55),
        Coding(second, "trust", "support", "rule", 0.8, "matched: trust"),
        Coding(third, "debt", "barriers", "rule", 0.8, "matched: owe 300"),
    ]
    codebook = Codebook.load(tiny_codebook)
    merged = combine(codings, codebook, final={"trust": "classifier"})
    assert [(c.segment.text, c.code_id, c.method) for c in merged] == [
        ("I trust her.", "trust", "rule+semantic+classifier"),
        ("I owe 300.", "debt", "rule"),  # no model for debt: the rules stand
    ]
    # the probability of the method that learned from the coder, not similarity's general one; rules give none
    assert [c.probability for c in merged] == [0.55, None]
    assert len(combine(codings, codebook)) == 3  # without models every method counts


def test_semantic_probabilities_move_to_the_rate_the_coder_gave_them():
    from pathlib import Path

    from themekit.coding import with_semantic_intercepts
    from themekit.coding.semantic import PROBABILITY_MAP, calibrate, fitted_intercept, probability, probability_of_score
    from themekit.models import Coding, Segment, Transcript, Turn

    similarity = np.array([0.30, 0.35, 0.40, 0.45])
    # a score's probability is the map of the similarity it came from
    assert probability_of_score(calibrate(similarity, 0.32)) == pytest.approx(probability(similarity, 0.32))
    # 40 codings, of which the coder gave 4: moved so their probabilities add up to about 4 (4.5 / 41 of them)
    scores = np.tile(calibrate(similarity, 0.32), 10)
    given = np.zeros(40, dtype=bool)
    given[:4] = True
    intercept = fitted_intercept(scores, given)
    assert intercept < PROBABILITY_MAP[1]
    assert probability_of_score(scores, intercept).sum() == pytest.approx(4.5 / 41 * 40, abs=0.01)
    text = "P01: It cost too much."
    turn = Turn(index=0, speaker="P01", role="participant", start=5, end=len(text))
    segment = Segment(Transcript("P01", Path("P01.txt"), "0" * 64, "txt", "utf-8", text, (turn,)), 0, 0, 5, len(text))
    codings = [
        Coding(segment, "debt", "barriers", "semantic", 0.9, "definition: …", probability=0.6),
        Coding(segment, "debt", "barriers", "rule", 0.8, "matched: cost"),
        Coding(segment, "trust", "support", "semantic", 0.9, "definition: …", probability=0.6),
    ]
    moved = with_semantic_intercepts(codings, {"debt": intercept})
    assert moved[0].probability == pytest.approx(probability_of_score(0.9, intercept), abs=1e-4)
    assert moved[0].probability < 0.6
    assert moved[1:] == codings[1:]  # rules have no probability; other codes keep theirs


def test_classifier_limits_what_others_give_a_code_the_coder_gave_too_rarely_to_learn(tiny_codebook):
    from pathlib import Path

    from themekit.coding import within_limits
    from themekit.models import Coding, Segment, Transcript, Turn

    text = "P01: " + " ".join(f"Sentence {k}." for k in range(6))
    turn = Turn(index=0, speaker="P01", role="participant", start=5, end=len(text))
    transcript = Transcript("P01", Path("P01.txt"), "0" * 64, "txt", "utf-8", text, (turn,))
    segments = [Segment(transcript, k, 0, 5 + 12 * k, 16 + 12 * k) for k in range(6)]
    scores = [0.6, 0.9, 0.7, 0.9, 0.55, 0.8]
    codings = [Coding(s, "debt", "barriers", "semantic", score, "definition: …") for s, score in zip(segments, scores)]
    codings.append(Coding(segments[4], "trust", "support", "semantic", 0.6, "definition: …"))
    codings[0] = Coding(segments[0], "debt", "barriers", "rule+semantic", 0.6, "matched: owe")
    kept, dropped = within_limits(codings, {"debt": 2})
    # the two strongest suggestions of debt (the first of two equal scores in corpus order), the rules' match, and
    # every code without a limit
    assert [(c.segment.index, c.code_id) for c in kept] == [(0, "debt"), (1, "debt"), (3, "debt"), (4, "trust")]
    assert dropped == {"debt": 3}
    assert within_limits(codings, {}) == (codings, {})


@pytest.mark.slow
def test_classifier_suggests_a_code_the_coder_never_gave_about_as_rarely(tmp_path, embedding_cache, monkeypatch):
    from themekit import read_transcript
    from themekit.coding import classifier

    monkeypatch.setattr(classifier, "REFIT_MIN_CODINGS", 1)  # the few codings of this small study are enough

    folder = tmp_path / "study"
    rows = ["transcript,char_start,char_end,code"]
    for n in range(9):  # nine interviews coded whole, 54 answers: transport coded, money never (two talk of it)
        said = [TRANSPORT[(n + k) % 6] if k % 2 == 0 else OTHER[(n + k) % 6] for k in range(6)]
        if n < 2:
            said[1] = MONEY[4 + n]
        t = read_transcript(_interview(folder, f"P0{n}", said))
        rows += [
            f"P0{n},{u.start},{u.end},{'transport' if t.turn_text(u) in TRANSPORT else ''}" for u in t.participant_turns
        ]
    write(folder / "gold.csv", "\n".join(rows) + "\n")
    _interview(folder, "P10", MONEY[:4])
    codebook = write(tmp_path / "codebook.yaml", CODEBOOK)
    free = code(folder, codebook, methods="semantic", cache_dir=embedding_cache)
    run = code(folder, codebook, methods="semantic,classifier", cache_dir=embedding_cache)
    # similarity alone gives money to several answers; the coder gave it to none of 54: at most (0 + 1) / 56 of the
    # corpus' 58 answers, rounded up
    assert sum(c.code_id == "money" for c in free.codings) > 2
    money = [c for c in run.codings if c.code_id == "money"]
    assert run.stats["classifier"]["money"]["at_most"] == 2 and len(money) == 2
    assert run.stats["rate_limited"]["dropped"]["money"] == sum(c.code_id == "money" for c in free.codings) - 2
    # the strongest suggestions stay
    strongest = sorted((c for c in free.codings if c.code_id == "money"), key=lambda c: -c.score)[:2]
    assert [c.segment.text for c in money] == [c.segment.text for c in sorted(strongest, key=lambda c: c.segment.index)]
    assert "transport" not in run.stats["rate_limited"]["limits"]  # it has a model: the classifier decides it
    # the coder gave none of money's semantic codings in the interviews they coded: its probabilities fall to that
    coded_money = [c for c in free.codings if c.code_id == "money" and c.segment.transcript.id != "P10"]
    refit = run.stats["semantic_probability_refit"]
    assert refit["codings"] == len(coded_money) == 2 and refit["coder_gave"] == 0
    assert refit["intercept"] < refit["instead_of"] - 1
    before = {c.segment.text: c.probability for c in free.codings if c.code_id == "money"}
    assert all(c.probability < before[c.segment.text] - 0.1 for c in money)
    from typer.testing import CliRunner

    from themekit.cli import app

    args = ["code", str(folder), "-c", str(codebook), "--out", str(tmp_path / "cli"), "--method", "semantic,classifier"]
    result = CliRunner().invoke(app, [*args, "--cache-dir", str(embedding_cache), "--project", str(tmp_path / "p.db")])
    assert result.exit_code == 0, result.output
    dropped = run.stats["rate_limited"]["dropped"]["money"]
    assert (
        f"1 code the coder gave too rarely to learn is suggested about as rarely as the coder gave it: {dropped} "
        "weaker suggestions left out (run.json: stats.rate_limited)"
    ) in " ".join(result.output.split())


FILLER_TALK = [
    "Um, you know, the bus, kind of, never came, like, on time, yeah.",
    "Erm, I mean, the bus was, sort of, always late, you know.",
    "Yeah, um, okay, so the bus fare was, like, too much, erm.",
]


@pytest.mark.slow
def test_classifier_never_learns_filler(tmp_path, embedding_cache):
    # every transport answer is full of disfluencies; other answers are not: filler must not become the evidence
    folder = tmp_path / "study"
    rows = ["transcript,char_start,char_end,code"]
    from themekit import read_transcript

    for n in range(4):
        lines = []
        for k in range(6):
            sentence = FILLER_TALK[(n + k) % 3] if k % 2 == 0 else OTHER[(n + k) % 6]
            lines.append(f"Interviewer: And then?\n\nP0{n}: {sentence}\n")
        t = read_transcript(write(folder / f"P0{n}.txt", "\n".join(lines)))
        rows += [f"P0{n},{u.start},{u.end},transport" for u in t.participant_turns if t.turn_text(u) in FILLER_TALK]
    write(folder / "gold.csv", "\n".join(rows) + "\n")
    run = code(folder, write(tmp_path / "codebook.yaml", CODEBOOK), methods="classifier", cache_dir=embedding_cache)
    import re

    terms = {t for c in run.codings if c.method == "classifier" for t in re.findall(r"'([^']+)'", c.evidence)}
    assert "bus" in terms
    fillers = {"um", "erm", "yeah", "okay", "like", "so", "you", "know", "kind", "sort", "mean"}
    assert not {word for term in terms for word in term.split()} & fillers, terms
    from themekit.coding.classifier import FILLER, _without_filler

    assert _without_filler("You know, it was kind of hard").split() == [",", "it", "was", "hard"]
    assert {"um", "erm", "yeah", "like", "okay"} <= FILLER


@pytest.mark.slow
def test_classifier_learns_no_code_from_what_a_coder_read_and_left(study, embedding_cache):
    # the gold file gives only the transport turns; the coder read the whole interviews, so every other turn
    # is a negative, as many as if each had been listed with an empty code
    folder, codebook = study
    gold = folder / "gold.csv"
    lines = gold.read_text().splitlines()
    write(gold, "\n".join([lines[0], *[line for line in lines[1:] if ",transport," in line]]) + "\n")
    run = code(folder, codebook, methods="classifier", cache_dir=embedding_cache)
    assert run.stats["classifier"]["transport"]["positives"] == 12
    assert run.stats["classifier"]["transport"]["negatives"] == 12


@pytest.mark.slow
def test_classifier_reads_back_an_identical_fit_and_trains_again_when_the_codings_change(
    study, tmp_path, embedding_cache
):
    import shutil

    folder, codebook = study
    cache = tmp_path / "cache"
    shutil.copytree(embedding_cache, cache, dirs_exist_ok=True)
    shutil.rmtree(cache / "classifier", ignore_errors=True)
    first = code(folder, codebook, methods="classifier", cache_dir=cache, project=None)
    assert first.stats["classifier_fit_cache"]["misses"] == 1 and first.stats["classifier_fit_cache"]["hits"] == 0
    again = code(folder, codebook, methods="classifier", cache_dir=cache, project=None)
    assert again.stats["classifier_fit_cache"]["hits"] == 1 and again.stats["classifier_fit_cache"]["misses"] == 0
    assert [(c.segment.text, c.code_id, c.score, c.evidence) for c in again.codings] == [
        (c.segment.text, c.code_id, c.score, c.evidence) for c in first.codings
    ]
    assert again.stats["classifier"] == first.stats["classifier"]
    # a person takes back one coding: the model learns again from what they now say
    gold = (folder / "gold.csv").read_text().splitlines()
    row = next(k for k, line in enumerate(gold) if ",transport," in line)
    gold[row] = gold[row].replace(",transport,", ",,")
    (folder / "gold.csv").write_text("\n".join(gold) + "\n")
    changed = code(folder, codebook, methods="classifier", cache_dir=cache, project=None)
    assert changed.stats["classifier_fit_cache"] == {**first.stats["classifier_fit_cache"], "misses": 1, "hits": 0}
    assert changed.stats["classifier"]["transport"]["positives"] == 11


def test_classifier_fit_corpus_learns_again_from_features_computed_once(study):
    import pandas as pd

    from themekit.coding.classifier import ClassifierCoder
    from themekit.human.gold import HumanCodings
    from themekit.nlp.embed import TfidfSvdEmbedder
    from themekit.nlp.segment import Segmentation

    folder, codebook = study
    run = code(folder, codebook, methods="rule", cache_dir=None, project=None)
    units = list(run.units)
    embedder = TfidfSvdEmbedder([s.text for s in units])
    gold = pd.read_csv(folder / "gold.csv", dtype=str, keep_default_na=False)
    coder = ClassifierCoder(embedder, human=HumanCodings.from_frame(gold.iloc[:0], "none"))
    features = coder.corpus_features(Segmentation(units, unit="sentence"), run.codebook)
    assert coder.fit_corpus(features, run.codebook).probabilities == {}  # nothing decided: nothing learned
    coder = ClassifierCoder(embedder, human=HumanCodings.from_frame(gold, "decisions"))
    fit = coder.fit_corpus(features, run.codebook)
    assert list(fit.probabilities) == ["transport"] and fit.report["money"]["trained"] is False
    y, held_out = fit.held_out["transport"]
    assert int(y.sum()) == 12 and len(held_out) == 24 and fit.report["transport"]["cv_folds"] == 3
    bus = np.array([s.text in TRANSPORT for s in units])
    scores = fit.scores("transport")
    assert scores[bus].min() > 0.5 > scores[~bus].max()


@pytest.mark.slow
def test_classifier_learns_from_the_encoder_adapted_to_the_corpus(study, tmp_path):
    import themekit
    from themekit.analysis.crossval import cross_validate

    folder, codebook = study
    cache = tmp_path / "cache"
    plain = code(folder, codebook, methods="classifier", cache_dir=cache)
    run = code(folder, codebook, methods="classifier", cache_dir=cache, adapt_encoder=True)
    encoder = run.stats["classifier_encoder"]
    # fine-tuned on the interviews' own sentences (no codings used), kept in the cache folder
    assert encoder["adapted_from"] == plain.settings["embedding"]["identity"]
    assert encoder["identity"] != encoder["adapted_from"] and encoder["identity"].startswith("st:")
    assert encoder["sentences"] == 12 and encoder["cached"] is False  # the 12 distinct answers of 4 words or more
    assert [p.name for p in (cache / "adapted").iterdir()] == [encoder["identity"].split(":")[1]]
    assert run.settings["adapt_encoder"] is True and run.id != plain.id  # it decides codings: another run
    # kept because it ranked the coder's excerpts at least as well as the encoder as it is, in the same folds
    ap = encoder["cv_average_precision"]
    assert encoder["used"] is True and ap["adapted"] >= ap["as it is"]
    assert "classifier_encoder" not in plain.stats and "adapt_encoder" not in plain.settings
    # the semantic reading and the codings' embedding model are the run's own; only the features moved
    assert run.settings["embedding"] == plain.settings["embedding"]
    assert [c.segment.text for c in run.codings if c.code_id == "transport"] == [
        c.segment.text for c in plain.codings if c.code_id == "transport"
    ]
    # a second run reads the adapted model back: same model, same codings, no training
    again = code(folder, codebook, methods="classifier", cache_dir=cache, adapt_encoder=True)
    assert again.stats["classifier_encoder"]["cached"] is True
    assert again.stats["classifier_encoder"]["identity"] == encoder["identity"]
    assert [(c.segment.text, c.score) for c in again.codings] == [(c.segment.text, c.score) for c in run.codings]
    # evaluate --cv learns each fold from the adapted model too, as the run did
    saved = themekit.Run.load(run.save(tmp_path / "run"))
    crossed = cross_validate(saved, folder / "gold.csv", folds=2, cache_dir=cache)
    assert crossed.pooled.overall["adapted_encoder"] == encoder["identity"]
    assert len(list((cache / "adapted").iterdir())) == 1  # read back, not trained again
    # a run coded without it can be cross-validated with it, to see what it gives on these codings
    assert "adapted_encoder" not in cross_validate(plain.save(tmp_path / "plain"), folder / "gold.csv", folds=2,
                                                   cache_dir=cache).pooled.overall  # fmt: skip
    from typer.testing import CliRunner

    from themekit.cli import app

    cli = CliRunner().invoke(app, ["evaluate", str(tmp_path / "plain"), "--gold", str(folder / "gold.csv"), "--cv", "2",
                                   "--adapt-encoder", "--cache-dir", str(cache)])  # fmt: skip
    assert cli.exit_code == 0, cli.output
    assert f"each fold's classifier learned from the encoder adapted to the corpus ({encoder['identity']})" in (
        " ".join(cli.output.split())
    )
    # on the command line
    args = ["code", str(folder), "-c", str(codebook), "--out", str(tmp_path / "cli"), "--method", "classifier"]
    result = CliRunner().invoke(
        app, [*args, "--adapt-encoder", "--cache-dir", str(cache), "--project", str(tmp_path / "p.db")]
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Its features come from the encoder adapted to the corpus' 12 sentences (read back from the cache; " in said
    assert "cross-validated average precision" in said
    record = json.loads((tmp_path / "cli" / "run.json").read_text())
    assert record["settings"]["adapt_encoder"] is True
    assert record["stats"]["classifier_encoder"]["identity"] == encoder["identity"]


@pytest.mark.slow
def test_classifier_keeps_the_encoder_as_it_is_where_the_adapted_one_ranks_worse(study, tmp_path, monkeypatch):
    from themekit.coding import classifier

    folder, codebook = study
    cache = tmp_path / "cache"
    plain = code(folder, codebook, methods="classifier", cache_dir=cache)
    # cross-validation says the adapted features rank the coder's excerpts worse (first call: adapted, then as it is)
    figures = iter([0.40, 0.60])
    monkeypatch.setattr(classifier, "_held_out_ap", lambda learned, examples: next(figures))
    run = code(folder, codebook, methods="classifier", cache_dir=cache, adapt_encoder=True)
    encoder = run.stats["classifier_encoder"]
    assert encoder["used"] is False and encoder["cv_average_precision"] == {"adapted": 0.4, "as it is": 0.6}
    # the models, thresholds and codings are those learned from the encoder as it is
    assert run.stats["classifier"] == plain.stats["classifier"]
    assert [(c.segment.text, c.code_id, c.score) for c in run.codings] == [
        (c.segment.text, c.code_id, c.score) for c in plain.codings
    ]
    # the review queue learns from the encoder the run kept, not the adapted one
    from themekit.review.queue import _ClassifierTrainer

    trainer = _ClassifierTrainer(run, None, cache)
    trainer._setup()
    assert trainer._context.adapt is False
    kept = _ClassifierTrainer(run, None, cache)
    run.stats["classifier_encoder"]["used"] = True
    kept._setup()
    assert kept._context.adapt is True


@pytest.mark.slow
def test_classifier_compared_with_the_encoder_as_it_is_codes_as_the_adapted_models_alone(study, tmp_path, monkeypatch):
    from themekit.coding import classifier

    folder, codebook = study
    cache = tmp_path / "cache"
    monkeypatch.setattr(
        classifier.ClassifierCoder, "_adapted_or_not", lambda self, s, c, e, data, learned: (data, learned)
    )
    alone = code(folder, codebook, methods="classifier", cache_dir=cache, adapt_encoder=True)  # no comparison
    monkeypatch.undo()
    figures = iter([0.60, 0.40])  # the adapted features rank better: they stay
    monkeypatch.setattr(classifier, "_held_out_ap", lambda learned, examples: next(figures))
    run = code(folder, codebook, methods="classifier", cache_dir=cache, adapt_encoder=True)
    assert run.stats["classifier_encoder"]["used"] is True
    # learning the other models to compare left no trace: thresholds, report and codings are the adapted models'
    assert run.stats["classifier"] == alone.stats["classifier"]
    assert run.stats["classifier_max_codes"] == alone.stats["classifier_max_codes"]
    assert [(c.segment.text, c.code_id, c.score) for c in run.codings] == [
        (c.segment.text, c.code_id, c.score) for c in alone.codings
    ]
