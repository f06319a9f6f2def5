"""Reductions: many elements in, fewer out.

The backward of a reduction spreads the (smaller) output gradient back over the
input: ``sum`` copies it to every element, ``mean`` copies and divides by the count,
``amax`` sends it to the elements that were the maximum (split evenly among ties).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .dims import dim as _dim
from .dims import dims as _dims
from .elementwise import Where

MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _axes(t_ndim: int, dim: tuple[int, ...] | None) -> tuple[int, ...]:
    return tuple(range(t_ndim)) if dim is None else dim


def _keep_shape(shape: tuple[int, ...], dim: tuple[int, ...] | None) -> tuple[int, ...]:
    axes = _axes(len(shape), dim)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(grad: Tensor, shape: tuple[int, ...], dim: tuple[int, ...] | None, keepdim: bool) -> Tensor:
    """Bring a reduced gradient back to the input's shape by broadcasting it."""
    if not keepdim:
        grad = grad.reshape(_keep_shape(shape, dim))
    return grad.expand(shape)


class Sum(Function):
    """d/dx_i sum(x) = 1: the gradient is copied to every summed element"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, dim: tuple[int, ...] | None, keepdim: bool) -> np.ndarray:
        ctx.dim, ctx.keepdim = dim, keepdim
        return np.sum(x, axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return _spread(grad, ctx.inputs[0].shape, ctx.dim, ctx.keepdim)


def sum(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (None: all; an int or a sequence of ints)."""
    return Sum.apply(x, dim=_dims(x, dim), keepdim=keepdim)


class Mean(Function):
    """d/dx_i mean(x) = 1 / n"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, dim: tuple[int, ...] | None, keepdim: bool) -> np.ndarray:
        ctx.dim, ctx.keepdim = dim, keepdim
        ctx.count = int(np.prod([x.shape[i] for i in _axes(x.ndim, dim)]))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sum(x, axis=dim, keepdims=keepdim) / np.asarray(ctx.count, x.dtype)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        scale = 1.0 / ctx.count if ctx.count else float("nan")
        return _spread(grad * scale, ctx.inputs[0].shape, ctx.dim, ctx.keepdim)


def mean(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    if x.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be floating point, got "
            f"{x.dtype}; call .float() first."
        )
    return Mean.apply(x, dim=_dims(x, dim), keepdim=keepdim)


class Var(Function):
    """var = sum((x - mean)^2) / (n - correction);  d/dx_i = 2 (x_i - mean) / (n - correction)

    The gradient through the mean, -sum_j 2 (x_j - mean) / (n (n - correction)), is 0 and
    left out, as PyTorch's formula does: with an infinite input it is NaN (inf - inf) and
    would make every gradient NaN, where PyTorch gives -inf/inf away from the infinity.
    The backward is written with Tensor ops (the mean included), so it differentiates
    again to PyTorch's second derivative.

    A constant slice has variance exactly 0, as PyTorch's (Welford's) gives: the rounded
    mean of equal float32 values may differ from them, and the tiny variance that leaves
    would make std's gradient there nonzero, where PyTorch's is 0."""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, dim: tuple[int, ...] | None, keepdim: bool,
                denom: int) -> np.ndarray:
        ctx.dim, ctx.keepdim, ctx.denom = dim, keepdim, denom
        count = int(np.prod([x.shape[i] for i in _axes(x.ndim, dim)]))
        with np.errstate(invalid="ignore", divide="ignore"):
            centered = x - np.sum(x, axis=dim, keepdims=True) / np.asarray(count, x.dtype)
            total = np.sum(centered * centered, axis=dim, keepdims=keepdim)
            if count:
                total = np.where(np.ptp(x, axis=dim, keepdims=keepdim) == 0, 0, total)
            return total / np.asarray(denom, x.dtype) if denom else total * np.nan

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        (x,) = ctx.inputs
        centered = x - Mean.apply(x, dim=ctx.dim, keepdim=True)
        scale = 2.0 / ctx.denom if ctx.denom else float("nan")
        return _spread(grad * scale, x.shape, ctx.dim, ctx.keepdim) * centered


def _var(x: Tensor, dim: Any, keepdim: bool, correction: int) -> Tensor:
    """sum((x - mean)^2) / max(n - correction, 0), NaN when that is 0 (see ``Var``)."""
    if x.dtype.kind != "f":
        raise RuntimeError(f"var/std: only floating point tensors have a variance, got {x.dtype}; "
                           f"call .float() first.")
    axes = _dims(x, dim)
    n = int(np.prod([x.shape[i] for i in _axes(x.ndim, axes)]))
    return Var.apply(x, dim=axes, keepdim=keepdim, denom=max(n - correction, 0))


def _var_args(name: str, x: Tensor, dim: Any, unbiased: bool | None, keepdim: bool,
              correction: int | None) -> Tensor:
    """Resolve PyTorch's var/std arguments: ``unbiased`` (a bool, also accepted in place of
    ``dim`` as in ``x.var(False)``) or ``correction`` (default 1, Bessel's), not both."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise ValueError(f"{name}(): pass either unbiased={unbiased} or correction={correction}, "
                         f"not both (unbiased=False is correction=0)")
    return _var(x, dim, keepdim, int(unbiased) if unbiased is not None else
                1 if correction is None else correction)


