"""Matrix multiplication: the op that does almost all the arithmetic of a network.

For C = A @ B:  dA = dC @ B^T  and  dB = A^T @ dC.
Vectors are treated as a one-row (A) or one-column (B) matrix and squeezed back;
leading batch dimensions broadcast like numpy's, and the engine sums the gradient
over the ones that were broadcast.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..amp.autocast import STATE as AUTOCAST
from ..amp.autocast import autocast_call
from ..autograd.function import Function
from ..tensor import Tensor


class MatMul(Function):
    """d/dA (A @ B) = grad @ B^T,  d/dB (A @ B) = A^T @ grad"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(
                f"matmul: both arguments need at least 1 dimension, got {a.shape} and {b.shape}"
            )
        try:
            return np.matmul(a, b)
        except ValueError:
            raise RuntimeError(
                f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied: the last dim of "
                f"the first ({a.shape[-1]}) must equal the "
                f"{'only' if b.ndim == 1 else 'second-to-last'} dim of the second "
                f"({b.shape[0] if b.ndim == 1 else b.shape[-2]})."
            ) from None

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            return (grad * b if need_a else None), (grad * a if need_b else None)
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = g.unsqueeze(-2)
        if b.ndim == 1:
            g = g.unsqueeze(-1)
        ga = gb = None
        if need_a:
            ga = MatMul.apply(g, b2.mT)
            if a.ndim == 1:
                ga = ga.squeeze(-2)
        if need_b:
            gb = MatMul.apply(a2.mT, g)
            if b.ndim == 1:
                gb = gb.squeeze(-1)
        return ga, gb


def matmul(a: Any, b: Any) -> Tensor:
    """``a @ b``. Both operands must have one dtype, as in PyTorch: a float64 operand
    does not silently turn a float32 product into float64 (or the reverse)."""
    if not isinstance(a, Tensor):
        a = Tensor(a)
    if not isinstance(b, Tensor):
        b = Tensor(b)
    if AUTOCAST.enabled:
        return autocast_call(MatMul.apply, a, b)
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"matmul: expected both operands to have the same dtype, but got {a.dtype} (shape "
            f"{a.shape}) and {b.dtype} (shape {b.shape}); convert one first, e.g. "
            f"a @ b.to(a.dtype), or .float() / .double() on both."
        )
    return MatMul.apply(a, b)
