from __future__ import annotations

import dataclasses
import json
import shutil

import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from themekit import code
from themekit.analysis.evaluate import evaluate
from themekit.cli import app
from themekit.errors import GoldError

from .conftest import span_of, write


def test_evaluate_scores_per_code_against_span_gold(tmp_path, coded):
    run, folder = coded
    s1 = span_of(run, "P01", "Honestly the isolation")
    s2 = span_of(run, "P01", "The debts piled up")
    s3 = span_of(run, "P02", "I trust her")
    s4 = span_of(run, "P02", "I never felt lonely")
    gold = write(
        tmp_path / "gold.csv",
        "transcript,char_start,char_end,code\n"
        f"P01,{s1[0]},{s1[1]},loneliness\n"
        f"P01,{s2[0] + 4},{s2[1] - 3},debt\n"  # a span inside the segment still matches it
        f"P02,{s3[0]},{s3[1]},trust\n"
        f"P02,{s3[0]},{s3[1]},loneliness\n"  # the rules miss this one (vetoed by 'rural')
        f"P02,{s4[0]},{s4[1]},\n",  # read, and nothing in it
    )
    result = evaluate(folder, gold, min_support=1, scope="coded")
    rows = result.per_code.set_index("code")
    assert rows.loc["loneliness", ["support", "tp", "fp", "fn"]].tolist() == [2, 1, 0, 1]
    assert rows.loc["loneliness", "recall"] == 0.5 and rows.loc["loneliness", "precision"] == 1.0
    assert rows.loc["debt", "f1"] == 1.0 and rows.loc["trust", "f1"] == 1.0
    # kappa agrees with scikit-learn on the same vectors
    y_true, y_pred = [1, 0, 1, 0], [1, 0, 0, 0]
    assert rows.loc["loneliness", "kappa"] == round(cohen_kappa_score(y_true, y_pred), 4)
    assert result.overall["segments_scored"] == 4
    misses = result.errors.query("kind == 'miss'")
    assert misses[["code", "transcript"]].values.tolist() == [["loneliness", "P02"]]
    assert misses["text"].iloc[0].startswith("I trust her completely")

    # by default every participant segment of a transcript the coder coded is scored: talk they left uncoded
    # is "no code", so the rules' loneliness on "I felt isolated every single day." is a false alarm there
    whole = evaluate(folder, gold, min_support=1)
    assert whole.overall["scope"] == "transcript" and result.overall["scope"] == "coded"
    assert whole.overall["segments_scored"] == len(run.units) == 7
    false_alarms = whole.errors.query("kind == 'false alarm'")
    assert ["loneliness", "P01"] in false_alarms[["code", "transcript"]].values.tolist()
    assert false_alarms.query("code == 'loneliness'")["text"].str.startswith("I felt isolated").any()
    assert whole.per_code.set_index("code").loc["loneliness", "precision"] < 1.0


