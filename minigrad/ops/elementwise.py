"""Elementwise arithmetic and maths: each output element depends on one element of
each input (after broadcasting), so each derivative is a local, elementwise formula."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..tensor import Tensor


def _scalar(value: Any, like: Tensor) -> Tensor:
    """A Python number as a 0-d tensor that does not change ``like``'s dtype (PyTorch's rule)."""
    if isinstance(value, np.ndarray | list | tuple):
        return Tensor(value)
    if like.dtype.kind == "f" or isinstance(value, bool):
        dtype = like.dtype
    elif isinstance(value, float):
        dtype = dtypes.get_default_dtype()
    else:
        dtype = like.dtype if like.dtype.kind in "iu" else np.dtype(np.int64)
        return Tensor.make(np.asarray(value).astype(dtype))  # wraps, as torch: uint8 + -1
    return Tensor.make(np.array(value, dtype=dtype))


def operands(a: Any, b: Any, true_div: bool = False) -> tuple[Tensor, Tensor]:
    """Turn the two operands of a binary op into tensors of compatible dtypes.

    Python numbers take the tensor's dtype (``x * 2`` stays float32). Two tensors meet in
    ``dtypes.result_type``, as in PyTorch: float32 with float64 gives float64, but a 0-d
    float64 tensor does not widen a float32 one. The cast is differentiable. Integer
    division gives the default float dtype.
    """
    if not isinstance(a, Tensor):
        a = _scalar(a, b)
    elif not isinstance(b, Tensor):
        b = _scalar(b, a)
    elif a.data.dtype is b.data.dtype and not true_div:
        return a, b
    if a.dtype != b.dtype:
        dtype = dtypes.result_type(a, b)
        a, b = a.to(dtype), b.to(dtype)
    if true_div and a.dtype.kind != "f":
        dtype = dtypes.get_default_dtype()
        a, b = Tensor.make(a.data.astype(dtype)), Tensor.make(b.data.astype(dtype))
    return a, b


def as_float(x: np.ndarray) -> np.ndarray:
    """``x`` itself if floating, else cast to the default float dtype: PyTorch computes
    exp, log, sin... of integer and bool tensors in float32, not float64 (numpy's choice)."""
    return x if x.dtype.kind in "fc" else x.astype(dtypes.get_default_dtype())


def _broadcast_error(name: str, a: np.ndarray, b: np.ndarray) -> ValueError:
    return ValueError(
        f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast together; each "
        f"dimension, aligned from the right, must be equal or 1 (reshape or unsqueeze one "
        f"of them)."
    )


class _Binary(Function):
    """Shared forward for binary ops: numpy ufunc with a clear broadcasting error."""

    ufunc: np.ufunc

    @classmethod
    def forward(cls, ctx: Function, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        try:
            return cls.ufunc(a, b)
        except ValueError as e:
            try:
                np.broadcast_shapes(a.shape, b.shape)
            except ValueError:
                raise _broadcast_error(cls.__name__.lower(), a, b) from None
            raise ValueError(f"{cls.__name__.lower()}: {e} (operands {a.dtype} {a.shape} and "
                             f"{b.dtype} {b.shape})") from None


class Add(_Binary):
    """d/da (a + b) = 1,  d/db (a + b) = 1"""

    ufunc = np.add

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, grad


class Sub(_Binary):
    """d/da (a - b) = 1,  d/db (a - b) = -1"""

    ufunc = np.subtract

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor, Tensor | None]:
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(_Binary):
    """d/da (a * b) = b,  d/db (a * b) = a"""

    ufunc = np.multiply

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(_Binary):
    """d/da (a / b) = 1 / b,  d/db (a / b) = -(a / b) / b

    -(a / b) / b rather than -a / b^2, as PyTorch: b^2 overflows for |b| > 1.8e19 in float32
    (a gradient of 0 instead of -1e-40 for 1 / 1e20), and at b = inf its derivative is
    0 * inf = NaN where PyTorch's second derivative is 0."""

    ufunc = np.true_divide

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        return (grad / b if need_a else None), (-grad * (a / b / b) if need_b else None)


def add(a: Any, b: Any) -> Tensor:
    """a + b, broadcast and promoted by ``operands`` (numbers allowed on either side)."""
    return Add.apply(*operands(a, b))


def sub(a: Any, b: Any) -> Tensor:
    """a - b, broadcast and promoted by ``operands``."""
    return Sub.apply(*operands(a, b))


def mul(a: Any, b: Any) -> Tensor:
    """a * b, broadcast and promoted by ``operands``."""
    return Mul.apply(*operands(a, b))


def div(a: Any, b: Any) -> Tensor:
    """a / b, a true division: integer operands give floats, as PyTorch."""
    return Div.apply(*operands(a, b, true_div=True))


class Neg(Function):
    """d/dx (-x) = -1"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        return np.negative(x)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return -grad


class PowScalar(Function):
    """d/dx x^p = p * x^(p-1)   (p a constant number)"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, p: float) -> np.ndarray:
        ctx.p = p
        return np.power(x, np.asarray(p, dtype=x.dtype))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        (x,) = ctx.inputs
        p = ctx.p
        if p == 0:
            return grad * 0.0
        if p == 1:
            return grad
        if p == 2:
            return grad * x * 2.0
        return grad * PowScalar.apply(x, p=p - 1) * p


class Pow(_Binary):
    """d/da a^b = b * a^(b-1)   (taken as 0 where b = 0, where it would be 0 * 0^-1 at a = 0),
    d/db a^b = a^b * log(a)   (taken as 0 where a = 0, b >= 0): PyTorch's conventions"""

    ufunc = np.power

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        ga = None
        if need_a:
            with np.errstate(divide="ignore", invalid="ignore"):
                ga = where(b.data == 0, 0.0, grad * b * a ** (b - 1.0))
        gb = None
        if need_b:
            edge = (a.data == 0) & (b.data >= 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = where(edge, 0.0, grad * ctx.output * a.log())
        return ga, gb


def pow(base: Any, exponent: Any) -> Tensor:
    """``base ** exponent``; a number as exponent uses the cheaper PowScalar."""
    if isinstance(base, Tensor) and isinstance(exponent, int | float) and not isinstance(
        exponent, bool
    ):
        if base.dtype.kind != "f" and (exponent < 0 or isinstance(exponent, float)):
            base = base.to(dtypes.get_default_dtype())
        return PowScalar.apply(base, p=exponent)
    return Pow.apply(*operands(base, exponent))


class Exp(Function):
    """d/dx exp(x) = exp(x)"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        return np.exp(as_float(x))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return grad * ctx.output


class Log(Function):
    """d/dx log(x) = 1 / x"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(as_float(x))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return grad / ctx.inputs[0]


class Log1p(Function):
    """d/dx log(1 + x) = 1 / (1 + x)   (accurate for tiny x, unlike log(1 + x))"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(as_float(x))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return grad / (ctx.inputs[0] + 1.0)


class Sqrt(Function):
    """d/dx sqrt(x) = 1 / (2 sqrt(x))"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.sqrt(as_float(x))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return grad / (ctx.output * 2.0)


class Abs(Function):
    """d/dx |x| = sign(x)   (0 at x = 0, the subgradient PyTorch uses, and 0 at NaN)"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        return np.abs(x)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return grad * Tensor.make(sign_array(ctx.inputs[0].data))


def sign_array(x: np.ndarray) -> np.ndarray:
    """-1, 0 or 1; 0 for NaN, as PyTorch's sign (numpy's gives NaN)."""
    s = np.sign(x)
    return np.where(np.isnan(s), 0, s).astype(s.dtype, copy=False) if s.dtype.kind == "f" else s


class Sin(Function):
    """d/dx sin(x) = cos(x)"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        return np.sin(as_float(x))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return grad * ctx.inputs[0].cos()


class Cos(Function):
    """d/dx cos(x) = -sin(x)"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        return np.cos(as_float(x))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return -grad * ctx.inputs[0].sin()


class Erf(Function):
    """d/dx erf(x) = 2 / sqrt(pi) * exp(-x^2)"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        from scipy.special import erf

        x = as_float(x)
        return erf(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        (x,) = ctx.inputs
        return grad * (-(x * x)).exp() * (2.0 / math.sqrt(math.pi))


def erf(x: Tensor) -> Tensor:
    """The error function, 2/sqrt(pi) * integral_0^x exp(-t^2) dt (see ``Erf``)."""
    return Erf.apply(x)


class Where(Function):
    """d/da where(c, a, b) = c,  d/db where(c, a, b) = not c   (c is a constant mask)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, b: np.ndarray, cond: np.ndarray) -> np.ndarray:
        ctx.cond = cond
        try:
            return np.where(cond, a, b)
        except ValueError:
            raise ValueError(
                f"where: condition {cond.shape}, input {a.shape} and other {b.shape} cannot "
                f"be broadcast together"
            ) from None

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        need_a, need_b = ctx.needs_input_grad
        zero = Tensor.make(np.zeros((), dtype=grad.dtype))
        return (
            Where.apply(grad, zero, cond=ctx.cond) if need_a else None,
            Where.apply(zero, grad, cond=ctx.cond) if need_b else None,
        )


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (numbers allowed)."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor(input)
    a, b = operands(input, other)
    return Where.apply(a, b, cond=cond)


class Clamp(Function):
    """d/dx clamp(x, lo, hi) = 1 where lo <= x <= hi, else 0   (PyTorch's inclusive rule)"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        ctx.inside = inside
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return Where.apply(grad, Tensor.make(np.zeros((), grad.dtype)), cond=ctx.inside)


def clamp(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(x, lo=min, hi=max)


class Maximum(_Binary):
    """d/da max(a, b) = 1 where a > b, 1/2 where a == b, else 0 (and the mirror for b).

    Where a or b is NaN the result is NaN and, as in PyTorch, both get the whole gradient."""

    ufunc = np.maximum

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor, Tensor]:
        a, b = ctx.inputs
        return _split_between(grad, a.data < b.data, a.data > b.data, a.data == b.data)


class Minimum(_Binary):
    """d/da min(a, b) = 1 where a < b, 1/2 where a == b, else 0 (and the mirror for b).

    Where a or b is NaN the result is NaN and, as in PyTorch, both get the whole gradient."""

    ufunc = np.minimum

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor, Tensor]:
        a, b = ctx.inputs
        return _split_between(grad, a.data > b.data, a.data < b.data, a.data == b.data)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max of two tensors, broadcast and promoted as ``a + b`` (see ``Maximum``)."""
    return Maximum.apply(*operands(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min of two tensors, broadcast and promoted as ``a + b`` (see ``Minimum``)."""
    return Minimum.apply(*operands(a, b))


def _split_between(grad: Tensor, a_loses: np.ndarray, b_loses: np.ndarray,
                   tie: np.ndarray) -> tuple[Tensor, Tensor]:
    """The gradient of max/min goes to the winner and a tie gives each side half. With a NaN
    every comparison is False: nobody loses, both get it all (PyTorch's rule)."""
    base = np.where(tie, 0.5, 1.0)
    share_a = Tensor.make(np.where(a_loses, 0.0, base).astype(grad.dtype))
    share_b = Tensor.make(np.where(b_loses, 0.0, base).astype(grad.dtype))
    return grad * share_a, grad * share_b


class Cast(Function):
    """d/dx cast(x) = 1   (the gradient is cast back to x's dtype)"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return grad.to(ctx.inputs[0].dtype)


class Clone(Function):
    """d/dx copy(x) = 1"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        return x.copy()

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return grad
