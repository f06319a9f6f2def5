"""``reduction``: how a loss turns per-element values into what you backpropagate.

'none' keeps them, 'sum' adds them, 'mean' divides the sum by a loss-specific count
(the number of elements for element-wise losses; see each loss). Checked in one place so
every loss gives the same error for a typo.
"""

from __future__ import annotations

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
