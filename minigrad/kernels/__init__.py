"""The hot paths, each twice: a numpy reference to read and a Numba kernel to run.

Families (one file each): ``cross_entropy`` (softmax + cross-entropy, NLL), ``bce`` (BCE with
logits), ``regression`` (MSE, L1, Huber, SmoothL1), ``linear`` (Linear + fused activation,
forward and backward around BLAS), ``optim`` (fused SGD, Adam/AdamW, RMSprop, Adagrad
updates), ``stats`` (the gradient monitor's per-step norms). Nothing here depends on
autograd: the ops that use these kernels as their declared fast path live in
``minigrad/ops/linear.py`` (``LinearAct``), ``minigrad/nn/losses/`` and ``minigrad/optim/``.

Every public kernel function dispatches on ``use_kernel(dtype)``: the Numba kernel by default,
the numpy reference with ``MINIGRAD_JIT=0``, ``set_jit_enabled(False)``, or arrays that are
neither float32 nor float64. Importing this
package imports neither Numba nor compiles anything: a kernel compiles (or loads from the
on-disk cache) on its first call, or all at once with ``warmup()``.
"""

from __future__ import annotations

import time

import numpy as np

from . import bce, cross_entropy, linear, optim, regression, stats
from ._jit import KERNELS, notify_compiles
from .config import jit_enabled, set_jit_enabled


def warmup(verbose: bool = False) -> float:
    """Compile (or load from cache) every kernel for float32 and float64; return the seconds taken.

    Calls each kernel family once per dtype on tiny inputs, so exactly the signatures that
    real calls use get compiled. Does nothing but time itself when Numba is unavailable.
    ``minigrad warmup`` prepares only what ``minigrad train`` uses; this prepares everything.
    """
    start = time.perf_counter()
    before = cache_counts()
    with set_jit_enabled(True):
        if jit_enabled():
            for dtype in (np.float32, np.float64):
                _exercise(np.dtype(dtype))
    seconds = time.perf_counter() - start
    if verbose:
        compiled, loaded = (a - b for a, b in zip(cache_counts(), before))
        print(f"minigrad.kernels.warmup: {compiled} signatures compiled, {loaded} loaded from cache "
              f"({len(KERNELS)} kernels x 2 dtypes) in {seconds:.2f} s")
    return seconds


def cache_counts() -> tuple[int, int]:
    """(signatures compiled, signatures loaded from the disk cache) so far in this process,
    over every kernel: the difference across a call says what that call cost."""
    counts = [k.cache_counts() for k in KERNELS]
    return sum(c for c, _ in counts), sum(h for _, h in counts)


def _exercise(dtype: np.dtype) -> None:
    x = np.zeros((2, 3), dtype)
    y = np.array([0, 2])
    cross_entropy.cross_entropy(x, y)
    cross_entropy.nll_loss(x, y)
    bce.bce_with_logits(x, x)
    for kind in regression.LOSSES:
        regression.regression(kind, x, x)
    w, b = np.zeros((2, 3), dtype), np.zeros(2, dtype)
    out, saved = linear.linear_forward(x, w, b, "relu")
    linear.linear_backward(out, x, w, saved, "relu")
    p, g, s1, s2, s3 = (np.zeros(4, dtype) for _ in range(5))
    optim.sgd([p], [g], [s1], step=1, lr=0.1, momentum=0.9)
    optim.adam([p], [g], [s1], [s2], [s3], step=1, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, amsgrad=True)
    optim.rmsprop([p], [g], [s1], [s2], [s3], lr=0.1, alpha=0.99, eps=1e-8, momentum=0.9, centered=True)
    optim.adagrad([p], [g], [s1], step=1, lr=0.1)
    stats.update_norms(p, s1, g)
    stats.all_finite(x)


__all__ = [
    "bce", "cache_counts", "cross_entropy", "jit_enabled", "linear", "notify_compiles", "optim", "regression",
    "set_jit_enabled", "warmup",
]
