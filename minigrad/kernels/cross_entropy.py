"""Softmax + cross-entropy (and NLL) with class-index targets: loss and gradient in one pass.

For one row x of C logits with target class y, weight w and label smoothing e::

    lse     = log sum_c exp(x_c)                  (shifted by max x for stability)
    loss    = (1 - e) w_y (lse - x_y) + (e / C) sum_c w_c (lse - x_c)
    d loss / d x_c = (1 - e) w_y (p_c - [c = y]) + (e / C) (S_w p_c - w_c),  p = softmax(x), S_w = sum w

Rows whose target is ``ignore_index`` contribute 0 to the loss and get gradient 0. ``'mean'``
divides by W = sum of w_y over non-ignored rows (PyTorch semantics, so all-ignored gives NaN).

Why the fused kernel is faster: numpy's version makes about ten passes over N x C temporaries
(shift, exp, sum, log, gather, one-hot, ...), each allocating an array. The kernel reads each
row three times while it is in cache and writes the gradient once, with no temporaries; at
(128, 10) it is several times faster. It runs serially: one call is a few microseconds of
work, far below what a second thread could win back (see docs/kernels.md).
"""

from __future__ import annotations

import math

import numpy as np

from ._common import contiguous, empty_like_dtype, finish, mean_scale, ones
from ._jit import lazy_njit
from .config import use_kernel


