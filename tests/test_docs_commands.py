"""The commands the README and the docs show: each is a valid command line, and each in a ``bash`` block is run
by a test, as written where it can be (the review and double-coding walk-throughs run here, line by line)."""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from themekit.cli import app

from .conftest import ROOT

#: where the docs are written: the README, the MkDocs pages and the benchmarks page they include
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), ROOT / "benchmarks" / "README.md"]

#: every ``themekit`` command in a ``bash`` block of the README or the docs, and the test that runs it
RUN_BY = {
    "themekit project recover .themekit/project.db --out recovered.db": "test_store.py::test_store_zeroed_header_is_recoverable_and_recovered_whole",
    "themekit code transcripts_sample --codebook codebooks/ati-keyworker.yaml --out runs/sample": "test_cli.py::test_cli_code_sample_quick_start_trains_nothing_and_says_how_to_add_codings",
    "themekit code transcripts_sample --codebook codebooks/ati-keyworker.yaml --out runs/sample-learned"
    " --gold transcripts_sample/codings/gold.csv": "test_cli.py::test_cli_code_sample_with_its_codings_is_the_readme_library_example",
    **{
        command: "test_docs_commands.py::test_docs_review_walk_through_runs_as_written"
        for command in [
            "themekit code transcripts/ --codebook cb.yaml --out runs/r1",
            "themekit review export runs/r1 --out review.xlsx",
            "themekit review import review.xlsx --coder alex",
            "themekit code transcripts/ --codebook cb.yaml --out runs/r2",
            "themekit review status",
            "themekit review status --run runs/r1",
            "themekit history",
            "themekit review serve",
            "themekit review serve runs/r1 --coder alex --port 8800 --open",
        ]
    },
    **{
        command: "test_docs_commands.py::test_docs_double_coding_walk_through_runs_as_written"
        for command in [
            "themekit review export runs/r1 --out alex.xlsx --coder alex --blind",
            "themekit review export runs/r1 --out sam.xlsx --coder sam --blind",
            "themekit review import alex.xlsx --coder alex",
            "themekit review import sam.xlsx --coder sam",
            "themekit agree --project .themekit/project.db",
            "themekit review reconcile --out reconcile.xlsx",
            "themekit review import reconcile.xlsx --coder kim",
        ]
    },
}


def _commands_in(lines: list[str]) -> list[list[str]]:
    """The ``themekit`` commands of shell lines: comments dropped, ``\\`` continuations joined, ``$ `` prompts and
    commands chained with ``&&`` or ``;`` split off."""
    found: list[list[str]] = []
    text = "\n".join(lines).replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip().removeprefix("$ ")
        if "themekit" not in line:
            continue
        words = shlex.split(line, comments=True)
        command: list[str] = []
        for word in [*words, "&&"]:
            if word in ("&&", ";", "||"):
                if command and command[0] == "themekit":
                    found.append(command)
                command = []
            else:
                command.append(word)
    return found


def code_blocks(path: Path, language: str | None = None) -> list[list[str]]:
    """The lines of each fenced code block of ``path`` (of ``language`` only, when given), and of each indented
    one when no language is asked for."""
    blocks: list[list[str]] = []
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)", lines[i])
        if fence:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            if language is None or fence.group(1) == language:
                blocks.append(lines[i + 1 : end])
            i = end + 1
            continue
        if language is None and lines[i].startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            block = []
            while i < len(lines) and lines[i].startswith("    "):
                block.append(lines[i][4:])
                i += 1
            blocks.append(block)
            continue
        i += 1
    return blocks


def doc_commands(language: str | None = None) -> list[list[str]]:
    return [command for path in DOC_FILES for block in code_blocks(path, language) for command in _commands_in(block)]


def bash_commands(page: str) -> list[list[str]]:
    """The ``themekit`` commands of a page's ``bash`` blocks, in order."""
    return [command for block in code_blocks(ROOT / page, "bash") for command in _commands_in(block)]


def parse(argv: list[str]) -> tuple[str, ...]:
    """Parse a command line as ``themekit`` would, without running it: the command must exist, its options and
    arguments be known, required ones given, and fixed vocabularies (units, methods, formats) hold the value.
    Returns the command's path."""
    import typer

    command = typer.main.get_command(app)
    ctx = command.make_context("themekit", list(argv[1:]))
    path = ("themekit",)
    while hasattr(command, "resolve_command"):
        name, command, rest = command.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
        ctx = command.make_context(name, rest, parent=ctx)
        path += (name,)
    return path


def test_docs_commands_are_found_in_every_kind_of_block():
    everything = {" ".join(c) for c in doc_commands()}
    assert "themekit review serve runs/r1 --coder alex --port 8800 --open" in everything  # bash, comment dropped
    assert any(
        c.startswith("themekit codebook merge codebooks/ati-keyworker.yaml")
        and c.endswith("--theme keyworker_experience")
        for c in everything
    )  # a plain block, a continued line
    assert any(c.startswith("themekit code responses.csv") for c in everything)  # an indented block
    assert "themekit code transcripts/ -c cb.yaml -o runs/r1" in everything  # after a $ prompt
    assert any(c.startswith("themekit code transcripts_sample") for c in {" ".join(c) for c in doc_commands("bash")})


