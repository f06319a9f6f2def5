"""Kullback-Leibler divergence: how far a predicted distribution q is from a target p.

A composition of differentiable primitives; a target that requires grad gets one, as in PyTorch.
"""

from __future__ import annotations

import warnings

import numpy as np

from ... import dtypes
from ...ops.elementwise import where
from ...tensor import Tensor
from ..module import Module
from ._common import as_tensor
from ._reduction import check_reduction, reduce_accurate


def kl_div(input: Tensor, target: Tensor, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence KL(p || q) with ``input`` = log q and ``target`` = p.

    l = p (log p - log q) (0 where p = 0), or with log_target=True (target = log p)
    l = exp(t) (t - x). Gradient w.r.t. input: -p; w.r.t. the target: log p + 1 - log q, or
    exp(t) (t - x + 1) with log_target (NaN where p = 0, as PyTorch's xlogy gives).
    'batchmean' (sum / batch size) is the true KL; 'mean' divides by every element. Use it
    for distillation and to match a predicted distribution to a soft target.
    """
    check_reduction("kl_div", reduction, extra=("batchmean",))
    if input.dtype.kind != "f":
        raise RuntimeError(f"kl_div: input must be floating point (log-probabilities), got {input.dtype}")
    t = as_tensor(target, input)
    dtype = dtypes.promote_types(input.dtype, t.dtype)  # float32 with float64: float64, as torch
    input, t = input.to(dtype), t.to(dtype)
    if log_target:
        loss = t.exp() * (t - input)
    elif t.requires_grad:
        with np.errstate(invalid="ignore"):  # p = 0 gives 0 * -inf, masked by the where
            loss = where(t.data == 0, 0.0, t * t.log()) - t * input
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            xlogy = np.where(t.data == 0, 0, t.data * np.log(t.data)).astype(input.dtype)
        loss = Tensor.make(xlogy) - t * input
    if reduction == "mean":
        warnings.warn("kl_div: reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size. 'batchmean' divides only by the batch size, and aligns with the KL "
                      "div math definition.", UserWarning, stacklevel=2)
    if reduction == "batchmean":
        return reduce_accurate(loss, "mean", input.shape[0] if input.ndim else 1)
    return reduce_accurate(loss, reduction)


class KLDivLoss(Module):
    """Module form of :func:`kl_div`."""

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__()
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return kl_div(input, target, self.reduction, self.log_target)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, log_target={self.log_target}"
