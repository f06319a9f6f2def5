"""Cost of GradientMonitor on a 784-128-10 MLP training step (batch 128, manual SGD,
cross-entropy).

    PYTHONPATH=. python benchmarks/debug_overhead.py [--steps 200] [--every 1] [--threads 1]

Plain and monitored steps are timed in alternating blocks, so that load from other
processes hits both alike; the median block time per step is reported. BLAS runs with
``--threads`` threads (default 1, like ``minigrad train``); the thread variables must be set
before numpy loads, so they are set from the command line first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

from _bench import BLAS_THREAD_VARS, time_per_call


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="timed steps per variant")
    parser.add_argument("--every", type=int, default=1, help="GradientMonitor(every=...)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    return parser.parse_args()


ARGS = _args()
for _var in BLAS_THREAD_VARS:
    os.environ[_var] = str(ARGS.threads)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn  # noqa: E402
from minigrad.debug import GradientMonitor  # noqa: E402
from minigrad.nn import functional as F  # noqa: E402


def mlp(seed: int) -> nn.Sequential:
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def step(model: nn.Module, x: mg.Tensor, y: mg.Tensor, monitor: GradientMonitor | None) -> None:
    model.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    for p in model.parameters():
        p.data -= 0.01 * p.grad.data
    if monitor is not None:
        monitor.step(loss=loss.item())


def block(model: nn.Module, x: mg.Tensor, y: mg.Tensor, monitor: GradientMonitor | None, n: int) -> float:
    """Mean seconds per step over ``n`` consecutive steps."""
    return time_per_call(lambda: step(model, x, y, monitor), n)


def main() -> None:
    args = ARGS
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.normal(size=(128, 784)).astype(np.float32))
    y = mg.tensor(rng.integers(0, 10, 128))
    plain, watched = mlp(1), mlp(1)
    monitor = GradientMonitor(watched, every=args.every)
    for _ in range(10):
        step(plain, x, y, None)
        step(watched, x, y, monitor)
    per_block = 10
    times: dict[str, list[float]] = {"plain": [], "monitor": []}
    for _ in range(max(1, args.steps // per_block)):
        times["plain"].append(block(plain, x, y, None, per_block))
        times["monitor"].append(block(watched, x, y, monitor, per_block))
    monitor.remove()
    base, mon = statistics.median(times["plain"]), statistics.median(times["monitor"])
    print(f"784-128-10 MLP, batch 128, manual SGD; {args.steps} steps each, every={args.every}, "
          f"BLAS threads {args.threads}")
    print(f"plain step:           {base * 1e3:8.3f} ms")
    print(f"with GradientMonitor: {mon * 1e3:8.3f} ms")
    print(f"overhead:             {(mon - base) / base:8.1%}  (target < 20%)")


if __name__ == "__main__":
    main()
