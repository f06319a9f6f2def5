"""Answer key of lesson 15, mixed precision and loss scaling: the exercises and the
questionnaire. The references are numpy's float16 (`np.spacing`, casts) and minigrad's own
`GradScaler` run on the same script."""

from __future__ import annotations

import numpy as np
from course import Exercise

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.amp import GradScaler, autocast


def _half_spacing_reference(x):
    return np.spacing(np.asarray(x, dtype=np.float16)).astype(np.float64)


def _normal_halves(rng: np.random.Generator) -> tuple:
    """Random float16 numbers between the smallest normal and 60000, as float64."""
    return (np.float16(10.0 ** rng.uniform(-4.2, 4.7, size=8)).astype(np.float64),)


def _underflow_reference(grads):
    nonzero = grads[grads != 0]
    return float((nonzero.astype(np.float16) == 0).mean())


def _grads(rng: np.random.Generator) -> tuple:
    g = (10.0 ** rng.uniform(-10, -2, size=int(rng.integers(20, 60)))).astype(np.float32)
    g[rng.random(g.size) < 0.2] = 0
    g[0] = 1e-3
    return (g * rng.choice([-1, 1], size=g.size).astype(np.float32),)


def _scale_after(bad_steps, steps):
    mg.manual_seed(0)
    model = nn.Linear(3, 1)
    sgd = optim.SGD(model.parameters(), lr=0.1)
    scaler = GradScaler(init_scale=2.0**16, growth_interval=3)
    for step in range(steps):
        sgd.zero_grad()
        scaler.scale(model(mg.ones((4, 3))).pow(2).mean()).backward()
        if step in bad_steps:
            model.weight.grad.data[0, 0] = np.inf
        scaler.step(sgd)
        scaler.update()
    return scaler.get_scale()


def _amp_step_reference(w0, x, y):
    model = nn.Linear(x.shape[1], 1, bias=False)
    model.weight.data[...] = w0
    sgd = optim.SGD(model.parameters(), lr=0.1)
    scaler = GradScaler(init_scale=2.0**10)
    with autocast():
        loss = F.mse_loss(model(mg.tensor(x)), mg.tensor(y))
    scaler.scale(loss).backward()
    scaler.unscale_(sgd)
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(sgd)
    scaler.update()
    return model.weight.detach().numpy()


def _regression(rng: np.random.Generator) -> tuple:
    d = int(rng.integers(2, 5))
    x = rng.normal(size=(8, d)).astype(np.float32)
    w0 = rng.normal(size=(1, d)).astype(np.float32)
    y = (x @ rng.normal(0, 3, size=(d, 1))).astype(np.float32)
    return w0, x, y


