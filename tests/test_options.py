"""Coding options as a user meets them: one checked object behind ``themekit.code``, ``suggest_topics`` and the
command line, and flags that mean the same on every command."""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

import themekit
from themekit.cli import app
from themekit.config.options import CodingOptions, IngestOptions, SegmentOptions
from themekit.errors import OptionError
from themekit.store import DEFAULT_PROJECT

runner = CliRunner()

UNIT_MESSAGE = "unknown coding unit 'sentences' (unit=); choose from: sentence, turn, paragraph, passage"


def _commands() -> dict[str, Any]:
    """Every command of the ``themekit`` app by its full name (``review reconcile``)."""
    found: dict[str, Any] = {}

    def walk(command: Any, prefix: str) -> None:
        if hasattr(command, "commands"):  # a group
            for name, sub in command.commands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            found[prefix] = command

    walk(typer.main.get_command(app), "")
    return found


def _option(command: Any, flag: str) -> Any:
    """The option of ``command`` with ``flag`` among its names, if any."""
    return next((p for p in command.params if p.param_type_name == "option" and flag in p.opts), None)


def test_options_code_unknown_unit_names_the_choices(tiny_corpus, tiny_codebook):
    with pytest.raises(OptionError) as raised:
        themekit.code(tiny_corpus, tiny_codebook, unit="sentences", project=None)
    assert str(raised.value) == UNIT_MESSAGE
    assert raised.value.params == ("unit",)


def test_options_cli_unknown_unit_gives_the_same_message_and_exit_code_1(tmp_path, tiny_corpus, tiny_codebook):
    result = runner.invoke(
        app, ["code", str(tiny_corpus), "-c", str(tiny_codebook), "-o", str(tmp_path / "r"), "--unit", "sentences"]
    )
    assert result.exit_code == 1
    assert result.output.strip() == "Error [E400]: " + UNIT_MESSAGE.replace("(unit=)", "(--unit)")
    assert not (tmp_path / "r").exists()


def test_options_refuse_a_misspelt_name_flat_or_in_a_section():
    with pytest.raises(OptionError, match=r"^unknown coding option 'uint'; choose from: interviewer_labels, "):
        CodingOptions(uint="turn")
    with pytest.raises(
        OptionError,
        match=r"^unknown segment option 'uint'; choose from: unit, min_words, spacy_model, code_interviewer$",
    ):
        CodingOptions(segment={"uint": "turn"})
    with pytest.raises(OptionError, match=r"^unknown coding option 'uint'"):
        themekit.code("anywhere", "none.yaml", uint="turn")


def test_options_every_choice_is_checked_with_one_message():
    with pytest.raises(OptionError) as raised:
        CodingOptions(methods="rule,magic,sorcery")
    assert str(raised.value) == (
        "unknown coding method 'magic', 'sorcery' (methods=); choose from: rule, semantic, classifier"
    )
    with pytest.raises(OptionError, match=r"^unknown engine 'spark' \(engine=\); choose from: local, dask$"):
        CodingOptions(engine="spark")
    with pytest.raises(OptionError, match=r"^coding\.min_score: input should be less than or equal to 1$"):
        CodingOptions(min_score=1.5)


def test_options_flat_names_fill_their_sections():
    options = CodingOptions(unit="TURN", methods=["Rules", "embedding"], strict=True, embedding_model="m")
    assert options.segment.unit == "turn"
    assert options.coding.methods == ("rule", "semantic")
    assert options.ingest.strict is True and options.embedding.model == "m"
    assert options == CodingOptions(
        segment=SegmentOptions(unit="turn"),
        coding={"methods": "rule,semantic"},
        ingest=IngestOptions(strict=True),
        embedding={"model": "m"},
    )
    changed = options.replaced(unit="paragraph", interviewer_labels="Q")
    assert changed.segment.unit == "paragraph" and changed.ingest.interviewer_labels == ("Q",)
    assert options.segment.unit == "turn"  # frozen: a change is a copy


