"""Answer key of lesson 12, normalisation and residual connections: the exercises and the
questionnaire. The references are minigrad's own `nn.BatchNorm1d` and `nn.LayerNorm`, and the
measured gradient ratio is compared with the scale invariance derived in the lesson."""

from __future__ import annotations

import numpy as np
from course import Exercise

import minigrad as mg
from minigrad import nn


def _batch_norm_reference(x, gamma, beta, eps):
    layer = nn.BatchNorm1d(x.shape[1], eps=eps).double()
    with mg.no_grad():
        layer.weight.data[...] = gamma
        layer.bias.data[...] = beta
    return layer(mg.tensor(x)).detach().numpy()


def _layer_norm_reference(x, eps=1e-5):
    return nn.LayerNorm(x.shape[1], eps=eps).double()(mg.tensor(x)).detach().numpy()


def _bn_inputs(rng: np.random.Generator) -> tuple:
    n, d = int(rng.integers(2, 9)), int(rng.integers(1, 6))
    return (rng.normal(rng.normal(0, 3), rng.uniform(0.5, 4), size=(n, d)), rng.normal(size=d),
            rng.normal(size=d), float(10.0 ** rng.uniform(-5, -1)))


EXERCISES: dict[str, Exercise] = {
    "12-shrink-factor": Exercise(
        kind="derive",
        task="the factor by which a plain ReLU block with default init shrinks the signal's std",
        hints=("Multiply the three effects on the second moment: n Var(w) from the matmul and "
               "1/2 from ReLU; then take a square root for the standard deviation.",
               "n Var(w) = n (1/sqrt(n))^2 / 3 = 1/3; times 1/2 for ReLU gives the variance factor. "
               "The std factor is its square root."),
        expected=lambda: 1 / np.sqrt(6),
        rtol=1e-4,
        solution='''shrink_per_layer = np.sqrt(1 / 3 * 1 / 2)

check("12-shrink-factor", shrink_per_layer)''',
    ),
    "12-bn-scale-gradient": Exercise(
        kind="predict",
        task="how a BatchNorm layer's weight gradient changes when the weight is scaled by 10",
        hints=("First: does the block's output change at all when W and b are multiplied by 10? "
               "BN subtracts the mean and divides by the standard deviation.",
               "The output is the same function of aW for every a > 0, so differentiating "
               "L(aW) = L(W) with respect to W gives a relation between the two gradients."),
        expected=lambda: 0.1,
        rtol=1e-6,
        solution='''gradient_factor = 0.1

check("12-bn-scale-gradient", gradient_factor)''',
    ),
    "12-batchnorm-forward": Exercise(
        kind="implement",
        task="BatchNorm's training-mode forward in numpy",
        hints=("Statistics per column: x.mean(axis=0) and x.var(axis=0) (numpy's var divides by N, "
               "as BatchNorm does in its forward).",
               "gamma * (x - mean) / np.sqrt(var + eps) + beta, with gamma and beta broadcasting "
               "over the rows."),
        reference=_batch_norm_reference,
        make_inputs=_bn_inputs,
        rtol=1e-7,
        atol=1e-9,
        solution='''def batch_norm(x, gamma, beta, eps):
    """Training-mode BatchNorm of an (N, D) array: per column (x - mean) / sqrt(var + eps)."""
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


check_function("12-batchnorm-forward", batch_norm)''',
    ),
    "12-layernorm-axis": Exercise(
        kind="bug",
        task="a LayerNorm that normalises over the batch instead of the features",
        hints=("Change one sample of the batch and see whether the other samples' outputs move. "
               "Which axis holds a sample's features?",
               "axis=0 runs over the samples (that is BatchNorm's statistic). LayerNorm's mean and "
               "variance are per row."),
        reference=_layer_norm_reference,
        make_inputs=lambda rng: (rng.normal(0, 2, size=(int(rng.integers(2, 7)), int(rng.integers(2, 7)))),),
        rtol=1e-7,
        atol=1e-9,
        solution='''def layer_norm(x, eps=1e-5):
    """LayerNorm of an (N, D) array with gamma = 1 and beta = 0."""
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


check_function("12-layernorm-axis", layer_norm)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "Why does a careful initialisation alone not keep a deep network's signals at a healthy "
    "scale during training?":
        "Initialisation sets the scales at step 0 only; training changes the weights, and with "
        "them each layer's gain, so the per-layer factors drift away from 1 and compound over the "
        "depth again.",
    "Over which axis does BatchNorm compute its statistics, and over which does LayerNorm?":
        "BatchNorm: per feature, over the batch (axis 0). LayerNorm: per sample, over its features "
        "(the last axis).",
    "Why does BatchNorm behave differently in `train()` and `eval()` mode, and LayerNorm not?":
        "BatchNorm's statistics come from the batch, which at inference may be one sample or "
        "correlated samples, so eval mode uses running averages gathered in training. LayerNorm "
        "uses each sample's own statistics, available the same way in both modes.",
    "Why is $\\mathrm{BN}(aWx) = \\mathrm{BN}(Wx)$, and what does it imply for the gradient of $W$?":
        "Scaling the pre-activations by a > 0 scales their batch mean and standard deviation by a, "
        "which cancels in (z - mean)/std (up to eps). Then L(aW) = L(W), and the chain rule gives "
        "dL/d(aW) = (1/a) dL/dW: larger weights get smaller gradients.",
    "Why can the gradient reach the first layer of a residual network even when every block's "
    "Jacobian is small?":
        "Each block's Jacobian is I + J_f, so the product over blocks contains the identity term: "
        "the loss's gradient reaches every layer through the skip connections unchanged, whatever "
        "the J_f's are.",
    "Why do BatchNorm and LayerNorm have learned $\\gamma$ and $\\beta$?":
        "Forcing zero mean and unit variance would restrict what a layer can represent (e.g. a "
        "ReLU would always see half its inputs negative); gamma and beta let the network choose "
        "the scale and offset, including undoing the normalisation.",
    "Why does the plain 20-layer network not learn even in its last layers, whose gradients are "
    "not small?":
        "Their input has vanished to a near-constant vector, the same for every image, so the last "
        "layers can only learn the class frequencies; the first layers, which could make the "
        "images distinguishable, get gradients many orders of magnitude too small.",
}
