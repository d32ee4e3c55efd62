"""The notebooks in notebooks/ run top to bottom on the bundled sample, and are stored without outputs."""

from __future__ import annotations

import os

import pytest

from .conftest import HANG_GUARD, ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _files(root):
    """Every file under ``root`` outside version control and bytecode caches."""
    skip = {".git", "__pycache__", ".pytest_cache", ".ipynb_checkpoints"}
    found = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip]
        found.update(os.path.join(folder, f) for f in files)
    return found


def test_notebooks_are_the_four_guides():
    assert [p.name for p in NOTEBOOKS] == [
        "01-quick-start.ipynb",
        "02-themes-by-participant-attributes.ipynb",
        "03-topic-suggestions.ipynb",
        "04-quotes-for-a-report.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_stored_with_outputs_cleared(path):
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and any(cell.cell_type == "markdown" for cell in notebook.cells)
    for cell in code:
        assert cell.outputs == [], f"{path.name}: a cell has stored outputs; clear them before committing"
        assert cell.execution_count is None, f"{path.name}: a cell has an execution count; clear outputs"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_run_top_to_bottom(path, monkeypatch, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    # The kernel imports this checkout's themekit, whether or not it is installed, and makes its temporary
    # folder (the notebook's WORK: runs, exports, embedding cache) inside this test's, which pytest cleans up.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    notebook = nbformat.read(path, as_version=4)
    before = _files(ROOT)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=HANG_GUARD,  # any one cell: a hang guard, not a budget
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    said = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not [t for t in said if "Warning" in t], f"a cell printed a warning: {said}"
    assert not list(tmp_path.glob("themekit-notebook-*")), "the notebook's temporary folder outlived its kernel"
    shown = [o for o in outputs if o.output_type in ("execute_result", "display_data")]
    assert any("text/html" in o.data for o in shown), "themekit objects display as HTML"
    if "attributes" in path.stem:
        assert sum("image/png" in o.data for o in shown) >= 4, "each plot cell shows its figure"
    assert _files(ROOT) == before, "a notebook wrote into the repository; write into a temporary folder"
