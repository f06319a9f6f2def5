"""Discrete-valued ops, with no useful derivative: comparisons, logic, argmax, sign,
rounding (floor, ceil, round, floor_divide, remainder), isnan/isinf, one_hot.

Their results are constants for autograd (``requires_grad=False``): a comparison is
piecewise constant, so its derivative is zero almost everywhere and undefined at the
jumps. ``sign`` and ``floor``-like ops are the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .dims import dim as _dim
from .dims import dims as _dims
from .elementwise import operands, sign_array


def _const(data: Any) -> Tensor:
    return Tensor.make(np.asarray(data))


def _cmp(ufunc: np.ufunc, a: Any, b: Any) -> Tensor:
    a, b = operands(a, b)
    try:
        return _const(ufunc(a.data, b.data))
    except ValueError:
        raise ValueError(
            f"{ufunc.__name__}: shapes {a.shape} and {b.shape} cannot be broadcast together"
        ) from None


def eq(a: Any, b: Any) -> Tensor:
    return _cmp(np.equal, a, b)


def ne(a: Any, b: Any) -> Tensor:
    return _cmp(np.not_equal, a, b)


def lt(a: Any, b: Any) -> Tensor:
    return _cmp(np.less, a, b)


def le(a: Any, b: Any) -> Tensor:
    return _cmp(np.less_equal, a, b)


def gt(a: Any, b: Any) -> Tensor:
    return _cmp(np.greater, a, b)


def ge(a: Any, b: Any) -> Tensor:
    return _cmp(np.greater_equal, a, b)


def logical_and(a: Any, b: Any) -> Tensor:
    return _cmp(np.logical_and, a, b)


def logical_or(a: Any, b: Any) -> Tensor:
    return _cmp(np.logical_or, a, b)


def logical_not(a: Tensor) -> Tensor:
    return _const(np.logical_not(a.data) if a.dtype == bool else np.invert(a.data))


def floor_divide(a: Any, b: Any) -> Tensor:
    return _cmp(np.floor_divide, a, b)


def remainder(a: Any, b: Any) -> Tensor:
    return _cmp(np.remainder, a, b)


def _arg(fn: Any, x: Tensor, dim: int | None, keepdim: bool) -> Tensor:
    name = fn.__name__
    if dim is None:
        if x.data.size == 0:
            raise IndexError(
                f"{name}(): an empty tensor (shape {x.shape}) has no element to point to; give "
                f"the reduction dim (over a non-empty dim the result is empty, as in PyTorch)"
            )
        out = fn(x.data.reshape(-1))
        return _const(np.array(out, dtype=np.int64).reshape((1,) * x.ndim if keepdim else ()))
    dim = _dim(x, dim)
    if x.ndim and x.shape[dim] == 0:
        raise IndexError(
            f"{name}(): expected reduction dim {dim} to have non-zero size (tensor of shape "
            f"{x.shape}): there is no element to point to"
        )
    return _const(fn(x.data, axis=dim, keepdims=keepdim).astype(np.int64))


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (the first one among ties)."""
    return _arg(np.argmax, x, dim, keepdim)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg(np.argmin, x, dim, keepdim)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1, and 0 for NaN (as PyTorch)."""
    return _const(sign_array(x.data))


def floor(x: Tensor) -> Tensor:
    return _const(np.floor(x.data))


def ceil(x: Tensor) -> Tensor:
    return _const(np.ceil(x.data))


def round(x: Tensor) -> Tensor:
    return _const(np.round(x.data))


def all(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """True where every element along ``dim`` (an int, a tuple, or None: all) is nonzero."""
    return _const(np.all(x.data, axis=_dims(x, dim), keepdims=keepdim))


def any(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _const(np.any(x.data, axis=_dims(x, dim), keepdims=keepdim))


def isnan(x: Tensor) -> Tensor:
    return _const(np.isnan(x.data))


def isinf(x: Tensor) -> Tensor:
    return _const(np.isinf(x.data))


def isfinite(x: Tensor) -> Tensor:
    return _const(np.isfinite(x.data))


def one_hot(x: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (any shape) -> int64 tensor with a trailing one-hot dimension."""
    idx = x.data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot is only applicable to index tensors, got dtype {idx.dtype}")
    if idx.size and idx.min() < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {idx.min()}")
    top = int(idx.max()) + 1 if idx.size else 0
    if num_classes == -1:
        num_classes = top
    elif top > num_classes:
        raise RuntimeError(f"one_hot: class value {top - 1} too large for {num_classes} classes")
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.int64), 1, axis=-1)
    return _const(out)

