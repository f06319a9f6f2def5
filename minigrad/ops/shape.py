"""Shape and movement ops: the same numbers, rearranged.

Their backward moves the gradient back the same way: reshape it back, permute it by
the inverse permutation, sum it over what ``expand`` copied (done by the engine's
unbroadcast), slice it for ``cat``, pad and split.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..tensor import Tensor
from .dims import dim as _dim


def _shape_arg(shape: Any) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], Sequence | np.ndarray):
        shape = shape[0]
    return tuple(int(s) for s in shape)


class Reshape(Function):
    """Same elements, new shape; the gradient is reshaped back"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        try:
            return x.reshape(shape)
        except ValueError:
            raise RuntimeError(
                f"reshape: shape {shape} is invalid for input of shape {x.shape} "
                f"({x.size} elements); the sizes must multiply to {x.size} (one may be -1)."
            ) from None

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return grad.reshape(ctx.inputs[0].shape)


def reshape(x: Tensor, shape: Any) -> Tensor:
    """A new tensor (a view of the same data) even when the shape does not change, as in
    PyTorch: a hook or ``retain_grad`` on the result must not act on ``x``."""
    return Reshape.apply(x, shape=_shape_arg(shape))


def view(x: Tensor, shape: Any) -> Tensor:
    """``reshape`` that refuses to merge a broadcast dimension, as PyTorch's ``view``.

    An expanded tensor (``expand``, ``broadcast_to``) repeats its values through a stride of
    0, so ``broadcast_to(p, (2, 3)).view(6)`` has no strides over the same memory: PyTorch
    raises, and so do we, rather than hand back a copy that writes would not reach. Other
    layouts are taken as row-major: numpy lays out the results of ops (cat, cumsum, softmax
    of a transposed tensor...) differently from PyTorch, so their strides would say nothing
    about PyTorch's verdict. PyTorch also refuses to view a transposed or sliced tensor
    across its gaps; minigrad does not (docs/fuzzing.md, N8)."""
    out = reshape(x, shape)
    if not _viewable(x.shape, _torch_like_strides(x.data), out.shape):
        raise RuntimeError(
            f"view: shape {out.shape} is not compatible with the input's size and stride "
            f"(shape {x.shape}, expanded: stride 0 along dims "
            f"{[d for d, s in enumerate(_torch_like_strides(x.data)) if s == 0]}): at least "
            f"one dimension spans across two contiguous subspaces. Use .reshape(...) instead "
            f"(it copies when it must), or .contiguous() first."
        )
    return out


def _torch_like_strides(a: np.ndarray) -> tuple[int, ...]:
    """Strides in elements: 0 along broadcast dims (stride 0, size > 1), row-major over the
    others, as an expanded contiguous tensor has in PyTorch."""
    strides, step = [], 1
    for n, s in zip(reversed(a.shape), reversed(a.strides)):
        strides.append(0 if s == 0 and n > 1 else step)
        step *= 1 if s == 0 and n > 1 else n
    return tuple(reversed(strides))


def _viewable(old: tuple[int, ...], strides: tuple[int, ...], new: tuple[int, ...]) -> bool:
    """PyTorch's ``computeStride``: can ``new`` be laid over memory of shape ``old`` and these
    strides? Walk both shapes from the right in chunks of dims that are contiguous with each
    other; each chunk of ``old`` must be covered exactly by whole dims of ``new``."""
    if not old or int(np.prod(old)) == 0:
        return True
    view_d, chunk_stride = len(new) - 1, strides[-1]
    old_numel = new_numel = 1
    for d in range(len(old) - 1, -1, -1):
        old_numel *= old[d]
        if d == 0 or (old[d - 1] != 1 and strides[d - 1] != old_numel * chunk_stride):
            while view_d >= 0 and (new_numel < old_numel or new[view_d] == 1):
                new_numel *= new[view_d]
                view_d -= 1
            if new_numel != old_numel:
                return False
            if d > 0:
                chunk_stride, old_numel, new_numel = strides[d - 1], 1, 1
    return view_d == -1


