from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "transcripts_sample"
SAMPLE_CODEBOOK = ROOT / "codebooks" / "ati-keyworker.yaml"

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


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path, monkeypatch):
    """Run every test from a temporary folder, so caches and runs never land in the checkout."""
    monkeypatch.chdir(tmp_path)


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


@pytest.fixture(scope="session")
def sample_run():
    """The bundled sample coded once for the whole session."""
    import themekit

    return themekit.code(SAMPLE, SAMPLE_CODEBOOK)


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
