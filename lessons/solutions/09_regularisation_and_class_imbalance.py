"""Answer key of lesson 09, regularisation and class imbalance: the exercises and the
questionnaire."""

from __future__ import annotations

import numpy as np
from course import Exercise

import minigrad as mg
from minigrad import optim
from minigrad.nn import functional as F


def _sgd_step(w, g, lr, weight_decay):
    p = mg.tensor(np.array(w, dtype=np.float64), requires_grad=True)
    p.grad = mg.tensor(np.array(g, dtype=np.float64))
    optim.SGD([p], lr=lr, weight_decay=weight_decay).step()
    return p.detach().numpy()


def _weights_and_grads(rng: np.random.Generator) -> tuple:
    n = int(rng.integers(1, 8))
    return rng.standard_normal(n), rng.standard_normal(n), float(rng.uniform(0.01, 0.5)), \
        float(rng.uniform(0.01, 1.0))


def _classification(rng: np.random.Generator) -> tuple:
    n, c = int(rng.integers(2, 12)), int(rng.integers(2, 6))
    return rng.standard_normal((n, c)) * 3, rng.integers(0, c, n)


def _weighted_classification(rng: np.random.Generator) -> tuple:
    logits, target = _classification(rng)
    return logits, target, rng.uniform(0.1, 5.0, logits.shape[1])


def _weighted_ce(logits, target, weight):
    return F.cross_entropy(mg.tensor(logits), mg.tensor(target), weight=mg.tensor(weight)).item()


def _dice(logits, target, smooth=1.0):
    return F.dice_loss(mg.tensor(logits), mg.tensor(target), mode="multiclass", smooth=smooth).item()


