"""Answer key of lesson 02, backprop is the chain rule: the exercises and the questionnaire."""

from __future__ import annotations

import math

import numpy as np
from course import Exercise

import minigrad as mg


def _clipped_grad(x: list[float], low: float, high: float) -> list[float]:
    """x.grad for y = sum((2x)^2) when a hook clips dy/dh = 2h = 4x to [low, high]: 2 clip(4x)."""
    return list(2 * np.clip(4 * np.asarray(x), low, high))


_CURVES = (lambda t: t.tanh(), lambda t: t * t.sin(), lambda t: t.exp() * t**2)


def _curve_and_point(rng: np.random.Generator) -> tuple:
    return _CURVES[int(rng.integers(len(_CURVES)))], float(rng.uniform(-1.5, 1.5))


def _second_derivative(fn, x0: float) -> float:
    x = mg.tensor(x0, dtype=mg.float64, requires_grad=True)
    (first,) = mg.grad(fn(x), x, create_graph=True)
    (second,) = mg.grad(first, x)
    return second.item()


EXERCISES: dict[str, Exercise] = {
    "02-predict-pile-up": Exercise(
        kind="predict",
        task="x.grad after five backward() calls without clearing it",
        hints=("Each backward() adds d/dx sin x into xs.grad; nothing clears it in between.",
               "The derivative of sin at 0.3 is math.cos(0.3); how many times is it added?"),
        expected=lambda x, calls: calls * math.cos(x),
        solution='''predicted = 5 * math.cos(0.3)

check("02-predict-pile-up", predicted, x=0.3, calls=5)''',
    ),
    "02-missing-zero-grad": Exercise(
        kind="bug",
        task="a gradient-descent loop that never clears the gradient",
        hints=("Print w.grad inside the loop: is it the gradient of this step's loss?",
               "Leaves accumulate into .grad; the optimizer has a method that clears it, and it "
               "must run once per step, before backward()."),
        reference=lambda steps, lr: 3 - 3 * (1 - 2 * lr) ** steps,
        make_inputs=lambda rng: (int(rng.integers(5, 30)), float(rng.uniform(0.05, 0.3))),
        solution='''def fit_w(steps, lr=0.1):
    w = mg.tensor(0.0, dtype=mg.float64, requires_grad=True)
    opt = mg.optim.SGD([w], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = (w - 3) ** 2
        loss.backward()
        opt.step()
    return w.item()


check_function("02-missing-zero-grad", fit_w)''',
    ),
    "02-predict-clipping-hook": Exercise(
        kind="predict",
        task="x.grad when a hook clips the gradient of an intermediate tensor",
        hints=("First find dy/dh without the hook, element by element; then clip it; then "
               "carry it back through h = 2x.",
               "dy/dh = 2h = 4x = (4, -8, 12) before the hook. After clipping, multiply by "
               "dh/dx."),
        expected=_clipped_grad,
        solution='''clipped_prediction = [2.0, -2.0, 2.0]

check("02-predict-clipping-hook", clipped_prediction, x=[1.0, -2.0, 3.0], low=-1.0, high=1.0)''',
    ),
    "02-second-derivative": Exercise(
        kind="implement",
        task="second derivatives by differentiating the gradient (create_graph=True)",
        hints=("Make x0 a float64 tensor that requires grad, take the gradient of fn(x) with "
               "mg.grad keeping its graph, then differentiate that gradient again.",
               "mg.grad(fn(x), x, create_graph=True) returns a tuple; its only element is "
               "itself differentiable with a second mg.grad. Return .item()."),
        reference=_second_derivative,
        make_inputs=_curve_and_point,
        rtol=1e-9,
        solution='''def second_derivative(fn, x0):
    """d^2 fn/dx^2 at x0, by differentiating the gradient (create_graph=True)."""
    x = mg.tensor(x0, dtype=mg.float64, requires_grad=True)
    (first,) = mg.grad(fn(x), x, create_graph=True)
    (second,) = mg.grad(first, x)
    return second.item()


check_function("02-second-derivative", second_derivative)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "What is the difference between `grad_fn` and `next_functions`?":
        "grad_fn is the node that made a tensor (None for a leaf); next_functions is that "
        "node's list of the grad_fn of each of its inputs, in order, so following it walks the "
        "graph back to the leaves.",
    "Why does the engine wait until a node's gradient is complete before calling its backward?":
        "Its backward passes on shares proportional to its gradient; if a consumer had not yet "
        "contributed, the shares sent further back would miss that path's term of the "
        "chain-rule sum. Reverse topological order makes every gradient complete in time.",
    "What goes wrong in a training loop without `zero_grad`, and when is accumulating gradients "
    "on purpose useful?":
        "Each step uses the sum of all past gradients, an undamped momentum that overshoots and "
        "oscillates. Accumulating on purpose sums the gradients of several small batches into "
        "one large-batch step.",
    "What is the difference between `retain_grad()` and `register_hook`, and what happens when a "
    "hook returns a tensor?":
        "retain_grad keeps an intermediate tensor's .grad after backward; a hook is called with "
        "the gradient as it is computed, and if it returns a tensor that tensor replaces the "
        "gradient flowing further back.",
    "Why does minigrad sort the graph with an explicit stack rather than recursion?":
        "Recursion uses one Python call per node and Python stops at about a thousand nested "
        "calls; an explicit stack handles graphs of any depth, such as the 10,000-op chain.",
    "What does `create_graph=True` record, and what is it for?":
        "It records the backward pass's own tensor ops as a graph, so the gradient is a "
        "differentiable tensor: second derivatives, Hessian-vector products, gradient "
        "penalties.",
}
