"""Naive float64 references for the first half of the loss library (tests only).

Written from the spec (docs/losses.md, /work/shared/specs/losses.md sections 2-3) as plain
Python loops over positions and classes with the ``math`` module: slow, obvious, and
independent of minigrad's code. Each returns a numpy float64 array ('none') or a float.
``numeric_vjp`` differentiates any of them by central differences.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np


def reduce(values: np.ndarray, reduction: str, denominator: float | None = None) -> np.ndarray | float:
    if reduction == "none":
        return values
    total = math.fsum(values.ravel().tolist())
    if reduction == "sum":
        return total
    d = values.size if denominator is None else denominator
    return total / d if d else math.nan


def _elementwise(fn: Callable[[float, float], float], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
    out = np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        out[idx] = fn(float(x[idx]), float(y[idx]))
    return out


def l1(x, y, reduction="mean"):
    return reduce(_elementwise(lambda a, b: abs(a - b), x, y), reduction)


def mse(x, y, reduction="mean"):
    return reduce(_elementwise(lambda a, b: (a - b) ** 2, x, y), reduction)


def huber(x, y, reduction="mean", delta=1.0):
    def f(a, b):
        z = abs(a - b)
        return 0.5 * z * z if z < delta else delta * (z - 0.5 * delta)
    return reduce(_elementwise(f, x, y), reduction)


def smooth_l1(x, y, reduction="mean", beta=1.0):
    def f(a, b):
        z = abs(a - b)
        if beta == 0:
            return z
        return 0.5 * z * z / beta if z < beta else z - 0.5 * beta
    return reduce(_elementwise(f, x, y), reduction)


def poisson_nll(x, y, log_input=True, full=False, eps=1e-8, reduction="mean"):
    def f(a, b):
        v = math.exp(a) - b * a if log_input else a - b * math.log(a + eps)
        if full and b > 1:
            v += b * math.log(b) - b + 0.5 * math.log(2 * math.pi * b)
        return v
    return reduce(_elementwise(f, x, y), reduction)


def gaussian_nll(x, y, var, full=False, eps=1e-6, reduction="mean"):
    x, y, var = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float), np.asarray(var, float))
    out = np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        v = max(float(var[idx]), eps)
        const = 0.5 * math.log(2 * math.pi) if full else 0.0
        out[idx] = 0.5 * (math.log(v) + (x[idx] - y[idx]) ** 2 / v) + const
    return reduce(out, reduction)


def log_cosh(x, y, reduction="mean"):
    return reduce(_elementwise(lambda a, b: math.log(math.cosh(a - b)), x, y), reduction)


def _log_softmax(row: list[float]) -> list[float]:
    m = max(row)
    lse = m + math.log(math.fsum(math.exp(v - m) for v in row))
    return [v - lse for v in row]


def _positions(x: np.ndarray):
    """Yield (index of the target position, logits row) for (C), (N, C) or (N, C, d...) input."""
    if x.ndim == 1:
        yield (), [float(v) for v in x]
        return
    n, c, *rest = x.shape
    for i in range(n):
        for d in itertools.product(*[range(k) for k in rest]):
            yield (i, *d), [float(x[(i, k, *d)]) for k in range(c)]


def cross_entropy(x, y, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    x = np.asarray(x, np.float64)
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    w = [1.0] * c if weight is None else [float(v) for v in weight]
    eps = label_smoothing
    if np.asarray(y).shape == x.shape:
        y = np.asarray(y, np.float64)
        out = np.zeros(x.shape[:1] + x.shape[2:] if x.ndim > 1 else ())
        for pos, row in _positions(x):
            lsm = _log_softmax(row)
            tgt = [float(y[(pos[0], k, *pos[1:])] if x.ndim > 1 else y[k]) for k in range(c)]
            out[pos] = -sum(w[k] * ((1 - eps) * tgt[k] + eps / c) * lsm[k] for k in range(c))
        return reduce(out, reduction, out.size)
    y = np.asarray(y)
    out = np.zeros(y.shape)
    total_w = 0.0
    for pos, row in _positions(x):
        t = int(y[pos])
        if t == ignore_index:
            continue
        lsm = _log_softmax(row)
        nll = -w[t] * lsm[t]
        smooth = -sum(w[k] * lsm[k] for k in range(c))
        out[pos] = (1 - eps) * nll + eps / c * smooth
        total_w += w[t]
    return reduce(out, reduction, total_w)


def nll(x, y, weight=None, ignore_index=-100, reduction="mean"):
    x = np.asarray(x, np.float64)
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    w = [1.0] * c if weight is None else [float(v) for v in weight]
    y = np.asarray(y)
    out = np.zeros(y.shape)
    total_w = 0.0
    for pos, row in _positions(x):
        t = int(y[pos])
        if t != ignore_index:
            out[pos] = -w[t] * row[t]
            total_w += w[t]
    return reduce(out, reduction, total_w)


def _log_sigmoid(z: float) -> float:
    return -math.log1p(math.exp(-z)) if z >= 0 else z - math.log1p(math.exp(z))


def bce(x, y, weight=None, reduction="mean"):
    x, y = np.asarray(x, float), np.asarray(y, float)
    w = np.broadcast_to(np.ones(()) if weight is None else np.asarray(weight, float), x.shape)
    out = np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        a, b = float(x[idx]), float(y[idx])
        log_a = max(math.log(a), -100) if a > 0 else -100
        log_1ma = max(math.log(1 - a), -100) if a < 1 else -100
        out[idx] = -w[idx] * (b * log_a + (1 - b) * log_1ma)
    return reduce(out, reduction)


def bce_with_logits(x, y, weight=None, reduction="mean", pos_weight=None):
    x, y = np.asarray(x, float), np.asarray(y, float)
    w = np.broadcast_to(np.ones(()) if weight is None else np.asarray(weight, float), x.shape)
    pw = np.broadcast_to(np.ones(()) if pos_weight is None else np.asarray(pos_weight, float), x.shape)
    out = np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        a, b = float(x[idx]), float(y[idx])
        out[idx] = -w[idx] * (pw[idx] * b * _log_sigmoid(a) + (1 - b) * _log_sigmoid(-a))
    return reduce(out, reduction)


def soft_margin(x, y, reduction="mean"):
    return reduce(_elementwise(lambda a, b: -_log_sigmoid(b * a), x, y), reduction)


def multilabel_soft_margin(x, y, weight=None, reduction="mean"):
    x, y = np.atleast_2d(np.asarray(x, float)), np.atleast_2d(np.asarray(y, float))
    n, c = x.shape
    w = [1.0] * c if weight is None else [float(v) for v in weight]
    out = np.empty(n)
    for i in range(n):
        out[i] = -sum(w[k] * (y[i, k] * _log_sigmoid(x[i, k]) + (1 - y[i, k]) * _log_sigmoid(-x[i, k]))
                      for k in range(c)) / c
    return reduce(out, reduction)


def kl_div(x, t, reduction="mean", log_target=False):
    def f(a, b):
        if log_target:
            return math.exp(b) * (b - a)
        return (b * math.log(b) if b > 0 else 0.0) - b * a
    out = _elementwise(f, x, t)
    if reduction == "batchmean":
        return reduce(out, "sum") / (out.shape[0] if out.ndim else 1)
    return reduce(out, reduction)


def numeric_vjp(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, g: np.ndarray,
                eps: float = 1e-6) -> np.ndarray:
    """d/dx sum(g * fn(x)) by central differences, for checking 'none' backward passes."""
    x = np.array(x, np.float64)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        orig = x[idx]
        x[idx] = orig + eps
        plus = float(np.sum(g * np.asarray(fn(x))))
        x[idx] = orig - eps
        minus = float(np.sum(g * np.asarray(fn(x))))
        x[idx] = orig
        out[idx] = (plus - minus) / (2 * eps)
    return out
