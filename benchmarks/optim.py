"""Time one optimizer step on the parameters of a 784-256-128-10 MLP, minigrad beside torch.optim.

    PYTHONPATH=. python benchmarks/optim.py [--repeat 200]

Parameters and gradients are float32 arrays created directly (no forward/backward), so
the figures are the cost of the update rule alone: ~235k parameters in six tensors.
"""

from __future__ import annotations

import argparse

import numpy as np
from _bench import blas_info, median_of

import minigrad as mg
from minigrad import optim

SHAPES = [(256, 784), (256,), (128, 256), (128,), (10, 128), (10,)]
CONFIGS = {
    "SGD momentum": ("SGD", dict(lr=0.01, momentum=0.9)),
    "Adam": ("Adam", dict(lr=1e-3)),
    "AdamW": ("AdamW", dict(lr=1e-3)),
    "RMSprop": ("RMSprop", dict(lr=1e-3)),
    "Adagrad": ("Adagrad", dict(lr=1e-2)),
}


def step_ms(step, repeat: int) -> float:
    """Median milliseconds per call of ``step`` over ``repeat`` single calls, after 5 warm-up calls."""
    return 1e3 * median_of(step, number=1, repeat=repeat, warmup=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    import torch

    rng = np.random.default_rng(0)
    data = [rng.standard_normal(s).astype(np.float32) * 0.05 for s in SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) * 1e-3 for s in SHAPES]
    print(f"parameters: {sum(a.size for a in data)} float32 in {len(SHAPES)} tensors; "
          f"torch {torch.__version__} threads={torch.get_num_threads()}; numpy {np.__version__} BLAS: "
          f"{blas_info(configuration=True)}")
    print(f"{'optimizer':<14}{'minigrad ms':>12}{'torch ms':>10}{'foreach ms':>12}{'fused ms':>10}"
          f"{'mg/torch':>10}{'mg/best':>9}")
    for label, (name, kwargs) in CONFIGS.items():
        params = [mg.Tensor(a.copy(), requires_grad=True) for a in data]
        for p, g in zip(params, grads, strict=True):
            p.grad = mg.Tensor(g)
        mine = step_ms(getattr(optim, name)(params, **kwargs).step, args.repeat)
        row = []
        for variant in ({}, {"foreach": True}, {"fused": True}):
            tparams = [torch.tensor(a.copy(), requires_grad=True) for a in data]
            for p, g in zip(tparams, grads, strict=True):
                p.grad = torch.tensor(g)
            try:
                topt = getattr(torch.optim, name)(tparams, **kwargs, **variant)
            except (TypeError, RuntimeError):
                row.append(float("nan"))
                continue
            row.append(step_ms(topt.step, args.repeat))
        print(f"{label:<14}{mine:>12.3f}{row[0]:>10.3f}{row[1]:>12.3f}{row[2]:>10.3f}{mine / row[0]:>10.2f}"
              f"{mine / np.nanmin(row):>9.2f}")


if __name__ == "__main__":
    main()
