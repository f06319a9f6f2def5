"""Benchmark: each Numba kernel beside its numpy reference and PyTorch's equivalent.

    PYTHONPATH=. python benchmarks/kernels.py

Prints the environment (BLAS library and thread counts), the cold compile time of all
kernels (fresh NUMBA_CACHE_DIR, in a subprocess) and the warm-cache load time, then one
table row per hot path: best and median of 7 repeats, in microseconds per call, float32.
Timings on a shared 2-core machine are noisy; compare ratios within one run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _bench import blas_info, blas_threads, calls_for, timings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import minigrad.kernels as K  # noqa: E402
from minigrad.kernels import bce, cross_entropy, linear, optim, regression  # noqa: E402
from minigrad.kernels.config import set_jit_enabled  # noqa: E402


def timeit(fn: Callable[[], object], repeats: int = 7, min_time: float = 0.05) -> tuple[float, float]:
    """(best, median) seconds per call over ``repeats`` batches of about ``min_time`` seconds."""
    runs = timings(fn, calls_for(fn, min_time), repeats)
    return min(runs), statistics.median(runs)


def environment() -> None:
    import numba

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, numba {numba.__version__}, "
          f"cores {os.cpu_count()}")
    print(f"BLAS: {blas_info()}, threads {blas_threads()}; "
          f"numba threads {numba.get_num_threads()} (kernels are serial)")
    torch = _torch()
    if torch is not None:
        print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")


def _torch():  # noqa: ANN202
    try:
        import torch
    except ImportError:
        return None
    return torch


def compile_times() -> None:
    code = ("import time; t = time.perf_counter(); import numba; t1 = time.perf_counter(); "
            "import minigrad.kernels as K; s = K.warmup(); print(t1 - t, s)")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        runs = []
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                 check=True)
            runs.append([float(v) for v in out.stdout.split()])
    n = len(K._jit.KERNELS)
    print(f"compile, {n} kernels x (float32, float64): cold {runs[0][1]:.2f} s (fresh NUMBA_CACHE_DIR); "
          f"warm cache load {runs[1][1] * 1e3:.0f} ms (plus {runs[1][0] * 1e3:.0f} ms to import numba)")


ROWS: list[tuple[str, str, float, float]] = []


def row(name: str, impl: str, fn: Callable[[], object]) -> float:
    best, median = timeit(fn)
    ROWS.append((name, impl, best, median))
    print(f"{name:<34} {impl:<26} {best * 1e6:10.1f} {median * 1e6:10.1f}", flush=True)
    return best


def ratio(name: str, fast: float, slow: float, what: str) -> None:
    print(f"{'':<34} -> {what}: {slow / fast:.1f}x")


def bench_losses(rng: np.random.Generator) -> None:
    torch = _torch()
    x = rng.standard_normal((128, 10)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    name = "cross_entropy fwd+bwd (128,10)"
    fast = row(name, "numba kernel", lambda: cross_entropy.cross_entropy(x, y))
    ref = row(name, "numpy reference", lambda: cross_entropy.cross_entropy_reference(x, y))
    ratio(name, fast, ref, "kernel vs numpy")
    if torch is not None:
        tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y)

        def torch_ce() -> None:
            tx.grad = None
            torch.nn.functional.cross_entropy(tx, ty).backward()
        ratio(name, fast, row(name, "torch F.cross_entropy", torch_ce), "kernel vs torch")

    for shape in ((128, 10), (128, 100)):
        x = rng.standard_normal(shape).astype(np.float32)
        t = rng.random(shape).astype(np.float32)
        q = rng.random(shape[1]).astype(np.float32) * 2
        name = f"bce_logits+pos_weight {shape}"
        fast = row(name, "numba kernel", lambda x=x, t=t, q=q: bce.bce_with_logits(x, t, None, q))
        reference = row(name, "numpy reference",
                        lambda x=x, t=t, q=q: bce.bce_with_logits_reference(x, t, None, q))
        ratio(name, fast, reference, "kernel vs numpy")
        if torch is not None:
            tx, tt, tq = torch.tensor(x, requires_grad=True), torch.tensor(t), torch.tensor(q)

            def torch_bce(tx=tx, tt=tt, tq=tq) -> None:  # noqa: ANN001
                tx.grad = None
                torch.nn.functional.binary_cross_entropy_with_logits(tx, tt, pos_weight=tq).backward()
            ratio(name, fast, row(name, "torch F.bce_with_logits", torch_bce), "kernel vs torch")

    x = rng.standard_normal((128, 100)).astype(np.float32)
    t = rng.standard_normal((128, 100)).astype(np.float32)
    for kind, torch_name in (("mse", "mse_loss"), ("huber", "huber_loss")):
        name = f"{kind} fwd+bwd (128,100)"
        fast = row(name, "numba kernel", lambda kind=kind: regression.regression(kind, x, t))
        reference = row(name, "numpy reference",
                        lambda kind=kind: regression.regression_reference(kind, x, t))
        ratio(name, fast, reference, "kernel vs numpy")
        if torch is not None:
            tx, tt = torch.tensor(x, requires_grad=True), torch.tensor(t)
            fn = getattr(torch.nn.functional, torch_name)

            def torch_loss(fn=fn, tx=tx, tt=tt) -> None:  # noqa: ANN001
                tx.grad = None
                fn(tx, tt).backward()
            ratio(name, fast, row(name, f"torch F.{torch_name}", torch_loss), "kernel vs torch")


def bench_linear(rng: np.random.Generator) -> None:
    x = rng.standard_normal((128, 784)).astype(np.float32)
    w = (rng.standard_normal((128, 784)) / 28).astype(np.float32)
    b = np.zeros(128, np.float32)
    g = rng.standard_normal((128, 128)).astype(np.float32)
    name = "Linear+ReLU fwd+bwd (128,784)->128"

    def kernel() -> None:
        out, saved = linear.linear_forward(x, w, b, "relu")
        linear.linear_backward(g, x, w, saved, "relu")

    def reference() -> None:
        out, saved = linear.linear_forward_reference(x, w, b, "relu")
        linear.linear_backward_reference(g, x, w, saved, "relu")

    z, dz = np.empty((128, 128), np.float32), np.empty((128, 128), np.float32)
    mask = np.empty((128, 128), bool)
    dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)

    def numpy_best() -> None:
        np.matmul(x, w.T, out=z)
        np.add(z, b, out=z)
        np.maximum(z, 0, out=z)
        np.greater(z, 0, out=mask)
        np.multiply(g, mask, out=dz)
        np.matmul(dz, w, out=dx)
        np.matmul(dz.T, x, out=dw)
        np.sum(dz, axis=0, out=db)

    fast = row(name, "numba (BLAS + fused)", kernel)
    ratio(name, fast, row(name, "numpy reference", reference), "kernel vs numpy reference")
    ratio(name, fast, row(name, "numpy best (out= buffers)", numpy_best), "kernel vs numpy best")
    torch = _torch()
    if torch is not None:
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        tg = torch.tensor(g)

        def torch_linear() -> None:
            tx.grad = tw.grad = tb.grad = None
            torch.relu(torch.nn.functional.linear(tx, tw, tb)).backward(tg)
        ratio(name, fast, row(name, "torch linear+relu", torch_linear), "kernel vs torch")


def bench_torch_optim(torch, name: str, fast: float, params: list[np.ndarray],  # noqa: ANN001
                      grads: list[np.ndarray], optimizer: str, **kwargs: float) -> None:
    """Rows for ``torch.optim.<optimizer>`` with foreach=True and fused=True on copies of ``params``."""
    for flag in ("foreach", "fused"):
        tp = [torch.tensor(p, requires_grad=True) for p in params]
        for p, g in zip(tp, grads):
            p.grad = torch.tensor(g)
        opt = getattr(torch.optim, optimizer)(tp, **kwargs, **{flag: True})
        ratio(name, fast, row(name, f"torch {optimizer} {flag}=True", opt.step), "kernel vs torch")


def bench_optim(rng: np.random.Generator) -> None:
    shapes = [(128, 784), (128,), (10, 128), (10,)]
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    zeros = lambda: [np.zeros_like(p) for p in params]  # noqa: E731
    m, v, buf, sq = zeros(), zeros(), zeros(), zeros()
    count = sum(p.size for p in params)
    adam_kw = dict(step=10, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)
    torch = _torch()
    name = f"Adam step ({count} float32 params)"
    fast = row(name, "numba kernel", lambda: optim.adam(params, grads, m, v, None, **adam_kw))
    reference = row(name, "numpy reference",
                    lambda: optim.adam_reference(params, grads, m, v, None, **adam_kw))
    ratio(name, fast, reference, "kernel vs numpy")
    if torch is not None:
        bench_torch_optim(torch, name, fast, params, grads, "Adam", lr=1e-3)
    name = f"SGD momentum step ({count} params)"
    sgd_kw = dict(step=10, lr=1e-2, momentum=0.9)
    fast = row(name, "numba kernel", lambda: optim.sgd(params, grads, buf, **sgd_kw))
    reference = row(name, "numpy reference", lambda: optim.sgd_reference(params, grads, buf, **sgd_kw))
    ratio(name, fast, reference, "kernel vs numpy")
    if torch is not None:
        bench_torch_optim(torch, name, fast, params, grads, "SGD", lr=1e-2, momentum=0.9)
    name = f"RMSprop step ({count} params)"
    rms_kw = dict(lr=1e-2, alpha=0.99, eps=1e-8)
    fast = row(name, "numba kernel", lambda: optim.rmsprop(params, grads, sq, None, None, **rms_kw))
    reference = row(name, "numpy reference",
                    lambda: optim.rmsprop_reference(params, grads, sq, None, None, **rms_kw))
    ratio(name, fast, reference, "kernel vs numpy")
    name = f"Adagrad step ({count} params)"
    fast = row(name, "numba kernel", lambda: optim.adagrad(params, grads, sq, step=10, lr=1e-2))
    reference = row(name, "numpy reference",
                    lambda: optim.adagrad_reference(params, grads, sq, step=10, lr=1e-2))
    ratio(name, fast, reference, "kernel vs numpy")


def main() -> None:
    environment()
    compile_times()
    K.warmup()
    rng = np.random.default_rng(0)
    print(f"\n{'hot path':<34} {'implementation':<26} {'best us':>10} {'median us':>10}")
    with set_jit_enabled(True):
        bench_losses(rng)
        bench_linear(rng)
        bench_optim(rng)


if __name__ == "__main__":
    main()
