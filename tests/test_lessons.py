"""The course: every lesson notebook agrees with its jupytext twin, is committed without
outputs, and executes from top to bottom in smoke mode twice: as shipped (every exercise says
"Not yet", nothing else fails, at least one picture shows) and with the solutions filled in
(every exercise says "OK")."""

from __future__ import annotations

import shutil

import pytest

from tests.lesson_notebooks import SOURCES, execute, exercise_cells, load_course, printed

PICTURES = ("image/svg+xml", "image/png")


def _cells(notebook) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in notebook.cells]


def test_lessons_are_numbered_from_00_without_gaps():
    assert len(SOURCES) >= 12
    assert [p.name[:2] for p in SOURCES] == [f"{i:02d}" for i in range(len(SOURCES))]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_matches_its_py_twin_and_has_no_outputs(source):
    jupytext = pytest.importorskip("jupytext")
    nbformat = pytest.importorskip("nbformat")
    notebook_path = source.with_suffix(".ipynb")
    assert notebook_path.exists(), f"{notebook_path.name} missing: run `make lessons`"
    committed = nbformat.read(notebook_path, as_version=4)
    twin = jupytext.read(source)
    assert _cells(committed) == _cells(twin), (
        f"{notebook_path.name} differs from {source.name}: run `make lessons`"
    )
    assert exercise_cells(committed) == exercise_cells(twin), (
        f"{notebook_path.name}'s exercise tags or ids differ from {source.name}: run `make lessons`"
    )
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{notebook_path.name} is committed with outputs: clear them (`make lessons`)"
            )


def _read(source):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    assert shutil.which("dot"), "Graphviz's dot is required by the lessons: run `make setup`"
    return nbformat.read(source.with_suffix(".ipynb"), as_version=4)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_lesson_as_shipped_says_not_yet_and_shows_pictures(source, monkeypatch):
    notebook = execute(_read(source), monkeypatch)
    exercises = dict(exercise_cells(notebook))
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        out = printed(cell)
        if i in exercises:
            assert f"Not yet: {exercises[i]}" in out and "OK:" not in out, (
                f"{source.stem}: exercise {exercises[i]} left blank should say 'Not yet', printed:\n{out}")
        else:
            assert "Not yet" not in out, f"{source.stem}: cell {i} is not an exercise but printed:\n{out}"
    pictures = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
                if any(kind in o.get("data", {}) for kind in PICTURES)]
    assert pictures, f"{source.stem} showed no picture (SVG or PNG output)"
    text_only_figures = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
                         if o.get("data", {}).get("text/plain", "").startswith("<Figure size")
                         and not any(kind in o["data"] for kind in PICTURES)]
    assert not text_only_figures, f"{source.stem} has figures that displayed as text only"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_lesson_with_the_solutions_filled_in_says_ok(source, monkeypatch):
    course = load_course()
    notebook = _read(source)
    exercises = dict(exercise_cells(notebook))
    assert exercises, f"{source.stem} has no exercise cells"
    for i, exercise_id in exercises.items():
        notebook.cells[i].source = course.exercise(exercise_id).solution
    execute(notebook, monkeypatch)
    for i, exercise_id in exercises.items():
        out = printed(notebook.cells[i])
        assert f"OK: {exercise_id}" in out and "Not yet" not in out, (
            f"{source.stem}: the solution of {exercise_id} should pass, printed:\n{out}")
    for cell in notebook.cells:
        assert "using the reference value" not in printed(cell), (
            f"{source.stem}: with every solution filled in no cell should fall back to the "
            f"reference, printed:\n{printed(cell)}")
