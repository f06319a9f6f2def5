"""Focal losses (Lin et al. 2017): cross-entropy that ignores what is already easy.

Multiplying the cross-entropy by (1 - p_t)^gamma shrinks the loss of well-classified
examples (p_t near 1), so the many easy negatives of a detector do not drown the few hard
examples. gamma = 0 gives plain cross-entropy back. Both are compositions of stable
primitives (softplus, log_softmax), so logits of +-1000 give finite values and gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...functional import softplus
from ...ops.elementwise import where
from ...tensor import Tensor
from ..module import Module
from ._common import as_array, as_tensor, int_targets
from ._reduction import check_reduction, reduce

INF = float("inf")


def sigmoid_focal_loss(inputs: Tensor, targets: Any, alpha: float = 0.25, gamma: float = 2.0,
                       reduction: str = "none") -> Tensor:
    """torchvision's focal loss for binary / multi-label logits (default reduction 'none').

    p = sigmoid(x), ce = BCEWithLogits(x, y), p_t = p y + (1 - p)(1 - y),
    loss = ce (1 - p_t)^gamma, times alpha_t = alpha y + (1 - alpha)(1 - y) if alpha >= 0.
    Gradient: alpha_t [-gamma (1 - p_t)^(gamma-1) s p (1 - p) ce + (1 - p_t)^gamma (p - y)],
    s = 2y - 1. ce = y softplus(-x) + (1 - y) softplus(x) and 1 - p_t = y sigmoid(-x) +
    (1 - y) sigmoid(x) never subtract nearly equal numbers. Use it for dense detection and
    other heavily imbalanced binary problems.
    """
    check_reduction("sigmoid_focal_loss", reduction)
    y = as_tensor(targets, inputs)
    if y.shape != inputs.shape:
        raise ValueError(
            f"sigmoid_focal_loss: targets {y.shape} must have the same shape as inputs {inputs.shape}"
        )
    ce = y * softplus(-inputs, threshold=INF) + (1.0 - y) * softplus(inputs, threshold=INF)
    loss = ce
    if gamma != 0:
        one_minus_pt = y * (-inputs).sigmoid() + (1.0 - y) * inputs.sigmoid()
        loss = ce * one_minus_pt ** gamma
    if alpha >= 0:
        loss = loss * (alpha * y + (1.0 - alpha) * (1.0 - y))
    return reduce(loss, reduction)


def _class_dim_last(input: Tensor, target: np.ndarray, loss: str) -> tuple[Tensor, np.ndarray]:
    """(N, C, d1, ...) with target (N, d1, ...) -> (M, C) with (M); (C) with () -> (1, C)."""
    if input.ndim == 1:
        if target.shape != ():
            raise ValueError(f"{loss}: unbatched input {input.shape} needs a 0-d target, got {target.shape}")
        return input.reshape(1, -1), target.reshape(1)
    if input.ndim < 2 or target.shape != input.shape[:1] + input.shape[2:]:
        raise ValueError(
            f"{loss}: expected input (N, C, d1, ...) and target (N, d1, ...), got input "
            f"{input.shape} and target {target.shape}"
        )
    c = input.shape[1]
    moved = input if input.ndim == 2 else input.permute(0, *range(2, input.ndim), 1)
    return moved.reshape(-1, c), target.reshape(-1)


def focal_loss(input: Tensor, target: Any, alpha: Any = None, gamma: float = 2.0,
               ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Multiclass (softmax) focal loss on logits with class-index targets, like cross_entropy.

    lp_y = log_softmax(x)[y], p_y = exp(lp_y), loss = -alpha_y (1 - p_y)^gamma lp_y; alpha is
    None (1), a number (same for all classes) or a length-C tensor indexed by the target.
    Gradient: alpha_y [-(1 - p_y)^gamma + gamma (1 - p_y)^(gamma-1) p_y lp_y] (e_y - p).
    Targets equal to ``ignore_index`` contribute 0; 'mean' divides by the number of
    non-ignored targets (alpha does not enter the denominator). 'none' has target's shape.
    Use it instead of cross-entropy when easy examples dominate the batch.
    """
    check_reduction("focal_loss", reduction)
    y_full = int_targets("focal_loss", target)
    x, y = _class_dim_last(input, y_full, "focal_loss")
    c = x.shape[1]
    keep = y != ignore_index
    if ((y[keep] < 0) | (y[keep] >= c)).any():
        bad = y[keep & ((y < 0) | (y >= c))][0]
        raise IndexError(f"focal_loss: target {bad} is out of bounds for {c} classes")
    safe = np.where(keep, y, 0)
    onehot = np.zeros((y.shape[0], c), dtype=bool)
    onehot[np.arange(y.shape[0]), safe] = True
    lp_y = where(onehot, x.log_softmax(1), 0.0).sum(1)
    loss = -lp_y
    if gamma != 0:
        not_y = where(onehot, 0.0, x.softmax(1)).sum(1)    # 1 - p_y without cancellation
        loss = loss * not_y ** gamma
    if alpha is not None:
        a = as_array(alpha)
        loss = loss * Tensor.make(np.asarray(a if a.ndim == 0 else a[safe], dtype=x.dtype))
    loss = where(keep, loss, 0.0)
    if reduction == "none":
        return loss.reshape(y_full.shape)
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / float(keep.sum()) if keep.any() else loss.sum() * float("nan")


class SigmoidFocalLoss(Module):
    """Module form of :func:`sigmoid_focal_loss` (same defaults, reduction 'none')."""

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, reduction: str = "none") -> None:
        super().__init__()
        check_reduction("SigmoidFocalLoss", reduction)
        self.alpha, self.gamma, self.reduction = alpha, gamma, reduction

    def forward(self, inputs: Tensor, targets: Any) -> Tensor:
        return sigmoid_focal_loss(inputs, targets, self.alpha, self.gamma, self.reduction)


class FocalLoss(Module):
    """Module form of :func:`focal_loss`; a tensor ``alpha`` is a buffer."""

    def __init__(self, alpha: Any = None, gamma: float = 2.0, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__()
        check_reduction("FocalLoss", reduction)
        self.gamma, self.ignore_index, self.reduction = gamma, ignore_index, reduction
        if isinstance(alpha, Tensor):
            self.register_buffer("alpha", alpha)
        else:
            self.alpha = alpha

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return focal_loss(input, target, self.alpha, self.gamma, self.ignore_index, self.reduction)
