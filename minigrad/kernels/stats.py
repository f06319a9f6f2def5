"""Update statistics in one pass: what a gradient monitor reads after every step.

For a parameter W (after the optimizer step), its value W0 before the step and its
gradient G, the monitor needs ||G||^2, ||W0||^2 and ||W - W0||^2 (the update:data ratio is
||W - W0|| / ||W0||). numpy needs four passes over the weights and a temporary for W - W0;
the kernel reads each array once and sums in float64 (no overflow, no float32 rounding).
"""

from __future__ import annotations

import numpy as np

from ._jit import lazy_njit
from .config import use_kernel


def _flat(a: np.ndarray) -> np.ndarray:
    return a.ravel(order="K")  # a view for C- and F-ordered arrays


def update_norms_reference(weight: np.ndarray, before: np.ndarray,
                           grad: np.ndarray | None) -> tuple[float, float, float]:
    """numpy reference: (||grad||^2, ||before||^2, ||weight - before||^2) in float64."""
    g = 0.0 if grad is None else float(np.sum(np.square(grad, dtype=np.float64)))
    b = float(np.sum(np.square(before, dtype=np.float64)))
    d = float(np.sum(np.square(weight.astype(np.float64) - before)))
    return g, b, d


@lazy_njit(fastmath={"reassoc"})
def _update_norms_kernel(weight, before, grad):  # noqa: ANN001, ANN202
    g2 = 0.0
    for i in range(grad.size):
        g = np.float64(grad[i])
        g2 += g * g
    b2 = 0.0
    d2 = 0.0
    for i in range(weight.size):
        b = np.float64(before[i])
        d = np.float64(weight[i]) - b
        b2 += b * b
        d2 += d * d
    return g2, b2, d2


def update_norms(weight: np.ndarray, before: np.ndarray,
                 grad: np.ndarray | None) -> tuple[float, float, float]:
    """(||grad||^2, ||before||^2, ||weight - before||^2), one pass over each array."""
    arrays = (weight, before) if grad is None else (weight, before, grad)
    if not all(use_kernel(a.dtype) and (a.flags.c_contiguous or a.flags.f_contiguous) for a in arrays):
        return update_norms_reference(weight, before, grad)
    empty = np.zeros(0, weight.dtype)
    return _update_norms_kernel(_flat(weight), _flat(before), empty if grad is None else _flat(grad))


@lazy_njit()
def _all_finite_kernel(x):  # noqa: ANN001, ANN202
    for i in range(x.size):
        if not np.isfinite(x[i]):
            return False
    return True


def all_finite(x: np.ndarray) -> bool:
    """``np.isfinite(x).all()`` in one pass that stops at the first NaN/Inf and makes no
    temporary array (a replayed step checks its logits with it every step)."""
    if not (use_kernel(x.dtype) and x.flags.c_contiguous and x.flags.writeable):
        return bool(np.isfinite(x).all())
    return _all_finite_kernel(x.reshape(-1))
