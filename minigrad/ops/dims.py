"""Dimension arguments, checked and normalised once for every op: ``dim`` for one
dimension index, ``dims`` for the ``dim=`` of a reduction (None, an int or a sequence)."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor


def dim(t: Tensor, index: int) -> int:
    """Normalise one dimension index (negative counts from the end), with a clear error."""
    n = max(t.ndim, 1)
    if not -n <= index < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {index}) "
            f"for a tensor of shape {t.shape}"
        )
    return index % n


def dims(t: Tensor, dim_arg: Any) -> tuple[int, ...] | None:
    """Normalise a reduction's ``dim`` argument: None (all), an int, or a sequence of ints.

    As in PyTorch, an empty sequence means all dimensions, and a 0-d tensor accepts
    dim 0 or -1 (its one value is the whole reduction): both come back as None."""
    if dim_arg is None:
        return None
    if isinstance(dim_arg, int):
        axes: tuple[int, ...] = (dim(t, dim_arg),)
    else:
        axes = tuple(sorted(dim(t, int(x)) for x in dim_arg))
    for a, b in zip(axes, axes[1:]):
        if a == b:
            raise RuntimeError(f"dim {a} appears more than once in {tuple(dim_arg)} for a tensor of "
                               f"shape {t.shape}; list each dimension once")
    return axes if axes and t.ndim else None