def cross_entropy_reference(x: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                            ignore_index: int = -100, label_smoothing: float = 0.0,
                            reduction: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """numpy reference: (loss, d loss / d x) for logits x (N, C) and class indices target (N,)."""
    n, c = x.shape
    w = np.ones(c, x.dtype) if weight is None else weight.astype(x.dtype, copy=False)
    keep = target != ignore_index
    y = np.where(keep, target, 0)
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    probs = np.exp(log_probs)
    w_y = w[y] * keep
    e = label_smoothing
    rows = -w_y * np.where(keep, log_probs[np.arange(n), y], 0)
    if e:  # only then: -inf log-probabilities of other classes must not turn 0 * inf into NaN
        rows = (1 - e) * rows - (e / c) * (log_probs * w).sum(axis=1)
    rows = np.where(keep, rows, 0)  # set, not multiplied by 0: an ignored row may hold a -inf logit
    one_hot = np.zeros_like(x)
    one_hot[np.arange(n), y] = 1
    grad = (1 - e) * w_y[:, None] * (probs - one_hot) + (e / c) * keep[:, None] * (w.sum() * probs - w)
    denominator = float(w_y.sum(dtype=np.float64))
    grad = np.where(keep[:, None], grad * mean_scale(denominator, reduction), 0).astype(x.dtype, copy=False)
    return finish(rows.sum(dtype=np.float64), denominator, reduction, rows, x.dtype), grad


def nll_loss_reference(logp: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                       ignore_index: int = -100, reduction: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """numpy reference: (loss, d loss / d logp) for log-probabilities (N, C) and indices (N,)."""
    n, c = logp.shape
    w = np.ones(c, logp.dtype) if weight is None else weight.astype(logp.dtype, copy=False)
    keep = target != ignore_index
    y = np.where(keep, target, 0)
    w_y = w[y] * keep
    rows = np.where(keep, -w_y * logp[np.arange(n), y], 0)
    denominator = float(w_y.sum(dtype=np.float64))
    grad = np.zeros_like(logp)
    grad[np.arange(n), y] = np.where(keep, -w_y * mean_scale(denominator, reduction), 0)
    return finish(rows.sum(dtype=np.float64), denominator, reduction, rows, logp.dtype), grad


@lazy_njit()
def _cross_entropy_kernel(x, target, weight, ignore_index, smoothing, mean, rows, grad):  # noqa: ANN001
    """Fill ``grad`` (and ``rows`` if it has N entries); return (sum of row losses, W).

    ``weight`` always has C entries (ones when the caller has none), so the loops are branch-free.
    Per row: e_c = exp(x_c - max) into ``grad``, then grad_c = a e_c / s - b w_c with
    a = (1 - eps) w_y + (eps / C) S_w and b = eps / C, both times the reduction's scale.
    """
    n, c = x.shape
    w_sum = 0.0
    for k in range(c):
        w_sum += weight[k]
    denominator = 0.0
    for i in range(n):
        if target[i] != ignore_index:
            denominator += weight[target[i]]
    scale = 1.0
    if mean:
        scale = 1.0 / denominator if denominator != 0.0 else math.nan
    b = scale * smoothing / c
    total = 0.0
    for i in range(n):
        xi = x[i]
        gi = grad[i]
        y = target[i]
        if y == ignore_index:
            gi[:] = 0.0
            if rows.size > 0:
                rows[i] = 0.0
            continue
        m = xi[0]
        for k in range(1, c):
            m = max(m, xi[k])
        s = 0.0
        for k in range(c):
            e = math.exp(xi[k] - m)
            gi[k] = e
            s += e
        lse = m + math.log(s)
        w_y = weight[y]
        a = scale * ((1.0 - smoothing) * w_y + smoothing / c * w_sum) / s
        for k in range(c):
            gi[k] = a * gi[k] - b * weight[k]
        gi[y] -= scale * (1.0 - smoothing) * w_y
        loss = (1.0 - smoothing) * w_y * (lse - xi[y])
        if smoothing != 0.0:
            weighted_x = 0.0
            for k in range(c):
                weighted_x += weight[k] * xi[k]
            loss += smoothing / c * (w_sum * lse - weighted_x)
        if rows.size > 0:
            rows[i] = loss
        total += loss
    return total, denominator


@lazy_njit()
def _nll_kernel(logp, target, weight, ignore_index, mean, rows, grad):  # noqa: ANN001
    """Fill ``grad`` (and ``rows`` if it has N entries); return (sum of row losses, W)."""
    n = logp.shape[0]
    denominator = 0.0
    for i in range(n):
        if target[i] != ignore_index:
            denominator += weight[target[i]]
    scale = 1.0
    if mean:
        scale = 1.0 / denominator if denominator != 0.0 else math.nan
    total = 0.0
    grad[:] = 0.0
    for i in range(n):
        y = target[i]
        loss = 0.0
        if y != ignore_index:
            w_y = weight[y]
            loss = -w_y * logp[i, y]
            grad[i, y] = -w_y * scale
        if rows.size > 0:
            rows[i] = loss
        total += loss
    return total, denominator


def _prepare(x: np.ndarray, target: np.ndarray, weight: np.ndarray | None, reduction: str):  # noqa: ANN202
    x = contiguous(x)
    target = contiguous(target, np.int64)
    weight = ones(x.shape[1], x.dtype) if weight is None else contiguous(weight, x.dtype)
    rows = np.empty(x.shape[0]) if reduction == "none" else empty_like_dtype(np.float64)
    return x, target, weight, rows


def cross_entropy(x: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                  ignore_index: int = -100, label_smoothing: float = 0.0,
                  reduction: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """(loss, d loss / d x) for logits (N, C) and class indices (N,); the loss is 0-d or (N,) for 'none'.

    The gradient is for upstream gradient 1 and includes the reduction's 1/W. Inputs are
    assumed valid (the autograd Function checks them). Dispatches on ``use_kernel(x.dtype)``.
    """
    if not use_kernel(x.dtype):
        return cross_entropy_reference(x, target, weight, ignore_index, label_smoothing, reduction)
    x, target, weight, rows = _prepare(x, target, weight, reduction)
    grad = np.empty(x.shape, x.dtype)
    total, denominator = _cross_entropy_kernel(x, target, weight, int(ignore_index), float(label_smoothing),
                                               reduction == "mean", rows, grad)
    return finish(total, denominator, reduction, rows, x.dtype), grad


def nll_loss(logp: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """(loss, d loss / d logp) for log-probabilities (N, C) and class indices (N,); see ``cross_entropy``."""
    if not use_kernel(logp.dtype):
        return nll_loss_reference(logp, target, weight, ignore_index, reduction)
    logp, target, weight, rows = _prepare(logp, target, weight, reduction)
    grad = np.empty(logp.shape, logp.dtype)
    total, denominator = _nll_kernel(logp, target, weight, int(ignore_index), reduction == "mean", rows, grad)
    return finish(total, denominator, reduction, rows, logp.dtype), grad
