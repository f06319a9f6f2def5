"""``minigrad.nn.functional`` (import it as ``F``): layers and losses as plain functions."""

from __future__ import annotations

from ..functional import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    one_hot,
    pad,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from ..random import Generator, rng
from ..tensor import Tensor
from .losses.course import (
    bpr_loss,
    class_balanced_loss,
    class_balanced_weights,
    gradient_penalty,
    multi_task_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from .losses.ctc import ctc_loss
from .losses.embedding import (
    cosine_embedding_loss,
    pairwise_distance,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from .losses.focal import focal_loss, sigmoid_focal_loss
from .losses.hinge import categorical_hinge_loss, hinge_loss, squared_hinge_loss
from .losses.margin import (
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
)
from .losses.overlap import dice_loss, tversky_loss


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, with W of shape (out_features, in_features)."""
    out = input @ weight.T
    return out if bias is None else out + bias


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            generator: Generator | None = None) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (inverted dropout),
    so the expected value is unchanged and evaluation needs no rescaling."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = rng(generator).random(input.shape) >= p
    mask = Tensor._make((keep / (1.0 - p)).astype(input.dtype))
    return input * mask


__all__ = [
    "dropout", "elu", "gelu", "leaky_relu", "linear", "log_softmax", "one_hot", "pad", "relu",
    "sigmoid", "softmax", "softplus", "tanh",
]
__all__ += [
    "bpr_loss", "categorical_hinge_loss", "class_balanced_loss", "class_balanced_weights",
    "cosine_embedding_loss", "ctc_loss", "dice_loss", "focal_loss", "gradient_penalty",
    "hinge_embedding_loss", "hinge_loss", "margin_ranking_loss", "multi_margin_loss",
    "multi_task_loss", "multilabel_margin_loss", "pairwise_distance", "sigmoid_focal_loss",
    "squared_hinge_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
    "tversky_loss", "wasserstein_critic_loss", "wasserstein_generator_loss",
]
