"""What the lesson tests share: where the lessons are, `course` imported as the notebooks import
it, the exercise cells of a notebook, and executing a notebook in smoke mode."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
SOURCES = sorted(LESSONS.glob("[0-9][0-9]_*.py"))
BLANKS = ("...", "None", "NotImplementedError")


def load_course() -> ModuleType:
    """``lessons/course.py`` as the module ``course``, so the solutions files can import it."""
    if "course" not in sys.modules:
        spec = importlib.util.spec_from_file_location("course", LESSONS / "course.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["course"] = module
        spec.loader.exec_module(module)
    return sys.modules["course"]


def exercise_cells(notebook) -> list[tuple[int, str]]:
    """(cell index, exercise id) of every cell tagged ``exercise``."""
    return [(i, cell.metadata.get("exercise_id", "")) for i, cell in enumerate(notebook.cells)
            if "exercise" in cell.metadata.get("tags", [])]


def printed(cell) -> str:
    """Everything a code cell wrote to stdout."""
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def execute(notebook, monkeypatch, timeout: int = 120):
    """Run ``notebook`` top to bottom in smoke mode, in the lessons folder, and return it."""
    import nbclient

    monkeypatch.setenv("MINIGRAD_SMOKE", "1")
    root = str(LESSONS.parent)
    monkeypatch.setenv("PYTHONPATH", root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(LESSONS)}})
    client.execute()
    return notebook
