"""The JIT switch, lazy compilation, and the promise that importing minigrad compiles nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import minigrad.kernels as kernels
from minigrad.kernels import cross_entropy, jit_enabled, set_jit_enabled

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), **env}, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_compiles_nothing_and_does_not_import_numba():
    out = run_python(
        "import sys, minigrad, minigrad.kernels, minigrad.ops.linear\n"
        "from minigrad.kernels._jit import KERNELS\n"
        "print('numba' in sys.modules, len(KERNELS), sum(k.dispatcher is not None for k in KERNELS))")
    numba_imported, count, compiled = out.split()
    assert numba_imported == "False"
    assert int(count) >= 13 and compiled == "0"


def test_environment_variable_turns_the_kernels_off():
    code = ("import sys, numpy as np\n"
            "from minigrad.kernels import cross_entropy, jit_enabled\n"
            "loss, grad = cross_entropy.cross_entropy(np.zeros((2, 3)), np.array([0, 1]))\n"
            "print(jit_enabled(), 'numba' in sys.modules, float(loss))")
    assert run_python(code, MINIGRAD_JIT="0").split() == ["False", "False", str(float(np.log(3)))]
    assert run_python(code, MINIGRAD_JIT="1").split()[:2] == ["True", "True"]


def test_set_jit_enabled_function_and_context_manager(monkeypatch):  # noqa: ANN001
    calls = []
    reference = cross_entropy.cross_entropy_reference
    monkeypatch.setattr(cross_entropy, "cross_entropy_reference", lambda *a: calls.append(1) or reference(*a))
    x, y = np.zeros((2, 3)), np.array([0, 1])
    assert jit_enabled()
    with set_jit_enabled(False):
        assert not jit_enabled()
        cross_entropy.cross_entropy(x, y)
        assert len(calls) == 1
        with set_jit_enabled(True):
            cross_entropy.cross_entropy(x, y)
            assert len(calls) == 1
    assert jit_enabled()
    set_jit_enabled(False)
    try:
        cross_entropy.cross_entropy(x, y)
        assert len(calls) == 2
    finally:
        set_jit_enabled(True)
    cross_entropy.cross_entropy(x, y)
    assert len(calls) == 2


def test_warmup_compiles_exactly_two_signatures_per_kernel():
    """After warmup (and whatever other tests ran first) every kernel has one float32 and one
    float64 signature: non-contiguous or odd inputs never trigger extra compiles."""
    kernels.warmup()
    for kernel in kernels._jit.KERNELS:
        assert len(kernel.signatures) == 2, (kernel.__name__, kernel.signatures)
        dtypes = {str(sig[0].dtype) for sig in kernel.signatures}
        assert dtypes == {"float32", "float64"}, kernel.__name__
