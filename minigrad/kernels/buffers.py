"""Reusable output buffers, so a training step does not page-fault fresh large arrays.

A fresh 400 KB array costs page faults every step (glibc hands large blocks back to the OS
when they are freed). ``BufferPool.get(key, shape, dtype)`` hands out an array that nobody
else holds any more, found by its reference count: while a Tensor, a graph node, a view or
the caller keeps the array alive it is never handed out again, so reuse is always safe.
"""

from __future__ import annotations

import sys

import numpy as np


def _free_refcount() -> int:
    """The reference count a pooled array shows in ``get``'s loop when only the pool holds it."""
    for buf in [np.empty(0)]:
        return sys.getrefcount(buf)
    raise AssertionError


_FREE_REFCOUNT = _free_refcount()


class BufferPool:
    """A few arrays per (key, shape, dtype); a busy array is never returned twice."""

    def __init__(self, per_key: int = 4) -> None:
        self.per_key = per_key
        self.arrays: dict[tuple, list[np.ndarray]] = {}

    def get(self, key: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An uninitialised C-contiguous array of ``shape`` and ``dtype`` that nobody else holds."""
        slot = self.arrays.setdefault((key, shape, np.dtype(dtype)), [])
        for buf in slot:
            if sys.getrefcount(buf) <= _FREE_REFCOUNT:
                return buf
        buf = np.empty(shape, dtype)
        if len(slot) < self.per_key:
            slot.append(buf)
        return buf

    def clear(self) -> None:
        self.arrays.clear()


POOL = BufferPool()
