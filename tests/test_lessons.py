"""The course: every lesson notebook agrees with its jupytext twin, is committed without
outputs, and executes from top to bottom in smoke mode, showing at least one picture."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
SOURCES = sorted(LESSONS.glob("[0-9][0-9]_*.py"))
PICTURES = ("image/svg+xml", "image/png")


def _cells(notebook) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in notebook.cells]


def test_there_are_twelve_lessons():
    assert [p.name[:2] for p in SOURCES] == [f"{i:02d}" for i in range(12)]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_matches_its_py_twin_and_has_no_outputs(source):
    jupytext = pytest.importorskip("jupytext")
    nbformat = pytest.importorskip("nbformat")
    notebook_path = source.with_suffix(".ipynb")
    assert notebook_path.exists(), f"{notebook_path.name} missing: run `make lessons`"
    committed = nbformat.read(notebook_path, as_version=4)
    assert _cells(committed) == _cells(jupytext.read(source)), (
        f"{notebook_path.name} differs from {source.name}: run `make lessons`"
    )
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{notebook_path.name} is committed with outputs: clear them (`make lessons`)"
            )


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_lesson_executes_in_smoke_mode_and_shows_pictures(source, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    assert shutil.which("dot"), "Graphviz's dot is required by the lessons: run `make setup`"
    monkeypatch.setenv("MINIGRAD_SMOKE", "1")
    root = str(LESSONS.parent)
    monkeypatch.setenv("PYTHONPATH", root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    notebook = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(LESSONS)}})
    client.execute()
    pictures = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
                if any(kind in o.get("data", {}) for kind in PICTURES)]
    assert pictures, f"{source.stem} showed no picture (SVG or PNG output)"
    text_only_figures = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
                         if o.get("data", {}).get("text/plain", "").startswith("<Figure size")
                         and not any(kind in o["data"] for kind in PICTURES)]
    assert not text_only_figures, f"{source.stem} has figures that displayed as text only"