def test_evaluate_bad_gold_rows_are_listed_and_skipped_or_with_strict_refused(tmp_path, coded):
    run, folder = coded
    s = span_of(run, "P02", "I trust her")
    gold = write(
        tmp_path / "gold.csv",
        "transcript,char_start,char_end,code\n"
        "P99,0,10,debt\n"
        "P01,0,10,no_such_code\n"
        "P01,50,40,debt\n"
        "P01,10000,10010,debt\n"
        f"P02,{s[0]},{s[1]},trust\n",
    )
    # the rows that can be placed are scored; the others are listed with their rows
    result = evaluate(folder, gold, min_support=1)
    assert result.overall["segments_scored"] == 3  # every participant segment of P02, the one transcript placed
    assert result.per_code.set_index("code").loc["trust", "f1"] == 1.0
    assert result.overall["skipped"] == [
        "row 2: unknown transcript 'P99' (the run has: P01, P02)",
        "row 3: code 'no_such_code' is not in the codebook",
        "row 4: span 50-40 is empty or inverted; char_end must be after char_start",
        f"row 5: characters 10000-10010 lie past the end of P01, whose text is {_length(run, 'P01'):,} characters long; check the offsets were counted in this transcript",
    ]
    from typer.testing import CliRunner

    shown = CliRunner().invoke(app, ["evaluate", str(folder), "--gold", str(gold), "--min-support", "1"])
    assert shown.exit_code == 0, shown.output
    assert (
        "4 gold row(s) left out or not matching their text (listed in evaluation.json; --strict refuses such a file):"
        in shown.output
    )
    assert "  - row 2: unknown transcript 'P99' (the run has: P01, P02)" in shown.output
    refused = CliRunner().invoke(app, ["evaluate", str(folder), "--gold", str(gold), "--strict"])
    assert refused.exit_code == 1 and refused.output.startswith(f"Error [E500]: {gold}: 4 problems"), refused.output
    with pytest.raises(GoldError) as info:
        evaluate(folder, gold, strict=True)
    message = str(info.value)
    assert message.startswith(f"{gold}: 4 problems; fix them and run again:")
    assert "row 2: unknown transcript 'P99' (the run has: P01, P02)" in message
    assert (
        f"row 5: characters 10000-10010 lie past the end of P01, whose text is {_length(run, 'P01'):,} characters long; check the offsets were counted in this transcript"
        in message
    )


def test_evaluate_reads_overlapping_and_interviewer_crossing_spans_as_people_code(tmp_path, coded):
    run, folder = coded
    text = run.corpus["P01"].text
    answer = span_of(run, "P01", "Honestly the isolation")
    question = text.index("And money?")
    debts = span_of(run, "P01", "The debts piled up")
    gold = write(
        tmp_path / "g.csv",
        "transcript,char_start,char_end,code\n"
        f"P01,{answer[0]},{answer[1]},loneliness\n"
        f"P01,{answer[0] + 2},{answer[1]},loneliness\n"  # the same passage coded twice: one coding
        f"P01,{question},{debts[1]},debt\n"  # from the interviewer's question into the answer: the answer counts
        f"P01,{question},{question + 10},trust\n",  # the question alone: left out, and said so
    )
    result = evaluate(folder, gold, min_support=1)
    rows = result.per_code.set_index("code")
    assert (
        rows.loc["loneliness", "support"] == 1
        and rows.loc["debt", "support"] == 1
        and rows.loc["trust", "support"] == 0
    )
    assert rows.loc["debt", "tp"] == 1
    assert result.overall["skipped"] == [
        f"row 5: span {question}-{question + 10} of P01 is interviewer speech only; left out"
    ]
    bad = write(tmp_path / "b.csv", "transcript,words\nP01,hello\n")
    with pytest.raises(
        GoldError,
        match=r"missing column\(s\): code, a location \(char_start and char_end, source_start and source_end, segment, or text\)",
    ):
        evaluate(folder, bad)


def test_evaluate_header_only_or_empty_gold_is_one_message(tmp_path, coded):
    from typer.testing import CliRunner

    _, folder = coded
    header_only = write(tmp_path / "h.csv", "transcript,char_start,char_end,code\n")
    with pytest.raises(GoldError, match="nothing to score: it has no rows"):
        evaluate(folder, header_only)
    empty = write(tmp_path / "e.csv", "")
    for gold in (header_only, empty):
        result = CliRunner().invoke(app, ["evaluate", str(folder), "--gold", str(gold)])
        assert result.exit_code == 1 and result.output.startswith("Error [E50"), result.output
        assert "Traceback" not in result.output


