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
