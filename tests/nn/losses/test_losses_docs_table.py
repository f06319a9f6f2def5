"""docs/losses.md's table lists every loss as `Module` / `function`, and nothing that is not exported."""

from __future__ import annotations

import re
from pathlib import Path

import minigrad.nn as nn
import minigrad.nn.functional as F

DOC = Path(__file__).resolve().parent.parent.parent.parent / "docs" / "losses.md"


def _table_cells() -> list[str]:
    text = DOC.read_text(encoding="utf-8").split("## All losses at a glance", 1)[1]
    rows = [line for line in text.splitlines()[:80] if line.startswith("| ")]
    return [row.split("|")[1].strip() for row in rows if not row.startswith("| loss ")]


def test_every_row_names_an_exported_module_and_function():
    for cell in _table_cells():
        names = re.findall(r"`([A-Za-z_0-9]+)`", cell)
        modules = [n for n in names if n[0].isupper()]
        functions = [n for n in names if n[0].islower()]
        assert modules and functions, f"row {cell!r} should read `Module` / `function`"
        for n in modules:
            assert isinstance(getattr(nn, n, None), type), f"nn.{n} is not exported"
        for n in functions:
            assert n in F.__all__ and callable(getattr(F, n)), f"F.{n} is not exported"


def test_every_exported_loss_is_in_the_table():
    listed = {n for cell in _table_cells() for n in re.findall(r"`([A-Za-z_0-9]+)`", cell)}
    exported_modules = {n for n in dir(nn) if n.endswith("Loss") and isinstance(getattr(nn, n), type)}
    exported_functions = {n for n in F.__all__ if n.endswith("_loss")} | {
        "cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"}
    assert exported_modules - listed == set()
    assert exported_functions - listed == set()
