"""Overlap losses for segmentation: Dice and Tversky.

Instead of judging each pixel alone (cross-entropy), they compare the predicted region p
with the true region g as sets: Dice = 2|p n g| / (|p| + |g|). A small object counts as
much as a large one, which helps when the foreground is a tiny fraction of the image.
Soft versions use probabilities, so they are differentiable compositions of primitives.

Modes: 'binary' (input (N, *) logits, target of the same shape: one class), 'multilabel'
(input and target (N, C, *)), 'multiclass' (input (N, C, *) logits, target (N, *) class
indices, softmax over dim 1). Pixels whose target equals ``ignore_index`` are dropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ops.elementwise import clamp
from ...tensor import Tensor
from ..module import Module
from ._common import as_array, int_targets
from ._reduction import check_reduction, reduce

MODES = ("binary", "multiclass", "multilabel")


def _prepare(loss: str, input: Tensor, target: Any, mode: str, from_logits: bool,
             ignore_index: int | None) -> tuple[Tensor, Tensor]:
    """Probabilities p and targets g, both (N, C, M), with ignored pixels zeroed in both."""
    if mode not in MODES:
        raise ValueError(f"{loss}: mode must be one of {MODES}, got {mode!r}")
    t = as_array(target)
    n = input.shape[0] if input.ndim else 0
    if mode == "multiclass":
        y = int_targets(loss, t)
        if input.ndim < 2 or y.shape != input.shape[:1] + input.shape[2:]:
            raise ValueError(f"{loss}: multiclass mode needs input (N, C, *) and target (N, *), "
                             f"got {input.shape} and {y.shape}")
        c = input.shape[1]
        keep = (y != ignore_index) if ignore_index is not None else np.ones(y.shape, bool)
        if ((y[keep] < 0) | (y[keep] >= c)).any():
            bad = y[keep & ((y < 0) | (y >= c))][0]
            raise IndexError(f"{loss}: target value {bad} is out of range [0, {c})")
        p = input.softmax(1) if from_logits else input
        g = (np.arange(c)[None, :, None] == np.where(keep, y, -1).reshape(n, 1, -1))
        mask = keep.reshape(n, 1, -1)
        p = p.reshape(n, c, -1)
    else:
        if t.shape != input.shape or (mode == "multilabel" and input.ndim < 2) or input.ndim < 1:
            raise ValueError(f"{loss}: {mode} mode needs target shape == input shape "
                             f"((N, *) or (N, C, *) for multilabel), got {input.shape} and {t.shape}")
        c = input.shape[1] if mode == "multilabel" else 1
        keep = (t != ignore_index) if ignore_index is not None else np.ones(t.shape, bool)
        p = input.sigmoid() if from_logits else input
        p = p.reshape(n, c, -1)
        g = np.where(keep, t, 0).reshape(n, c, -1)
        mask = keep.reshape(n, c, -1)
    mask_t = Tensor.make(mask.astype(input.dtype))
    return p * mask_t, Tensor.make((g * mask).astype(input.dtype))


def _sum_dims(per_sample: bool) -> tuple[int, ...]:
    return (2,) if per_sample else (0, 2)


def dice_loss(input: Tensor, target: Any, mode: str = "binary", from_logits: bool = True,
              smooth: float = 1.0, eps: float = 1e-7, square_denominator: bool = False,
              per_sample: bool = False, ignore_index: int | None = None,
              reduction: str = "mean") -> Tensor:
    """Soft Dice loss per class: 1 - (2 I + smooth) / max(S + smooth, eps).

    I = sum p g, S = sum p^q + sum g^q (q = 2 with ``square_denominator``, V-Net style), sums
    over pixels and the batch (or per sample with ``per_sample``). 'none' gives (C,) or (N, C).
    Gradient w.r.t. p_i: -(2 g_i den - num q p_i^(q-1)) / den^2 (then through sigmoid or
    softmax). 0 <= loss <= 1. Use it for segmentation with small foreground regions, often
    added to cross-entropy.
    """
    check_reduction("dice_loss", reduction)
    p, g = _prepare("dice_loss", input, target, mode, from_logits, ignore_index)
    dims = _sum_dims(per_sample)
    inter = (p * g).sum(dims)
    q = 2 if square_denominator else 1
    total = (p ** q).sum(dims) + (g ** q).sum(dims)
    dice = (2.0 * inter + smooth) / clamp(total + smooth, min=eps)
    return reduce(1.0 - dice, reduction)


def tversky_loss(input: Tensor, target: Any, mode: str = "binary", alpha: float = 0.5,
                 beta: float = 0.5, gamma: float = 1.0, smooth: float = 1.0,
                 from_logits: bool = True, eps: float = 1e-7, per_sample: bool = False,
                 ignore_index: int | None = None, reduction: str = "mean") -> Tensor:
    """Tversky loss per class: (1 - TI)^gamma, TI = (TP + s) / max(TP + a FP + b FN + s, eps).

    TP = sum p g, FP = sum p (1 - g), FN = sum (1 - p) g (paper convention: alpha weighs false
    positives; the stored Keras ``tversky`` swaps them). alpha = beta = 1/2 is Dice with
    smooth 2s; gamma != 1 is the focal Tversky loss. Gradients come from autograd.
    Use it when false negatives should cost more than false positives (beta > alpha), e.g.
    lesion segmentation where missing a lesion is worse than a false alarm.
    """
    check_reduction("tversky_loss", reduction)
    p, g = _prepare("tversky_loss", input, target, mode, from_logits, ignore_index)
    dims = _sum_dims(per_sample)
    tp = (p * g).sum(dims)
    fp = p.sum(dims) - tp
    fn = g.sum(dims) - tp
    ti = (tp + smooth) / clamp(tp + alpha * fp + beta * fn + smooth, min=eps)
    loss = 1.0 - ti
    return reduce(loss if gamma == 1 else loss ** gamma, reduction)


class DiceLoss(Module):
    """Module form of :func:`dice_loss`."""

    def __init__(self, mode: str = "binary", from_logits: bool = True, smooth: float = 1.0,
                 eps: float = 1e-7, square_denominator: bool = False, per_sample: bool = False,
                 ignore_index: int | None = None, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction("DiceLoss", reduction)
        if mode not in MODES:
            raise ValueError(f"DiceLoss: mode must be one of {MODES}, got {mode!r}")
        self.mode, self.from_logits, self.smooth, self.eps = mode, from_logits, smooth, eps
        self.square_denominator, self.per_sample = square_denominator, per_sample
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return dice_loss(input, target, self.mode, self.from_logits, self.smooth, self.eps,
                         self.square_denominator, self.per_sample, self.ignore_index, self.reduction)


class TverskyLoss(Module):
    """Module form of :func:`tversky_loss`."""

    def __init__(self, alpha: float = 0.5, beta: float = 0.5, gamma: float = 1.0,
                 smooth: float = 1.0, from_logits: bool = True, reduction: str = "mean", *,
                 mode: str = "binary", eps: float = 1e-7, per_sample: bool = False,
                 ignore_index: int | None = None) -> None:
        super().__init__()
        check_reduction("TverskyLoss", reduction)
        if mode not in MODES:
            raise ValueError(f"TverskyLoss: mode must be one of {MODES}, got {mode!r}")
        self.alpha, self.beta, self.gamma, self.smooth = alpha, beta, gamma, smooth
        self.from_logits, self.reduction, self.mode, self.eps = from_logits, reduction, mode, eps
        self.per_sample, self.ignore_index = per_sample, ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return tversky_loss(input, target, self.mode, self.alpha, self.beta, self.gamma,
                            self.smooth, self.from_logits, self.eps, self.per_sample,
                            self.ignore_index, self.reduction)
