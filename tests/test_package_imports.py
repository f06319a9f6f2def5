"""No import cycle held by line order: the package still imports after ruff's isort rule
(I001) re-sorts every import block of a copy, ``# noqa`` comments ignored."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")


@pytest.mark.skipif(not RUFF.exists(), reason="ruff is not installed in this environment")
def test_package_imports_after_ruff_isort_fix(tmp_path):
    copy = tmp_path / "minigrad"
    shutil.copytree(ROOT / "minigrad", copy, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([str(RUFF), "check", "--isolated", "--select", "I001", "--ignore-noqa", "--fix",
                    "--quiet", "--exit-zero", str(copy)], check=True, capture_output=True)
    program = ("import minigrad as mg, minigrad.nn, minigrad.optim, minigrad.viz;"
               "x = mg.tensor([1.0, 2.0], requires_grad=True);"
               "logits = mg.nn.Linear(2, 3)(x.reshape(1, 2));"
               "mg.nn.functional.cross_entropy(logits, mg.tensor([1])).backward();"
               "print(mg.__file__, x.grad is not None)")
    done = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(copy / "__init__.py"), "True"]
