"""check_finite: stop a step at a NaN or Inf before anything is updated.

    loss = check_finite(F.cross_entropy(model(x), y), "loss")   # raises NonFiniteError
    loss.backward()                                              # (only if finite)
    optimizer.step()

It is an op (the identity, value and gradient), not Python on ``.item()``, so a captured
step (``mg.capture``) keeps the check: a replay that meets a non-finite loss stops at this
call, before the backward and the optimizer change anything, as the eager step does.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor


class NonFiniteError(FloatingPointError):
    """A checked tensor held NaN or Inf; ``value`` is its first such element."""

    def __init__(self, message: str, value: float) -> None:
        super().__init__(message)
        self.value = value


class CheckFinite(Function):
    """y = x, raising ``NonFiniteError`` if x holds NaN or Inf;  dy/dx = 1."""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, *, what: str) -> np.ndarray:
        if not np.isfinite(x).all():
            value = float(x.reshape(-1)[~np.isfinite(x.reshape(-1))][0])
            raise NonFiniteError(f"check_finite: {what} is {value}", value)
        return x

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return grad

    @staticmethod
    def fast_backward(ctx: Function, grad: np.ndarray) -> np.ndarray:
        return grad


def check_finite(t: Tensor, what: str = "tensor") -> Tensor:
    """``t`` (as a new node of the graph), or ``NonFiniteError`` naming ``what`` if it holds NaN/Inf."""
    return CheckFinite.apply(t, what=what)
