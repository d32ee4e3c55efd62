from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import themekit
from themekit.cli import app

from .conftest import ROOT

README = (ROOT / "README.md").read_text()
#: the docs as written (generated parts are markers here): the MkDocs pages and the benchmarks page they include
PAGES = {
    str(path.relative_to(ROOT)): path.read_text()
    for path in [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "benchmarks" / "README.md"]
}
DOCS = "\n".join([README, *PAGES.values()])


def hooks():
    """``docs/hooks.py``, the MkDocs hook that renders the generated pages."""
    spec = importlib.util.spec_from_file_location("themekit_docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rendered_page(name: str) -> str:
    """``docs/NAME`` as the site shows it, generated parts included."""
    return hooks().render_page(name)


def _commands(typer_app, prefix: str = "themekit") -> list[str]:
    """Every command of ``typer_app``, its command groups' commands included."""
    found = [f"{prefix} {c.name}" for c in typer_app.registered_commands]
    for group in typer_app.registered_groups:
        found += _commands(group.typer_instance, f"{prefix} {group.name}")
    return found


def test_docs_every_cli_command_is_in_the_readme_or_docs():
    commands = _commands(app)
    # every group is walked: the export and import groups' commands are checked too
    assert {"themekit export docx", "themekit import qdpx", "themekit codebook bump", "themekit review gold"} <= set(
        commands
    )
    # written about, not only in the generated --help: the pages are read as written
    missing = [command for command in commands if f"`{command}" not in DOCS]
    assert not missing, missing


def test_docs_cli_reference_is_every_commands_help():
    page = rendered_page("reference/cli.md")
    assert "<!-- themekit:" not in page
    for command in ["themekit", *_commands(app)]:
        assert f"### `{command}`\n\n```text\n" in page, command
        assert f"Usage: {command} [OPTIONS]" in page, command
    # and nothing else: the app, each command group and each command once
    assert page.count("### `themekit") == 1 + len(app.registered_groups) + len(_commands(app))
    # fixed width, no colour: the same text on any terminal
    assert "\x1b[" not in page
    assert max(len(line) for line in page.splitlines() if line.startswith(("│", "╭", "╰"))) == hooks().WIDTH
    assert "--unit-column" in page.split("### `themekit code`", 1)[1].split("### ", 1)[0]


def test_docs_error_page_names_every_code_in_errors_py():
    import ast

    source = (ROOT / "src" / "themekit" / "errors.py").read_text()
    defined = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.Assign) and [t.id for t in item.targets if isinstance(t, ast.Name)] == ["code"]:
                    defined[node.name] = item.value.value
    assert len(defined) >= 20 and defined["ProjectError"] == "E700"
    page = rendered_page("reference/errors.md")
    rows = dict(re.findall(r"^\| (E\d{3}) \| `(\w+)` \|", page, flags=re.MULTILINE))
    assert rows == {code: name for name, code in defined.items()}
    assert "| E701 | `ProjectBusyError` | `ProjectError` | Another themekit process held the project store" in page


def test_docs_benchmarks_page_is_the_benchmarks_readme():
    page = rendered_page("benchmarks.md")
    assert page.strip() == (ROOT / "benchmarks" / "README.md").read_text().strip()
    assert "| rule, semantic, classifier (held out) | 0.64 | 0.63 | 0.64 |" in page


def test_docs_readme_is_short_and_links_into_the_docs():
    lines = README.splitlines()
    assert len(lines) <= 150
    assert max(map(len, lines)) <= 200
    assert README.count("![") == 1 and "(docs/review-serve.png)" in README
    links = re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", README)
    local = [link for link in links if "://" not in link]
    assert {"docs/index.md", "docs/reference/cli.md", "docs/architecture.md", "benchmarks/README.md"} <= set(local)
    assert not [link for link in local if not (ROOT / link).exists()]
    # timings live in the docs, not in the README
    assert not re.search(r"\d+(\.\d+)? s\b", README)


def test_docs_every_page_is_in_the_nav_and_links_resolve():
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text().replace("!!python", "python"))

    def pages(nav):
        for item in nav:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            yield from (pages(value) if isinstance(value, list) else [value])

    in_nav = set(pages(config["nav"]))
    on_disk = {str(path.relative_to(ROOT / "docs")) for path in (ROOT / "docs").rglob("*.md")}
    assert in_nav == on_disk
    assert config["theme"]["name"] == "material" and config["hooks"] == ["docs/hooks.py"]
    [plugin] = [p["mkdocstrings"] for p in config["plugins"] if isinstance(p, dict) and "mkdocstrings" in p]
    assert plugin["handlers"]["python"]["paths"] == ["src"]
    for name, text in PAGES.items():
        if not name.startswith("docs/"):
            continue
        for link in re.findall(r"\]\(([^)#\s]+?)(?:#[^)]*)?\)", text):
            if "://" not in link:
                assert (ROOT / Path(name).parent / link).exists(), (name, link)


def test_docs_api_reference_names_only_modules_that_stay():
    """The API page documents the public API through modules whose place is settled, so moving a module inside
    the package does not break the site."""
    page = PAGES["docs/reference/api.md"]
    documented = re.findall(r"^::: ([\w.]+)", page, flags=re.MULTILINE)
    assert documented == [
        "themekit.api",
        "themekit.config",
        "themekit.errors",
        "themekit.models",
        "themekit.codebook",
        "themekit.ingest",
        "themekit.analysis.agree",
        "themekit.analysis.evaluate",
        "themekit.analysis.summarize",
        "themekit.analysis.topics",
        "themekit.export",
        "themekit.refi",
    ]


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


def test_docs_settings_example_loads(tmp_path):
    from themekit.config import load_settings

    page = PAGES["docs/guide/exports.md"]
    blocks = [part.split("```", 1)[0] for part in page.split("```yaml\n")[1:]]
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
