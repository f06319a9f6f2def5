"""Per-op overhead of the engine, beside PyTorch eager and plain numpy, in one process.

    python benchmarks/overhead.py

Prints: a 2x2 add with requires_grad (forward only), forward+backward of a 10-op expression
on 2x2 tensors, backward through chains of 10,000 and 100,000 ops, and `import minigrad`
time in a fresh interpreter (and whether it imported numba, i.e. could have compiled).
Targets (issue #2): small-op overhead within 2x of PyTorch, import < 0.3 s compiling
nothing, the 100,000-op chain backward < 1 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from _bench import best_of  # noqa: E402

import minigrad as mg  # noqa: E402


def expression(a, b):
    c = a * b + a
    d = c.tanh() * b
    e = (d - a).exp()
    return (e / (b * b + 1.0)).sum()


def chain_backward(x, n: int) -> float:
    y = x
    for _ in range(n):
        y = y * 1.0000001
    start = time.perf_counter()
    y.sum().backward()
    return time.perf_counter() - start


def import_time() -> tuple[float, bool]:
    code = ("import time, sys; t = time.perf_counter(); import minigrad; "
            "print(time.perf_counter() - t, 'numba' in sys.modules)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    times = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             cwd=root, check=True).stdout.split()
        times.append(float(out[0]))
    return min(times), out[1] == "True"


def main() -> None:
    try:
        import torch
    except ImportError:
        torch = None
    rows = []
    a = mg.randn(2, 2, requires_grad=True)
    b = mg.randn(2, 2, requires_grad=True)
    na, nb = a.data.copy(), b.data.copy()

    def mg_step():
        a.grad = b.grad = None
        expression(a, b).backward()

    mg_add = best_of(lambda: a + b, 20000)
    mg_expr = best_of(mg_step, 3000)
    np_add = best_of(lambda: na + nb, 20000)
    t_add = t_expr = float("nan")
    if torch is not None:
        torch.set_num_threads(1)
        ta = torch.randn(2, 2, requires_grad=True)
        tb = torch.randn(2, 2, requires_grad=True)

        def torch_step():
            ta.grad = tb.grad = None
            expression(ta, tb).backward()

        t_add = best_of(lambda: ta + tb, 20000)
        t_expr = best_of(torch_step, 3000)
    rows.append(("2x2 add, requires_grad (fwd)", mg_add, t_add, np_add))
    rows.append(("10-op expression on 2x2 (fwd+bwd)", mg_expr, t_expr, float("nan")))

    x = mg.randn(1, requires_grad=True)
    mg_chain = min(chain_backward(x, 10_000) for _ in range(3))
    t_chain = float("nan")
    if torch is not None:
        tx = torch.randn(1, requires_grad=True)
        t_chain = min(chain_backward(tx, 10_000) for _ in range(3))
    rows.append(("backward through 10,000-op chain", mg_chain, t_chain, float("nan")))
    mg_chain_big = chain_backward(x, 100_000)

    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'absent'} "
          f"(threads: {torch.get_num_threads() if torch else '-'}), python {sys.version.split()[0]}")
    print(f"{'benchmark':38s} {'minigrad':>12s} {'pytorch':>12s} {'numpy':>12s} {'mg/torch':>9s}")
    for name, m, t, n in rows:
        print(f"{name:38s} {m * 1e6:10.2f}us {t * 1e6:10.2f}us {n * 1e6:10.2f}us {m / t:8.2f}x")
    print(f"{'backward through 100,000-op chain':38s} {mg_chain_big:11.3f}s   (target < 1 s)")
    seconds, compiled = import_time()
    print(f"{'import minigrad (fresh process)':38s} {seconds:11.3f}s   numba imported: {compiled} "
          f"(target < 0.3 s, nothing compiled)")


if __name__ == "__main__":
    main()
