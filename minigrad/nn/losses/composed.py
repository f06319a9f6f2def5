"""Composed losses: class-balanced, Wasserstein (WGAN), BPR, multi-task.

All are compositions of primitives: gradients, and second derivatives (WGAN-GP's gradient
penalty needs them), come from autograd.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...autograd.engine import grad
from ...functional import softplus
from ...ops.elementwise import where
from ...random import Generator, rng
from ...tensor import Tensor
from ..module import Module
from ._common import as_array, int_targets
from ._reduction import check_reduction, reduce
from .focal import sigmoid_focal_loss

LOSS_TYPES = ("softmax", "sigmoid", "focal")


def class_balanced_weights(samples_per_class: Any, beta: float) -> Tensor:
    """Cui et al. 2019: w_c = (1 - beta) / (1 - beta^n_c), normalised to sum to C (float64).

    (1 - beta^n) / (1 - beta) is the "effective number" of samples of a class: extra samples
    of a frequent class add less and less new information. beta = 0 gives all ones,
    beta -> 1 gives inverse class frequency.
    """
    n = np.asarray(as_array(samples_per_class), dtype=np.float64)
    if n.ndim != 1 or n.size == 0 or (n <= 0).any():
        raise ValueError(f"class_balanced_weights: samples_per_class must be a non-empty 1-D list "
                         f"of positive counts, got {n.tolist()}")
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"class_balanced_weights: beta must be in [0, 1), got {beta}")
    w = (1.0 - beta) / (1.0 - np.power(beta, n))
    return Tensor.make(w * n.size / w.sum())


def class_balanced_loss(input: Tensor, target: Any, samples_per_class: Any, beta: float = 0.9999,
                        loss_type: str = "softmax", gamma: float = 2.0,
                        reduction: str = "mean") -> Tensor:
    """loss_n = w[y_n] l_n with class_balanced_weights; 'mean' = sum_n w[y_n] l_n / N.

    input (N, C) logits, target (N) class indices. l_n is softmax cross-entropy
    ('softmax'), the sum over classes of BCE-with-logits against one-hot targets ('sigmoid'),
    or the same sum of sigmoid focal terms with ``gamma`` and no alpha ('focal', as in the
    paper). Unlike cross_entropy(weight=w), 'mean' divides by N, not by sum w[y_n].
    Gradient: w[y_n] dl_n/dx / N. Use it for long-tailed class distributions.
    """
    check_reduction("class_balanced_loss", reduction)
    if loss_type not in LOSS_TYPES:
        raise ValueError(f"class_balanced_loss: loss_type must be one of {LOSS_TYPES}, got {loss_type!r}")
    w = class_balanced_weights(samples_per_class, beta).data
    y = int_targets("class_balanced_loss", target)
    if input.ndim != 2 or y.shape != input.shape[:1] or input.shape[1] != w.size:
        raise ValueError(f"class_balanced_loss: expected input (N, {w.size}) and target (N), got "
                         f"{input.shape} and {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= w.size):
        raise IndexError(f"class_balanced_loss: target values must be in [0, {w.size}), got {y.tolist()}")
    onehot = np.eye(w.size, dtype=bool)[y]
    if loss_type == "softmax":
        per_sample = -where(onehot, input.log_softmax(1), 0.0).sum(1)
    else:
        g = Tensor.make(onehot.astype(input.dtype))
        per_class = sigmoid_focal_loss(input, g, alpha=-1.0, gamma=gamma if loss_type == "focal" else 0.0)
        per_sample = per_class.sum(1)
    return reduce(per_sample * Tensor.make(w[y].astype(input.dtype)), reduction)


def wasserstein_critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """WGAN critic loss: mean(D(fake)) - mean(D(real)).

    Minimising it widens the score gap, an estimate of the Wasserstein-1 distance when D is
    1-Lipschitz (weight clipping or :func:`gradient_penalty`). Gradient: 1/N_fake on each fake
    score, -1/N_real on each real one. No log, no sigmoid: gradients do not vanish.
    """
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: Tensor) -> Tensor:
    """WGAN generator loss: -mean(D(fake)); gradient -1/N on each fake score.

    Use it with :func:`wasserstein_critic_loss`: the generator raises the critic's score of
    its samples, moving them towards the real data under the Wasserstein-1 distance.
    """
    return -fake_scores.mean()


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                     weight: float = 10.0, generator: Generator | None = None) -> Tensor:
    """WGAN-GP: weight * mean((|grad_x D(x_hat)|_2 - 1)^2), x_hat = e real + (1 - e) fake.

    e ~ U[0, 1] per sample; the norm runs over all non-batch dims. The penalty is built with
    create_graph=True, so its gradient w.r.t. the critic's parameters is a second derivative
    (for a linear critic D(x) = x.w it is 2 weight (|w| - 1) w/|w|). Add it to the critic loss
    to keep D close to 1-Lipschitz, instead of clipping weights (Gulrajani et al. 2017).
    """
    if real.shape != fake.shape or real.ndim < 1:
        raise ValueError(f"gradient_penalty: real {real.shape} and fake {fake.shape} must be "
                         f"batches of the same shape")
    e = rng(generator).random((real.shape[0],) + (1,) * (real.ndim - 1)).astype(real.dtype)
    e = Tensor.make(e)
    x_hat = (e * real.detach() + (1.0 - e) * fake.detach()).requires_grad_()
    (g,) = grad(critic(x_hat).sum(), [x_hat], create_graph=True)
    norms = g.reshape(real.shape[0], -1).norm(2, 1)
    return weight * ((norms - 1.0) ** 2).mean()


def bpr_loss(pos_scores: Tensor, neg_scores: Tensor, reduction: str = "mean") -> Tensor:
    """Bayesian Personalized Ranking: loss = -log sigmoid(s_ui - s_uj) = softplus(s_uj - s_ui).

    Gradient: d/ds_ui = -sigmoid(s_uj - s_ui), d/ds_uj = +sigmoid(s_uj - s_ui) (divided by N
    for 'mean'). Scores broadcast (e.g. (N, 1) positives against (N, K) negatives). Use it
    to train recommenders from implicit feedback: an observed item should outscore an
    unobserved one.
    """
    check_reduction("bpr_loss", reduction)
    return reduce(softplus(neg_scores - pos_scores, threshold=float("inf")), reduction)


def multi_task_loss(losses: Sequence[Tensor], weights: Sequence[float]) -> Tensor:
    """Fixed-weight multi-task objective: L = sum_k w_k L_k.

    Gradient: dL/dL_k = w_k, so each task's gradient is scaled by its weight. Use it to train
    one network with several heads (e.g. classification + box regression) when you know how
    much each task should count; see nn.MultiTaskLoss(learn_uncertainty=True) to learn them.
    """
    if len(losses) != len(weights) or not losses:
        raise ValueError(f"multi_task_loss: need one weight per loss, got {len(losses)} losses and "
                         f"{len(weights)} weights")
    total = losses[0] * float(weights[0])
    for loss, w in zip(losses[1:], weights[1:]):
        total = total + loss * float(w)
    return total


class ClassBalancedLoss(Module):
    """Module form of :func:`class_balanced_loss`; the class weights are a buffer ``weight``."""

    def __init__(self, samples_per_class: Any, beta: float = 0.9999, loss_type: str = "softmax",
                 gamma: float = 2.0, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction("ClassBalancedLoss", reduction)
        if loss_type not in LOSS_TYPES:
            raise ValueError(f"ClassBalancedLoss: loss_type must be one of {LOSS_TYPES}, got {loss_type!r}")
        self.samples_per_class = [float(n) for n in as_array(samples_per_class).reshape(-1)]
        self.beta, self.loss_type, self.gamma, self.reduction = beta, loss_type, gamma, reduction
        self.register_buffer("weight", class_balanced_weights(self.samples_per_class, beta))

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return class_balanced_loss(input, target, self.samples_per_class, self.beta,
                                   self.loss_type, self.gamma, self.reduction)


class WassersteinLoss(Module):
    """WGAN losses: role 'critic' -> forward(real_scores, fake_scores); 'generator' ->
    forward(fake_scores)."""

    def __init__(self, role: str = "critic") -> None:
        super().__init__()
        if role not in ("critic", "generator"):
            raise ValueError(f"WassersteinLoss: role must be 'critic' or 'generator', got {role!r}")
        self.role = role

    def forward(self, *scores: Tensor) -> Tensor:
        expected = 2 if self.role == "critic" else 1
        if len(scores) != expected:
            raise TypeError(f"WassersteinLoss({self.role!r}).forward takes {expected} score tensors, "
                            f"got {len(scores)}")
        if self.role == "critic":
            return wasserstein_critic_loss(*scores)
        return wasserstein_generator_loss(*scores)


class BPRLoss(Module):
    """Module form of :func:`bpr_loss`: forward(pos_scores, neg_scores)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction("BPRLoss", reduction)
        self.reduction = reduction

    def forward(self, pos_scores: Tensor, neg_scores: Tensor) -> Tensor:
        return bpr_loss(pos_scores, neg_scores, self.reduction)