def test_evaluate_cli_writes_evaluation_json(tmp_path, coded):
    from typer.testing import CliRunner

    run, folder = coded
    s = span_of(run, "P02", "I trust her")
    gold = write(
        tmp_path / "gold.csv",
        f"transcript,segment,code\nP02,{[x for x in run.units if x.start == s[0]][0].index},trust\n",
    )
    result = CliRunner().invoke(app, ["evaluate", str(folder), "--gold", str(gold), "--min-support", "1"])
    assert result.exit_code == 0, result.output
    assert "3 segments scored (scope: transcript)" in result.output
    record = json.loads((folder / "evaluation.json").read_text())
    trust = [r for r in record["per_code"] if r["code"] == "trust"][0]
    assert trust["f1"] == 1.0
    (tmp_path / "empty").mkdir()
    not_run = CliRunner().invoke(app, ["evaluate", str(tmp_path / "empty"), "--gold", str(gold)])
    assert not_run.exit_code == 1
    assert (
        "not a complete themekit run folder (missing run.json, codebook.yaml, transcripts.parquet, segments.parquet, excerpts.parquet)"
        in not_run.output
    )


def test_evaluate_sample_gold_maps_onto_the_sample(sample_rule_run):
    from .conftest import SAMPLE_GOLD

    result = evaluate(sample_rule_run, SAMPLE_GOLD)
    gold = pd.read_csv(SAMPLE_GOLD, keep_default_na=False)
    assert len(gold) >= 300 and gold["transcript"].nunique() == 8
    assert result.overall["segments_scored"] >= 300
    assert result.overall["codes_scored"] >= 25


@pytest.mark.slow
def test_evaluate_cross_validation_holds_each_fold_out_of_training(tmp_path, sample_rule_folder, embedding_cache):
    from typer.testing import CliRunner

    from themekit.analysis.crossval import cross_validate

    from .conftest import SAMPLE_GOLD, copy_run

    gold = SAMPLE_GOLD
    result = cross_validate(sample_rule_folder, gold, folds=2, cache_dir=embedding_cache)
    # the eight interviews dealt into two folds, each scored by a classifier that never saw its codings
    assert [f["transcripts"] for f in result.folds] == [
        ["KW01", "KW03", "KW05", "KW07"],
        ["KW02", "KW04", "KW06", "KW08"],
    ]
    assert result.pooled.overall["folds"] == 2 and result.pooled.overall["scope"] == "transcript"
    assert result.pooled.overall["segments_scored"] == sum(f["segments_scored"] for f in result.folds) == 1090
    assert 0.3 < result.pooled.overall["macro"]["f1"] < 0.9
    spread = result.per_code.set_index("code")
    assert list(spread.columns) == ["support", "f1_mean", "f1_sd", "kappa_mean", "kappa_sd"]
    assert (spread["f1_sd"] >= 0).all() and spread.loc["debt", "support"] > 0
    folder = copy_run(sample_rule_folder, tmp_path)
    # the session's embeddings, copied to the command's default cache folder (in the working folder): the
    # command learns and scores the same folds without embedding the sample a second time
    shutil.copytree(embedding_cache, tmp_path / ".themekit" / "cache")
    cli = CliRunner().invoke(app, ["evaluate", str(folder), "--gold", str(gold), "--cv", "2", "--quiet"])
    assert cli.exit_code == 0, cli.output
    assert "held out in 2 folds grouped by transcript" in cli.output
    assert json.loads((folder / "crossvalidation.json").read_text())["pooled"]["overall"]["folds"] == 2
    one = CliRunner().invoke(app, ["evaluate", str(folder), "--gold", str(gold), "--cv", "1"])
    assert one.exit_code == 2  # fewer than two folds is refused before any work


@pytest.mark.slow
def test_evaluate_catches_a_classifier_trained_on_the_scored_transcripts_by_content(tmp_path, sample_folder):
    from .conftest import SAMPLE_GOLD

    # the sample's gold under another name and with its rows reordered: not the file the classifier trained on,
    # but the same transcripts' codings
    rows = pd.read_csv(SAMPLE_GOLD, dtype=str, keep_default_na=False)
    other = tmp_path / "second-coder.csv"
    rows.iloc[::-1].to_csv(other, index=False)
    result = evaluate(sample_folder, other)
    o = result.overall
    assert o["trained_on_scored_transcripts"] == [f"KW0{i}" for i in range(1, 9)]
    assert "learned from human codings of 8 of the scored transcripts" in o["warning"]
    assert o["unseen"] is None  # every scored interview was learned from: nothing unseen to score apart


