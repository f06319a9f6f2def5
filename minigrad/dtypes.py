"""Data types: minigrad tensors hold numpy arrays, so its dtypes are numpy dtypes.

PyTorch's names are kept (``minigrad.float32``, ``minigrad.int64``...). New floating
tensors default to float32, like PyTorch; float64 is there for gradient checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = half = np.dtype("float16")
float32 = np.dtype("float32")
float64 = double = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = long = np.dtype("int64")
bool_ = np.dtype("bool")

_default_dtype = float32


def get_default_dtype() -> np.dtype:
    """The dtype given to floating tensors built from Python numbers or lists."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Change the default floating dtype (float32 or float64)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype not in (float32, float64):
        raise TypeError(f"set_default_dtype: only float32 or float64 are supported, got {dtype}")
    _default_dtype = dtype


def promote_types(*types: np.dtype) -> np.dtype:
    """The dtype that tensors of ``types`` combine to, by PyTorch's rule: if any is
    floating, the widest floating one (int64 with float32 gives float32, where numpy
    says float64); otherwise numpy's integer/bool promotion, which agrees with PyTorch."""
    floats = [t for t in types if t.kind == "f"]
    return np.result_type(*(floats or types))


def result_type(*operands: Any) -> np.dtype:
    """The dtype of an elementwise op on tensors (anything with ``dtype`` and ``ndim``), by
    PyTorch's ``torch.result_type``: tensors with dimensions decide, and a 0-d tensor only
    matters when its category (bool < integer < floating) is higher than theirs.

    So ``float32 (n,) + float64 ()`` stays float32 and ``int32 (n,) + int64 ()`` stays int32
    (a 0-d tensor acts like a number, which does not widen a tensor either), while
    ``int32 (n,) + float64 ()`` is float64. numpy promotes all three to the widest type."""
    dims = [t.dtype for t in operands if t.ndim]
    zeros = [t.dtype for t in operands if not t.ndim]
    if not dims or not zeros:
        return promote_types(*(dims or zeros))
    dim, zero = promote_types(*dims), promote_types(*zeros)
    if dim.kind == "f" or (dim.kind != "b" and zero.kind != "f"):
        return dim
    return promote_types(dim, zero)

