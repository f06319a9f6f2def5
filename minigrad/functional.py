"""Top-level functions with PyTorch's names: ``minigrad.exp(x)`` is ``x.exp()``.

Nothing here checks an argument. A name is either the op's one home itself, imported from
``minigrad.ops`` (its family file, or ``composite.py`` for an op built from other ops), or a
one-line wrapper that calls the Tensor method of the same name (``tests/ops/test_one_home.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .ops.activation import elu, gelu, leaky_relu, log_softmax, softmax, softplus
from .ops.composite import chunk, flatten, split, squeeze, stack, unsqueeze
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
from .ops.elementwise import add, clamp, div, erf, maximum, minimum, mul, pow, sub, where
from .ops.indexing import gather, index_select, masked_select
from .ops.linalg import matmul
from .ops.reduce import amax, amin, cumsum, logsumexp, mean, norm, prod, std, sum, var
from .ops.shape import cat, flip, pad, permute, transpose
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


















def neg(x: Tensor) -> Tensor:
    return x.neg()










def max(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    return x.max(dim, keepdim)


def min(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    return x.min(dim, keepdim)


















def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    return x.reshape(shape)






def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    return x.broadcast_to(shape)




def detach(x: Tensor) -> Tensor:
    return x.detach()










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
