"""Write the learner's stubs, ``workbook/tinytorch``, from the reference solutions.

Every function whose docstring starts with ``Task N:`` keeps its signature and docstring
and loses its body, which becomes ``raise NotImplementedError("task N: Class.name")``; the
rest of each file (imports, given helpers, class layout) is copied as is. Generating the
stubs keeps the two packages' signatures and docstrings identical; the test suite checks
that the committed stubs are what this script writes.

    python workbook/stubgen.py                 # rewrite workbook/tinytorch/*.py
    python workbook/stubgen.py --keep 1 --out DIR   # tasks 1 solved, the rest stubs (tests use it)
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import tempfile
from pathlib import Path

WORKBOOK = Path(__file__).resolve().parent
SOLUTIONS = WORKBOOK / "solutions" / "tinytorch"
STUBS = WORKBOOK / "tinytorch"
TASK_DOC = re.compile(r"^Task (\d+):")


def _task_functions(tree: ast.Module) -> list[tuple[int, str, ast.FunctionDef]]:
    """``(task, qualified name, node)`` of every top-level function and method marked ``Task N:``."""
    found = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.FunctionDef):
                match = TASK_DOC.match(ast.get_docstring(node) or "")
                if match:
                    found.append((int(match.group(1)), prefix + node.name, node))

    visit(tree.body, "")
    return found


def stub_source(source: str, keep: frozenset[int] = frozenset()) -> str:
    """``source`` with the body of every ``Task N:`` function (N not in ``keep``) replaced by a
    ``raise NotImplementedError``."""
    lines = source.splitlines(keepends=True)
    edits = []
    for task, name, node in _task_functions(ast.parse(source)):
        if task in keep:
            continue
        if len(node.body) < 2:
            raise ValueError(f"stubgen: {name} (task {task}) has a docstring but no body to replace")
        first, last = node.body[1], node.body[-1]
        indent = " " * first.col_offset
        edits.append((first.lineno - 1, last.end_lineno,
                      f'{indent}raise NotImplementedError("task {task}: {name}")\n'))
    for start, end, text in sorted(edits, reverse=True):
        lines[start:end] = [text]
    return "".join(lines)


def generate(out: Path, keep: frozenset[int] = frozenset(), solutions: Path = SOLUTIONS) -> list[Path]:
    """Write the stub of every ``solutions/*.py`` into ``out`` (atomically, file by file)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sorted(solutions.glob("*.py")):
        target = out / src.name
        fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{src.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(stub_source(src.read_text(encoding="utf-8"), keep))
        os.replace(tmp, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=STUBS,
                        help="folder to write (default: workbook/tinytorch)")
    parser.add_argument("--keep", default="", help="comma-separated tasks to keep solved, e.g. 1,2")
    args = parser.parse_args(argv)
    keep = frozenset(int(t) for t in args.keep.split(",") if t.strip())
    for path in generate(args.out, keep):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