EXERCISES: dict[str, Exercise] = {
    "15-half-spacing": Exercise(
        kind="derive",
        task="the gap between neighbouring normal float16 numbers",
        hints=("x lies in [2^e, 2^(e+1)) with e = floor(log2 x); in that interval the 2^10 "
               "mantissa steps are evenly spaced.",
               "The interval has width 2^e and holds 2^10 steps: the gap is 2^e / 2^10."),
        reference=_half_spacing_reference,
        make_inputs=_normal_halves,
        rtol=1e-12,
        solution='''def half_spacing(x):
    """Gap from x (positive, normal float16 range) to the next float16 number."""
    return 2.0 ** (np.floor(np.log2(x)) - 10)


check_function("15-half-spacing", half_spacing)''',
    ),
    "15-underflow-fraction": Exercise(
        kind="implement",
        task="the fraction of nonzero gradients that round to 0 in float16",
        hints=("Select the nonzero entries first (grads[grads != 0]), then cast them with "
               ".astype(np.float16).",
               "Compare the cast values with 0 and take the mean of the booleans."),
        reference=_underflow_reference,
        make_inputs=_grads,
        solution='''def underflow_fraction(grads):
    """Fraction of the nonzero entries of grads that round to 0 in float16."""
    nonzero = grads[grads != 0]
    return float((nonzero.astype(np.float16) == 0).mean())


check_function("15-underflow-fraction", underflow_fraction)''',
    ),
    "15-predict-scale": Exercise(
        kind="predict",
        task="the GradScaler's scale after a script of good and overflowing steps",
        hints=("Walk the steps: an overflow halves S and resets the count of good steps; three "
               "good steps in a row double S and reset the count.",
               "Steps 0 and 1 halve twice; 2-4 are three good steps; 5 halves; 6-8 are three good "
               "steps; 9 is one good step, not enough to grow."),
        expected=_scale_after,
        solution='''scale_after_10 = 2.0**15

check("15-predict-scale", scale_after_10, bad_steps=(0, 1, 5), steps=10)''',
    ),
    "15-clip-before-unscale": Exercise(
        kind="bug",
        task="gradient clipping applied to the still-scaled gradients",
        hints=("What is the norm of the gradients at the moment clip_grad_norm_ sees them?",
               "They are still multiplied by S = 1024, so clipping to 1 clips almost always, and "
               "by the wrong factor. Unscale them explicitly before clipping."),
        reference=_amp_step_reference,
        make_inputs=_regression,
        rtol=1e-5,
        atol=1e-6,
        solution='''def amp_step(w0, x, y):
    """One autocast + GradScaler SGD step of y ~ x @ w.T with the gradient clipped to norm 1."""
    model = nn.Linear(x.shape[1], 1, bias=False)
    model.weight.data[...] = w0
    sgd = optim.SGD(model.parameters(), lr=0.1)
    scaler = GradScaler(init_scale=2.0**10)
    with autocast():
        loss = F.mse_loss(model(mg.tensor(x)), mg.tensor(y))
    scaler.scale(loss).backward()
    scaler.unscale_(sgd)
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(sgd)
    scaler.update()
    return model.weight.detach().numpy()


check_function("15-clip-before-unscale", amp_step)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "What do float16's 5 exponent bits and 10 mantissa bits each limit?":
        "The exponent limits the range: nothing above 65504, nothing normal below 6.1e-5, nothing "
        "at all below 2^-24 (about 6e-8). The mantissa limits the resolution: about 3 decimal "
        "digits, a relative gap of 2^-10 (2049 rounds to 2048).",
    "Why are gradients, more than activations or weights, the values float16 loses?":
        "Activations and weights are kept near unit scale by initialisation and normalisation, but "
        "gradients are products of many small factors (the 1/N of a mean loss, learning signals "
        "that shrink as the loss falls) and are often 1e-6 to 1e-9, below float16's range.",
    "Why does multiplying the loss by $S$ multiply every gradient by $S$, and why is dividing by "
    "$S$ in float32 harmless?":
        "Backpropagation is linear in the incoming gradient: every gradient is dL/dx times a "
        "product of local derivatives, so scaling dL by S scales them all. float32 has range to "
        "1e-38, so the unscaled values are represented exactly enough.",
    "What does `GradScaler` do when a gradient overflows, and why is skipping the step better "
    "than clipping it?":
        "It skips optimizer.step() for that iteration and halves the scale. An inf or NaN carries "
        "no direction to clip towards (and poisons the norm); skipping one step out of thousands "
        "costs little, and the smaller scale avoids the overflow next time.",
    "Why must `unscale_` come before gradient clipping?":
        "Until unscale_ the gradients are multiplied by S, so their norm is S times too large: "
        "clipping to a threshold meant for the true gradients would clip almost always and by "
        "the wrong factor.",
    "Why do softmax and the losses stay float32 under `autocast`?":
        "They exponentiate, take logs and sum many terms: in float16 exp overflows above 11, "
        "small probabilities round to 0 (log gives -inf), and long sums lose the small terms. "
        "They cost little compared with the matmuls, so keeping them float32 is cheap.",
    "Why does the scale grow again after `growth_interval` good steps instead of staying low?":
        "The right scale changes during training (gradients usually shrink), and a scale lower "
        "than needed lets more gradients underflow; growing it periodically probes for the "
        "largest scale that does not overflow.",
}
