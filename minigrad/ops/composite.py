"""Composite ops: public ops written with other ops, so they need no Function of their own.

Primitives (a ``Function`` with a forward on arrays and a backward with Tensor ops) live in
their family files (``elementwise.py``, ``reduce.py``, ``shape.py``, ...). An op that can be
written as a few of those, ``flatten(x) = reshape(x, merged shape)``, ``rsqrt(x) = x ** -0.5``,
``stack = cat of unsqueezed``, lives here instead, with its argument checks: autograd then
differentiates it through the primitives it calls, and there is no backward to get wrong.

Each function here is the one home of its op: the ``Tensor`` method and the
``minigrad.functional`` entry of the same name both call it (``tests/ops/test_one_home.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from .dims import dim as _dim
from .elementwise import clamp, pow, where
from .shape import _shape_arg, cat, reshape


def rsqrt(x: Tensor) -> Tensor:
    """1 / sqrt(x), written ``x ** -0.5``: one PowScalar node, d/dx = -0.5 x^-1.5."""
    return pow(x, -0.5)


def square(x: Tensor) -> Tensor:
    """x * x: the product rule gives 2x with no op of its own."""
    return x * x


def reciprocal(x: Tensor) -> Tensor:
    """1 / x, a true division (an integer x gives floats, as PyTorch)."""
    return 1.0 / x


def clamp_min(x: Tensor, min: float) -> Tensor:
    """max(x, min), PyTorch's ``clamp_min``: ``clamp`` with only a lower bound."""
    return clamp(x, min, None)


def clamp_max(x: Tensor, max: float) -> Tensor:
    """min(x, max), PyTorch's ``clamp_max``: ``clamp`` with only an upper bound."""
    return clamp(x, None, max)


def masked_fill(x: Tensor, mask: Any, value: float) -> Tensor:
    """``value`` where ``mask`` holds, else x: ``where(mask, value, x)``, so only the kept
    elements get a gradient."""
    return where(mask, value, x)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one; a 0-d tensor becomes shape (1,) (its dims
    are still checked: only 0 and -1 exist). Nothing to merge (start_dim = end_dim)
    returns ``x`` itself, as PyTorch's flatten does."""
    s, e = _dim(x, start_dim), _dim(x, end_dim)
    if x.ndim == 0:
        return reshape(x, (1,))
    if s == e:
        return x
    if s > e:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                           f"tensor of shape {x.shape}; swap them")
    merged = int(np.prod(x.shape[s:e + 1]))  # not -1: ambiguous when another dim is 0
    return reshape(x, x.shape[:s] + (merged,) + x.shape[e + 1:])


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    dim = _dim(x, dim)
    return reshape(x, x.shape[:dim] + tuple(sizes) + x.shape[dim + 1:])


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    ds = {_dim(x, dim)} if isinstance(dim, int) else {_dim(x, i) for i in dim}
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in ds and n == 1)))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    n = x.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"unsqueeze: dim {dim} out of range for a tensor of shape {x.shape}")
    dim %= n
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    n = tensors[0].ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"stack: dim {dim} out of range for {n}-d result")
    return cat([unsqueeze(t, dim % n) for t in tensors], dim % n)


def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    if x.ndim == 0:
        raise RuntimeError("split/chunk: expected at least a 1-dimensional tensor, got a 0-d "
                           "one; unsqueeze it first")
    dim = _dim(x, dim)
    n = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, n - i) for i in range(0, n, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sections {sizes} must sum to the size {n} of dim {dim}")
    lead = (slice(None),) * dim
    out, start = [], 0
    for s in sizes:
        out.append(x[lead + (slice(start, start + s),)])
        start += s
    return tuple(out)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    if x.ndim == 0:
        return split(x, 1, dim)
    n = x.shape[_dim(x, dim)]
    if n == 0:
        return split(x, [0] * chunks, dim)  # PyTorch: `chunks` empty pieces
    return split(x, -(-n // chunks), dim)


def repeat(x: Tensor, sizes: Any) -> Tensor:
    """Tile ``x``; written as reshape -> expand -> reshape, so the gradient sums the tiles.
    The result is a copy, as PyTorch's (numpy may reshape the expanded view without copying:
    read-only, and ``view`` would take it for a broadcast tensor)."""
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(
            f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than the number "
            f"of tensor dims ({x.ndim})"
        )
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    inter = tuple(v for n in shape for v in (1, n))
    big = tuple(v for r, n in zip(sizes, shape) for v in (r, n))
    return reshape(x, inter).expand(big).reshape(tuple(r * n for r, n in zip(sizes, shape))).contiguous()
