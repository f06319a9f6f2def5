"""Data types: minigrad tensors hold numpy arrays, so its dtypes are numpy dtypes.

PyTorch's names are kept (``minigrad.float32``, ``minigrad.int64``...). New floating
tensors default to float32, like PyTorch; float64 is there for gradient checks.
"""

from __future__ import annotations

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
