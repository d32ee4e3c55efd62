"""Shared fixtures. Session-scoped ones are built once and shared read-only: a test that writes into a run
folder copies it first (``copy_run``), and a shared folder fails any test that writes into it.

Tests marked ``slow`` load the embedding model, train the classifier on the sample, run BERTopic, Dask, a
notebook, a property-based search or themekit commands in other processes (kill tests, the benchmark), or
render with LibreOffice or Chromium; ``python -m pytest -m "not slow"`` leaves them out for everyday work.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from themekit.models import Transcript

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "transcripts_sample"
SAMPLE_CODEBOOK = ROOT / "codebooks" / "ati-keyworker.yaml"
#: The sample's human codings: in a subfolder, so coding the sample does not find them beside the transcripts.
SAMPLE_GOLD = SAMPLE / "codings" / "gold.csv"
#: Seconds a test waits on another process (a themekit command, a notebook kernel, LibreOffice, a worker) before
#: calling it hung. Only a hang comes near it: a loaded machine may run any step many times slower, and a test
#: fails on what the step did, never on how long it took.
HANG_GUARD = 1800

TINY_CODEBOOK = """\
schema_version: 1
name: Tiny study
version: 0.1.0
participant_noun: participant
themes:
  - id: barriers
    label: Barriers
    codes:
      - id: loneliness
        label: Loneliness
        definition: Feeling alone or without people to talk to.
        keywords: [isolation, lonely, nobody to talk to]
        exclude_keywords: [rural]
        examples: ["I had nobody to talk to."]
      - id: debt
        label: Debt
        definition: Debts and arrears.
        keywords: [debt, bailiff]
        patterns:
          - [{LOWER: "owe"}, {LIKE_NUM: true}]
        examples: ["The debts kept piling up."]
  - id: support
    label: Support
    codes:
      - id: trust
        label: Trust
        definition: A trusting relationship with the keyworker.
        keywords: [trust, rapport]
        examples: ["Once they trust you, things move."]
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# -- transcripts written by tests ----------------------------------------------------------------


def transcript_file(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """``text`` (dedented) written to ``tmp_path / name`` in ``encoding``: a transcript file for a reader test."""
    path = tmp_path / name
    path.write_bytes(textwrap.dedent(text).encode(encoding))
    return path


def speech_turns(t: Transcript) -> list[tuple[str, str, str]]:
    """(speaker, role, speech) for every turn."""
    return [(turn.speaker, turn.role, t.turn_text(turn)) for turn in t.turns]


#: The header lines an Otter.ai export starts with (title, date, keywords, speakers), read as attributes.
OTTER_HEADER = [
    "Centre visit interview",
    "Tue, 3/5 2:14PM • 41:07",
    "SUMMARY KEYWORDS",
    "mentors, paperwork, rota, canteen",
    "SPEAKERS",
    "Jane Smith, Alex Green",
]


# -- commands started in the background ----------------------------------------------------------
#
# A test whose whole work is one long command in another process (the benchmark's small size) starts it as
# soon as the session knows the test will run: the rest of the suite runs in this one process, so on two
# cores the command runs beside it instead of after it. The test runs last, waits for it and checks what it
# wrote.


def _start_small_benchmark(folder: Path) -> subprocess.Popen:
    import themekit

    env = {**os.environ, "PYTHONPATH": str(Path(themekit.__file__).resolve().parents[1])}
    script = ROOT / "benchmarks" / "run.py"
    args = [sys.executable, str(script), "--size", "small", "--workers", "1", "--out", str(folder / "report")]
    with open(folder / "stdout.txt", "w") as out, open(folder / "stderr.txt", "w") as err:
        return subprocess.Popen(args, cwd=folder, stdout=out, stderr=err, env=env)


#: test name -> what starts its command in a fresh folder
BACKGROUND = {"test_benchmarks_run_small_size_reports_every_stage": _start_small_benchmark}
_started: dict[str, tuple[subprocess.Popen, Path]] = {}


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.name in BACKGROUND)  # the tests that wait for their command run last


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    for name in {item.name for item in session.items} & BACKGROUND.keys():
        folder = Path(tempfile.mkdtemp(prefix="themekit-tests-"))
        _started[name] = (BACKGROUND[name](folder), folder)


