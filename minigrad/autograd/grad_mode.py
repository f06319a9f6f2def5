"""Grad mode: whether operations record the graph.

Inside ``no_grad()`` ops compute values only; nothing is recorded, so nothing can be
differentiated and no memory is kept for backward. Evaluation and optimizer updates
run there. ``enable_grad()`` switches recording back on inside a ``no_grad`` block.
Both work as context managers and as decorators, like PyTorch's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


class _State:
    grad_enabled = True


STATE = _State()


def is_grad_enabled() -> bool:
    return STATE.grad_enabled


class set_grad_enabled:
    """Set grad mode to ``mode`` for a ``with`` block (or from now on, if called alone)."""

    def __init__(self, mode: bool) -> None:
        self.prev = STATE.grad_enabled
        self.mode = bool(mode)
        STATE.grad_enabled = self.mode

    def __enter__(self) -> None:
        STATE.grad_enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        STATE.grad_enabled = self.prev


class _GradModeContext:
    mode: bool

    def __enter__(self) -> None:
        self.prev = STATE.grad_enabled
        STATE.grad_enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        STATE.grad_enabled = self.prev

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Compute without recording the graph (context manager or decorator)."""

    mode = False


class enable_grad(_GradModeContext):
    """Record the graph again, even inside ``no_grad`` (context manager or decorator)."""

    mode = True
