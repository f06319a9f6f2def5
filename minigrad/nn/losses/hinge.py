"""SVM-style hinge losses (Keras's hinge, squared_hinge, categorical_hinge).

A linear SVM minimises max(0, 1 - y f(x)): correct predictions beyond the margin cost
nothing, so only the "support vectors" near the boundary shape the solution. Built from
primitives; ``relu`` gives gradient 0 at the tie.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ops.elementwise import where
from ...ops.reduce import reduce_max
from ...tensor import Tensor
from ..module import Module
from ._common import as_tensor, int_targets
from ._reduction import check_reduction, reduce


def _signed(loss: str, input: Tensor, target: Any, binary_labels: bool) -> Tensor:
    y = as_tensor(target, input)
    if y.shape != input.shape:
        raise ValueError(
            f"{loss}: target size {y.shape} must be the same as input size {input.shape}"
        )
    return 2.0 * y - 1.0 if binary_labels else y


def hinge_loss(input: Tensor, target: Any, binary_labels: bool = False,
               reduction: str = "mean") -> Tensor:
    """Binary SVM hinge: loss = max(0, 1 - y x) element-wise, y in {-1, 1}.

    With ``binary_labels=True`` targets in {0, 1} are mapped to 2y - 1 first (what Keras does
    when all labels are 0/1). Gradient: -y where 1 - y x > 0, else 0. 'mean' over all
    elements. Use it for max-margin binary classifiers (linear SVMs) on raw scores.
    """
    check_reduction("hinge_loss", reduction)
    y = _signed("hinge_loss", input, target, binary_labels)
    return reduce((1.0 - y * input).relu(), reduction)


def squared_hinge_loss(input: Tensor, target: Any, binary_labels: bool = False,
                       reduction: str = "mean") -> Tensor:
    """loss = max(0, 1 - y x)^2: smooth at the margin (gradient -2y max(0, 1 - y x)).

    Same targets and reduction as :func:`hinge_loss`. Use it when you want the SVM margin
    with a differentiable loss (the L2-SVM), which optimises more smoothly.
    """
    check_reduction("squared_hinge_loss", reduction)
    y = _signed("squared_hinge_loss", input, target, binary_labels)
    return reduce((1.0 - y * input).relu() ** 2, reduction)


def categorical_hinge_loss(input: Tensor, target: Any, keras_compat: bool = False,
                           reduction: str = "mean") -> Tensor:
    """Crammer-Singer multiclass hinge: loss_n = max(0, 1 + max_{i != y} x_i - x_y).

    input (N, C) scores; target (N) class indices or (N, C) one-hot. Gradient where active:
    +1 on the best wrong class, -1 on the true class. 'mean' divides by N.
    ``keras_compat=True`` reproduces Keras's ``categorical_hinge``, whose max runs over
    (1 - y) x, so the true class contributes 0 and the "best wrong score" is never below 0.
    Use it for a multiclass SVM that only penalises the strongest competitor (compare
    MultiMarginLoss, which sums over all wrong classes).
    """
    check_reduction("categorical_hinge_loss", reduction)
    if input.ndim != 2:
        raise ValueError(f"categorical_hinge_loss: expected input (N, C), got {input.shape}")
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.shape == input.shape:
        onehot = t.astype(bool)
    else:
        y = int_targets("categorical_hinge_loss", t)
        c = input.shape[1]
        if y.shape != input.shape[:1] or (y.size and (y.min() < 0 or y.max() >= c)):
            raise ValueError(
                f"categorical_hinge_loss: target must be (N) class indices in [0, {c}) or "
                f"(N, C) one-hot for input {input.shape}; got shape {y.shape}"
            )
        onehot = np.eye(c, dtype=bool)[y]
    pos = where(onehot, input, 0.0).sum(1)
    others = where(onehot, 0.0, input) if keras_compat else where(onehot, -np.inf, input)
    neg = reduce_max(others, 1).values if input.shape[0] else others.sum(1)
    return reduce((neg - pos + 1.0).relu(), reduction)


class HingeLoss(Module):
    """Module form of :func:`hinge_loss`."""

    def __init__(self, binary_labels: bool = False, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction("HingeLoss", reduction)
        self.binary_labels, self.reduction = binary_labels, reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return hinge_loss(input, target, self.binary_labels, self.reduction)


class SquaredHingeLoss(Module):
    """Module form of :func:`squared_hinge_loss`."""

    def __init__(self, binary_labels: bool = False, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction("SquaredHingeLoss", reduction)
        self.binary_labels, self.reduction = binary_labels, reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return squared_hinge_loss(input, target, self.binary_labels, self.reduction)


class CategoricalHingeLoss(Module):
    """Module form of :func:`categorical_hinge_loss`."""

    def __init__(self, keras_compat: bool = False, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction("CategoricalHingeLoss", reduction)
        self.keras_compat, self.reduction = keras_compat, reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return categorical_hinge_loss(input, target, self.keras_compat, self.reduction)
