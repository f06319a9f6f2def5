"""Forward + backward time of the hot losses, minigrad beside PyTorch in one process.

    PYTHONPATH=. python benchmarks/losses.py [--threads N] [--repeat R]

For each loss and logits shape it times ``loss = f(x, target); loss.backward()`` (best of
R rounds, each the mean of many calls) and prints microseconds and the ratio
minigrad / torch (below 1 means minigrad is faster). Both run with the same number of
threads; the numpy BLAS library and its thread count are printed first.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
from _bench import best_of, blas_info, calls_for, configured_threads

SHAPES = [(128, 10), (4096, 10), (128, 1000)]


def _time(step: Callable[[], None], repeat: int) -> float:
    """Best over ``repeat`` rounds of the mean time per call (rounds of about 0.05 s), in microseconds."""
    return best_of(step, calls_for(step, 0.05), repeat) * 1e6


def _cases(shape: tuple[int, int], rng: np.random.Generator):
    import torch

    import minigrad as mg
    import minigrad.nn.functional as F

    n, c = shape
    x = rng.standard_normal(shape).astype(np.float32)
    labels = rng.integers(0, c, n)
    soft = (rng.random(shape) > 0.5).astype(np.float32)
    real = rng.standard_normal(shape).astype(np.float32)
    tf = torch.nn.functional
    pairs = {
        "cross_entropy": (F.cross_entropy, mg.Tensor(labels), tf.cross_entropy, torch.tensor(labels)),
        "bce_with_logits": (F.binary_cross_entropy_with_logits, mg.Tensor(soft),
                            tf.binary_cross_entropy_with_logits, torch.tensor(soft)),
        "mse_loss": (F.mse_loss, mg.Tensor(real), tf.mse_loss, torch.tensor(real)),
        "huber_loss": (F.huber_loss, mg.Tensor(real), tf.huber_loss, torch.tensor(real)),
    }
    for name, (mine, mg_target, theirs, torch_target) in pairs.items():
        mx = mg.Tensor(x, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)

        def step_mg(mine=mine, mx=mx, mg_target=mg_target) -> None:
            mx.grad = None
            mine(mx, mg_target).backward()

        def step_torch(theirs=theirs, tx=tx, torch_target=torch_target) -> None:
            tx.grad = None
            theirs(tx, torch_target).backward()

        yield name, step_mg, step_torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="threads for torch (default: BLAS's)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import torch

    blas, blas_threads = blas_info(), configured_threads()
    threads = args.threads or blas_threads
    torch.set_num_threads(threads)
    print(f"numpy {np.__version__}, BLAS {blas}, BLAS threads {blas_threads}; "
          f"torch {torch.__version__}, torch threads {torch.get_num_threads()}; float32, forward+backward")
    print(f"{'loss':<18}{'shape':>12}{'minigrad us':>14}{'torch us':>12}{'ratio':>8}")
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        for name, step_mg, step_torch in _cases(shape, rng):
            t_mg, t_torch = _time(step_mg, args.repeat), _time(step_torch, args.repeat)
            print(f"{name:<18}{str(shape):>12}{t_mg:>14.1f}{t_torch:>12.1f}{t_mg / t_torch:>8.2f}")


if __name__ == "__main__":
    main()
