"""Answer key of lesson 06, optimizers: the exercises and the questionnaire."""

from __future__ import annotations

import numpy as np
from course import Exercise

import minigrad as mg
from minigrad import optim


def _with_optimizer(make_optimizer, grad_fn, theta, steps):
    """theta after `steps` steps of a minigrad optimizer fed the gradients grad_fn(theta)."""
    p = mg.tensor(np.array(theta, dtype=np.float64), requires_grad=True)
    opt = make_optimizer([p])
    for _ in range(steps):
        p.grad = mg.tensor(grad_fn(p.detach().numpy().copy()))
        opt.step()
    return p.detach().numpy()


def _random_quadratic(rng: np.random.Generator) -> tuple:
    """grad_fn of 1/2 x'Hx - b'x with H symmetric positive definite, a start, steps and a lr."""
    n = int(rng.integers(2, 6))
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    h = q @ np.diag(rng.uniform(0.5, 20.0, n)) @ q.T
    b = rng.standard_normal(n)
    return (lambda theta: h @ theta - b), rng.standard_normal(n) * 3, int(rng.integers(1, 30)), \
        float(rng.uniform(0.01, 0.3))


EXERCISES: dict[str, Exercise] = {
    "06-gd-divergence-lr": Exercise(
        kind="predict",
        task="the learning rate above which gradient descent on the kappa = 20 quadratic diverges",
        hints=("Each coordinate evolves on its own: theta_i <- (1 - lr * lambda_i) theta_i. For "
               "which lr does the factor's absolute value pass 1?",
               "The steep coordinate (lambda = 20) breaks first: solve |1 - 20 lr| = 1 for the "
               "positive lr."),
        expected=lambda curvatures: 2 / max(curvatures),
        rtol=0.02,
        solution='''lr_diverges_above = 2 / L

_ = check("06-gd-divergence-lr", lr_diverges_above, curvatures=(1.0, L))''',
    ),
    "06-critical-lr-tilted": Exercise(
        kind="derive",
        task="the largest stable learning rate for a non-diagonal quadratic, from its matrix",
        hints=("In the eigenbasis of A the quadratic is diagonal again; its curvatures are the "
               "eigenvalues of A.",
               "np.linalg.eigvalsh(A) returns the eigenvalues of a symmetric matrix; the largest "
               "one plays the role of L."),
        expected=lambda A: 2 / np.linalg.eigvalsh(A).max(),
        solution='''A = np.array([[3.0, 1.0], [1.0, 3.0]])
my_lr_crit = 2 / np.linalg.eigvalsh(A).max()

_ = check("06-critical-lr-tilted", my_lr_crit, A=A)''',
    ),
    "06-momentum-limit": Exercise(
        kind="derive",
        task="heavy-ball momentum's largest stable learning rate, in terms of mu and L",
        hints=("The product of the two roots is mu < 1, so they can only leave the unit circle "
               "as real roots; the one going negative crosses at z = -1.",
               "Evaluate p(-1) = 1 + (1 + mu - lr L) + mu and find the lr where it reaches 0."),
        expected=lambda mu, L: 2 * (1 + mu) / L,
        solution='''mu = 0.9
lr_limit_momentum = 2 * (1 + mu) / L

_ = check("06-momentum-limit", lr_limit_momentum, mu=mu, L=L)''',
    ),
    "06-adagrad": Exercise(
        kind="implement",
        task="AdaGrad's update, checked against optim.Adagrad on random quadratics",
        hints=("Keep a running sum s of the squared gradients, starting from zeros like theta; "
               "add g**2 to it before the step.",
               "The step is lr * g / (sqrt(s) + eps), elementwise, subtracted from theta; compute "
               "g = grad_fn(theta) afresh at every step."),
        reference=lambda grad_fn, theta, steps, lr, eps=1e-10: _with_optimizer(
            lambda ps: optim.Adagrad(ps, lr=lr, eps=eps), grad_fn, theta, steps),
        make_inputs=_random_quadratic,
        solution='''def adagrad(grad_fn, theta, steps, lr, eps=1e-10):
    """theta after `steps` AdaGrad updates; grad_fn(theta) returns the gradient (numpy arrays)."""
    theta = np.array(theta, dtype=float)
    s = np.zeros_like(theta)
    for _ in range(steps):
        g = grad_fn(theta)
        s = s + g**2
        theta = theta - lr * g / (np.sqrt(s) + eps)
    return theta


_ = check_function("06-adagrad", adagrad)''',
    ),
    "06-rmsprop": Exercise(
        kind="implement",
        task="RMSProp's update, checked against optim.RMSprop on random quadratics",
        hints=("Like AdaGrad, but the accumulator forgets: a moving average of g**2 with weight "
               "alpha on the old value.",
               "v = alpha * v + (1 - alpha) * g**2, then theta -= lr * g / (sqrt(v) + eps); v "
               "starts at zero."),
        reference=lambda grad_fn, theta, steps, lr, alpha=0.99, eps=1e-8: _with_optimizer(
            lambda ps: optim.RMSprop(ps, lr=lr, alpha=alpha, eps=eps), grad_fn, theta, steps),
        make_inputs=_random_quadratic,
        solution='''def rmsprop(grad_fn, theta, steps, lr, alpha=0.99, eps=1e-8):
    """theta after `steps` RMSProp updates; grad_fn(theta) returns the gradient."""
    theta = np.array(theta, dtype=float)
    v = np.zeros_like(theta)
    for _ in range(steps):
        g = grad_fn(theta)
        v = alpha * v + (1 - alpha) * g**2
        theta = theta - lr * g / (np.sqrt(v) + eps)
    return theta


_ = check_function("06-rmsprop", rmsprop)''',
    ),
    "06-adam": Exercise(
        kind="implement",
        task="Adam's update with bias correction, checked against optim.Adam on random quadratics",
        hints=("Two moving averages, m of g (beta1) and v of g**2 (beta2), both starting at zero; "
               "divide each by (1 - beta**t) before using it.",
               "With t = 1, 2, ...: m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t), "
               "theta -= lr * m_hat / (sqrt(v_hat) + eps)."),
        reference=lambda grad_fn, theta, steps, lr, beta1=0.9, beta2=0.999, eps=1e-8: _with_optimizer(
            lambda ps: optim.Adam(ps, lr=lr, betas=(beta1, beta2), eps=eps), grad_fn, theta, steps),
        make_inputs=_random_quadratic,
        solution='''def adam(grad_fn, theta, steps, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """theta after `steps` Adam updates; grad_fn(theta) returns the gradient."""
    theta = np.array(theta, dtype=float)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, steps + 1):
        g = grad_fn(theta)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


_ = check_function("06-adam", adam)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "Why does the largest curvature, not the smallest, set gradient descent's largest stable "
    "learning rate?":
        "Every direction of curvature lambda is multiplied by (1 - lr lambda) per step; the "
        "steepest one is the first whose factor passes -1 as lr grows, so lr < 2 / lambda_max.",
    "What does the condition number $\\kappa$ tell you about the speed of gradient descent?":
        "With the largest stable lr about 2/L, the flattest direction shrinks by about "
        "1 - 2/kappa per step: the number of steps grows in proportion to kappa.",
    "Why can momentum use a larger learning rate than plain gradient descent, and why did momentum "
    "with $\\eta = 0.02$, $\\mu = 0.9$ lose to plain gradient descent here?":
        "Across steep directions successive gradients alternate in sign and cancel in the "
        "velocity, which moves the limit to 2(1 + mu)/L. With lr 0.02 and mu 0.9 the iteration "
        "is underdamped in the flat direction and far from Polyak's optimum (lr about 0.13, mu "
        "about 0.40 for kappa = 20), so it spirals slowly; tuned, it beats GD by many orders.",
    "What is the difference between AdaGrad's and RMSProp's accumulator, and when does it matter?":
        "AdaGrad sums all squared gradients, so its effective step only shrinks; RMSProp keeps "
        "an exponential moving average, which forgets old gradients. It matters in long runs or "
        "when gradient scales change: AdaGrad can stall, RMSProp keeps moving.",
    "Why does Adam need bias correction, and what does its first step look like?":
        "m and v start at zero, so early on they underestimate the averages by factors "
        "1 - beta^t; dividing by them fixes that. On step 1 m_hat = g and v_hat = g^2, so each "
        "coordinate moves by lr * g / (|g| + eps), about lr against the sign of g.",
    "Why does Adam with a constant learning rate not converge to the exact minimum of the "
    "quadratic?":
        "Its step per coordinate is about lr * m_hat / sqrt(v_hat), of order lr even when the "
        "gradient is tiny, so near the minimum it keeps hopping around at a scale set by lr; a "
        "decaying learning rate (a scheduler) lets it settle.",
    "How does AdamW's weight decay differ from Adam with `weight_decay`?":
        "Adam adds lambda * theta to the gradient, which is then divided by sqrt(v_hat), so "
        "weights with large gradients are barely decayed. AdamW multiplies theta by "
        "(1 - lr lambda) separately, the same relative decay for every weight.",
}
