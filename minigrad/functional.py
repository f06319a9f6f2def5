"""Top-level functions with PyTorch's names: ``minigrad.exp(x)`` is ``x.exp()``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .ops import activation as _act
from .ops import elementwise as _ew
from .ops import reduce as _red
from .ops.discrete import (
    all,
    any,
    argmax,
    argmin,
    ceil,
    eq,
    floor,
    ge,
    gt,
    isfinite,
    isinf,
    isnan,
    le,
    logical_and,
    logical_not,
    logical_or,
    lt,
    ne,
    one_hot,
    round,
    sign,
)
from .ops.elementwise import clamp, where
from .ops.indexing import gather, index_select, masked_select
from .ops.linalg import matmul
from .ops.shape import cat, chunk, flatten, pad, permute, split, stack, transpose
from .tensor import Tensor


def exp(x: Tensor) -> Tensor:
    return x.exp()


def log(x: Tensor) -> Tensor:
    return x.log()


def log1p(x: Tensor) -> Tensor:
    return x.log1p()


def sqrt(x: Tensor) -> Tensor:
    return x.sqrt()


def abs(x: Tensor) -> Tensor:
    return x.abs()


def sin(x: Tensor) -> Tensor:
    return x.sin()


def cos(x: Tensor) -> Tensor:
    return x.cos()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def relu(x: Tensor) -> Tensor:
    return x.relu()


def erf(x: Tensor) -> Tensor:
    return _ew.Erf.apply(x)


def pow(base: Any, exponent: Any) -> Tensor:
    return _ew.pow(base, exponent)


def maximum(a: Tensor, b: Tensor) -> Tensor:
    return _ew.Maximum.apply(*_ew.operands(a, b))


def minimum(a: Tensor, b: Tensor) -> Tensor:
    return _ew.Minimum.apply(*_ew.operands(a, b))


def add(a: Any, b: Any) -> Tensor:
    return _ew.Add.apply(*_ew.operands(a, b))


def sub(a: Any, b: Any) -> Tensor:
    return _ew.Sub.apply(*_ew.operands(a, b))


def mul(a: Any, b: Any) -> Tensor:
    return _ew.Mul.apply(*_ew.operands(a, b))


def div(a: Any, b: Any) -> Tensor:
    return _ew.Div.apply(*_ew.operands(a, b, true_div=True))


def neg(x: Tensor) -> Tensor:
    return -x


def sum(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return x.sum(dim, keepdim)


def mean(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return x.mean(dim, keepdim)


def var(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    return x.var(dim, unbiased, keepdim, correction=correction)


def std(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    return x.std(dim, unbiased, keepdim, correction=correction)


def max(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    return x.max(dim, keepdim)


def min(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    return x.min(dim, keepdim)


def amax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return x.amax(dim, keepdim)


def amin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return x.amin(dim, keepdim)


def logsumexp(x: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    return x.logsumexp(dim, keepdim)


def prod(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return x.prod(dim, keepdim)


def cumsum(x: Tensor, dim: int) -> Tensor:
    return x.cumsum(dim)


def norm(x: Tensor, p: float = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _red.norm(x, p, dim, keepdim)


def softmax(x: Tensor, dim: int) -> Tensor:
    return x.softmax(dim)


def log_softmax(x: Tensor, dim: int) -> Tensor:
    return x.log_softmax(dim)


def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    return x.reshape(shape)


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    return x.squeeze(dim)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    return x.unsqueeze(dim)


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    return x.broadcast_to(shape)


def flip(x: Tensor, dims: Any) -> Tensor:
    return x.flip(dims)


def detach(x: Tensor) -> Tensor:
    return x.detach()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return _act.LeakyRelu.apply(x, negative_slope=negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    return _act.Elu.apply(x, alpha=alpha)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _act.Gelu.apply(x, approximate=approximate)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return _act.Softplus.apply(x, beta=beta, threshold=threshold)


__all__ = [
    "abs", "add", "all", "amax", "amin", "any", "argmax", "argmin", "broadcast_to", "cat",
    "ceil", "chunk", "clamp", "cos", "cumsum", "detach", "div", "elu", "eq", "erf", "exp",
    "flatten", "flip", "floor", "gather", "ge", "gelu", "gt", "index_select", "isfinite",
    "isinf", "isnan", "le", "leaky_relu", "log", "log1p", "log_softmax", "logical_and",
    "logical_not", "logical_or", "logsumexp", "lt", "masked_select", "matmul", "max",
    "maximum", "mean", "min", "minimum", "mul", "ne", "neg", "norm", "one_hot", "pad",
    "permute", "pow", "prod", "relu",
    "reshape", "round", "sigmoid", "sign", "sin", "softmax", "softplus", "split", "sqrt",
    "squeeze", "stack", "std", "sub", "sum", "tanh", "transpose", "unsqueeze", "var", "where",
]