def pytest_sessionfinish(session):
    for proc, folder in _started.values():
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def background(request) -> tuple[subprocess.Popen, Path]:
    """This test's command, started in the background when the session began (see BACKGROUND): the process,
    and its folder (``stdout.txt``, ``stderr.txt``, and the command's own output in ``report``)."""
    return _started[request.node.name]


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path, monkeypatch):
    """Run every test from a temporary folder, so caches and runs never land in the checkout, and never let the
    search for a project store go above it (a project.db in a shared temporary folder must not leak into tests)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THEMEKIT_CEILING_DIRECTORIES", str(tmp_path.parent))


@pytest.fixture
def tiny_codebook(tmp_path: Path) -> Path:
    return write(tmp_path / "codebook.yaml", TINY_CODEBOOK)


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "transcripts"
    write(
        folder / "P01.txt",
        """\
        Interviewer: How have things been since you moved?

        P01: Honestly the isolation was the worst part of it. I felt isolated every single day.

        Interviewer: And money?

        P01: The debts piled up and I still owe 300 to the council. The bailiffs came twice in one month.
        """,
    )
    write(
        folder / "P02.txt",
        """\
        Interviewer: What helped you most?

        P02: I trust her completely, she never judged me at all. Living out in the rural area I was lonely for years.

        Interviewer: Anything else?

        P02: I never felt lonely at the group sessions though, people were kind.
        """,
    )
    return folder


@pytest.fixture
def coded(tmp_path, tiny_corpus, tiny_codebook):
    """The tiny corpus coded with the rules: the run, and the folder it is saved in."""
    from themekit import code

    run = code(tiny_corpus, tiny_codebook, methods="rule")
    return run, run.save(tmp_path / "run")


def span_of(run, tid: str, startswith: str) -> tuple[int, int]:
    """The (start, end) of the one segment of transcript ``tid`` whose text starts with ``startswith``."""
    [seg] = [s for s in run.units if s.transcript.id == tid and s.text.startswith(startswith)]
    return seg.start, seg.end


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _read_only(folder: Path):
    """Yield ``folder``, then fail the test if it wrote into it (so no test depends on another's leftovers)."""
    before = _fingerprint(folder)
    yield folder
    assert _fingerprint(folder) == before, f"{folder}: a test wrote into a shared run folder; copy it first (copy_run)"


def copy_run(folder: Path, tmp_path: Path) -> Path:
    """A private copy of a shared run folder, for a test that writes into it."""
    return Path(shutil.copytree(folder, tmp_path / folder.name))


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory) -> Path:
    """One embedding cache for the session: the model embeds each text once, whichever test asks first.
    Tests that count cache hits and misses give themselves a fresh folder instead."""
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="session")
def sample_run(embedding_cache):
    """The bundled sample coded once for the session as the README's quick start codes it with learned coding
    added (``--gold transcripts_sample/codings/gold.csv``): rules, semantic similarity and the classifier trained
    on the sample's human codings. Slow: tests using it are marked slow."""
    import themekit

    return themekit.code(SAMPLE, SAMPLE_CODEBOOK, gold=SAMPLE_GOLD, cache_dir=embedding_cache)


@pytest.fixture(scope="session")
def _sample_folder(sample_run, tmp_path_factory) -> Path:
    return sample_run.save(tmp_path_factory.mktemp("sample") / "run")


@pytest.fixture
def sample_folder(_sample_folder):
    """``sample_run`` saved as a run folder once for the session; read-only."""
    yield from _read_only(_sample_folder)


@pytest.fixture(scope="session")
def sample_rule_run():
    """The bundled sample coded by rules only (about a second), once for the session: for tests that read a
    real run of the sample but do not depend on which methods coded it."""
    import themekit

    return themekit.code(SAMPLE, SAMPLE_CODEBOOK, methods="rule", cache_dir=None)


@pytest.fixture(scope="session")
def _sample_rule_folder(sample_rule_run, tmp_path_factory) -> Path:
    return sample_rule_run.save(tmp_path_factory.mktemp("sample-rule") / "run")


@pytest.fixture
def sample_rule_folder(_sample_rule_folder):
    """``sample_rule_run`` saved as a run folder once for the session; read-only."""
    yield from _read_only(_sample_rule_folder)