@pytest.mark.slow
def test_evaluate_scores_transcripts_the_classifier_never_saw_apart(tmp_path, embedding_cache):
    import themekit

    from .conftest import SAMPLE, SAMPLE_CODEBOOK, SAMPLE_GOLD

    rows = pd.read_csv(SAMPLE_GOLD, dtype=str, keep_default_na=False)
    half = tmp_path / "half.csv"
    rows[rows["transcript"].isin(["KW01", "KW02", "KW03", "KW04"])].to_csv(half, index=False)
    run = themekit.code(
        SAMPLE, SAMPLE_CODEBOOK, methods="rule,classifier", gold=half, cache_dir=embedding_cache, project=None
    )
    assert sorted(run.stats["classifier_trained_on"]) == ["KW01", "KW02", "KW03", "KW04"]
    result = evaluate(run, SAMPLE_GOLD)
    o = result.overall
    assert o["trained_on_scored_transcripts"] == ["KW01", "KW02", "KW03", "KW04"]
    # the figures on KW05-KW08 alone: what the classifier does on interviews it never learned from
    held_out = themekit.evaluate(
        dataclasses.replace(
            run,
            corpus=dataclasses.replace(run.corpus, transcripts=run.corpus.transcripts[4:]),
            units=[s for s in run.units if s.transcript.id >= "KW05"],
            codings=[c for c in run.codings if c.segment.transcript.id >= "KW05"],
        ),
        _only(rows, ["KW05", "KW06", "KW07", "KW08"], tmp_path / "rest.csv"),
    )
    assert o["unseen"]["segments_scored"] == held_out.overall["segments_scored"] > 0
    assert o["unseen"]["macro"] == held_out.overall["macro"]


@pytest.mark.parametrize("tool", ["maxqda", "atlas", "taguette"])
def test_evaluate_reads_maxqda_atlas_and_taguette_exports_located_by_their_quoted_words(tmp_path, coded, tool):
    """MAXQDA's coded segments ("Document name", "Code", "Segment" holding the words, paragraph numbers in
    Begin/End), ATLAS.ti's quotations ("Document", "Quotation Content", a quotation's codes a line each in
    "Codes") and Taguette's highlights ("document", "tag", "content"): every coding is found by its quoted words
    and scored as themekit's own gold file would be."""
    run, folder = coded
    quotes = [("P01", "Honestly the isolation", "loneliness"), ("P01", "The debts piled up", "debt"),
              ("P02", "I trust her", "trust")]  # fmt: skip
    texts = {q: next(s.text for s in run.units if s.transcript.id == t and s.text.startswith(q)) for t, q, _ in quotes}
    pd.DataFrame(
        [(t, *span_of(run, t, q), c) for t, q, c in quotes]
        + [("P01", *span_of(run, "P01", "The debts piled up"), "loneliness")],
        columns=["transcript", "char_start", "char_end", "code"],
    ).to_csv(tmp_path / "ours.csv", index=False)
    if tool == "maxqda":
        table = pd.DataFrame(
            [(t, f"Life > {c}", 4, 4, texts[q]) for t, q, c in quotes]
            + [("P01", "loneliness", 6, 6, texts["The debts piled up"])],
            columns=["Document name", "Code", "Begin", "End", "Segment"],
        )
    elif tool == "taguette":
        table = pd.DataFrame(
            [(t, c, texts[q]) for t, q, c in quotes] + [("P01", "loneliness", texts["The debts piled up"])],
            columns=["document", "tag", "content"],
        )
    else:
        table = pd.DataFrame(
            [(1, "P01.txt", texts["Honestly the isolation"], "loneliness"), (2, "P01.txt", texts["The debts piled up"], "debt\nloneliness"),
             (3, "P02.txt", texts["I trust her"], "trust")],
            columns=["ID", "Document", "Quotation Content", "Codes"],
        )  # fmt: skip
    table.to_excel(tmp_path / f"{tool}.xlsx", index=False)
    theirs = evaluate(folder, tmp_path / f"{tool}.xlsx", min_support=1)
    assert theirs.overall["skipped"] == []
    expected = evaluate(folder, tmp_path / "ours.csv", min_support=1)
    assert theirs.per_code.equals(expected.per_code)
    read_as = " ".join(theirs.overall["columns_read_as"])
    assert {
        "maxqda": "column 'Segment' as text",
        "atlas": "1 row naming several codes",
        "taguette": "column 'tag' as code",
    }[tool] in read_as