def test_options_keywords_and_the_object_code_the_same(tiny_corpus, tiny_codebook):
    by_keywords = themekit.code(
        tiny_corpus, tiny_codebook, unit="turn", methods="rule", min_words=2, project=None, cache_dir=None
    )
    options = CodingOptions(unit="turn", methods="rule", cache_dir=None)
    by_object = themekit.code(tiny_corpus, tiny_codebook, options=options, min_words=2, project=None)
    assert by_keywords.id == by_object.id
    assert by_keywords.settings == by_object.settings
    assert [(c.segment.index, c.code_id) for c in by_keywords.codings] == [
        (c.segment.index, c.code_id) for c in by_object.codings
    ]
    # run.json records the settings as it always has: the run id hashes them
    assert list(by_keywords.settings) == [
        "unit",
        "min_words",
        "methods",
        "min_score",
        "spacy_model",
        "spacy_version",
        "interviewer_labels",
        "code_interviewer",
        "strict",
    ]
    assert by_keywords.settings["unit"] == "turn" and by_keywords.settings["methods"] == ["rule"]
    assert by_keywords.settings["interviewer_labels"] == "default" and by_keywords.settings["min_words"] == 2


def test_options_code_signature_lists_every_option():
    import inspect

    parameters = inspect.signature(themekit.code).parameters
    for name in CodingOptions.names():
        assert name in parameters, name
    # unit None: a sentence of an interview, a whole response of a survey table
    assert parameters["unit"].default is None and parameters["project"].default == DEFAULT_PROJECT
    assert CodingOptions().unit == "sentence" and CodingOptions(unit_column="ResponseId").unit == "turn"
    assert CodingOptions(unit_column="ResponseId", unit="paragraph").unit == "paragraph"
    assert "unit" in inspect.signature(themekit.suggest_topics).parameters


def test_options_quiet_out_gold_and_project_mean_the_same_on_every_command():
    commands = _commands()
    quiet = {name for name, c in commands.items() if _option(c, "--quiet")}
    out = {name for name, c in commands.items() if _option(c, "--out")}
    assert out <= quiet  # every command that writes something can be quiet about it
    assert {"code", "suggest", "evaluate", "review reconcile", "export report", "codebook merge"} <= out
    helps = set()
    for name, command in commands.items():
        if name in quiet:
            option = _option(command, "--quiet")
            assert option.opts == ["--quiet", "-q"], name
            helps.add(option.help)
        if name in out:
            assert _option(command, "--out").opts == ["--out", "-o"], name
        gold = _option(command, "--gold")
        if gold is not None:
            assert gold.opts == ["--gold", "-g"], name
        project = _option(command, "--project")
        if project is not None and name != "agree":  # agree compares files unless given a project
            assert project.default == DEFAULT_PROJECT, name
    assert len(helps) == 1
    assert {name for name, c in commands.items() if _option(c, "--gold")} == {"code", "suggest", "evaluate"}


def test_options_command_functions_are_named_alike():
    for name, command in _commands().items():
        assert command.callback.__name__ == name.replace(" ", "_").replace("-", "_") + "_cmd", name


def test_options_review_reconcile_writes_to_out(tmp_path, tiny_corpus, tiny_codebook):
    project = tmp_path / "project.db"
    ran = runner.invoke(
        app,
        ["code", str(tiny_corpus), "-c", str(tiny_codebook), "-o", str(tmp_path / "r1"), "--method", "rule"]
        + ["--project", str(project), "--no-cache", "-q"],
    )
    assert ran.exit_code == 0 and ran.output == "", ran.output
    result = runner.invoke(app, ["review", "reconcile", "-o", str(tmp_path / "rec.csv"), "--project", str(project)])
    assert result.exit_code == 0, result.output
    assert f"No disagreements between coders on this run → {tmp_path / 'rec.csv'}" in result.output
    assert (tmp_path / "rec.csv").read_text() == "id,transcript,quote,code,code_label,final_decision,note\n"
    old = runner.invoke(app, ["review", "reconcile", "--to", str(tmp_path / "old.csv"), "--project", str(project)])
    assert old.exit_code == 0 and (tmp_path / "old.csv").is_file()  # the old name still works, unlisted
    quiet = runner.invoke(app, ["review", "reconcile", "-o", str(tmp_path / "q.csv"), "-q", "--project", str(project)])
    assert quiet.exit_code == 0 and quiet.output == "" and (tmp_path / "q.csv").is_file()
    helped = runner.invoke(app, ["review", "reconcile", "--help"]).output
    assert "--out" in helped and "--to" not in helped
    assert json.loads((tmp_path / "r1" / "run.json").read_text())["settings"]["methods"] == ["rule"]
