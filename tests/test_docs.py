from __future__ import annotations

import re

import themekit
from themekit.cli import app

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def _commands(typer_app, prefix: str = "themekit") -> list[str]:
    """Every command of ``typer_app``, its command groups' commands included."""
    found = [f"{prefix} {c.name}" for c in typer_app.registered_commands]
    for group in typer_app.registered_groups:
        found += _commands(group.typer_instance, f"{prefix} {group.name}")
    return found


def test_docs_every_cli_command_is_in_the_readme():
    commands = _commands(app)
    # every group is walked: the export and import groups' commands are checked too
    assert {"themekit export docx", "themekit import qdpx", "themekit codebook bump", "themekit review gold"} <= set(
        commands
    )
    missing = [command for command in commands if f"`{command}" not in README]
    assert not missing, missing


def test_docs_quick_start_has_exactly_two_commands():
    block = README.split("## Quick start", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) == 2
    assert "themekit code transcripts_sample --codebook codebooks/ati-keyworker.yaml --out runs/sample" in lines[0]
    assert lines[1] == "python -m pytest"


def test_docs_public_api_is_exactly_all():
    public = {name for name in dir(themekit) if not name.startswith("_")}
    exported = set(themekit.__all__) - {"__version__"}
    modules = {name for name in public if type(getattr(themekit, name)).__name__ == "module"}
    assert public - modules == exported
    assert re.fullmatch(r"\d+\.\d+\.\d+", themekit.__version__)


def test_docs_readme_settings_example_loads(tmp_path):
    from themekit.config import load_settings

    blocks = [part.split("```", 1)[0] for part in README.split("```yaml\n")[1:]]
    [block] = [b for b in blocks if "report:" in b]
    (tmp_path / "themekit.yaml").write_text(block)
    settings = load_settings(tmp_path / "themekit.yaml")
    assert settings.report.noun == "keyworker"
    assert settings.report.prevalence_rules()[0] == ("all", 1.0)
    assert settings.report.prevalence_rules()[-1] == ("one", 1)
    (tmp_path / "bad.yaml").write_text("report:\n  nuon: x\n")
    import pytest

    from themekit import ThemekitError

    with pytest.raises(ThemekitError, match=r"bad.yaml: report.nuon \(line 2\): extra inputs are not permitted"):
        load_settings(tmp_path / "bad.yaml")