def _only(rows, transcripts, path):
    rows[rows["transcript"].isin(transcripts)].to_csv(path, index=False)
    return path


def test_evaluate_reads_another_tools_export_as_it_is(tmp_path, tiny_codebook):
    """Columns named as QDA tools name them, codes as paths and labels, documents with their file names, and
    offsets into the files as they are on disk (themekit re-renders an Otter transcript's speaker lines)."""
    source = (
        "Dana  0:05\nHow have things been since you moved?\n\n"
        "P01  0:12\nHonestly the isolation was the worst part of it. I felt isolated every single day.\n\n"
        "Dana  0:40\nAnd money?\n\n"
        "P01  0:44\nThe debts piled up and I still owe 300 to the council. The bailiffs came twice in one month.\n"
    )
    write(tmp_path / "otter" / "P01.txt", source)
    run = code(tmp_path / "otter", tiny_codebook, methods="rule", interviewer_labels=["Dana"], project=None)
    text = run.corpus.transcripts[0].text
    quotes = [("Barriers > Loneliness > Feeling cut off", "I felt isolated every single day."),
              ("Debt", "The bailiffs came twice in one month.")]  # fmt: skip
    assert all(source.index(q) != text.index(q) for _, q in quotes)  # the file's offsets are not themekit's
    rows = "".join(f'P01.txt,{path},"{q}",{source.index(q)},{source.index(q) + len(q)}\n' for path, q in quotes)
    gold = write(tmp_path / "maxqda.csv", "Document,Code path,Coded text,char_start,char_end\n" + rows)
    result = evaluate(run.save(tmp_path / "run"), gold, min_support=1)
    assert result.overall["skipped"] == []
    assert result.overall["columns_read_as"] == [
        "column 'Document' as transcript",
        "column 'Code path' as code",
        "column 'Coded text' as text",
        "char_start/char_end as offsets into the transcript files as they are on disk (source_start/source_end): "
        "the quoted text is found there, not at those characters of themekit's text",
    ]
    support = result.per_code.set_index("code")["support"]
    assert support["loneliness"] == 1 and support["debt"] == 1  # the sub-code counts as the code above it
    gold_rows = result.errors  # every gold coding lands on the segment that says it: the rules find both
    assert gold_rows.query("kind == 'miss'").empty


def _length(run, transcript: str) -> int:
    """How many characters a transcript of the run has."""
    return len(next(t for t in run.corpus if t.id == transcript).text)


def test_evaluate_reports_how_well_the_scores_rank_each_codes_segments(tmp_path, coded):
    # Average precision: the coder's loneliness segments ranked 1st and 3rd by score (a false alarm between them)
    from themekit.analysis.evaluate import evaluate_frames

    run, _ = coded
    units = {u.text[:12]: u for u in run.units}
    a, b, c = units["Honestly the"], units["I trust her "], units["The debts pi"]
    gold = write(
        tmp_path / "gold.csv",
        "transcript,segment,code\n"
        f"{a.transcript.id},{a.index},loneliness\n{b.transcript.id},{b.index},loneliness\n"
        f"{c.transcript.id},{c.index},debt\n",
    )
    given = [(a, "loneliness", 0.9), (c, "loneliness", 0.8), (b, "loneliness", 0.6)]
    excerpts = pd.DataFrame(
        [(u.transcript.id, u.index, code, score, False) for u, code, score in given],
        columns=["transcript", "segment", "code", "score", "negated"],
    )
    result = evaluate_frames(excerpts, run.segments, gold, run.codebook, min_support=1)
    ap = result.per_code.set_index("code")["average_precision"]
    assert ap["loneliness"] == round((1 / 1 + 2 / 3) / 2, 4)  # precision 1 at the first, 2/3 at the second
    assert ap["debt"] == round(1 / 7, 4)  # never given: the coder's one segment among 7, as random order
    assert ap.isna()["trust"]  # the coder never gave it: nothing to rank
    assert result.overall["macro"]["average_precision"] == round((ap["loneliness"] + ap["debt"]) / 2, 4)
    saved = json.loads(result.save(tmp_path / "evaluation.json").read_text())  # valid JSON: null, not NaN
    assert {r["code"]: r["average_precision"] for r in saved["per_code"]}["trust"] is None


