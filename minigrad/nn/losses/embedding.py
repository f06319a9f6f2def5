"""Embedding losses: learn a vector space where similar things are close.

CosineEmbedding compares two vectors by angle; the triplet losses compare an anchor's
distance to a positive and to a negative example. All are compositions of primitives, so
gradients (and second derivatives) come from autograd. Hinges use ``relu``: gradient 0 at
the tie.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...functional import minimum
from ...ops.elementwise import where
from ...ops.reduce import norm
from ...tensor import Tensor
from ..module import Module
from ._common import as_array, same_ndim
from ._reduction import check_reduction, reduce

EPSILON = 1e-12


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dimension (eps is added to the difference, as in
    PyTorch, so identical points are eps * D^(1/p) apart and the norm stays differentiable)."""
    dim = max(x1.ndim, x2.ndim) - 1
    return norm(x1 - x2 + eps, p, dim, keepdim)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                          reduction: str = "mean") -> Tensor:
    """loss = 1 - cos(x1, x2) if y = 1, max(0, cos(x1, x2) - margin) if y = -1, 0 otherwise.

    cos = sum(x1 x2) / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)) over the last dim (PyTorch's
    epsilon). Gradient of cos: x2/(|x1||x2|) - cos x1/|x1|^2, with sign -1 (y = 1) or +1
    (y = -1, active). 'mean' divides by N. Use it to learn embeddings where direction, not
    length, carries the meaning (text and sentence similarity).
    """
    check_reduction("cosine_embedding_loss", reduction)
    y = as_array(target)
    if not ((input1.ndim == 2 and y.ndim == 1) or (input1.ndim == 1 and y.ndim == 0)):
        raise RuntimeError(
            f"cosine_embedding_loss: expected inputs (N, D) with target (N) or inputs (D) with "
            f"target (); got inputs {input1.shape}, {input2.shape} and target {y.shape}"
        )
    if input1.shape != input2.shape or input1.shape[:-1] != y.shape:
        raise RuntimeError(
            f"cosine_embedding_loss: inputs {input1.shape} and {input2.shape} must have the same "
            f"shape, with target {y.shape} matching their batch dimension"
        )
    prod = (input1 * input2).sum(-1)
    mag = ((input1 * input1).sum(-1) + EPSILON) * ((input2 * input2).sum(-1) + EPSILON)
    cos = prod / mag.sqrt()
    loss = where(y == 1, 1.0 - cos, 0.0) + where(y == -1, (cos - margin).relu(), 0.0)
    return reduce(loss, reduction)


def _triplet(loss: str, anchor: Tensor, positive: Tensor, negative: Tensor,
             distance: Callable[[Tensor, Tensor], Tensor], margin: float, swap: bool,
             reduction: str) -> Tensor:
    check_reduction(loss, reduction)
    same_ndim(loss, anchor, positive, negative)
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, distance(positive, negative))
    return reduce((margin + d_pos - d_neg).relu(), reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                        reduction: str = "mean") -> Tensor:
    """loss = max(0, margin + d(a, p) - d(a, n)), d = pairwise_distance(., ., p, eps).

    With ``swap`` the negative distance is min(d(a, n), d(p, n)) (Balntas et al. 2016).
    Gradient where active: d d(a,p)/da - d d(a,n)/da, e.g. (a-p)/|a-p| - (a-n)/|a-n| for p=2.
    'mean' divides by N. Use it for metric learning (face recognition, retrieval): the
    anchor must be closer to the positive than to the negative by ``margin``.
    """
    def distance(a: Tensor, b: Tensor) -> Tensor:
        return pairwise_distance(a, b, p, eps)

    if anchor.ndim not in (1, 2):
        raise RuntimeError(
            f"triplet_margin_loss: expected inputs (N, D) or (D), got anchor {anchor.shape}"
        )
    return _triplet("triplet_margin_loss", anchor, positive, negative, distance, margin, swap,
                    reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor, positive: Tensor, negative: Tensor, *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None, margin: float = 1.0,
    swap: bool = False, reduction: str = "mean",
) -> Tensor:
    """Triplet loss with any distance: max(0, margin + d(a, p) - d(a, n)).

    ``distance_function`` maps two tensors to one distance per sample (default:
    pairwise_distance with p=2, eps=1e-6); e.g. ``lambda a, b: 1 - cosine similarity``.
    Gradients flow through the distance function. Use it when Euclidean distance is not the
    notion of similarity you want.
    """
    return _triplet("triplet_margin_with_distance_loss", anchor, positive, negative,
                    distance_function or pairwise_distance, margin, swap, reduction)


class CosineEmbeddingLoss(Module):
    """Module form of :func:`cosine_embedding_loss`: forward(input1, input2, target)."""

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction("CosineEmbeddingLoss", reduction)
        self.margin, self.reduction = margin, reduction

    def forward(self, input1: Tensor, input2: Tensor, target: Any) -> Tensor:
        return cosine_embedding_loss(input1, input2, target, self.margin, self.reduction)


class TripletMarginLoss(Module):
    """Module form of :func:`triplet_margin_loss`: forward(anchor, positive, negative)."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 reduction: str = "mean") -> None:
        super().__init__()
        check_reduction("TripletMarginLoss", reduction)
        self.margin, self.p, self.eps, self.swap, self.reduction = margin, p, eps, swap, reduction

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps,
                                   self.swap, self.reduction)


class TripletMarginWithDistanceLoss(Module):
    """Module form of :func:`triplet_margin_with_distance_loss` (keyword-only options)."""

    def __init__(self, *, distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
                 margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction("TripletMarginWithDistanceLoss", reduction)
        self.distance_function, self.margin = distance_function, margin
        self.swap, self.reduction = swap, reduction

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)
