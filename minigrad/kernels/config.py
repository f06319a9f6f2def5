"""The switch between the Numba kernels and their numpy references.

``MINIGRAD_JIT=0`` in the environment (read once, at import) makes every kernel family run
its numpy reference; so does ``set_jit_enabled(False)`` at run time, which also works as a
context manager (like ``set_grad_enabled``)::

    with minigrad.kernels.set_jit_enabled(False):
        loss = F.cross_entropy(logits, y)      # numpy reference path

Without Numba installed the references are used whatever the switch says, and so they are
for arrays of a dtype the kernels are not compiled for (anything but float32 and float64,
e.g. float16): ``use_kernel(dtype)`` is the test every family makes.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import numpy as np

KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class _State:
    enabled: bool = os.environ.get("MINIGRAD_JIT", "1").strip() != "0"
    numba_available: bool = importlib.util.find_spec("numba") is not None


STATE = _State()


def jit_enabled() -> bool:
    """True when the Numba kernels run (switch on and Numba importable)."""
    return STATE.enabled and STATE.numba_available


def use_kernel(dtype: np.dtype) -> bool:
    """True when arrays of ``dtype`` go to a Numba kernel: JIT on and dtype float32 or float64."""
    return jit_enabled() and dtype in KERNEL_DTYPES


class set_jit_enabled:
    """Turn the Numba kernels on or off from now on, or for a ``with`` block."""

    def __init__(self, enabled: bool) -> None:
        self.prev = STATE.enabled
        self.enabled = bool(enabled)
        STATE.enabled = self.enabled

    def __enter__(self) -> None:
        STATE.enabled = self.enabled

    def __exit__(self, *exc: Any) -> None:
        STATE.enabled = self.prev