def test_evaluate_says_how_far_the_probabilities_hold(tmp_path, coded):
    # Ten codings the machine gives a 0.8 chance: the coder gave eight of them, so 0.8 meant what it said
    from themekit.analysis.evaluate import evaluate_frames

    run, _ = coded
    units = list(run.units)[:5]
    gold = write(
        tmp_path / "gold.csv",
        "transcript,segment,code\n"
        + "".join(f"{u.transcript.id},{u.index},{c}\n" for u in units for c in ("loneliness", "debt"))
        + f"{units[0].transcript.id},{units[0].index},trust\n",
    )
    given = [(u, c, 0.8) for u in units for c in ("loneliness", "debt")]
    given[0], given[2] = (units[1], "trust", 0.8), (units[2], "trust", 0.8)  # two the coder did not give
    given.append((units[0], "trust", None))  # a rule's coding: no probability, not counted
    excerpts = pd.DataFrame(
        [(u.transcript.id, u.index, code, 0.9, p, False) for u, code, p in given],
        columns=["transcript", "segment", "code", "score", "probability", "negated"],
    )
    calibration = evaluate_frames(excerpts, run.segments, gold, run.codebook, min_support=1).overall["calibration"]
    assert calibration == {"codings": 10, "mean_probability": 0.8, "coder_gave": 0.8, "ece": 0.0}
    # overconfident: the same codings at 0.99 are off by 0.19
    excerpts["probability"] = excerpts["probability"].where(excerpts["probability"].isna(), 0.99)
    calibration = evaluate_frames(excerpts, run.segments, gold, run.codebook, min_support=1).overall["calibration"]
    assert calibration["ece"] == 0.19
    # codings without a probability (rules only, or a run written before probabilities) report none
    rules_only = excerpts.assign(probability=None)
    assert "calibration" not in evaluate_frames(rules_only, run.segments, gold, run.codebook).overall


@pytest.mark.slow
def test_cross_validation_embeds_with_the_model_the_run_used(tmp_path, tiny_corpus, tiny_codebook):
    # A run coded with another model folder is cross-validated with that model, not the installed default
    import os

    from themekit.analysis.crossval import cross_validate
    from themekit.nlp.embed import KNOWN_MODEL_PACKAGES, installed_model_package, resolve_model_dir

    own = tmp_path / "our-encoder"
    shutil.copytree(resolve_model_dir(installed_model_package(KNOWN_MODEL_PACKAGES)), own, copy_function=os.link)
    run = code(tiny_corpus, tiny_codebook, embedding_model=own, cache_dir=tmp_path / "cache")
    assert run.settings["embedding"]["path"] == str(own)
    assert run.settings["embedding"]["identity"].startswith("st:our-encoder:")
    units = {u.text[:12]: u for u in run.units}
    gold = write(
        tmp_path / "gold.csv",
        "transcript,segment,code\n"
        + "".join(f"{units[t].transcript.id},{units[t].index},loneliness\n" for t in ("Honestly the", "Living out i")),
    )
    folder = run.save(tmp_path / "run")
    result = cross_validate(folder, gold, folds=2, cache_dir=tmp_path / "cache")
    assert result.pooled.overall["embedding"] == run.settings["embedding"]["identity"]
