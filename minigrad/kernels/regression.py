"""Regression losses (MSE, L1, Huber, SmoothL1): loss and gradient in one elementwise pass.

With d = x - y::

    mse        loss = d^2                                      grad = 2 d
    l1         loss = |d|                                      grad = sign(d)   (0 at d = 0 or NaN)
    huber      loss = d^2 / 2 if |d| < delta else delta (|d| - delta / 2)    grad = clamp(d, -delta, delta)
    smooth_l1  loss = d^2 / (2 beta) if |d| < beta else |d| - beta / 2       grad = clamp(d / beta, -1, 1)
               (beta = 0 is exactly l1)

``'mean'`` divides by the number of elements; the gradient w.r.t. the target is minus the
gradient w.r.t. the input. numpy needs a subtraction, an abs, a where and two products, each
a fresh array; the kernel reads x and y (in cache) and writes only the gradient. Serial (see
docs/kernels.md). One kernel per loss keeps each loop branch-free where it can be, and
``fastmath={"reassoc"}`` lets LLVM vectorise the running sum (it may add in another order, as
numpy's pairwise sum does; no other fast-math liberty is taken).

The sum has a loop of its own, which stores nothing. A loop that both sums and stores is
vectorised behind a run-time check that the stores cannot overlap the loads; LLVM's check is
conservative (output within a few hundred bytes after an input fails it) and falls back to a
sequential sum, so the loss changed in its last bit with where malloc put the arrays.
"""

from __future__ import annotations

import numpy as np

from ._common import contiguous, empty_like_dtype, finish, mean_scale
from ._jit import lazy_njit
from .config import use_kernel

LOSSES = ("mse", "l1", "huber", "smooth_l1")


def regression_reference(kind: str, x: np.ndarray, y: np.ndarray, reduction: str = "mean",
                         param: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """numpy reference: (loss, d loss / d x) for ``kind`` in LOSSES; ``param`` is delta or beta."""
    d = x - y
    a = np.abs(d)
    if kind == "mse":
        elements, grad = d * d, 2 * d
    elif kind == "l1" or (kind == "smooth_l1" and param == 0):
        elements, grad = a, np.sign(d, where=~np.isnan(d), out=np.zeros_like(d))
    elif kind == "huber":
        elements = np.where(a < param, 0.5 * d * d, param * (a - 0.5 * param))
        grad = np.clip(d, -param, param)
    else:
        elements = np.where(a < param, 0.5 * d * d / param, a - 0.5 * param)
        grad = np.clip(d / param, -1, 1)
    grad = (grad * mean_scale(x.size, reduction)).astype(x.dtype, copy=False)
    return finish(elements.sum(dtype=np.float64), x.size, reduction, elements, x.dtype), grad


@lazy_njit(fastmath={"reassoc"})
def _mse_kernel(x, y, param, scale, elements, grad):  # noqa: ANN001
    total = 0.0
    for i in range(x.size):
        d = x[i] - y[i]
        total += d * d
    for i in range(x.size):
        grad[i] = 2.0 * scale * (x[i] - y[i])
    if elements.size > 0:
        for i in range(x.size):
            d = x[i] - y[i]
            elements[i] = d * d
    return total


@lazy_njit(fastmath={"reassoc"})
def _l1_kernel(x, y, param, scale, elements, grad):  # noqa: ANN001
    total = 0.0
    for i in range(x.size):
        total += abs(x[i] - y[i])
    for i in range(x.size):
        d = x[i] - y[i]
        grad[i] = scale * (1.0 if d > 0 else (-1.0 if d < 0 else 0.0))
    if elements.size > 0:
        for i in range(x.size):
            elements[i] = abs(x[i] - y[i])
    return total


@lazy_njit(fastmath={"reassoc"})
def _huber_kernel(x, y, delta, scale, elements, grad):  # noqa: ANN001
    total = 0.0
    for i in range(x.size):
        d = x[i] - y[i]
        a = abs(d)
        total += 0.5 * d * d if a < delta else delta * (a - 0.5 * delta)
    for i in range(x.size):
        grad[i] = scale * min(max(x[i] - y[i], -delta), delta)
    if elements.size > 0:
        for i in range(x.size):
            d = x[i] - y[i]
            a = abs(d)
            elements[i] = 0.5 * d * d if a < delta else delta * (a - 0.5 * delta)
    return total


@lazy_njit(fastmath={"reassoc"})
def _smooth_l1_kernel(x, y, beta, scale, elements, grad):  # noqa: ANN001
    total = 0.0
    for i in range(x.size):
        d = x[i] - y[i]
        a = abs(d)
        total += 0.5 * d * d / beta if a < beta else a - 0.5 * beta
    for i in range(x.size):
        grad[i] = scale * min(max((x[i] - y[i]) / beta, -1.0), 1.0)
    if elements.size > 0:
        for i in range(x.size):
            d = x[i] - y[i]
            a = abs(d)
            elements[i] = 0.5 * d * d / beta if a < beta else a - 0.5 * beta
    return total


_KERNELS = {"mse": _mse_kernel, "l1": _l1_kernel, "huber": _huber_kernel, "smooth_l1": _smooth_l1_kernel}


def regression(kind: str, x: np.ndarray, y: np.ndarray, reduction: str = "mean",
               param: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(loss, d loss / d x) for upstream gradient 1, x and y of the same shape.

    ``kind`` is one of LOSSES, ``param`` is Huber's delta or SmoothL1's beta (ignored otherwise).
    """
    if not use_kernel(x.dtype):
        return regression_reference(kind, x, y, reduction, param)
    if kind == "smooth_l1" and param == 0:
        kind = "l1"
    x = contiguous(x)
    y = contiguous(y, x.dtype)
    elements = np.empty(x.shape) if reduction == "none" else empty_like_dtype(np.float64)
    grad = np.empty(x.shape, x.dtype)
    total = _KERNELS[kind](x.reshape(-1), y.reshape(-1), float(param), mean_scale(x.size, reduction),
                           elements.reshape(-1), grad.reshape(-1))
    return finish(total, x.size, reduction, elements, x.dtype), grad


def mse_loss(x: np.ndarray, y: np.ndarray, reduction: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    return regression("mse", x, y, reduction)


def l1_loss(x: np.ndarray, y: np.ndarray, reduction: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    return regression("l1", x, y, reduction)


def huber_loss(x: np.ndarray, y: np.ndarray, reduction: str = "mean",
               delta: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    return regression("huber", x, y, reduction, delta)


def smooth_l1_loss(x: np.ndarray, y: np.ndarray, reduction: str = "mean",
                   beta: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    return regression("smooth_l1", x, y, reduction, beta)
