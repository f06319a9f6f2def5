"""Answer key of lesson 01, a scalar Value and its graph: the exercises and the questionnaire."""

from __future__ import annotations

import math

import numpy as np
from course import Exercise


def _do_dx1() -> float:
    """do/dx1 of o = tanh(x1 w1 + x2 w2 + b) at the lesson's neuron: w1 (1 - o^2)."""
    x1, x2, w1, w2, b = 2.0, 0.0, -3.0, 1.0, 6.8813735870195432
    return w1 * (1 - math.tanh(x1 * w1 + x2 * w2 + b) ** 2)


def _buggy_grad(a: float, b: float) -> float:
    """a.grad after the buggy backward of f = a*b + a: the closures run f's '+' first (a gets 1),
    then '*', which overwrites a's gradient with b * 1."""
    return b * 1.0


def _random_nonzero(rng: np.random.Generator) -> tuple:
    return (float(rng.uniform(0.1, 3.0) * rng.choice([-1.0, 1.0])),)


EXERCISES: dict[str, Exercise] = {
    "01-do-dx1-by-hand": Exercise(
        kind="derive",
        task="do/dx1 of the neuron by hand, the table's missing step",
        hints=("x1 feeds only the node x1*w1. Which gradient did that node receive in the table?",
               "For a product the local derivative by one factor is the other factor: multiply "
               "h['x1w1'].grad by the data of x1's partner."),
        expected=_do_dx1,
        solution='''dx1 = h["w1"].data * h["x1w1"].grad

check("01-do-dx1-by-hand", dx1)''',
    ),
    "01-predict-buggy-grad": Exercise(
        kind="predict",
        task="the gradient the `=`-instead-of-`+=` class reports for ab + a",
        hints=("Topological order is a, b, a*b, f; backward() runs the closures in reverse, so "
               "the '+' runs before the '*'.",
               "Each closure overwrites instead of adding: a.grad ends up holding only the share "
               "written by the closure that runs last."),
        expected=_buggy_grad,
        solution='''buggy_prediction = -2.0

check("01-predict-buggy-grad", buggy_prediction, a=3.0, b=-2.0)''',
    ),
    "01-pow-bug": Exercise(
        kind="bug",
        task="x ** n whose backward overwrites the gradient (`=` for `+=`)",
        hints=("p(x) = x^2 + x^3 uses x twice. What happens to the first share when the second "
               "closure runs?",
               "The closure assigns self.grad; gradients from several uses must be added."),
        expected=lambda xs: [2 * x + 3 * x**2 for x in xs],
        solution='''def power(self, n):
    out = Value(self.data**n, (self,), f"**{n}")

    def _backward():
        self.grad += n * self.data ** (n - 1) * out.grad

    out._backward = _backward
    return out


Value.__pow__ = power
xs = [-2.0, 0.5, 1.5]
pow_grads = []
for x0 in xs:
    x = Value(x0)
    (x**2 + x**3).backward()
    pow_grads.append(x.grad)
check("01-pow-bug", pow_grads, xs=xs)''',
    ),
    "01-relu-backward": Exercise(
        kind="implement",
        task="the backward closure of ReLU for the Value class",
        hints=("The closure must add relu's share into self.grad: out.grad times the local "
               "derivative.",
               "The local derivative is 1 where the output is positive and 0 elsewhere; "
               "(out.data > 0) is a bool that multiplies as 1 or 0. Use +=."),
        reference=lambda x0: 4.0 * (x0 > 0),
        make_inputs=_random_nonzero,
        solution='''def relu(self):
    out = Value(max(0.0, self.data), (self,), "relu")

    def _backward():
        self.grad += (out.data > 0) * out.grad

    out._backward = _backward
    return out


Value.relu = relu
check_function("01-relu-backward", relu_gradient)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "Why does `Value` keep its inputs in `_prev` in order and with repeats?":
        "Each use of an input is one edge of the graph and carries its own share of the "
        "gradient; a + a must show two edges, and the order says which argument is which.",
    "Why must `backward()` visit the nodes in reverse topological order?":
        "A node may pass its gradient on only after it has received all of it, that is after "
        "every node computed from it has run its closure; reverse topological order guarantees "
        "that.",
    "Why do the backward closures use `+=` rather than `=`?":
        "A value used in several places receives one share per use and dL/dvalue is their sum "
        "(the multivariable chain rule); = would keep only the last share.",
    "Why did the buggy class give the right gradients for the neuron but not for $ab + a$?":
        "In the neuron every value is used once, so each gradient receives a single share and "
        "overwriting loses nothing; in ab + a the value a is used twice and the second share "
        "overwrites the first.",
    "Why do the backward closures of `tanh` and `exp` use the output of the forward pass?":
        "Their derivatives are cheapest in terms of the output: d tanh/dx = 1 - t^2 and "
        "d exp/dx = exp(x); keeping the output avoids recomputing it.",
    "What does `viz.trace_grads` do, and why is it needed before drawing gradients of "
    "intermediate tensors?":
        "It asks the intermediate tensors of the graph to keep their .grad (like retain_grad); "
        "normally backward frees them and only leaves keep gradients, so the picture would show "
        "none.",
}
