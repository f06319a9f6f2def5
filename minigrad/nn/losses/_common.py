"""Small helpers shared by the margin, CTC and course losses (argument checks, target arrays)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...tensor import Tensor


def as_array(value: Any) -> np.ndarray:
    """The numpy array behind a Tensor, array, sequence or number (no copy for Tensors)."""
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def as_tensor(value: Any, like: Tensor) -> Tensor:
    """A constant Tensor with ``like``'s floating dtype (targets given as lists or arrays)."""
    if isinstance(value, Tensor):
        return value
    return Tensor.make(np.asarray(value, dtype=like.dtype))


def int_targets(loss: str, target: Any, hint: str = "convert the target with .long()") -> np.ndarray:
    """Class-index targets as int64; any integer dtype is accepted, floats are rejected."""
    t = as_array(target)
    if t.dtype.kind not in "iu":
        raise RuntimeError(
            f"{loss}: expected target dtype to be Long or Byte (class indices), got {t.dtype}; {hint}"
        )
    return t.astype(np.int64, copy=False)


def same_ndim(loss: str, *tensors: Tensor) -> None:
    """PyTorch's margin losses require all inputs to have the same number of dimensions."""
    dims = [t.ndim for t in tensors]
    if len(set(dims)) != 1:
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise RuntimeError(
            f"{loss}: All input tensors should have same dimension but got shapes {shapes}"
        )
