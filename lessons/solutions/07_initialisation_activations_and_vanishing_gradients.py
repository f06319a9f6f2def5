"""Answer key of lesson 07, initialisation, activations and vanishing gradients: the exercises
and the questionnaire."""

from __future__ import annotations

import math

import numpy as np
from course import Exercise


def _fans_and_gain(rng: np.random.Generator) -> tuple:
    return int(rng.integers(1, 2000)), int(rng.integers(1, 2000)), float(rng.uniform(0.5, 2.0))


def _kaiming_normal(shape, seed):
    fan_out, fan_in = shape
    return np.random.default_rng(seed).standard_normal(shape) * math.sqrt(2 / fan_in)


def _shape_and_seed(rng: np.random.Generator) -> tuple:
    return (int(rng.integers(1, 60)), int(rng.integers(1, 60))), int(rng.integers(0, 2**31))


EXERCISES: dict[str, Exercise] = {
    "07-std-keep-variance": Exercise(
        kind="derive",
        task="the weight std that keeps Var(out) = Var(in) for n_in inputs",
        hints=("Start from Var(y) = n_in Var(w) Var(x) and ask for Var(y) = Var(x).",
               "That needs n_in * std^2 = 1; solve for std (math.sqrt is imported)."),
        expected=lambda n_in: 1 / math.sqrt(n_in),
        solution='''std_keep = 1 / math.sqrt(n_in)

_ = check("07-std-keep-variance", std_keep, n_in=n_in)''',
    ),
    "07-kaiming-std": Exercise(
        kind="derive",
        task="Kaiming-normal's std for a ReLU layer with fan_in inputs",
        hints=("Kaiming wants Var(w) = 2 / fan_in; the std is its square root.",
               "Write it as gain / sqrt(fan_in) with ReLU's gain sqrt(2)."),
        expected=lambda fan_in: math.sqrt(2 / fan_in),
        solution='''fan_in = 512
kaiming_std = math.sqrt(2 / fan_in)

_ = check("07-kaiming-std", kaiming_std, fan_in=fan_in)''',
    ),
    "07-xavier-bound": Exercise(
        kind="implement",
        task="the bound a of Xavier-uniform's U(-a, a), with a gain",
        hints=("Set a^2 / 3 equal to gain^2 * 2 / (fan_in + fan_out) and solve for a.",
               "a = gain * sqrt(3 * 2 / (fan_in + fan_out)): simplify 3 * 2."),
        reference=lambda fan_in, fan_out, gain=1.0: gain * math.sqrt(6 / (fan_in + fan_out)),
        make_inputs=_fans_and_gain,
        solution='''def xavier_uniform_bound(fan_in, fan_out, gain=1.0):
    """The a of U(-a, a) whose variance is gain^2 * 2 / (fan_in + fan_out)."""
    return gain * math.sqrt(6 / (fan_in + fan_out))


_ = check_function("07-xavier-bound", xavier_uniform_bound)''',
    ),
    "07-kaiming-fan-bug": Exercise(
        kind="bug",
        task="a hand-written Kaiming init that scales by the wrong fan",
        hints=("Which of the two sizes does one output of the layer sum over?",
               "Kaiming (fan_in mode) keeps the forward variance: each output sums in_features "
               "terms, so the std divides by that size."),
        reference=_kaiming_normal,
        make_inputs=_shape_and_seed,
        solution='''def my_kaiming_normal(shape, seed):
    """A (out_features, in_features) weight for a ReLU layer, Kaiming-normal, from a seed."""
    fan_out, fan_in = shape
    std = math.sqrt(2 / fan_in)
    return np.random.default_rng(seed).standard_normal(shape) * std


_ = check_function("07-kaiming-fan-bug", my_kaiming_normal)''',
    ),
    "07-relu-shrink-factor": Exercise(
        kind="predict",
        task="the factor by which a ReLU layer with std 0.01 weights shrinks the activations' RMS",
        hints=("Section 2: a ReLU layer multiplies the second moment E[x^2] by n_in Var(w) / 2.",
               "The RMS is the square root of the second moment, so take the square root of "
               "width * w_std**2 / 2."),
        expected=lambda width, w_std: math.sqrt(width * w_std**2 / 2),
        rtol=1e-3,
        solution='''w_std = 0.01
factor = math.sqrt(width * w_std**2 / 2)

_ = check("07-relu-shrink-factor", factor, width=width, w_std=w_std)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "Why does the variance of a linear layer's output grow with $n_\\text{in}$?":
        "Each output is a sum of n_in independent zero-mean terms w_i x_i, each of variance "
        "Var(w) Var(x), and variances of independent terms add.",
    "Why does the backward pass care about $n_\\text{out}$ rather than $n_\\text{in}$, and how does "
    "Xavier reconcile the two?":
        "Backward multiplies by W transposed, so each input's gradient sums n_out terms. Xavier "
        "takes Var(w) = 2 / (n_in + n_out), the harmonic compromise between 1/n_in and 1/n_out.",
    "Where does the factor 2 in Kaiming's $\\mathrm{Var}(w) = 2/n_\\text{in}$ come from?":
        "ReLU zeroes half of a symmetric input, so E[relu(y)^2] = Var(y) / 2; doubling Var(w) "
        "cancels that halving in every layer.",
    "Why did the tanh stack with std 1 have saturated activations *and* exploding gradients at the "
    "same time?":
        "n_in Var(w) = 128 pushes pre-activations far into tanh's flat tails (saturation), but "
        "the backward pass multiplies by W^T, whose scale sqrt(128) ~ 11 per layer outweighs "
        "the small derivatives of the few unsaturated units.",
    "Why is sigmoid a poor hidden activation for a deep stack, even with Xavier's scale?":
        "Its derivative is at most 1/4, so every layer shrinks the gradient by 4 or more, and "
        "its outputs have mean 1/2 rather than 0, which biases the next layer.",
    "What does `GradientMonitor`'s `vanishing` flag compare, and why is it relative?":
        "A layer's gradient norm with the largest layer's (below 1e-3 of it); relative because "
        "absolute gradient sizes depend on the loss and data scale, while a layer far below "
        "the others learns far slower whatever the scale.",
}
