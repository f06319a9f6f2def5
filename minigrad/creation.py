"""Functions that make new tensors, with PyTorch's names and defaults."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import dtypes
from .random import Generator, rng
from .tensor import Tensor


def _size(size: Any) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], Sequence | np.ndarray):
        size = size[0]
    shape = tuple(int(s) for s in size)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {shape}")
    return shape


def _float(dtype: Any) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)


def _new(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor.make(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats become float32)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor.make(array)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(_size(size), dtype=_float(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(_size(size), dtype=_float(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.empty(_size(size), dtype=_float(dtype)), requires_grad)


def full(size: Sequence[int], fill_value: Any, dtype: Any = None,
         requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = np.asarray(Tensor(fill_value).data).dtype
    return _new(np.full(_size((size,)), fill_value, dtype=np.dtype(dtype)), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, int) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    return _new(np.arange(start, end, step, dtype=np.dtype(dtype)), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    return _new(np.linspace(start, end, int(steps), dtype=_float(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*size: Any, dtype: Any = None, generator: Generator | None = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    return _new(rng(generator).random(_size(size)).astype(_float(dtype)), requires_grad)


def randn(*size: Any, dtype: Any = None, generator: Generator | None = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    return _new(rng(generator).standard_normal(_size(size)).astype(_float(dtype)), requires_grad)


def randint(low: int, high: int | None = None, size: Sequence[int] = (), dtype: Any = None,
            generator: Generator | None = None) -> Tensor:
    """Integers uniform in [low, high) (``randint(high, size)`` means low = 0)."""
    if high is None:
        low, high = 0, low
    dtype = dtypes.int64 if dtype is None else np.dtype(dtype)
    return Tensor.make(rng(generator).integers(low, high, size=tuple(size)).astype(dtype))


def randperm(n: int, generator: Generator | None = None) -> Tensor:
    return Tensor.make(rng(generator).permutation(n).astype(np.int64))


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(t.shape, dtype=dtype or t.dtype), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(t.shape, dtype=dtype or t.dtype), requires_grad)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.full(t.shape, fill_value, dtype=dtype or t.dtype), requires_grad)


def rand_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return rand(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)