def test_docs_every_command_shown_is_a_valid_command_line():
    commands = doc_commands()
    assert len(commands) >= 25
    problems = []
    for command in commands:
        try:
            parse(command)
        except Exception as error:  # noqa: BLE001 (a usage error, of click's own classes, says what is wrong)
            problems.append(f"{' '.join(command)}: {type(error).__name__}: {getattr(error, 'message', error)}")
    assert not problems, "\n".join(problems)


def test_docs_parse_refuses_what_themekit_refuses():
    assert parse(["themekit", "review", "status", "--run", "runs/r1"]) == ("themekit", "review", "status")
    for wrong in (
        ["themekit", "code", "t/", "--codebook", "cb.yaml", "--out", "r", "--min-score", "2"],
        ["themekit", "review", "exprot", "runs/r1"],
        ["themekit", "review", "export", "runs/r1", "--blindly"],
        ["themekit", "codebook", "merge", "cb.yaml"],
    ):
        with pytest.raises(Exception):  # noqa: B017 (typer's usage errors and its choice checks share no base class)
            parse(wrong)


def test_docs_every_bash_command_is_run_by_a_test():
    shown = {" ".join(command) for command in doc_commands("bash")}
    assert shown == set(RUN_BY), (
        f"commands shown without a test that runs them: {sorted(shown - set(RUN_BY))}; "
        f"listed but no longer shown: {sorted(set(RUN_BY) - shown)}"
    )
    for command, test in RUN_BY.items():
        file, name = test.split("::")
        source = (ROOT / "tests" / file).read_text()
        [function] = [
            node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef) and node.name == name
        ]
        body = ast.get_source_segment(source, function)
        words = parse(command.split())[1:]
        # the test runs that very command: through the page that shows it, or by its words
        assert "walk_through" in name or all(f'"{word}"' in body for word in words), (command, test)


def _run(argv: list[str]):
    result = CliRunner().invoke(app, argv[1:], prog_name="themekit")
    assert result.exit_code == 0, f"{' '.join(argv)}\n{result.output}"
    return result


def _fill(sheet: str, column: str, value) -> None:
    """Fill ``column`` of every row of a review or reconcile sheet, as a person would in Excel."""
    from openpyxl import load_workbook

    book = load_workbook(sheet)
    table = book.worksheets[0]
    header = [cell.value for cell in table[1]]
    rows = list(table.iter_rows(min_row=2))
    assert rows, f"{sheet} has no rows to fill"
    for number, row in enumerate(rows):
        row[header.index(column)].value = value(number) if callable(value) else value
    book.save(sheet)


@pytest.fixture
def docs_project(tiny_corpus, tiny_codebook, embedding_cache, tmp_path):
    """The folder the walk-throughs work in: ``transcripts/`` and ``cb.yaml``, as the docs name them."""
    assert tiny_corpus == tmp_path / "transcripts" and Path.cwd() == tmp_path
    shutil.copy(tiny_codebook, tmp_path / "cb.yaml")
    shutil.copytree(embedding_cache, tmp_path / ".themekit" / "cache")
    return tmp_path


@pytest.mark.slow
def test_docs_review_walk_through_runs_as_written(docs_project, monkeypatch):
    """docs/guide/review.md: code, export a sheet, fill it, import it, re-run, status, history, then the web app."""
    commands = bash_commands("docs/guide/review.md")
    served = []
    # the web app itself is tested in test_web.py and test_web_browser.py; here, that the commands start it as asked
    monkeypatch.setattr("themekit.web.serve", lambda project, run, **options: served.append((run, options)))
    for command in commands:
        output = _run(command).output
        if command[1:3] == ["review", "export"]:
            _fill("review.xlsx", "decision", "accept")  # "fill the yellow columns"
        if command[1:3] == ["review", "import"]:
            assert "alex" in output or "accept" in output, output
    assert [c[1] for c in commands[:2]] == ["code", "review"] and len(served) == 2
    excerpts = pd.read_csv(docs_project / "runs" / "r2" / "excerpts.csv")
    assert set(excerpts["status"]) == {"accepted"}  # every decision applied by the re-run
    (latest, first), (chosen, options) = served
    assert chosen == "runs/r1" and options["coder"] == "alex" and options["port"] == 8800 and options["open_browser"]
    assert options["host"] == "127.0.0.1" and first["port"] == 8765 and not first["open_browser"]


@pytest.mark.slow
def test_docs_double_coding_walk_through_runs_as_written(docs_project):
    """docs/guide/several-coders.md: two blind sheets, alex accepts every suggestion and sam rejects every other
    one, agreement, a reconcile sheet settled by kim, and a run that applies the final decisions."""
    _run(bash_commands("docs/guide/review.md")[0])  # the run the walk-through starts from: runs/r1
    for command in bash_commands("docs/guide/several-coders.md"):
        output = _run(command).output
        if command[1:3] == ["review", "export"]:
            coder = command[command.index("--coder") + 1]
            sheet = command[command.index("--out") + 1]
            _fill(sheet, "decision", "accept" if coder == "alex" else (lambda n: "reject" if n % 2 == 0 else "accept"))
        if command[1] == "agree":
            assert "alex" in output and "sam" in output, output
        if command[1:3] == ["review", "reconcile"]:
            _fill("reconcile.xlsx", "final_decision", "accept")
    record = json.loads((docs_project / "runs" / "r2" / "run.json").read_text())
    assert not record["stats"]["decisions"].get("disputed")  # kim settled every disagreement
    excerpts = pd.read_csv(docs_project / "runs" / "r2" / "excerpts.csv")
    assert set(excerpts["status"]) == {"accepted"}
