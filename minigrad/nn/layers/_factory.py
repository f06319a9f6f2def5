"""The ``device=None, dtype=None`` arguments every PyTorch layer takes."""

from __future__ import annotations

import numpy as np

from ...dtypes import get_default_dtype


def param_dtype(layer: str, device: object, dtype: object) -> np.dtype:
    """The dtype for a layer's parameters: ``dtype`` or the default (float32)."""
    if device not in (None, "cpu"):
        raise ValueError(f"{layer}: minigrad runs on the CPU only; got device={device!r}")
    return get_default_dtype() if dtype is None else np.dtype(dtype)
