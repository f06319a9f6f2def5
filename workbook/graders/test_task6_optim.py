"""Task 6: SGD (with and without momentum), RMSprop, Adam and clip_grad_norm_, graded against
``minigrad.optim`` (which follows ``torch.optim``): the same parameters receive the same random
gradients for several steps, and the parameters must agree after every step.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn as mgnn
from minigrad import optim as mgoptim
from workbook.grading import call, check_close, fail

pytestmark = pytest.mark.task6

STEPS = 6
SHAPES = [(3, 4), (4,), (2, 2)]
CONFIGS = {
    "SGD(lr=0.1)": ("SGD", {"lr": 0.1}, "p = p - lr * g"),
    "SGD(lr=0.1, momentum=0.9)": ("SGD", {"lr": 0.1, "momentum": 0.9},
                                  "b = g on the first step, then b = momentum * b + g; p = p - lr * b"),
    "RMSprop(lr=0.01, alpha=0.9)": ("RMSprop", {"lr": 0.01, "alpha": 0.9},
                                    "v = alpha v + (1 - alpha) g^2 starting from v = 0; "
                                    "p = p - lr g / (sqrt(v) + eps)"),
    "Adam(lr=0.01)": ("Adam", {"lr": 0.01},
                      "m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t) with t counted from 1 "
                      "(bias correction); p = p - lr m_hat / (sqrt(v_hat) + eps)"),
    "Adam(lr=0.003, betas=(0.8, 0.99))": ("Adam", {"lr": 0.003, "betas": (0.8, 0.99)},
                                          "use the betas passed in; bias-correct both moments"),
}


@pytest.mark.parametrize("config", list(CONFIGS))
def test_optimizer_steps(tt, config):
    """STEPS steps with fresh random gradients; the second parameter gets no gradient on step 3
    (``grad = None``: it must be left alone, its state too)."""
    name, kwargs, rule = CONFIGS[config]
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(s) for s in SHAPES]
    params = [tt.Tensor(a.copy(), requires_grad=True) for a in start]
    refs = [mgnn.Parameter(mg.tensor(a.copy())) for a in start]
    opt = call(f"{config}: constructing it from a generator of parameters",
               getattr(tt.optim, name), (p for p in params), **kwargs)
    ref_opt = getattr(mgoptim, name)(refs, **kwargs)
    for step in range(1, STEPS + 1):
        grads = [rng.standard_normal(s) * rng.uniform(0.1, 3) for s in SHAPES]
        for i, (p, r, g) in enumerate(zip(params, refs, grads)):
            skip = step == 3 and i == 1
            p.grad = None if skip else g.copy()
            r.grad = None if skip else mg.tensor(g.copy())
        call(f"{config}.step() (step {step})", opt.step)
        ref_opt.step()
        for i, (p, r) in enumerate(zip(params, refs)):
            inputs = {"initial parameter": start[i], "its gradient this step": grads[i]}
            skipped = step == 3 and i == 1
            note = " (its grad was None this step: leave it and its state alone)" if skipped else ""
            check_close(f"{config}: parameter {i} after step {step}{note}", p.data, r.detach().numpy(),
                        inputs=inputs, rtol=1e-9, atol=1e-12, hint=rule)


@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm(tt, max_norm):
    """Returns the total norm before clipping; scales all gradients by one factor only when it
    exceeds max_norm; skips parameters without a gradient."""
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(s) for s in SHAPES]
    params = [tt.Tensor(np.zeros(s), requires_grad=True) for s in SHAPES] + [tt.Tensor(np.zeros(2))]
    refs = [mgnn.Parameter(mg.zeros(s, dtype=mg.float64)) for s in SHAPES] + [mgnn.Parameter(mg.zeros(2))]
    for p, r, g in zip(params, refs, grads):
        p.grad, r.grad = g.copy(), mg.tensor(g.copy())
    inputs = {f"grad {i}": g for i, g in enumerate(grads)} | {"max_norm": max_norm}
    total = call(f"clip_grad_norm_(params, max_norm={max_norm})", tt.optim.clip_grad_norm_, params, max_norm,
                 inputs=inputs)
    ref_total = mgnn.utils.clip_grad_norm_(refs, max_norm)
    if not isinstance(total, float | np.floating | np.ndarray):
        fail(f"clip_grad_norm_(params, max_norm={max_norm})", f"expected the total norm as a float, got "
             f"{type(total).__name__}", inputs, "return sqrt(sum of every squared gradient element)")
    check_close(f"clip_grad_norm_(params, max_norm={max_norm}): returned total norm", np.asarray(total,
                dtype=np.float64), float(ref_total.item()), inputs=inputs, rtol=1e-9,
                hint="one norm over all parameters together: sqrt(sum over p of sum(g^2)), before clipping")
    for i, (p, r) in enumerate(zip(params[:-1], refs)):
        check_close(f"clip_grad_norm_(params, max_norm={max_norm}): gradient {i} afterwards", p.grad,
                    r.grad.numpy(), inputs=inputs, rtol=1e-9, atol=1e-12,
                    hint="if total > max_norm multiply every gradient by max_norm / (total + 1e-6), in "
                         "place; otherwise leave them unchanged")
