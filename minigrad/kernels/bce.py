"""Binary cross-entropy with logits: loss and gradient in one elementwise pass.

For logit x, target y, weight w and positive-class weight q (both broadcast to x)::

    loss = w [ (1 - y) x - (1 + (q - 1) y) logsigmoid(x) ],   logsigmoid(x) = min(x, 0) - log1p(exp(-|x|))
    d loss / d x = w [ (q y + 1 - y) sigmoid(x) - q y ]

``'mean'`` divides by the number of elements. The stable logsigmoid keeps the loss finite
for x = +-1000. numpy needs about a dozen temporaries for this. The fast path lets numpy's
SIMD ``exp`` and ``log1p`` compute e = exp(-|x|) and log1p(e) into two arrays (scalar
libm calls in a Numba loop cost 2-7 ns each, which made an all-in-one kernel slower than
numpy at 12,800 elements); one branch-free, vectorised kernel pass then does all the rest
and writes the gradient (and, for 'none', the loss) directly. Serial (docs/kernels.md).

The kernel sees x as (rows, C) with C the last axis: a weight that varies only along the
last axis (a scalar, or ``pos_weight`` of shape (C,) for x of shape (N, C)) is passed as C
numbers; any other broadcastable weight is expanded to x's shape, which is then one row.
"""

from __future__ import annotations

import numpy as np

from ._common import contiguous, finish, mean_scale, ones
from ._jit import lazy_njit
from .config import use_kernel


def bce_with_logits_reference(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None,
                              pos_weight: np.ndarray | None = None,
                              reduction: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """numpy reference: (loss, d loss / d x) for logits x and targets y of the same shape."""
    w = 1.0 if weight is None else weight.astype(x.dtype, copy=False)
    q = 1.0 if pos_weight is None else pos_weight.astype(x.dtype, copy=False)
    log_sigmoid = np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))
    sigmoid = np.exp(log_sigmoid)
    elements = w * ((1 - y) * x - (1 + (q - 1) * y) * log_sigmoid)
    grad = w * ((q * y + 1 - y) * sigmoid - q * y) * mean_scale(x.size, reduction)
    elements = np.broadcast_to(elements, x.shape)
    grad = np.broadcast_to(grad, x.shape).astype(x.dtype)
    return finish(elements.sum(dtype=np.float64), x.size, reduction, elements, x.dtype), grad


def _varies_only_along_last_axis(a: np.ndarray | None) -> bool:
    return a is None or all(n == 1 for n in a.shape[:-1])


def _per_column(a: np.ndarray | None, shape: tuple[int, ...], period: int, dtype: np.dtype) -> np.ndarray:
    """``a`` as ``period`` numbers: one per column of x viewed as (x.size // period, period)."""
    if a is None:
        return ones(period, dtype)
    if period == (shape[-1] if shape else 1):
        return contiguous(np.broadcast_to(a.reshape(a.shape[-1:]), (period,)), dtype)
    return contiguous(np.broadcast_to(a, shape), dtype).reshape(-1)


@lazy_njit(fastmath={"reassoc"})
def _bce_with_logits_kernel(x, y, e, log1p_e, weight, pos_weight, scale, elements, grad):  # noqa: ANN001
    """x, y, e = exp(-|x|), log1p_e = log1p(e), grad (and elements, unless empty) are (rows, P);
    weight and pos_weight have P entries. Fills ``grad``; returns the sum of the losses.

    Branch-free, so LLVM vectorises it; ``reassoc`` lets it vectorise the running sum too.
    The sum has a loop that stores nothing, so it is vectorised the same way whatever the
    arrays' addresses (see ``kernels.regression``).
    """
    rows, period = x.shape
    total = 0.0
    for i in range(rows):
        for j in range(period):
            xi = x[i, j]
            yi = y[i, j]
            log_sigmoid = min(xi, 0.0) - log1p_e[i, j]
            total += weight[j] * ((1.0 - yi) * xi - (1.0 + (pos_weight[j] - 1.0) * yi) * log_sigmoid)
    keep = elements.size > 0
    for i in range(rows):
        for j in range(period):
            w = weight[j]
            q = pos_weight[j]
            xi = x[i, j]
            yi = y[i, j]
            ei = e[i, j]
            sigmoid = (1.0 if xi >= 0 else ei) / (1.0 + ei)
            grad[i, j] = scale * w * ((q * yi + 1.0 - yi) * sigmoid - q * yi)
            if keep:
                log_sigmoid = min(xi, 0.0) - log1p_e[i, j]
                elements[i, j] = w * ((1.0 - yi) * xi - (1.0 + (q - 1.0) * yi) * log_sigmoid)
    return total


def bce_with_logits(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None,
                    pos_weight: np.ndarray | None = None,
                    reduction: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """(loss, d loss / d x) for upstream gradient 1; the loss is 0-d, or x's shape for 'none'."""
    if not use_kernel(x.dtype) or x.size == 0:  # empty: nothing to run, and no column layout to fit
        return bce_with_logits_reference(x, y, weight, pos_weight, reduction)
    x = contiguous(x)
    last = x.shape[-1] if x.ndim else 1
    along_last = _varies_only_along_last_axis(weight) and _varies_only_along_last_axis(pos_weight)
    period = last if along_last else x.size
    rows = (x.size // period if period else 0, period)
    w = _per_column(weight, x.shape, period, x.dtype)
    q = _per_column(pos_weight, x.shape, period, x.dtype)
    e = np.abs(x, out=np.empty(x.shape, x.dtype))
    np.negative(e, out=e)
    np.exp(e, out=e)
    log1p_e = np.log1p(e, out=np.empty(x.shape, x.dtype))
    elements = np.empty(rows) if reduction == "none" else np.empty((0, 0))
    grad = np.empty(x.shape, x.dtype)
    total = _bce_with_logits_kernel(x.reshape(rows), contiguous(y, x.dtype).reshape(rows), e.reshape(rows),
                                    log1p_e.reshape(rows), w, q, mean_scale(x.size, reduction), elements,
                                    grad.reshape(rows))
    elements = elements.reshape(x.shape) if reduction == "none" else elements
    return finish(total, x.size, reduction, elements, x.dtype), grad
