"""Linear layer with a fused activation: ``y = act(x @ W.T + b)`` and its backward.

Forward and backward, for z = x W^T + b and y = act(z)::

    dz = grad * act'(z)        relu: [z > 0]   tanh: 1 - y^2   sigmoid: y (1 - y)
                               gelu: Phi(z) + z phi(z)          none: 1
    dx = dz @ W      dW = dz^T @ x      db = sum over rows of dz

The products stay on BLAS (numpy's OpenBLAS is 3.5-10x faster than any loop we could write
in Numba). What the kernel fuses is everything around them: the bias add and the
activation happen in place on the product's output, and the backward kernel applies the
activation derivative and sums ``db`` in the same pass. Every array it returns is fresh
(a pool of reused arrays measured no faster on the MNIST benchmark, and had to guess when
an array was free; docs/kernels.md). The kernels are serial: they run
right after a BLAS call, whose threads still spin for a while, and a second thread pool
would fight them (docs/kernels.md).
"""

from __future__ import annotations

import math

import numpy as np

from ._common import contiguous, empty_like_dtype
from ._jit import lazy_njit
from .config import use_kernel

ACTIVATIONS = ("none", "relu", "tanh", "sigmoid", "gelu")
_CODES = {name: code for code, name in enumerate(ACTIVATIONS)}


def _erf(z: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return erf(z)


def linear_forward_reference(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                             activation: str = "none") -> tuple[np.ndarray, np.ndarray]:
    """numpy reference: (y, saved) for x (N, in), W (out, in); ``saved`` is what backward needs
    (the pre-activation z for gelu, y otherwise)."""
    z = x @ weight.T
    if bias is not None:
        z = z + bias
    if activation == "relu":
        y = np.maximum(z, 0)
    elif activation == "tanh":
        y = np.tanh(z)
    elif activation == "sigmoid":
        y = 1 / (1 + np.exp(-z))
    elif activation == "gelu":
        y = 0.5 * z * (1 + _erf(z / math.sqrt(2)))
    else:
        y = z
    y = y.astype(x.dtype, copy=False)
    return y, (z if activation == "gelu" else y)


def linear_backward_reference(grad: np.ndarray, x: np.ndarray, weight: np.ndarray, saved: np.ndarray,
                              activation: str = "none",
                              has_bias: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """numpy reference: (dx, dW, db) for upstream ``grad`` (N, out); db is None without bias."""
    if activation == "relu":
        dz = grad * (saved > 0)
    elif activation == "tanh":
        dz = grad * (1 - saved * saved)
    elif activation == "sigmoid":
        dz = grad * saved * (1 - saved)
    elif activation == "gelu":
        cdf = 0.5 * (1 + _erf(saved / math.sqrt(2)))
        pdf = np.exp(-0.5 * saved * saved) / math.sqrt(2 * math.pi)
        dz = grad * (cdf + saved * pdf)
    else:
        dz = grad
    dz = dz.astype(x.dtype, copy=False)
    db = dz.sum(axis=0) if has_bias else None
    return dz @ weight, dz.T @ x, db


@lazy_njit()
def _bias_act_kernel(z, bias, act, y):  # noqa: ANN001
    """z += bias (row-wise); y = act(z). ``y`` may be ``z`` itself (all activations but gelu).

    The activation is chosen once per row, outside the inner loop, so each inner loop is a
    tight loop LLVM can vectorise (relu, bias add) or at least keep branch-free.
    """
    n, m = z.shape
    for i in range(n):
        zi = z[i]
        yi = y[i]
        if bias.size > 0:
            for j in range(m):
                zi[j] += bias[j]
        if act == 1:
            for j in range(m):
                yi[j] = max(zi[j], 0.0)
        elif act == 2:
            for j in range(m):
                yi[j] = math.tanh(zi[j])
        elif act == 3:
            for j in range(m):
                v = zi[j]
                yi[j] = 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))
        elif act == 4:
            for j in range(m):
                yi[j] = 0.5 * zi[j] * (1.0 + math.erf(zi[j] * 0.7071067811865476))


@lazy_njit()
def _act_grad_kernel(grad, saved, act, dz, db):  # noqa: ANN001
    """dz = grad * act'(.) from the saved output (or z for gelu); db = column sums of dz."""
    n, m = grad.shape
    if db.size > 0:
        db[:] = 0.0
    for i in range(n):
        gi = grad[i]
        si = saved[i]
        di = dz[i]
        if act == 1:
            for j in range(m):
                di[j] = gi[j] if si[j] > 0 else 0.0
        elif act == 2:
            for j in range(m):
                di[j] = gi[j] * (1.0 - si[j] * si[j])
        elif act == 3:
            for j in range(m):
                di[j] = gi[j] * si[j] * (1.0 - si[j])
        elif act == 4:
            for j in range(m):
                s = si[j]
                di[j] = gi[j] * (0.5 * (1.0 + math.erf(s * 0.7071067811865476))
                                 + s * math.exp(-0.5 * s * s) * 0.3989422804014327)
        else:
            for j in range(m):
                di[j] = gi[j]
        if db.size > 0:
            for j in range(m):
                db[j] += di[j]


def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                   activation: str = "none") -> tuple[np.ndarray, np.ndarray]:
    """(y, saved) for 2-D x: the product on BLAS, then bias + activation in place on it."""
    if not use_kernel(x.dtype):
        return linear_forward_reference(x, weight, bias, activation)
    x = contiguous(x)
    weight = contiguous(weight, x.dtype)
    z = np.matmul(x, weight.T)
    if bias is None and activation == "none":
        return z, z
    y = np.empty_like(z) if activation == "gelu" else z
    b = contiguous(bias, x.dtype) if bias is not None else empty_like_dtype(x.dtype)
    _bias_act_kernel(z, b, _CODES[activation], y)
    return y, (z if activation == "gelu" else y)


def linear_backward(grad: np.ndarray, x: np.ndarray, weight: np.ndarray, saved: np.ndarray,
                    activation: str = "none", has_bias: bool = True,
                    needs: tuple[bool, bool] = (True, True)) -> tuple[np.ndarray | None, ...]:
    """(dx, dW, db) for upstream ``grad``; dx/dW are None where ``needs`` says so, db None without bias."""
    if not use_kernel(x.dtype):
        dx, dw, db = linear_backward_reference(grad, x, weight, saved, activation, has_bias)
        return (dx if needs[0] else None), (dw if needs[1] else None), db
    x = contiguous(x)
    weight = contiguous(weight, x.dtype)
    grad = contiguous(grad, x.dtype)
    db = np.empty(weight.shape[0], x.dtype) if has_bias else None
    if activation == "none":
        dz = grad
        if db is not None:
            np.sum(grad, axis=0, out=db)
    else:
        dz = np.empty(grad.shape, x.dtype)
        _act_grad_kernel(grad, contiguous(saved, x.dtype), _CODES[activation], dz,
                         db if db is not None else empty_like_dtype(x.dtype))
    dx = dz @ weight if needs[0] else None
    dw = dz.T @ x if needs[1] else None
    return dx, dw, db