def var(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    """PyTorch's ``var(dim, unbiased, keepdim, *, correction)``: sum((x - mean)^2) / (n - correction)."""
    return _var_args("var", x, dim, unbiased, keepdim, correction)


class Std(Function):
    """std = sqrt(var);  d/dvar = 1 / (2 std), taken as 0 where std = 0 (as PyTorch does):
    a constant input has no direction to move in, and 1/0 would make the gradient NaN."""

    @staticmethod
    def forward(ctx: Function, v: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.sqrt(v)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        std = ctx.output
        nonzero = std.data != 0
        safe = Where.apply(std, Tensor.make(np.ones((), std.dtype)), cond=nonzero)
        return Where.apply(grad / (safe * 2.0), Tensor.make(np.zeros((), grad.dtype)),
                           cond=nonzero)


def std(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    """sqrt(var(x)), with ``var``'s arguments."""
    return Std.apply(_var_args("std", x, dim, unbiased, keepdim, correction))


class Amax(Function):
    """d/dx_i max(x) = 1/k if x_i is one of the k tied maxima, else 0

    A NaN maximum equals nothing, so its gradient is NaN (0/0), as PyTorch's amax gives."""

    reduce = staticmethod(np.amax)
    nan_ties = False
    unmatched_zero = False
    label = ""  # the name errors use, when not the class name

    @classmethod
    def forward(cls, ctx: Function, x: np.ndarray, dim: tuple[int, ...] | None,
                keepdim: bool) -> np.ndarray:
        name = cls.label or cls.__name__.lower() + "()"
        if x.size == 0 and dim is None:
            raise RuntimeError(
                f"{name}: the tensor of shape {x.shape} is empty and max/min of nothing has "
                f"no value (no identity); give a dim: over a non-empty dim the result is empty"
            )
        if x.size == 0 and any(x.shape[a] == 0 for a in _axes(x.ndim, dim)):
            raise IndexError(
                f"{name}: expected reduction dim {dim} to have non-zero size (tensor of shape "
                f"{x.shape}): max/min of nothing has no value (no identity)"
            )
        ctx.dim, ctx.keepdim = dim, keepdim
        return cls.reduce(x, axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        x = ctx.inputs[0].data
        out = ctx.out_data if ctx.keepdim else ctx.out_data.reshape(_keep_shape(x.shape, ctx.dim))
        hit = x == out
        if ctx.nan_ties:
            hit |= np.isnan(x) & np.isnan(out)
        hit = hit.astype(grad.dtype)
        count = hit.sum(axis=ctx.dim, keepdims=True)
        if ctx.unmatched_zero:
            hit = np.divide(hit, count, out=np.zeros_like(hit), where=count != 0)
        else:
            with np.errstate(invalid="ignore"):
                hit /= count
        out = _spread(grad, x.shape, ctx.dim, ctx.keepdim) * Tensor.make(hit)
        if ctx.nan_ties:  # max()/min(): PyTorch writes into zeros, so a NaN gradient stays put
            out = Where.apply(out, Tensor.make(np.zeros((), out.dtype)), cond=hit != 0)
        return out


class Amin(Amax):
    """d/dx_i min(x) = 1/k if x_i is one of the k tied minima, else 0

    Its own reduction, not -amax(-x): negation wraps unsigned integers and fails on bool."""

    reduce = staticmethod(np.amin)


def amax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Largest value over ``dim``, ties sharing the gradient (see ``Amax``)."""
    return Amax.apply(x, dim=_dims(x, dim), keepdim=keepdim)


def amin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Smallest value over ``dim``, ties sharing the gradient (see ``Amin``)."""
    return Amin.apply(x, dim=_dims(x, dim), keepdim=keepdim)


class Max(Amax):
    """max() of all elements: amax, except that a NaN maximum sends the gradient to the NaNs
    (split evenly among them), as PyTorch's max() does."""

    nan_ties = True


class Min(Amin):
    """min() of all elements: amin, except that a NaN minimum sends the gradient to the NaNs."""

    nan_ties = True


class NormInf(Amax):
    """||x||_inf = max |x_i|, applied to |x|: amax, except that a NaN norm (which no element
    equals) has gradient 0, not NaN, as PyTorch's norm gives."""

    unmatched_zero = True
    label = "norm(p=inf)"


class NormMinusInf(Amin):
    """min |x_i| (``norm(p=-inf)``), applied to |x|; gradient 0 where the result is NaN."""

    unmatched_zero = True
    label = "norm(p=-inf)"


def _check_nonempty(name: str, x: Tensor, dim: int) -> None:
    if x.ndim and x.shape[_dim(x, dim)] == 0:
        raise IndexError(
            f"{name}(): expected reduction dim {_dim(x, dim)} to have non-zero size (tensor of "
            f"shape {x.shape}): max/min of nothing has no value (no identity)"
        )


def reduce_max(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """``max()`` over everything gives the value; ``max(dim)`` gives (values, indices),
    and the gradient goes to the element at ``indices`` (as in PyTorch)."""
    return _extreme("max", x, dim, keepdim)


def reduce_min(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """``min()`` / ``min(dim)``: as ``reduce_max``, for the smallest element."""
    return _extreme("min", x, dim, keepdim)


def _extreme(name: str, x: Tensor, dim: int | None, keepdim: bool) -> Any:
    if dim is None:
        return (Max if name == "max" else Min).apply(x, dim=None, keepdim=False)
    _check_nonempty(name, x, dim)
    from .discrete import argmax, argmin
    from .indexing import gather

    indices = (argmax if name == "max" else argmin)(x, dim, keepdim=True)
    values = gather(x, dim, indices)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return MaxResult(values, indices)


def stable_logsumexp(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    """m + log(sum(exp(x - m))) with m = max(x); a shift of 0 where m is infinite."""
    m = np.amax(x, axis=axis, keepdims=True) if x.size else np.zeros((), x.dtype)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


class LogSumExp(Function):
    """d/dx_i log(sum(exp(x))) = exp(x_i - logsumexp(x)) = softmax(x)_i"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, dim: tuple[int, ...] | None, keepdim: bool) -> np.ndarray:
        ctx.dim, ctx.keepdim = dim, keepdim
        return stable_logsumexp(x, dim, keepdim)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        (x,) = ctx.inputs
        out = _spread(ctx.output, x.shape, ctx.dim, ctx.keepdim)
        return _spread(grad, x.shape, ctx.dim, ctx.keepdim) * (x - out).exp()


def logsumexp(x: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed without overflow (see ``LogSumExp``)."""
    return LogSumExp.apply(x, dim=_dims(x, dim), keepdim=keepdim)


class Prod(Function):
    """d/dx_i prod(x) = product of all the other elements (= prod / x_i when x_i != 0)"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, dim: tuple[int, ...] | None, keepdim: bool) -> np.ndarray:
        if dim is not None and len(dim) > 1:
            raise ValueError("prod: reduce over one dimension or all of them")
        ctx.dim, ctx.keepdim = dim, keepdim
        return np.prod(x, axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        (x,) = ctx.inputs
        g = _spread(grad, x.shape, ctx.dim, ctx.keepdim)
        if (x.data != 0).all():
            return g * _spread(ctx.output, x.shape, ctx.dim, ctx.keepdim) / x
        return g * _product_of_the_others(x, ctx.dim)

    @staticmethod
    def fast_backward(ctx: Function, grad: np.ndarray) -> np.ndarray:
        """Fast path: prod / x_i, or where some x_i = 0 the product of the others from prefix
        and suffix products, O(n) where the readable backward's zero case is O(n^2)."""
        x = ctx.inputs[0].data
        out = ctx.out_data
        if not ctx.keepdim:
            grad = grad.reshape(_keep_shape(x.shape, ctx.dim))
            out = out.reshape(grad.shape)
        if (x != 0).all():
            return grad * out / x
        axis = 0 if ctx.dim is None else ctx.dim[0]
        flat = x.reshape(-1) if ctx.dim is None else x
        ones = np.ones_like(np.take(flat, [0], axis=axis))
        left = np.cumprod(np.concatenate([ones, flat], axis=axis), axis=axis)
        left = np.delete(left, -1, axis=axis)
        rev = np.flip(flat, axis=axis)
        right = np.cumprod(np.concatenate([ones, rev], axis=axis), axis=axis)
        right = np.flip(np.delete(right, -1, axis=axis), axis=axis)
        return np.broadcast_to(grad, x.shape) * (left * right).reshape(x.shape)


def prod(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Product over ``dim`` (None: all elements; see ``Prod``)."""
    return Prod.apply(x, dim=_dims(x, dim), keepdim=keepdim)


def _product_of_the_others(x: Tensor, dim: tuple[int, ...] | None) -> Tensor:
    """prod_{j != i} x_j along the reduced axis, from differentiable ops only, for
    create_graph where some x_i = 0 (prod / x_i is undefined there). Row i of an n x n
    copy of x gets a 1 on the diagonal, and each row is multiplied out: O(n^2) work."""
    flat = x.reshape(-1) if dim is None else x.transpose(dim[0], -1)
    n = flat.shape[-1]
    copies = flat.unsqueeze(-2).expand(*flat.shape[:-1], n, n)
    one = Tensor.make(np.ones((), x.dtype))
    others = Where.apply(one, copies, cond=np.eye(n, dtype=bool)).prod(-1)
    return others.reshape(x.shape) if dim is None else others.transpose(dim[0], -1)


class Cumsum(Function):
    """d/dx_i sum_{j<=k} x_j: the gradient is a reversed cumulative sum of the output's"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, dim: int) -> np.ndarray:
        ctx.dim = dim
        return np.cumsum(x, axis=dim) if x.ndim else x.copy()

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        if grad.ndim == 0:
            return grad
        return grad.flip(ctx.dim).cumsum(ctx.dim).flip(ctx.dim)


def cumsum(x: Tensor, dim: int) -> Tensor:
    """Running sum along ``dim`` (see ``Cumsum``)."""
    return Cumsum.apply(x, dim=_dim(x, dim))


class Norm2(Function):
    """d/dx ||x||_2 = x / ||x||_2   (0 where the norm is 0, as in PyTorch)"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, dim: tuple[int, ...] | None, keepdim: bool) -> np.ndarray:
        ctx.dim, ctx.keepdim = dim, keepdim
        return np.sqrt(np.sum(x * x, axis=dim, keepdims=keepdim))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        (x,) = ctx.inputs
        out = _spread(ctx.output, x.shape, ctx.dim, ctx.keepdim)
        zero = Tensor.make(np.zeros((), grad.dtype))
        safe = Where.apply(out, Tensor.make(np.ones((), grad.dtype)), cond=out.data != 0)
        g = _spread(grad, x.shape, ctx.dim, ctx.keepdim)
        return Where.apply(g * x / safe, zero, cond=out.data != 0)


class NormP(Function):
    """||x||_p = (sum |x_i|^p)^(1/p);  d/dx_i = sign(x_i) |x_i|^(p-1) / ||x||_p^(p-1).

    PyTorch's conventions where that is 0/0 or inf * 0: the gradient is 0 where the norm
    is 0 and, for p < 1, where x_i = 0 (there |x_i|^(p-1) is infinite, but x_i contributes
    nothing to the norm). ``p = 0`` counts the nonzero elements: gradient 0 everywhere.
    ``p = -inf`` is min |x_i|, with the gradient split among the tied minima.
    """

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, p: float, dim: tuple[int, ...] | None,
                keepdim: bool) -> np.ndarray:
        ctx.p, ctx.dim, ctx.keepdim = p, dim, keepdim
        a = np.abs(x)
        if p == 0:
            return np.sum(a != 0, axis=dim, keepdims=keepdim).astype(x.dtype)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.power(np.sum(np.power(a, p), axis=dim, keepdims=keepdim), 1.0 / p)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        (x,) = ctx.inputs
        p = ctx.p
        zero = Tensor.make(np.zeros((), grad.dtype))
        one = Tensor.make(np.ones((), grad.dtype))
        g = _spread(grad, x.shape, ctx.dim, ctx.keepdim)
        if p == 0:
            return g * 0.0
        norm = _spread(ctx.output, x.shape, ctx.dim, ctx.keepdim)
        sign = Tensor.make(np.sign(x.data).astype(grad.dtype))
        if p < 1:
            nonzero = x.data != 0
            a = Where.apply(x.abs(), one, cond=nonzero)
            scaled = Where.apply(sign * a ** (p - 1), zero, cond=nonzero)
            return scaled * g * norm ** (1 - p)
        nonzero = norm.data != 0
        safe = Where.apply(norm, one, cond=nonzero)
        return Where.apply(sign * x.abs() ** (p - 1) * g / safe ** (p - 1), zero, cond=nonzero)


def norm(x: Tensor, p: float = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default); p may be 0, inf or -inf."""
    axes = _dims(x, dim)
    p = float(p)
    if p == 2:
        return Norm2.apply(x, dim=axes, keepdim=keepdim)
    if p == float("inf"):
        return NormInf.apply(x.abs(), dim=axes, keepdim=keepdim)
    if p == float("-inf"):
        return NormMinusInf.apply(x.abs(), dim=axes, keepdim=keepdim)
    if p == 1:
        return x.abs().sum(axes, keepdim=keepdim)
    return NormP.apply(x, p=p, dim=axes, keepdim=keepdim)
