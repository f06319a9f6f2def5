"""benchmarks/capture.py: a --quick run prints every row, and its numpy reference is the step minigrad takes.

No timing is asserted: the smoke test checks that every implementation ran (or says why it
was skipped) and that all of them started from the same loss.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import functional as F

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "capture.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """benchmarks/capture.py imported as a module (importing it sets no environment variables)."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        spec = importlib.util.spec_from_file_location("bench_capture", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return module


def table_rows(text: str, heading: str) -> dict[str, list[str]]:
    """The body rows of the markdown table under ``## heading``: first cell -> the other cells."""
    block = text.split(f"## {heading}", 1)[1].split("##", 1)[0]
    lines = [line for line in block.splitlines() if line.startswith("|")]
    assert len(lines) > 2 and set(lines[1]) <= set("|-:"), block
    rows = {}
    for line in lines[2:]:
        first, *rest = (cell.strip() for cell in line.strip("|").split("|"))
        rows[first] = rest
    return rows


def test_quick_run_prints_every_row_and_one_first_loss(bench):
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--batches", "32"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert re.search(r"BLAS \S+.*BLAS threads \S+=1", out), out
    times = table_rows(out, "ms per training step")
    has_torch = importlib.util.find_spec("torch") is not None
    for impl, label in bench.ROWS.items():
        row = f"{label} (`{impl}`)"
        assert row in times, (row, list(times))
        (cell,) = times[row]
        timed = ("eager", *bench.CAPTURED, "numpy", "gemm") + (("torch", "torch-fused") if has_torch else ())
        if impl in timed:
            assert re.fullmatch(r"[\d.]+ \[[\d.]+\]", cell) and float(cell.split()[0]) > 0, (impl, cell)
        elif not has_torch:
            assert cell == "skipped: torch is not installed", (impl, cell)
        else:  # torch.compile: timed, or skipped with the reason (no compiler, over 120 s)
            assert cell.startswith("skipped: ") or float(cell.split()[0]) > 0, cell
    ratios = table_rows(out, "ratios")
    assert ratios["captured / numpy"][-1] == "<= 0.9 at 32, <= 0.9 at 128, <= 1.0 at 512"
    assert float(ratios["eager / numpy"][0].split()[0]) > 0
    assert re.fullmatch(r"[\d.]+ \[[\d.]+\] \((met|missed)\)", ratios["captured / numpy"][0]), ratios
    assert re.search(r"capture at batch 32: calls 1-2 \(recording\) took [\d.]+ ms", out), out
    losses = [float(cells[0]) for cells in table_rows(out, "first loss").values() if cells[0] != "-"]
    assert len(losses) >= 2 + 2 * has_torch
    assert max(losses) - min(losses) < 1e-5, losses


def test_numpy_reference_takes_minigrads_step(bench):
    """Loss, gradients and Adam updates of NumpyMLP equal those of minigrad's autograd and Adam."""
    weights = bench.initial_weights()
    mlp = bench.NumpyMLP(weights, batch=16)
    model = mg.nn.Sequential(mg.nn.Linear(784, 128), mg.nn.ReLU(), mg.nn.Linear(128, 10))
    params = list(model.parameters())
    for p, w in zip(params, weights, strict=True):
        np.copyto(p.data, w)
    opt = mg.optim.Adam(params, lr=1e-3)
    rng = np.random.default_rng(1)
    for _ in range(3):
        x, y = rng.random((16, 784), dtype=np.float32), rng.integers(0, 10, 16)
        ours = mlp.step(x, y)
        opt.zero_grad()
        loss = F.cross_entropy(model(mg.from_numpy(x)), mg.from_numpy(y))
        loss.backward()
        for g, p in zip((mlp.g_w1, mlp.g_b1, mlp.g_w2, mlp.g_b2), params, strict=True):
            np.testing.assert_allclose(g, p.grad.data, rtol=1e-4, atol=1e-6)
        opt.step()
        assert ours == pytest.approx(loss.item(), rel=1e-6)
        for w, p in zip((mlp.w1, mlp.b1, mlp.w2, mlp.b2), params, strict=True):
            np.testing.assert_allclose(w, p.data, rtol=1e-5, atol=1e-6)


def test_numpy_reference_allocates_nothing_batch_sized_per_step(bench):
    """The reference is 'preallocated': a step may use numpy's fixed-size ufunc buffer (8192
    elements) and batch-length index temporaries, never an activation-sized array (256 x 128
    floats = 128 KiB) or a parameter-sized one (400 KiB). A float64 scalar in Adam once made
    every in-place update allocate 128 KiB of casting buffers."""
    mlp = bench.NumpyMLP(bench.initial_weights(), batch=256)
    rng = np.random.default_rng(2)
    x, y = rng.random((256, 784), dtype=np.float32), rng.integers(0, 10, 256)
    mlp.step(x, y)
    tracemalloc.start()
    try:
        mlp.step(x, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024, peak