# -- a tiny run built by hand --------------------------------------------------------------------
#
# Every count about it is a hand count:
#
#     P01 (works_alone=yes): s0 loneliness | s1 debt + loneliness | s2 trust
#     P02 (works_alone=no):  s0 loneliness (negated) | s1 debt + trust | s2 debt (rejected)
#     P03 (no attribute):    s0 loneliness + debt

TINY_SENTENCES = {
    "P01": [
        "Honestly the isolation was the worst part of my whole week.",
        "The debts piled up and nobody to talk to about any of it at all.",
        "I trust her because she always came back when she said she would.",
    ],
    "P02": [
        "I never felt lonely at the group sessions, people were kind there.",
        "She helped with the bailiff letters and I trusted her after that visit.",
        "The debt advice line was closed <script>alert('x')</script> & nobody answered.",
    ],
    "P03": ["Lonely and in debt, that was me for the best part of two years."],
}
TINY_ATTRIBUTES = {
    "P01": {"works_alone": "yes", "team_size": "1"},
    "P02": {"works_alone": "no", "team_size": "4"},
    "P03": {},
}
# (transcript, segment, code, score, negated, status)
TINY_CODINGS = [
    ("P01", 0, "loneliness", 0.90, False, "suggested"),
    ("P01", 1, "debt", 0.95, False, "suggested"),
    ("P01", 1, "loneliness", 0.60, False, "accepted"),
    ("P01", 2, "trust", 0.80, False, "suggested"),
    ("P02", 0, "loneliness", 0.50, True, "suggested"),
    ("P02", 1, "debt", 0.85, False, "suggested"),
    ("P02", 1, "trust", 0.75, False, "human"),
    ("P02", 2, "debt", 0.99, False, "rejected"),
    ("P03", 0, "loneliness", 0.70, False, "suggested"),
    ("P03", 0, "debt", 0.70, False, "suggested"),
]
_TINY_THEME = {"loneliness": "barriers", "debt": "barriers", "trust": "support"}


def _tiny_transcript(tid: str):
    from themekit import Transcript, Turn

    label = f"{tid}: "
    question = "Interviewer: How have things been?\n\n"
    text = question + label + " ".join(TINY_SENTENCES[tid])
    start = len(question) + len(label)
    turns = (
        Turn(0, "Interviewer", "interviewer", len("Interviewer: "), len(question) - 2),
        Turn(1, tid, "participant", start, len(text)),
    )
    spans, at = [], start
    for sentence in TINY_SENTENCES[tid]:
        spans.append((at, at + len(sentence)))
        at += len(sentence) + 1
    return Transcript(tid, Path(f"{tid}.txt"), "0" * 64, "txt", "utf-8", text, turns, TINY_ATTRIBUTES[tid]), spans


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A run built by hand (no coding): three transcripts, seven segments, ten codings with the hand counts
    above, covering negated, accepted, rejected and human codings. Shared by the session; read it only."""
    from themekit import Codebook, Coding, Corpus, Run, Segment

    folder = tmp_path_factory.mktemp("tiny-run")
    codebook = Codebook.load(write(folder / "codebook.yaml", TINY_CODEBOOK))
    transcripts, segments = [], {}
    for tid in TINY_SENTENCES:
        transcript, spans = _tiny_transcript(tid)
        transcripts.append(transcript)
        for i, (start, end) in enumerate(spans):
            segments[(tid, i)] = Segment(transcript, i, 1, start, end)
    codings = [
        Coding(segments[(tid, i)], code, _TINY_THEME[code], "rule", score, "matched: x", status, negated)
        for tid, i, code, score, negated, status in TINY_CODINGS
    ]
    return Run(Corpus(folder, tuple(transcripts)), codebook, list(segments.values()), codings, {"methods": ["rule"]})


@pytest.fixture(scope="session")
def shown():
    """What Jupyter shows for an object: the text/html that a real IPython shell's display formatter gives,
    with themekit's views registered as ``import themekit`` registers them in a kernel."""
    from IPython.core.interactiveshell import InteractiveShell

    from themekit.render.display import register_views

    shell = InteractiveShell.instance()
    register_views(shell)

    def show(obj) -> str:
        data, _ = shell.display_formatter.format(obj)
        return data["text/html"]

    return show
