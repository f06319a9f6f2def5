"""``reduction``: how a loss turns per-element values into what you backpropagate.

'none' keeps them, 'sum' adds them, 'mean' divides the sum by a loss-specific count
(the number of elements for element-wise losses; see each loss). Checked in one place so
every loss gives the same error for a typo.
"""

from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...kernels._common import finish
from ...tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(loss: str, reduction: str, extra: tuple[str, ...] = ()) -> None:
    """Raise PyTorch's ValueError for a reduction the loss does not know."""
    if reduction not in REDUCTIONS + extra:
        allowed = ", ".join(repr(r) for r in REDUCTIONS + extra)
        raise ValueError(f"{reduction} is not a valid value for reduction ({loss}: use {allowed})")


def reduce(loss: Tensor, reduction: str) -> Tensor:
    """Apply an element-wise loss's reduction: mean over all elements, sum, or none.

    The mean of an empty tensor is NaN (0/0) and its sum is 0, as in PyTorch.
    """
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean()


class AccurateSum(Function):
    """scale * sum(x), accumulated in float64 and cast back to x's dtype;  d/dx_i = scale.

    float32 sums of many loss terms lose digits; PyTorch accumulates them in a wider
    type, and so do we. ``scale`` is 1 for 'sum' and 1/denominator for 'mean'.
    """

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, scale: float) -> np.ndarray:
        ctx.scale = scale
        return np.asarray(np.sum(x, dtype=np.float64) * scale, dtype=x.dtype)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        if ctx.scale != 1.0:
            grad = grad * ctx.scale
        return grad.expand(ctx.inputs[0].shape)


def reduce_accurate(loss: Tensor, reduction: str, denominator: float | None = None) -> Tensor:
    """Like ``reduce`` but summing in float64; 'mean' divides by ``denominator`` (default:
    the number of elements). A zero denominator gives NaN (0/0), as in PyTorch."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return AccurateSum.apply(loss, scale=1.0)
    count = loss.numel() if denominator is None else denominator
    return AccurateSum.apply(loss, scale=1.0 / count if count else float("nan"))


def reduce_array(loss: np.ndarray, reduction: str, denominator: float, dtype: np.dtype) -> np.ndarray:
    """The numpy side of a fused loss's reduction: 'none' keeps ``loss`` (as ``dtype``), 'sum'
    adds it in float64, 'mean' divides that sum by ``denominator`` (NaN when it is 0, as in
    PyTorch). The result is cast back to ``dtype``."""
    total = 0.0 if reduction == "none" else loss.sum(dtype=np.float64)
    return finish(total, denominator, reduction, loss, dtype)
