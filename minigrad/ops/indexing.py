"""Indexing: pick elements out of a tensor.

The forward reads ``x[index]``. The backward writes the gradient back to the positions
it was read from, *adding* where one position was read several times
(``x[[0, 0]]`` sends two gradients to ``x[0]``): a scatter-add.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .reduce import dim as _dim


def to_numpy_index(index: Any) -> Any:
    """Replace Tensors (and lists) inside an index by numpy arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(to_numpy_index(i) for i in index)
    if isinstance(index, list):
        return np.asarray([i.item() if isinstance(i, Tensor) else i for i in index])
    return index


def _is_basic(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, int | slice) for p in parts)


class GetItem(Function):
    """y = x[index];  dx = zeros with dx[index] += grad"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, index: Any) -> np.ndarray:
        ctx.index = index
        try:
            return x[index]
        except IndexError as e:
            raise IndexError(f"index {index!r} is invalid for a tensor of shape {x.shape}: {e}") from None

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return IndexAdd.apply(grad, shape=ctx.inputs[0].shape, index=ctx.index)


class IndexAdd(Function):
    """y = zeros(shape) with y[index] += g;  dg = grad[index]   (GetItem's backward)"""

    @staticmethod
    def forward(ctx: Function, g: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
        ctx.index = index
        out = np.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            out[index] = g
        else:
            np.add.at(out, _expand_bool(index), g)
        return out

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return GetItem.apply(grad, index=ctx.index)


def _expand_bool(index: Any) -> Any:
    """np.add.at does not take boolean masks: turn each into the integer arrays it selects."""
    parts = index if isinstance(index, tuple) else (index,)
    out: list[Any] = []
    for p in parts:
        if isinstance(p, np.ndarray) and p.dtype == bool:
            out.extend(np.nonzero(p))
        else:
            out.append(p)
    return tuple(out)


def getitem(x: Tensor, index: Any) -> Tensor:
    return GetItem.apply(x, index=to_numpy_index(index))


def _check_index(name: str, x: Tensor, d: int, index: Tensor) -> np.ndarray:
    idx = index.data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): expected an integer index tensor, got {idx.dtype}")
    n = x.shape[d]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(
            f"{name}(): index out of range: values in [{idx.min()}, {idx.max()}] for dimension "
            f"{d} of size {n} (shape {x.shape})"
        )
    return idx


def _positions(index: np.ndarray, d: int) -> tuple[np.ndarray, ...]:
    """Full coordinates of the elements ``gather`` reads: ``index`` along ``d``, else the
    element's own position."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[d] = index
    return tuple(grids)


class Gather(Function):
    """y[i][j] = x[i][index[i][j]] (along dim);  dx = scatter-add of grad at those places"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
        ctx.dim, ctx.index = dim, index
        return x[_positions(index, dim)]

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        pos = _positions(ctx.index, ctx.dim)
        return IndexAdd.apply(grad, shape=ctx.inputs[0].shape, index=pos)


def gather(x: Tensor, d: int, index: Tensor) -> Tensor:
    d = _dim(x, d)
    idx = _check_index("gather", x, d, index)
    if idx.ndim != x.ndim or any(
        i != d and a > b for i, (a, b) in enumerate(zip(idx.shape, x.shape))
    ):
        raise RuntimeError(
            f"gather(): index {idx.shape} must have the same number of dimensions as input "
            f"{x.shape} and be no larger outside dim {d}"
        )
    return Gather.apply(x, dim=d, index=idx % max(x.shape[d], 1))


def index_select(x: Tensor, d: int, index: Tensor) -> Tensor:
    d = _dim(x, d)
    idx = _check_index("index_select", x, d, index)
    return GetItem.apply(x, index=(slice(None),) * d + (idx.reshape(-1),))
