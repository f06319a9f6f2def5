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
from .dims import dim as _dim


def _part(p: Any) -> Any:
    """One element of an index as numpy sees it: Tensors and lists become arrays, a 0-d
    integer array a Python int (PyTorch selects with it), a lone bool a 0-d bool array."""
    if isinstance(p, Tensor):
        p = p.data
    elif isinstance(p, list):
        p = np.asarray([i.item() if isinstance(i, Tensor) else i for i in p])
        if p.size == 0:
            p = p.astype(np.intp)
    elif isinstance(p, bool | np.bool_):
        return np.asarray(p)
    if isinstance(p, np.ndarray) and p.ndim == 0 and p.dtype.kind in "iu":
        return int(p)
    if isinstance(p, np.integer):
        return int(p)
    return p


def _is_array(p: Any) -> bool:
    return isinstance(p, np.ndarray)


def split_index(index: Any) -> tuple[Any, Any]:
    """PyTorch's index as (basic, advanced): apply ``x[basic]``, then ``[advanced]`` to that.

    numpy and PyTorch differ when integers and index arrays (or masks) are mixed:
    numpy counts an integer as one more index array, so in ``x[0, :, [1, 2]]`` the two are
    "separated by a slice" and the indexed dimension moves to the front: shape (2, 5) for
    x of shape (4, 5, 6). PyTorch first selects with the integer, then indexes the rest:
    shape (5, 2). We do the same in two numpy steps: integers, slices and None first
    (``x[0, :, :]``, a view), then the index arrays (``[:, [1, 2]]``), where numpy's rule
    for arrays alone (adjacent arrays stay in place, separated ones go first) is PyTorch's.
    A lone ``True``/``False`` adds a dimension of size 1 or 0, selected by ``[0]`` or ``[]``.
    Either part is None when it has nothing to do.
    """
    parts = tuple(_part(p) for p in (index if isinstance(index, tuple) else (index,)))
    scalar_bools = [_is_array(p) and p.ndim == 0 for p in parts]
    arrays = [_is_array(p) for p in parts]
    as_given = parts if isinstance(index, tuple) else parts[0]
    if not any(arrays):
        return as_given, None
    if not any(scalar_bools) and not any(isinstance(p, int) for p in parts):
        return None, as_given
    basic: list[Any] = []
    advanced: list[Any] = []
    for p, is_array, is_bool in zip(parts, arrays, scalar_bools):
        if is_bool:
            basic.append(None)
            advanced.append(np.zeros(1 if p else 0, dtype=np.intp))
        elif is_array:
            basic.extend([slice(None)] * (p.ndim if p.dtype == bool else 1))
            advanced.append(p)
        elif isinstance(p, int):
            basic.append(p)
        else:
            basic.append(p)
            advanced.append(p if p is Ellipsis else slice(None))
    return tuple(basic), tuple(advanced)


def setitem(data: np.ndarray, index: Any, value: Any) -> None:
    """``data[index] = value`` with PyTorch's indexing rule (see ``split_index``)."""
    basic, advanced = split_index(index)
    if advanced is None:
        data[basic] = value
    elif basic is None:
        data[advanced] = value
    else:
        data[basic][advanced] = value


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
    """``x[index]`` as PyTorch reads it: one GetItem node, or two (the integers and slices,
    then the index arrays) where numpy's rule would give another shape (``split_index``)."""
    basic, advanced = split_index(index)
    if basic is not None:
        x = GetItem.apply(x, index=basic)
    if advanced is not None:
        x = GetItem.apply(x, index=advanced)
    return x


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``x`` where ``mask`` is True, as a 1-d tensor. As in PyTorch, ``x`` and
    ``mask`` are broadcast together first, so an element of ``x`` can be picked several
    times; its gradient is then the sum of those picks (the engine sums over the expansion)."""
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != bool:
        raise RuntimeError(f"masked_select: expected a bool mask, got {m.dtype}; compare first "
                           f"(x > 0) or convert with .bool()")
    try:
        shape = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        raise RuntimeError(f"masked_select: the input {x.shape} and the mask {m.shape} cannot be "
                           f"broadcast together") from None
    return getitem(x.expand(shape), np.broadcast_to(m, shape))


def _check_index(name: str, x: Tensor, dim: int, index: Tensor) -> np.ndarray:
    """The index array, checked as PyTorch checks it: integers in [0, size) of dimension dim.
    Negative values are refused, not wrapped: gather and index_select do not count from
    the end, unlike x[-1]."""
    idx = index.data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): expected an integer index tensor, got {idx.dtype}")
    n = x.shape[dim] if x.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.min() if idx.min() < 0 else idx.max()
        hint = ("; negative indices are not accepted here (PyTorch refuses them too): add the "
                "size to count from the end" if bad < 0 else "")
        raise IndexError(
            f"{name}(): index {bad} is out of range for dimension {dim} of size {n} (input shape "
            f"{x.shape}, index values in [{idx.min()}, {idx.max()}]){hint}"
        )
    return idx


def _positions(index: np.ndarray, dim: int) -> tuple[np.ndarray, ...]:
    """Full coordinates of the elements ``gather`` reads: ``index`` along ``dim``, else the
    element's own position."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
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


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    dim = _dim(x, dim)
    idx = _check_index("gather", x, dim, index)
    if idx.ndim != x.ndim or any(
        i != dim and a > b for i, (a, b) in enumerate(zip(idx.shape, x.shape))
    ):
        raise RuntimeError(
            f"gather(): index {idx.shape} must have the same number of dimensions as input "
            f"{x.shape} and be no larger outside dim {dim}"
        )
    if x.ndim == 0:
        return GetItem.apply(x, index=())
    return Gather.apply(x, dim=dim, index=idx)


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    dim = _dim(x, dim)
    idx = _check_index("index_select", x, dim, index)
    if idx.ndim > 1:
        raise IndexError(f"index_select(): the index must be 0-d or 1-d, got shape {idx.shape}")
    if x.ndim == 0:
        if idx.size != 1:
            raise IndexError(f"index_select(): a 0-d input takes one index, got {idx.size}")
        return GetItem.apply(x, index=())
    return GetItem.apply(x, index=(slice(None),) * dim + (idx.reshape(-1),))
