from __future__ import annotations

import re

import themekit
from themekit.cli import app, codebook_app, review_app

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_docs_every_cli_command_is_in_the_readme():
    commands = [f"themekit {c.name}" for c in app.registered_commands]
    commands += [f"themekit codebook {c.name}" for c in codebook_app.registered_commands]
    commands += [f"themekit review {c.name}" for c in review_app.registered_commands]
    assert commands
    for command in commands:
        assert f"`{command}" in README, command


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

    with pytest.raises(ThemekitError, match=r"bad.yaml: report.nuon: extra inputs are not permitted"):
        load_settings(tmp_path / "bad.yaml")
