"""Margin losses: a score must beat another by ``margin``, otherwise pay the shortfall.

All of them are hinges ``max(0, z)``. At the tie ``z = 0`` the loss is 0 and minigrad uses
the subgradient 0 (``relu``'s), as the spec requires (note: torch 2.13's
``margin_ranking_loss`` and ``hinge_embedding_loss`` use ``clamp_min``, whose gradient is 1
at the tie; away from ties they agree).

MarginRanking and HingeEmbedding are compositions of primitives; MultiMargin and
MultiLabelMargin are fused numpy Functions whose readable ``backward`` uses Tensor ops (so
they have double backward) and whose ``fast_backward`` scales the gradient saved by forward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd.function import Function
from ...ops.elementwise import where
from ...tensor import Tensor
from ..module import Module
from ._common import as_array, as_tensor, int_targets, same_ndim
from ._reduction import check_reduction, reduce


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                        reduction: str = "mean") -> Tensor:
    """loss = max(0, -y (x1 - x2) + margin), y = +1 if x1 should rank higher, -1 if x2 should.

    Gradient where the hinge is active (value > 0): d/dx1 = -y, d/dx2 = +y; 0 elsewhere and at
    the tie. 'mean' divides by N. Use it to learn a ranking from pairs (e.g. which of two
    items a user prefers) when only the order matters, not the scores themselves.
    """
    check_reduction("margin_ranking_loss", reduction)
    target = as_tensor(target, input1)
    same_ndim("margin_ranking_loss", input1, input2, target)
    return reduce((-target * (input1 - input2) + margin).relu(), reduction)


def hinge_embedding_loss(input: Tensor, target: Any, margin: float = 1.0,
                         reduction: str = "mean") -> Tensor:
    """loss = x if y = 1, max(0, margin - x) if y = -1 (x is usually a distance).

    As in PyTorch's kernel, a y that is neither 1 nor -1 gets both terms. Gradient: 1 for
    y = 1, -1 where margin - x > 0 for y = -1. 'mean' over all elements. Use it to learn
    embeddings from similar (y=1, pull together) and dissimilar (y=-1, push at least
    ``margin`` apart) pairs, given their distance x.
    """
    check_reduction("hinge_embedding_loss", reduction)
    y = as_array(target)
    pull = where(y != -1, input, 0.0)
    push = where(y != 1, (margin - input).relu(), 0.0)
    return reduce(pull + push, reduction)


def _check_multi_inputs(loss: str, x: Tensor, y: np.ndarray) -> None:
    if x.ndim not in (1, 2) or y.shape != x.shape[:-1]:
        raise RuntimeError(
            f"{loss}: expected input (N, C) with target (N) or input (C) with target (), got "
            f"input {x.shape} and target {y.shape}"
        )


class _MultiMargin(Function):
    """Per sample (1/C) w[y] sum_{i != y} max(0, margin - x_y + x_i)^p  (fused numpy).

    With z_i = margin - x_y + x_i active where z_i > 0 (i != y):
    d/dx_i = g w[y]/C * (1 or 2 z_i),  d/dx_y = -sum_{i != y} d/dx_i.
    """

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, y: np.ndarray, w: np.ndarray | None, p: int,
                margin: float) -> np.ndarray:
        n, c = x.shape
        rows = np.arange(n)
        z = margin - x[rows, y][:, None] + x
        z[rows, y] = 0.0
        active = z > 0
        wy = np.ones(n, x.dtype) if w is None else w[y].astype(x.dtype)
        ctx.p, ctx.margin, ctx.y = p, margin, y
        ctx.coefficient = (np.where(active, 1.0, 0.0) * (wy / c)[:, None]).astype(x.dtype, copy=False)
        zp = np.where(active, z if p == 1 else z * z, 0.0)
        return (wy * zp.sum(axis=1) / c).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        (x,) = ctx.inputs
        rows = np.arange(x.shape[0])
        per_class = Tensor.make(ctx.coefficient)
        if ctx.p == 2:
            per_class = per_class * (x - x[rows, ctx.y].unsqueeze(1) + ctx.margin) * 2.0
        onehot = np.zeros(x.shape, x.dtype)
        onehot[rows, ctx.y] = 1.0
        gx = per_class - Tensor.make(onehot) * per_class.sum(1, keepdim=True)
        return grad.unsqueeze(1) * gx

    @staticmethod
    def fast_backward(ctx: Function, grad: np.ndarray) -> np.ndarray:
        x = ctx.inputs[0].data
        rows = np.arange(x.shape[0])
        per_class = ctx.coefficient
        if ctx.p == 2:
            per_class = per_class * 2.0 * (x - x[rows, ctx.y][:, None] + ctx.margin)
        gx = per_class.copy()
        gx[rows, ctx.y] -= per_class.sum(axis=1)
        return gx * grad[:, None]


def multi_margin_loss(input: Tensor, target: Any, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, reduction: str = "mean") -> Tensor:
    """Multiclass hinge (Weston-Watkins): the true class must beat every other by ``margin``.

    loss_n = (1/C) sum_{i != y} w[y] max(0, margin - x_y + x_i)^p, p in {1, 2}; the class
    weight multiplies once, outside the power. Gradient for each active i (z > 0):
    w[y] (1 or 2z)/C on x_i and minus their sum on x_y. 'mean' divides by N. Use it as the
    SVM alternative to cross-entropy: it stops pushing once the margin is met.
    """
    check_reduction("multi_margin_loss", reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 supported, got p={p}")
    y = int_targets("multi_margin_loss", target)
    _check_multi_inputs("multi_margin_loss", input, y)
    c = input.shape[-1]
    if y.size and (y.min() < 0 or y.max() >= c):
        bad = y[(y < 0) | (y >= c)][0]
        raise RuntimeError(f"multi_margin_loss: target out of range: {bad} not in [0, {c})")
    w = None if weight is None else as_array(weight)
    if w is not None and (w.ndim != 1 or w.shape[0] != c):
        raise ValueError(f"multi_margin_loss: weight must have shape ({c},), got {w.shape}")
    batched = input if input.ndim == 2 else input.reshape(1, c)
    loss = _MultiMargin.apply(batched, y=y.reshape(-1), w=w, p=p, margin=margin)
    return reduce(loss if input.ndim == 2 else loss.reshape(()), reduction)


class _MultiLabelMargin(Function):
    """Per sample (1/C) sum_{j listed} sum_{i not listed} max(0, 1 - (x_j - x_i))."""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        n, c = x.shape
        listed_pos = np.cumprod(y >= 0, axis=1).astype(bool)
        labels = np.where(listed_pos, y, 0)
        is_target = np.zeros((n, c), dtype=bool)
        rows = np.broadcast_to(np.arange(n)[:, None], y.shape)
        is_target[rows[listed_pos], labels[listed_pos]] = True
        xj = np.take_along_axis(x, labels, axis=1)
        z = 1.0 - xj[:, :, None] + x[:, None, :]
        active = (z > 0) & listed_pos[:, :, None] & ~is_target[:, None, :]
        grad_x = active.sum(axis=1).astype(x.dtype)
        np.add.at(grad_x, (rows, labels), -active.sum(axis=2))
        ctx.grad_x = grad_x / c
        return (np.where(active, z, 0.0).sum(axis=(1, 2)) / c).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        """Piecewise linear: d/dx is g times the constant counts saved by forward (so its own
        derivative in x is 0)."""
        return grad.unsqueeze(1) * Tensor.make(ctx.grad_x)

    @staticmethod
    def fast_backward(ctx: Function, grad: np.ndarray) -> np.ndarray:
        return ctx.grad_x * grad[:, None]


def multilabel_margin_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Multi-label hinge: every listed label must beat every unlisted class by 1.

    target has input's shape and lists class indices left to right up to the first negative
    value (pad with -1). loss_n = (1/C) sum_{j listed} sum_{i not listed} max(0, 1 - (x_j - x_i));
    a label listed twice counts twice. Each active term adds +1/C to the gradient of x_i
    and -1/C to x_j. 'mean' divides by N. Use it when a sample has several correct classes.
    """
    check_reduction("multilabel_margin_loss", reduction)
    y = int_targets("multilabel_margin_loss", target)
    if input.ndim not in (1, 2) or y.shape != input.shape:
        raise RuntimeError(
            f"multilabel_margin_loss: expected input (C) or (N, C) and a target of the same "
            f"shape, got input {input.shape} and target {y.shape}"
        )
    c = input.shape[-1]
    listed = np.cumprod(y >= 0, axis=-1).astype(bool)
    if (y[listed] >= c).any():
        bad = y[listed & (y >= c)][0]
        raise RuntimeError(f"multilabel_margin_loss: target out of range: {bad} not in [0, {c})")
    batched = input if input.ndim == 2 else input.reshape(1, c)
    loss = _MultiLabelMargin.apply(batched, y=y.reshape(batched.shape))
    return reduce(loss if input.ndim == 2 else loss.reshape(()), reduction)


class MarginRankingLoss(Module):
    """Module form of :func:`margin_ranking_loss`: forward(input1, input2, target)."""

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction("MarginRankingLoss", reduction)
        self.margin, self.reduction = margin, reduction

    def forward(self, input1: Tensor, input2: Tensor, target: Any) -> Tensor:
        return margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


class HingeEmbeddingLoss(Module):
    """Module form of :func:`hinge_embedding_loss`: forward(input, target)."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction("HingeEmbeddingLoss", reduction)
        self.margin, self.reduction = margin, reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return hinge_embedding_loss(input, target, self.margin, self.reduction)


class MultiMarginLoss(Module):
    """Module form of :func:`multi_margin_loss`; ``weight`` is a buffer."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        check_reduction("MultiMarginLoss", reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got p={p}")
        self.p, self.margin, self.reduction = p, margin, reduction
        self.register_buffer("weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return multi_margin_loss(input, target, self.p, self.margin, self.weight, self.reduction)


class MultiLabelMarginLoss(Module):
    """Module form of :func:`multilabel_margin_loss`."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction("MultiLabelMarginLoss", reduction)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return multilabel_margin_loss(input, target, self.reduction)