class Permute(Function):
    """Reorder the axes; the gradient goes back through the inverse permutation"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return Permute.apply(grad, dims=tuple(np.argsort(ctx.dims)))


def permute(x: Tensor, dims: Any) -> Tensor:
    dims = tuple(_dim(x, d) for d in _shape_arg(dims))
    if sorted(dims) != list(range(x.ndim)):
        raise RuntimeError(
            f"permute: dims {dims} must be a permutation of 0..{x.ndim - 1} for shape {x.shape}"
        )
    return Permute.apply(x, dims=dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """A new view even for dim0 = dim1 (or a 0-d/1-d tensor), as in PyTorch."""
    a, b = _dim(x, dim0), _dim(x, dim1)
    dims = list(range(x.ndim))
    if dims:
        dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(x, dims=tuple(dims))


class Expand(Function):
    """Broadcast to a bigger shape; the engine sums the gradient back (unbroadcast)"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise RuntimeError(
                f"expand: the shape {x.shape} cannot be expanded to {shape}; only dimensions "
                f"of size 1 can grow, and new dimensions go in front."
            ) from None

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return grad


def expand(x: Tensor, shape: Any) -> Tensor:
    shape = _shape_arg(shape)
    lead = len(shape) - x.ndim
    shape = tuple(
        x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape)
    )
    return Expand.apply(x, shape=shape)


class Cat(Function):
    """Join along ``dim``; each input's gradient is its slice of the output gradient.
    1-d empty inputs (shape (0,)) are skipped in the join but stay inputs, as in PyTorch: they
    get an empty gradient, so their hooks run and what they came from gets a ``.grad``."""

    @staticmethod
    def forward(ctx: Function, *xs: np.ndarray, dim: int) -> np.ndarray:
        ctx.dim = dim
        parts = [x for x in xs if x.shape != (0,)] or list(xs[:1])
        try:
            return np.concatenate(parts, axis=dim)
        except ValueError:
            shapes = ", ".join(str(x.shape) for x in parts)
            raise RuntimeError(
                f"cat: tensors must have the same shape except in dimension {dim}; got {shapes}"
            ) from None

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor, ...]:
        lead = (slice(None),) * ctx.dim
        out, start = [], 0
        for t in ctx.inputs:
            if t.shape == (0,) and grad.ndim != 1:
                out.append(Tensor.make(np.zeros((0,), grad.dtype)))
                continue
            size = t.shape[ctx.dim]
            out.append(grad[lead + (slice(start, start + size),)])
            start += size
        return tuple(out)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join along ``dim``. As in PyTorch, 1-d empty tensors (shape (0,)) are skipped, so
    ``cat([empty, x])`` works for any x (a common way to start an accumulation)."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of tensors")
    if any(t.ndim == 0 for t in tensors):
        raise RuntimeError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    dtype = dtypes.promote_types(*[t.dtype for t in tensors])
    tensors = [t.to(dtype) for t in tensors]
    joined = [t for t in tensors if t.shape != (0,)] or tensors[:1]
    return Cat.apply(*tensors, dim=_dim(joined[0], dim))


class Flip(Function):
    """Reverse the order along ``dims``; the gradient is flipped back"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        ctx.dims = dims
        return np.flip(x, axis=dims)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return Flip.apply(grad, dims=ctx.dims)


def flip(x: Tensor, dims: Any) -> Tensor:
    dims = tuple(_dim(x, d) for d in ((dims,) if isinstance(dims, int) else tuple(dims)))
    return Flip.apply(x, dims=dims if x.ndim else ())


class Pad(Function):
    """Constant padding; the gradient is the un-padded slice of the output gradient"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, widths: tuple[tuple[int, int], ...],
                value: float) -> np.ndarray:
        ctx.widths = widths
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        index = tuple(slice(a, n - b) for (a, b), n in zip(ctx.widths, grad.shape))
        return grad[index]


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """PyTorch's ``F.pad``: ``pad`` lists (left, right) pairs starting from the last dim."""
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is implemented, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: expected an even number of sizes, at most 2 per dim of {x.shape}, got {pad}"
        )
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {tuple(pad)} is not supported; slice instead")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return Pad.apply(x, widths=tuple(widths), value=value)
