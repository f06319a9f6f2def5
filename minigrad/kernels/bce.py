"""Binary cross-entropy with logits: loss and gradient in one elementwise pass.

For logit x, target y, weight w and positive-class weight q (both broadcast to x)::

    loss = w [ (1 - y) x - (1 + (q - 1) y) logsigmoid(x) ],   logsigmoid(x) = min(x, 0) - log1p(exp(-|x|))
    d loss / d x = w [ (q y + 1 - y) sigmoid(x) - q y ]

``'mean'`` divides by the number of elements. The stable logsigmoid keeps the loss finite
for x = +-1000. numpy needs about a dozen temporaries for this; the kernel computes one
exp per element and writes the gradient (and, for 'none', the loss) directly. Serial: an
elementwise pass over a batch is microseconds of work.

Weights are read periodically: a weight whose shape is a suffix of x's shape (e.g.
``pos_weight`` of shape (C,) for x of shape (N, C)), a scalar or a full array is used in
place; any other broadcastable shape is expanded once by ``periodic``.
"""

from __future__ import annotations

import math

import numpy as np

from ._common import contiguous, empty_like_dtype, finish, grad_buffer, mean_scale
from ._jit import lazy_njit
from .config import jit_enabled


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


def periodic(a: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``a`` flattened so that element i of an array of ``shape`` uses ``a[i % a.size]``."""
    if a is None:
        return empty_like_dtype(dtype)
    core = a.shape
    while core and core[0] == 1:
        core = core[1:]
    if len(core) <= len(shape) and tuple(shape[len(shape) - len(core):]) == core:
        return contiguous(a, dtype).reshape(-1)
    return contiguous(np.broadcast_to(a, shape), dtype).reshape(-1)


@lazy_njit()
def _bce_with_logits_kernel(x, y, weight, pos_weight, scale, elements, grad):  # noqa: ANN001
    """Fill ``grad`` (and ``elements`` if it has x.size entries); return the sum of the losses."""
    n_w = weight.size
    n_q = pos_weight.size
    keep = elements.size > 0
    total = 0.0
    for i in range(x.size):
        w = weight[i % n_w] if n_w > 0 else 1.0
        q = pos_weight[i % n_q] if n_q > 0 else 1.0
        xi = x[i]
        yi = y[i]
        e = math.exp(-abs(xi))
        log_sigmoid = min(xi, 0.0) - math.log1p(e)
        sigmoid = 1.0 / (1.0 + e) if xi >= 0 else e / (1.0 + e)
        loss = w * ((1.0 - yi) * xi - (1.0 + (q - 1.0) * yi) * log_sigmoid)
        grad[i] = scale * w * ((q * yi + 1.0 - yi) * sigmoid - q * yi)
        if keep:
            elements[i] = loss
        total += loss
    return total


def bce_with_logits(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None,
                    pos_weight: np.ndarray | None = None,
                    reduction: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """(loss, d loss / d x) for upstream gradient 1; the loss is 0-d, or x's shape for 'none'."""
    if not jit_enabled():
        return bce_with_logits_reference(x, y, weight, pos_weight, reduction)
    x = contiguous(x)
    flat_x = x.reshape(-1)
    flat_y = contiguous(y, x.dtype).reshape(-1)
    w = periodic(weight, x.shape, x.dtype)
    q = periodic(pos_weight, x.shape, x.dtype)
    elements = np.empty(x.shape) if reduction == "none" else empty_like_dtype(np.float64)
    grad = grad_buffer("bce_with_logits", x.shape, x.dtype)
    total = _bce_with_logits_kernel(flat_x, flat_y, w, q, mean_scale(x.size, reduction),
                                    elements.reshape(-1), grad.reshape(-1))
    return finish(total, x.size, reduction, elements, x.dtype), grad
