"""Small helpers shared by the kernel families: argument preparation and reductions."""

from __future__ import annotations

import math

import numpy as np

_EMPTY: dict[np.dtype, np.ndarray] = {}
_ONES: dict[tuple[int, np.dtype], np.ndarray] = {}


def empty_like_dtype(dtype: np.dtype) -> np.ndarray:
    """A shared size-0 array of ``dtype``: a kernel's stand-in for an absent optional array."""
    dtype = np.dtype(dtype)
    if dtype not in _EMPTY:
        _EMPTY[dtype] = np.empty(0, dtype)
    return _EMPTY[dtype]


def ones(n: int, dtype: np.dtype) -> np.ndarray:
    """A shared array of n ones (never written): the weight a kernel uses when the caller gives none."""
    key = (n, np.dtype(dtype))
    if key not in _ONES:
        _ONES[key] = np.ones(n, dtype)
    return _ONES[key]


def contiguous(a: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
    """``a`` as a writable C-contiguous array (of ``dtype``), copied only when needed.

    Writable because Numba compiles read-only arrays (e.g. ``np.broadcast_to`` views) as a
    separate type: passing one would compile every kernel a second time.
    """
    out = np.asarray(a, dtype=dtype, order="C")  # unlike ascontiguousarray, keeps 0-d arrays 0-d
    return out if out.flags.writeable else out.copy()


def finish(total: float, denominator: float, reduction: str, rows: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The reduced loss as a 0-d array of ``dtype``, or the rows for 'none'.

    A 'mean' over a zero denominator is NaN, as in PyTorch: an empty input, every target
    ignored, or class weights summing to 0 (even where label smoothing makes the total nonzero).
    """
    if reduction == "none":
        return rows.astype(dtype, copy=False)
    if reduction == "sum":
        return np.asarray(total, dtype)
    return np.asarray(total / denominator if denominator != 0 else math.nan, dtype)


def mean_scale(denominator: float, reduction: str) -> float:
    """Factor the kernel multiplies each gradient by: 1/D for 'mean', 1 otherwise (NaN for D=0)."""
    if reduction != "mean":
        return 1.0
    return 1.0 / denominator if denominator != 0 else float("nan")
