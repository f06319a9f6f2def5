"""What a captured step's plan buys beyond speed: memory, and one optimizer pass or several.

    python benchmarks/capture_plan.py

1. Memory, for MLPs of a few shapes (Adam, cross-entropy, float32): the peak of the numpy
   arrays an eager step allocates (tracemalloc's numpy domain), what the plan holds (its
   arena, shared by liveness, plus the pinned buffers: leaf gradients and the loss), what
   the planned buffers would take without sharing, and the peak a replay allocates (Python
   objects only: views and numbers; `tests/replay/test_replay_memory.py` checks no array).
2. The optimizer: Adam's fused kernel run once per parameter (what a replay does) against
   once over all parameters laid out in one flat buffer (what it would need every
   parameter moved into one buffer for), 1 thread.
"""

from __future__ import annotations

import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = "1"

import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
from _bench import best_of, blas_info  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from minigrad.kernels import optim as optim_kernels  # noqa: E402

SHAPES = (((784, 128, 10), 128), ((784, 128, 10), 512), ((784, 256, 256, 256, 10), 128))


def captured(sizes: tuple[int, ...], batch: int):  # noqa: ANN201
    mg.manual_seed(0)
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    opt = optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):  # noqa: ANN001, ANN202
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    rng = np.random.default_rng(0)
    batches = [(mg.from_numpy(rng.random((batch, sizes[0]), dtype=np.float32)),
                mg.from_numpy(rng.integers(0, sizes[-1], batch))) for _ in range(3)]
    return mg.capture(step, model=model), batches, model


def peak_kib(fn, *args) -> float:  # noqa: ANN001
    """Peak bytes (KiB) allocated while ``fn(*args)`` runs: arrays and Python objects."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fn(*args)
        return (tracemalloc.get_traced_memory()[1] - before) / 1024
    finally:
        tracemalloc.stop()


def memory() -> None:
    print("| MLP | batch | eager step: peak allocated | plan holds (arena + pinned) | planned, unshared | "
          "a replay: peak allocated (Python objects) |\n|---|---:|---:|---:|---:|---:|")
    for sizes, batch in SHAPES:
        step, batches, _ = captured(sizes, batch)
        for x, y in batches:
            step(x, y)
        eager = peak_kib(step.fn, *batches[0])
        replay = peak_kib(step, *batches[1])
        plan = step.plan
        print(f"| {'-'.join(map(str, sizes))} | {batch} | {eager:.0f} KiB | {plan.peak_bytes / 1024:.0f} KiB "
              f"({plan.arena_bytes / 1024:.0f} + {plan.pinned_bytes / 1024:.0f}) | "
              f"{plan.planned_bytes / 1024:.0f} KiB | {replay:.1f} KiB |")


def optimizer_passes() -> None:
    _, _, model = captured((784, 128, 10), 32)
    shapes = [p.shape for p in model.parameters()]
    rng = np.random.default_rng(0)
    arrays = [[rng.random(s, dtype=np.float32) for s in shapes] for _ in range(4)]
    n = sum(int(np.prod(s)) for s in shapes)
    flat = [np.concatenate([a.reshape(-1) for a in group]) for group in arrays]
    h = np.empty(8, np.float32)
    optim_kernels.adam_hyper(h, step=3, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                             maximize=False, decoupled_weight_decay=False)
    empty = np.empty(0, np.float32)
    kernel = optim_kernels._adam_kernel

    def per_parameter() -> None:
        for p, g, m, v in zip(*arrays):
            kernel(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), empty, h, False)

    def one_pass() -> None:
        kernel(*flat, empty, h, False)

    per, one = best_of(per_parameter, 500) * 1e6, best_of(one_pass, 500) * 1e6
    print(f"\nAdam over {n:,} float32 parameters ({len(shapes)} arrays): one fused pass per parameter "
          f"{per:.1f} us, one pass over a flat buffer {one:.1f} us (saves {per - one:.1f} us per step)")


if __name__ == "__main__":
    print(f"numpy {np.__version__}, BLAS {blas_info()}, 1 thread\n")
    memory()
    optimizer_passes()
