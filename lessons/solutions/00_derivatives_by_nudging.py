"""Answer key of lesson 00, derivatives by nudging: the exercises and the questionnaire."""

from __future__ import annotations

import numpy as np
from course import Exercise


def _f(x):
    return np.exp(x) * np.sin(x)


def _f1(x):
    return np.exp(x) * (np.sin(x) + np.cos(x))


def _measured_best_central_step(x: float) -> float:
    """log10 of the step that minimises the float32 central-difference error of f'(x)."""
    steps = np.logspace(-15, 0, 301)
    xs = np.float32(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        errors = [abs(float((_f(xs + np.float32(h)) - _f(xs - np.float32(h))) / (2 * np.float32(h)))
                      - _f1(x)) for h in steps]
    return float(np.log10(steps[int(np.nanargmin(errors))]))


def _random_x_h(rng: np.random.Generator) -> tuple:
    return rng.uniform(-3, 3, size=8), 10.0 ** rng.uniform(-4, -1, size=8)


def _nudge_inputs(rng: np.random.Generator) -> tuple:
    return (lambda v: float(np.sum(np.tanh(v) * v)), rng.standard_normal(int(rng.integers(3, 8))))


def _numerical_gradient(fn, xn, h=1e-6):
    grad = np.zeros_like(xn)
    for j in range(xn.size):
        plus, minus = xn.copy(), xn.copy()
        plus[j] += h
        minus[j] -= h
        grad[j] = (fn(plus) - fn(minus)) / (2 * h)
    return grad


def _cube_inputs(rng: np.random.Generator) -> tuple:
    shape = tuple(rng.integers(1, 5, size=int(rng.integers(1, 3))))
    return rng.standard_normal(shape), rng.standard_normal(shape)


EXERCISES: dict[str, Exercise] = {
    "00-forward-error-cube": Exercise(
        kind="derive",
        task="the exact forward-difference error of x^3 as a closed form in x and h",
        hints=("Expand (x + h)^3 with the binomial theorem, subtract x^3, divide by h, then "
               "subtract the true derivative 3x^2.",
               "After dividing by h you have 3x^2 plus two more terms; one is linear in h, the "
               "other quadratic. Keep both."),
        reference=lambda x, h: 3 * x * h + h**2,
        make_inputs=_random_x_h,
        solution='''def forward_error_cube(x, h):
    """The exact error (g(x + h) - g(x)) / h - g'(x) of the forward difference of g(x) = x^3."""
    return 3 * x * h + h**2


check_function("00-forward-error-cube", forward_error_cube)''',
    ),
    "00-central-error-cube": Exercise(
        kind="derive",
        task="the exact central-difference error of x^3",
        hints=("Expand both (x + h)^3 and (x - h)^3; the terms with an even power of h cancel "
               "in the difference.",
               "The difference is 6x^2 h + 2h^3; divide by 2h and subtract 3x^2. The error does "
               "not depend on x."),
        reference=lambda x, h: h**2,
        make_inputs=_random_x_h,
        solution='''def central_error_cube(x, h):
    """The exact error (g(x + h) - g(x - h)) / (2h) - g'(x) of the central difference of x^3."""
    return h**2


check_function("00-central-error-cube", central_error_cube)''',
    ),
    "00-best-central-step-float32": Exercise(
        kind="predict",
        task="log10 of the best float32 central step, before the sweep measures it",
        hints=("Use h* = (3 eps |f(x0)| / |f'''(x0)|)^(1/3) with eps = np.finfo(np.float32).eps, "
               "then take np.log10.",
               "float32's eps is about 1.2e-7 and |f(x0)|, |f3(x0)| are both of order one here, "
               "so h* is near the cube root of eps: which power of ten is that?"),
        expected=_measured_best_central_step,
        rtol=0.0,
        atol=1.0,
        solution='''log10_h_star = np.log10(np.cbrt(3 * np.finfo(np.float32).eps * abs(f(x0)) / abs(f3(x0))))

check("00-best-central-step-float32", log10_h_star, x=x0)''',
    ),
    "00-nudge-loop-bug": Exercise(
        kind="bug",
        task="the nudging loop whose copies are made once, so the nudges pile up",
        hints=("Print plus after two turns of the loop: how many of its elements have been "
               "nudged?",
               "Each element must be nudged on its own, starting from an untouched copy of xn: "
               "make the copies inside the loop."),
        reference=_numerical_gradient,
        make_inputs=_nudge_inputs,
        rtol=1e-5,
        atol=1e-7,
        solution='''def numerical_gradient(fn, xn, h=1e-6):
    """Central differences of a scalar function fn of a 1-d numpy array, one element at a time."""
    grad = np.zeros_like(xn)
    for j in range(xn.size):
        plus, minus = xn.copy(), xn.copy()
        plus[j] += h
        minus[j] -= h
        grad[j] = (fn(plus) - fn(minus)) / (2 * h)
    return grad


check_function("00-nudge-loop-bug", numerical_gradient)''',
    ),
    "00-cube-backward": Exercise(
        kind="implement",
        task="the backward of y = x^3 as a numpy function",
        hints=("The chain rule: dL/dx = dL/dy * dy/dx, element by element.",
               "dy/dx for y = x^3 is 3x^2; multiply it by grad (do not sum: the shapes match)."),
        reference=lambda x, grad: 3 * x**2 * grad,
        make_inputs=_cube_inputs,
        solution='''def cube_backward(x, grad):
    """dL/dx for y = x^3, given x and dL/dy (numpy arrays of the same shape)."""
    return 3 * x**2 * grad


check_function("00-cube-backward", cube_backward)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "Why is the central difference more accurate than the forward difference for the same step?":
        "In the Taylor expansions of f(x + h) and f(x - h) the even-order terms cancel in the "
        "difference, so the central error starts at h^2 f'''/6 while the forward error starts at "
        "h f''/2: shrinking h tenfold gains two digits instead of one.",
    "Why does the error grow again when the step gets very small?":
        "Each evaluation of f is rounded to about eps |f|; the difference f(x + h) - f(x) loses "
        "those digits and dividing by h magnifies the rounding error like eps |f| / h.",
    "Why is the best central step about $\\varepsilon^{1/3}$ and the best forward step about "
    "$\\sqrt{\\varepsilon}$?":
        "The best step balances truncation against rounding: h^2 |f'''|/6 against eps |f|/h gives "
        "h ~ eps^(1/3); h |f''|/2 against eps |f|/h gives h ~ eps^(1/2).",
    "Why must gradients be checked in float64 rather than float32?":
        "In float32 the best central difference keeps only about 6 digits, and at the usual "
        "h = 1e-6 the rounding error is over a hundred times gradcheck's tolerance: a correct "
        "gradient fails and a slightly wrong one cannot be told apart. float64 keeps about 12.",
    "How many evaluations of $F$ does a central-difference gradient of $n$ inputs cost, and what "
    "does one backward cost?":
        "2n evaluations of F (two per input element); backprop gets the whole gradient of a "
        "scalar for about the cost of one forward pass more, whatever n is.",
    "What does `gradcheck` report when it fails, and why does it run backward twice?":
        "It names the input, the element, the analytical and numerical values; running backward "
        "twice catches a backward that is not deterministic or that changes state (accumulates "
        "into something it should not).",
}
