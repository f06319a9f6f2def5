"""``minigrad.nn.functional`` (import it as ``F``): layers and losses as plain functions."""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
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
from ..ops.indexing import IndexAdd
from ..ops.linear import linear
from ..random import Generator, rng
from ..tensor import Tensor
from .losses.binary import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    multilabel_soft_margin_loss,
    soft_margin_loss,
)
from .losses.composed import (
    bpr_loss,
    class_balanced_loss,
    class_balanced_weights,
    gradient_penalty,
    multi_task_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from .losses.cross_entropy import cross_entropy, nll_loss
from .losses.ctc import ctc_loss
from .losses.distillation import distillation_loss
from .losses.embedding import (
    cosine_embedding_loss,
    pairwise_distance,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from .losses.focal import focal_loss, sigmoid_focal_loss
from .losses.hinge import categorical_hinge_loss, hinge_loss, squared_hinge_loss
from .losses.kl_div import kl_div
from .losses.margin import (
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
)
from .losses.overlap import dice_loss, tversky_loss
from .losses.regression import (
    gaussian_nll_loss,
    huber_loss,
    l1_loss,
    log_cosh_loss,
    mse_loss,
    poisson_nll_loss,
    smooth_l1_loss,
)


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
    return Dropout.apply(input, p=p, generator=generator)


class Dropout(Function):
    """y = x * mask, mask = [u >= p] / (1 - p) with u uniform in [0, 1):  dy/dx = mask.

    The mask is drawn inside ``forward``, so a replayed step (``minigrad.replay``) draws a new
    one each time, from the same generator, as the eager step would."""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, *, p: float, generator: Generator | None) -> np.ndarray:
        keep = rng(generator).random(x.shape) >= p
        mask = (keep / (1.0 - p)).astype(x.dtype)
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return grad * Tensor.make(ctx.saved_tensors[0])

    @staticmethod
    def fast_backward(ctx: Function, grad: np.ndarray) -> np.ndarray:
        return grad * ctx.saved_tensors[0]


class UpdateBuffer(Function):
    """buffer = decay * buffer + rate * value (* scale), in place, returning the buffer; no gradient.

    Batch norm's running statistics and batch counter change during forward. Written as an op
    rather than arithmetic on ``.data``, the change is part of the recorded step, so a replay
    (``minigrad.replay``) repeats it."""

    @staticmethod
    def forward(ctx: Function, buffer: np.ndarray, value: np.ndarray, *, decay: float, rate: float,
                scale: float = 1.0) -> np.ndarray:
        if decay != 1:
            buffer *= decay
        update = rate * value.reshape(buffer.shape)
        buffer += update * scale if scale != 1 else update
        return buffer


def _normalize(x: Tensor, mean: Tensor, var: Tensor, eps: float) -> Tensor:
    return (x - mean) / (var + eps).sqrt()


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over every dimension but the channel dimension 1.

    y = (x - mean) / sqrt(var + eps) * weight + bias. In training the statistics are the
    batch's (biased variance) and the running ones move towards them:
    running = (1 - momentum) * running + momentum * batch_stat, where the running variance
    takes the *unbiased* batch variance (n / (n - 1) times the biased one), as in PyTorch.
    Otherwise the running statistics are used, so one sample's output does not depend on
    the rest of its batch.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C) or (N, C, L), got "
                         f"{input.shape}")
    channels = input.shape[1]
    axes = (0, *range(2, input.ndim))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ValueError(f"batch_norm: {name} has shape {t.shape}, expected ({channels},) "
                             f"for an input with {channels} channels {input.shape}")
    if training:
        n = input.shape[0] * math.prod(input.shape[2:])
        if n == 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got "
                             f"input size {input.shape}")
        if n == 0:  # as PyTorch: an empty batch only gets weight and bias; the running stats stay
            return _affine(input.clone(), weight, bias, shape)  # a new tensor, even without them
        mean = input.mean(axes, keepdim=True)
        var = input.var(axes, keepdim=True, correction=0)
        if running_mean is not None:
            UpdateBuffer.apply(running_mean, mean.detach(), decay=1 - momentum, rate=momentum)
        if running_var is not None:
            UpdateBuffer.apply(running_var, var.detach(), decay=1 - momentum, rate=momentum,
                               scale=n / (n - 1))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when "
                             "training=False")
        mean = Tensor.make(running_mean.data.reshape(shape))
        var = Tensor.make(running_var.data.reshape(shape))
    return _affine(_normalize(input, mean, var, eps), weight, bias, shape)


def _affine(out: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple[int, ...]) -> Tensor:
    """out * weight + bias, each per channel (dimension 1) and optional."""
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm(input: Tensor, normalized_shape: int | tuple[int, ...] | list[int],
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each sample over its last ``len(normalized_shape)`` dimensions:
    y = (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance. Unlike
    batch_norm it needs no batch and behaves the same in training and evaluation."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.shape[input.ndim - len(shape):] != shape:
        raise ValueError(f"layer_norm: normalized_shape {shape} does not match the last "
                         f"dimensions of the input {input.shape}")
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    mean = input.mean(axes, keepdim=True)
    var = input.var(axes, keepdim=True, correction=0)
    out = _normalize(input, mean, var, eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


class EmbeddingLookup(Function):
    """y = weight[indices];  dweight = zeros with row i += every grad row looked up from i,
    except rows looked up at ``padding_idx`` (they get no gradient)."""

    @staticmethod
    def forward(ctx: Function, weight: np.ndarray, indices: np.ndarray,
                padding_idx: int | None) -> np.ndarray:
        ctx.indices, ctx.padding_idx = indices, padding_idx
        return weight[indices]

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        if ctx.padding_idx is not None:
            keep = (ctx.indices != ctx.padding_idx)[..., None].astype(grad.dtype)
            grad = grad * Tensor.make(keep)
        return IndexAdd.apply(grad, shape=ctx.inputs[0].shape, index=ctx.indices)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Look up rows of ``weight`` (num_embeddings, dim) by the integer ``input``."""
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    num = weight.shape[0]
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}; use .long()")
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError(f"embedding: index out of range: values in [{idx.min()}, {idx.max()}] "
                         f"for a table of {num} rows")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    return EmbeddingLookup.apply(weight, indices=idx, padding_idx=padding_idx)


__all__ = [
    "batch_norm", "embedding", "layer_norm",
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
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "gaussian_nll_loss",
    "huber_loss", "kl_div", "l1_loss", "log_cosh_loss", "mse_loss", "multilabel_soft_margin_loss",
    "nll_loss", "poisson_nll_loss", "smooth_l1_loss", "soft_margin_loss",
]
__all__ += ["distillation_loss"]
