"""One tolerant reader of human codings: ``code --gold``, ``evaluate``, ``evaluate --cv`` and the review queue
leave out and list the rows they cannot place, name them by the file's own rows and offsets, read code paths
("Theme - Code") at a level, and give a coding per code to a cell naming several with ';'."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from themekit import code, read_transcript
from themekit.analysis.evaluate import evaluate
from themekit.cli import app
from themekit.errors import GoldError, OptionError
from themekit.human.gold import CodeNames, HumanCodings, map_gold

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
      - id: money
        label: Money
        definition: Having too little money.
"""
BUS = [
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
QUESTION = "Interviewer: And then?\n\n"


@pytest.fixture
def study(tmp_path, monkeypatch):
    """Four interviews, each answer about the bus or not, and a gold file coding every answer (rows 2-25). The
    classifier embeds with the TF-IDF stand-in, so the test needs no model."""
    import themekit.pipeline.steps as steps

    monkeypatch.setattr(steps, "KNOWN_MODEL_PACKAGES", ())
    folder = tmp_path / "study"
    rows = ["transcript,char_start,char_end,code,text"]
    for n in range(4):
        answers = [BUS[(n + k) % 6] if k % 2 == 0 else OTHER[(n + k) % 6] for k in range(6)]
        path = write(folder / f"P0{n}.txt", "\n".join(f"{QUESTION}P0{n}: {a}\n" for a in answers))
        t = read_transcript(path)
        for turn in t.participant_turns:
            said = t.turn_text(turn)
            rows.append(f"P0{n},{turn.start},{turn.end},{'transport' if said in BUS else ''},{said}")
    return folder, rows, write(tmp_path / "codebook.yaml", CODEBOOK)


def _placed(rows: list[str], *extra: str) -> list[str]:
    return [*rows, *extra]


def test_gold_tolerant_code_learns_from_the_rows_it_can_place_and_lists_the_others(study, tmp_path):
    folder, rows, codebook = study
    question = len("Interviewer: ")
    gold = write(
        tmp_path / "gold.csv",
        "\n".join(
            _placed(
                rows,
                f"P01,{question},{question + 9},transport,",  # the interviewer's question
                "P02,10000,10010,transport,",
                "P03,40,60,Weather,",
                "P77,,,transport,",  # another interview, without its words
            )
        )
        + "\n",
    )
    shown = CliRunner().invoke(
        app,
        ["code", str(folder), "-c", str(codebook), "--gold", str(gold), "--out", str(tmp_path / "run"),
         "--method", "rule,classifier", "--no-cache", "--project", str(tmp_path / "p.db")],
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    listed = [
        f"row 26: span {question}-{question + 9} of P01 is interviewer speech only; left out",
        f"row 27: characters 10000-10010 lie past the end of P02, whose text is {len(read_transcript(folder / 'P02.txt').text):,} characters long; check the offsets were counted in this transcript",
        "row 28: code 'Weather' is not in the codebook",
        "row 29: transcript 'P77' is not in the corpus being coded, and the row has no text",
    ]
    assert (
        "Human codings: 4 row(s) left out or not matching their text (listed in run.json under "
        "stats.classifier_skipped):" in shown.output
    )
    for line in listed:
        assert f"  - {line}\n" in shown.output
    stats = json.loads((tmp_path / "run" / "run.json").read_text())["stats"]
    assert stats["classifier_skipped"] == listed
    # the 24 placed rows still teach: 12 positives, 12 negatives
    assert stats["classifier"]["transport"]["positives"] == 12 and stats["classifier"]["transport"]["trained"]


def test_gold_tolerant_code_refuses_a_file_it_cannot_place_at_all(study, tmp_path):
    folder, _, codebook = study
    gold = write(tmp_path / "gold.csv", "transcript,char_start,char_end,code\nP00,0,10,Weather\nP01,5,2,transport\n")
    with pytest.raises(GoldError) as info:
        code(folder, codebook, methods="classifier", gold=gold, cache_dir=None, project=None)
    assert str(info.value).splitlines() == [
        f"{gold}: 3 problems; fix them and run again:",
        "  - nothing to learn from: none of its 2 rows could be placed",
        "  - row 2: code 'Weather' is not in the codebook",
        "  - row 3: span 5-2 is empty or inverted; char_end must be after char_start",
    ]


def test_gold_tolerant_review_queue_fit_lists_decisions_it_cannot_place(study):
    from themekit.coding.classifier import ClassifierCoder
    from themekit.nlp.embed import TfidfSvdEmbedder
    from themekit.nlp.segment import Segmentation

    folder, rows, codebook = study
    run = code(folder, codebook, methods="rule", cache_dir=None, project=None)
    units = list(run.units)
    decided = pd.DataFrame([r.split(",", 4) for r in rows[1:]], columns=rows[0].split(","))
    decided.loc[len(decided)] = ["P09", "0", "10", "transport", "A transcript the run does not have."]
    coder = ClassifierCoder(
        TfidfSvdEmbedder([s.text for s in units]), human=HumanCodings.from_frame(decided, "decisions")
    )
    fit = coder.fit_corpus(coder.corpus_features(Segmentation(units, unit="sentence"), run.codebook), run.codebook)
    assert list(fit.probabilities) == ["transport"]  # the others still teach
    assert fit.skipped == []  # a decision on another transcript is not about this run: left aside, not a problem
    decided.loc[len(decided) - 1] = ["P01", "10000", "10010", "transport", ""]
    coder = ClassifierCoder(coder.embedder, human=HumanCodings.from_frame(decided, "decisions"))
    fit = coder.fit_corpus(coder.corpus_features(Segmentation(units, unit="sentence"), run.codebook), run.codebook)
    assert fit.skipped == [
        f"row 26: characters 10000-10010 lie past the end of P01, whose text is {_length(run, 'P01'):,} characters long; check the offsets were counted in this transcript"
    ]


OTTER = (
    "Interviewer  0:01\n"
    "How have things been since you moved?\n"
    "\n"
    "Sam Jones  0:05\n"
    "The debts piled up and I still owe 300 to\n"
    "the council. I trust my keyworker completely.\n"
    "\n"
    "Interviewer  0:20\n"
    "And money?\n"
    "\n"
    "Sam Jones  0:24\n"
    "Money was tight but we managed in the end somehow.\n"
)


@pytest.fixture
def otter(tmp_path, tiny_codebook):
    folder = write(tmp_path / "transcripts" / "O01.txt", OTTER).parent
    run = code(folder, tiny_codebook, methods="rule", project=None)
    return run, run.save(tmp_path / "run")


def test_gold_tolerant_messages_name_the_files_own_offsets_and_quotes(tmp_path, otter):
    run, folder = otter
    asked = OTTER.index("How have")
    said = OTTER.index("The debts")
    gold = write(
        tmp_path / "gold.csv",
        "transcript,source_start,source_end,code,text\n"
        f"O01,{asked},{asked + 20},debt,\n"
        f"O01,{said},{said + 20},debt,\n"
        "O01,,,trust,How have things been since you moved?\n",
    )
    skipped = evaluate(folder, gold, min_support=1).overall["skipped"]
    assert skipped == [
        f"row 2: source span {asked}-{asked + 20} of O01 is interviewer speech only; left out",
        "row 4: quote 'How have things been since you moved?' in O01 is interviewer speech only; left out",
    ]


def test_gold_tolerant_a_cell_naming_codes_with_semicolons_gives_a_coding_per_code(tmp_path, otter):
    run, folder = otter
    said = OTTER.index("The debts")
    gold = write(
        tmp_path / "gold.csv",
        "transcript,source_start,source_end,code\n"
        f"O01,{said},{said + 40},debt; Trust ;\n",  # a label, an id, an empty part
    )
    result = evaluate(folder, gold, min_support=1, scope="coded")
    assert result.overall["skipped"] == []
    assert result.per_code.set_index("code").loc[["debt", "trust"], "support"].tolist() == [1, 1]
    assert result.overall["columns_read_as"] == [
        "1 row naming several codes (a line each, or separated by ';') as one coding per code"
    ]


def test_gold_tolerant_code_paths_read_with_a_separator_and_at_a_level(tmp_path, otter):
    run, folder = otter
    said = OTTER.index("The debts")
    gold = write(
        tmp_path / "gold.csv",
        "transcript,source_start,source_end,code\n"
        f"O01,{said},{said + 40},Barriers - Debt\n"
        f"O01,{said},{said + 40},Trust - Debt - Bailiffs\n",
    )
    with pytest.raises(GoldError) as as_is:  # ' - ' is no separator unless given
        evaluate(folder, gold, min_support=1, scope="coded")
    assert str(as_is.value).splitlines()[1:] == [
        "  - nothing to score: none of its 2 rows could be placed",
        "  - row 2: code 'Barriers - Debt' is not in the codebook",
        "  - row 3: code 'Trust - Debt - Bailiffs' is not in the codebook",
    ]
    # split at ' - ': a sub-code the codebook does not hold rolls up to the nearest code above it
    split = evaluate(folder, gold, min_support=1, scope="coded", separator=" - ")
    assert split.overall["skipped"] == []
    assert split.per_code.set_index("code")["support"].to_dict() == {"loneliness": 0, "debt": 1, "trust": 0}
    assert split.overall["code_paths"] == {"level": None, "separator": " - "}
    # at level 1 "Trust - Debt - Bailiffs" is Trust; "Barriers" is a theme, not a code
    top = evaluate(folder, gold, min_support=1, scope="coded", separator=" - ", level=1)
    assert top.per_code.set_index("code")["support"].to_dict() == {"loneliness": 0, "debt": 0, "trust": 1}
    assert top.overall["skipped"] == ["row 2: code 'Barriers - Debt' (at level 1: 'Barriers') is not in the codebook"]
    shown = CliRunner().invoke(
        app, ["evaluate", str(folder), "--gold", str(gold), "--separator", " - ", "--level", "1", "--min-support", "1"]
    )
    assert shown.exit_code == 0, shown.output
    assert "  - row 2: code 'Barriers - Debt' (at level 1: 'Barriers') is not in the codebook" in shown.output


def test_gold_tolerant_code_names_keep_hyphenated_words_whole():
    names = CodeNames(["self_esteem", "money"], separator=" - ")
    assert names.resolve("Self-esteem") == "self_esteem"
    assert names.resolve("Money - self-esteem") == "self_esteem"
    assert names.resolve("Money-worries") is None
    with pytest.raises(OptionError, match="level=0 is not a depth"):
        CodeNames([], level=0)


def test_gold_tolerant_cross_validation_leaves_out_what_it_cannot_place(study, tmp_path):
    from themekit.analysis.crossval import cross_validate

    folder, rows, codebook = study
    run = code(folder, codebook, methods="rule", cache_dir=None, project=None)
    gold = write(tmp_path / "gold.csv", "\n".join(_placed(rows, "P03,40,60,Weather,")) + "\n")
    crossed = cross_validate(run, gold, folds=2, min_support=1, cache_dir=None)
    assert crossed.skipped == ["row 26: code 'Weather' is not in the codebook"]
    assert crossed.to_dict()["pooled"]["overall"]["skipped"] == crossed.skipped
    # the row is about P03: the fold that learns from P03 leaves it out of training
    assert sorted(f["classifier"]["rows_skipped"] for f in crossed.folds) == [0, 1]
    with pytest.raises(GoldError, match="row 26: code 'Weather' is not in the codebook"):
        cross_validate(run, gold, folds=2, strict=True, cache_dir=None)


def test_gold_tolerant_map_gold_lists_rows_of_a_wide_file_by_their_own_row(tmp_path, otter):
    from themekit.human.coderfile import WideLayout, read_coder_file

    run, _ = otter
    wide = write(tmp_path / "wide.csv", "id,Code 1,Code 2\nO01,debt;trust,\nO01,,Weather\n")
    rows = read_coder_file(wide, layout=WideLayout("id", "Code *")).rows
    assert rows[["_row", "code"]].values.tolist() == [[2, "debt"], [2, "trust"], [3, "Weather"]]
    mapped = map_gold(wide, run.segments, CodeNames(run.codebook), frame=rows.assign(segment="0"))
    assert mapped.skipped == ["row 3: code 'Weather' is not in the codebook"]


def _length(run, transcript: str) -> int:
    """How many characters a transcript of the run has."""
    return len(next(t for t in run.corpus if t.id == transcript).text)