EXERCISES: dict[str, Exercise] = {
    "09-weight-decay-twice": Exercise(
        kind="bug",
        task="an SGD step that applies weight decay twice",
        hints=("Count how many times weight_decay touches w in one call. optim.SGD adds it to "
               "the gradient and does nothing else.",
               "Either fold weight_decay * w into g or multiply w by (1 - lr * weight_decay), "
               "not both: for SGD each alone is the whole decay."),
        reference=_sgd_step,
        make_inputs=_weights_and_grads,
        solution='''def sgd_step(w, g, lr, weight_decay):
    """One SGD step with weight decay (PyTorch's coupled form) on numpy arrays."""
    return w - lr * (g + weight_decay * w)


_ = check_function("09-weight-decay-twice", sgd_step)''',
    ),
    "09-adamw-first-step": Exercise(
        kind="derive",
        task="AdamW's first step in closed form",
        hints=("AdamW first shrinks w by the factor (1 - lr * lambda); then comes Adam's own step, "
               "which on step 1 has m_hat = g and v_hat = g**2.",
               "Adam's step is lr * m_hat / (sqrt(v_hat) + eps) with eps = 1e-8; sqrt(g**2) is "
               "np.abs(g)."),
        expected=lambda w0, g0, lr, lam: (1 - lr * lam) * w0 - lr * g0 / (np.abs(g0) + 1e-8),
        solution='''A_np, b_np, w0 = A.numpy(), b.numpy(), np.array([1.0, -2.0, 3.0])
g0 = 2 * A_np.T @ (A_np @ w0 - b_np)
w1 = (1 - LR * LAM) * w0 - LR * g0 / (np.abs(g0) + 1e-8)

_ = check("09-adamw-first-step", w1, w0=w0, g0=g0, lr=LR, lam=LAM)''',
    ),
    "09-class-balanced-weights": Exercise(
        kind="derive",
        task="class-balanced weights from the class counts and beta",
        hints=("First the effective number per class, (1 - beta**n_c) / (1 - beta); use "
               "counts.astype(float) so the power is not integer arithmetic.",
               "Take 1 / E_c and rescale the vector so that it sums to len(counts)."),
        expected=lambda counts, beta: F.class_balanced_weights(counts, beta).numpy(),
        rtol=1e-10,
        solution='''effective = (1 - BETA ** counts.astype(float)) / (1 - BETA)
mine = (1 / effective) * len(counts) / (1 / effective).sum()

_ = check("09-class-balanced-weights", mine, counts=counts, beta=BETA)''',
    ),
    "09-weighted-ce": Exercise(
        kind="implement",
        task="weighted cross-entropy in numpy, against F.cross_entropy(weight=...)",
        hints=("log p of the true class: logits minus the row's log-sum-exp (subtract the row max "
               "first), picked with logits[np.arange(N), target].",
               "Weight each sample's -log p by weight[target], and divide the sum by the sum of "
               "weight[target], not by N."),
        reference=_weighted_ce,
        make_inputs=_weighted_classification,
        solution='''def weighted_cross_entropy(logits, target, weight):
    """Mean weighted cross-entropy of (N, C) logits, (N,) integer labels and (C,) class weights."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    w = weight[target]
    return -(w * log_p[np.arange(len(target)), target]).sum() / w.sum()


_ = check_function("09-weighted-ce", weighted_cross_entropy)''',
    ),
    "09-dice-loss": Exercise(
        kind="implement",
        task="the multiclass soft Dice loss in numpy, against F.dice_loss",
        hints=("p = softmax of the logits row by row, g = np.eye(C)[target]; the sums run over "
               "the batch axis (axis 0), giving one number per class.",
               "dice_c = (2 * (p * g).sum(0) + smooth) / (p.sum(0) + g.sum(0) + smooth); the loss "
               "is the mean of 1 - dice_c."),
        reference=_dice,
        make_inputs=_classification,
        solution='''def dice_loss_multiclass(logits, target, smooth=1.0):
    """Soft Dice loss of (N, C) logits against (N,) integer labels, averaged over classes."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    g = np.eye(logits.shape[1])[target]
    dice = (2 * (p * g).sum(0) + smooth) / (p.sum(0) + g.sum(0) + smooth)
    return (1 - dice).mean()


_ = check_function("09-dice-loss", dice_loss_multiclass)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "Why are weight decay and an L2 penalty the same thing for SGD but not for Adam?":
        "For SGD both give w <- (1 - lr lambda) w - lr g. Adam divides the gradient, including "
        "an L2 term, by sqrt(v_hat), so the decay becomes per-weight and small where gradients "
        "are large; decoupled decay (AdamW) shrinks every weight by the same factor.",
    "What happens if weight decay is applied both in the loss and in the optimizer?":
        "The weights are decayed twice per step (an effective lambda twice as large for SGD), "
        "which over-regularises; the bug is silent because training still runs.",
    "Why does the unregularised network's validation loss climb while its accuracy barely moves?":
        "It memorises the noisy training points with ever larger logits: the few validation "
        "points it gets wrong are then wrong with great confidence, which cross-entropy punishes "
        "heavily, while the count of wrong points (accuracy) changes little.",
    "Why is accuracy a poor metric on a 95/5 dataset, and what would you report instead?":
        "Always predicting the majority scores 95% and finds no minority case. Report per-class "
        "recall, precision and F1 (or macro F1) and the confusion matrix.",
    "What does focal loss's $(1 - p_y)^\\gamma$ do, and why did it barely change the minority "
    "recall here?":
        "It down-weights well-classified samples so hard ones dominate the gradient. Here the "
        "hard samples are in the overlap of the two blobs and come from both classes, so "
        "without alpha it does not shift the boundary towards the minority.",
    "How do the class-balanced weights behave as $\\beta$ goes from 0 to 1?":
        "beta = 0 gives equal weights (effective number 1 for every class); as beta approaches "
        "1 the effective number approaches n_c and the weights approach inverse frequency.",
    "Why does the Dice loss weigh a small class as much as a big one?":
        "Each class's Dice score is a ratio of overlap to size, normalised by that class's own "
        "total, and the loss averages the classes: a class of 100 samples counts as much as "
        "one of 1,900.",
}
