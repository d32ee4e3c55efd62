"""The package's shape: layers that import downwards only, no import cycles, no function too long to read."""

from __future__ import annotations

import ast
import subprocess
import sys

from .conftest import HANG_GUARD, ROOT

PACKAGE = ROOT / "src" / "themekit"


def test_layout_layers_import_downwards_only():
    # the contract in pyproject.toml ([tool.importlinter]), in-function imports included
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
            "--no-cache",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_layout_no_module_takes_part_in_an_import_cycle():
    import grimp

    graph = grimp.build_graph("themekit", cache_dir=None)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                cycles.append(f"{module} -> {imported} -> ... -> {module}")
    assert not cycles, cycles


def test_layout_no_function_is_over_55_statements():
    # counted as the lines on which a statement of the body begins, so the formatter's wrapping of a long call or
    # signature does not count, and a long body does
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                starts = {n.lineno for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.stmt)}
                if len(starts) > 55:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({len(starts)} statements)")
    assert not long, long


def test_layout_top_level_keeps_only_the_public_face_and_plain_data():
    # everything else sits in a package whose name says its layer (nlp/, runs/, human/, pipeline/, review/ ...)
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "_version.py", "api.py", "errors.py", "models.py"]
    # settings and coding options: one package at the config layer
    assert sorted(p.name for p in (PACKAGE / "config").glob("*.py")) == ["__init__.py", "options.py", "settings.py"]


def test_layout_one_class_per_name():
    names: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                names.setdefault(node.name, []).append(str(path.relative_to(PACKAGE)))
    twice = {name: where for name, where in names.items() if len(where) > 1}
    assert not twice, twice
