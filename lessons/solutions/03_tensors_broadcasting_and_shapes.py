"""Answer key of lesson 03, tensors, broadcasting and shapes: the exercises and the questionnaire."""

from __future__ import annotations

import numpy as np
from course import Exercise

import minigrad as mg


def _shape_pair(rng: np.random.Generator) -> tuple:
    """Two broadcast-compatible shapes: a random shape, and a copy with some sizes set to 1
    and some leading dimensions dropped; either may come first."""
    full = tuple(int(n) for n in rng.integers(2, 5, size=int(rng.integers(0, 4))))
    other = tuple(1 if rng.random() < 0.4 else n for n in full)[int(rng.integers(0, len(full) + 1)):]
    return (full, other) if rng.random() < 0.5 else (other, full)


def _g_and_x(rng: np.random.Generator) -> tuple:
    n, d = (int(k) for k in rng.integers(2, 6, size=2))
    return rng.standard_normal((n, d)), rng.standard_normal((n, d))


def _scale_grad(G: np.ndarray, X: np.ndarray) -> np.ndarray:
    """By minigrad: L = sum(G * X * s), so dL/ds is s.grad."""
    s = mg.tensor(np.ones((X.shape[0], 1)), requires_grad=True)
    (mg.tensor(X) * s * mg.tensor(G)).sum().backward()
    return s.grad.numpy()


def _a_and_g(rng: np.random.Generator) -> tuple:
    n, m, p = (int(k) for k in rng.integers(1, 6, size=3))
    return rng.standard_normal((n, m)), rng.standard_normal((n, p))


def _matmul_grad_B(A: np.ndarray, G: np.ndarray) -> np.ndarray:
    """By minigrad: L = sum((A @ B) * G), so dL/dB is B.grad (B's value does not matter)."""
    B = mg.tensor(np.zeros((A.shape[1], G.shape[1])), requires_grad=True)
    ((mg.tensor(A) @ B) * mg.tensor(G)).sum().backward()
    return B.grad.numpy()


def _pred_and_target(rng: np.random.Generator) -> tuple:
    n = int(rng.integers(2, 8))
    return mg.tensor(rng.standard_normal(n)), mg.tensor(rng.standard_normal((n, 1)))


EXERCISES: dict[str, Exercise] = {
    "03-broadcast-shape": Exercise(
        kind="implement",
        task="the broadcasting rule: the shape of a + b from the shapes of a and b",
        hints=("Make both shapes the same length first, by putting 1s in front of the shorter "
               "one; then go position by position.",
               "In each position the sizes must be equal or one of them 1, and the result takes "
               "the larger; return a tuple."),
        reference=lambda sa, sb: tuple(np.broadcast_shapes(sa, sb)),
        make_inputs=_shape_pair,
        trials=20,
        solution='''def broadcast_shape(sa, sb):
    """The broadcast shape of two shapes, as a tuple."""
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    out = []
    for x, y in zip(sa, sb):
        if x != y and 1 not in (x, y):
            raise ValueError(f"cannot broadcast {x} with {y}")
        out.append(max(x, y))
    return tuple(out)


check_function("03-broadcast-shape", broadcast_shape)''',
    ),
    "03-scale-gradient": Exercise(
        kind="derive",
        task="the gradient of a per-row scale of shape (N, 1)",
        hints=("Y_ij = X_ij s_i: each s_i is used once per column j, so its gradient is a sum "
               "of shares over j. What is the share of one use?",
               "The share of Y_ij is G_ij times dY_ij/ds_i. Which axis do you sum over, and how "
               "do you keep the result (N, 1) rather than (N,)?"),
        reference=_scale_grad,
        make_inputs=_g_and_x,
        solution='''def scale_grad(G, X):
    """dL/ds for Y = X * s with s of shape (N, 1), given G = dL/dY and X, both (N, D)."""
    return (G * X).sum(axis=1, keepdims=True)


check_function("03-scale-gradient", scale_grad)''',
    ),
    "03-matmul-grad-b": Exercise(
        kind="derive",
        task="dL/dB for C = AB",
        hints=("C_ik = sum_j A_ij B_jk, so dC_ik/dB_jk = A_ij; sum the shares G_ik A_ij over the "
               "index that B does not have.",
               "The result must be (m, p) from A (n, m) and G (n, p): one of them transposed, "
               "times the other."),
        reference=_matmul_grad_B,
        make_inputs=_a_and_g,
        solution='''def matmul_grad_B(A, G):
    """dL/dB for C = A @ B, given A (n, m) and G = dL/dC (n, p); the result is (m, p)."""
    return A.T @ G


check_function("03-matmul-grad-b", matmul_grad_B)''',
    ),
    "03-silent-broadcast-bug": Exercise(
        kind="bug",
        task="an MSE whose (N,) - (N, 1) broadcasts to (N, N) without an error",
        hints=("Print (pred - target).shape for N = 3: how many differences does the mean "
               "average?",
               "Make the target the prediction's shape before subtracting (reshape or "
               "flatten it)."),
        reference=lambda p, t: ((p - t.reshape(-1)) ** 2).mean(),
        make_inputs=_pred_and_target,
        solution='''def mse(pred, target):
    """Mean squared error of pred (N,) against target (N, 1)."""
    return ((pred - target.reshape(pred.shape)) ** 2).mean()


check_function("03-silent-broadcast-bug", mse)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "In which order are two shapes compared when broadcasting, and when are two sizes "
    "compatible?":
        "From the right (trailing dimensions first); a missing dimension counts as 1. Two sizes "
        "are compatible when they are equal or one of them is 1; the result takes the larger.",
    "Why is the gradient of a broadcast bias the sum of the output gradient over the batch?":
        "Each b_j is used once per row, N times; by the multivariable chain rule the N shares "
        "G_ij add up, exactly like a + a in lesson 1.",
    "What does `unbroadcast` do, and when does the engine call it?":
        "It sums a gradient of the output's shape over the axes broadcasting added in front or "
        "stretched from size 1, giving the input's shape; the engine applies it to every share "
        "an op's backward returns.",
    "How can the shapes alone tell you whether $\\partial L/\\partial A$ is $G B^\\top$ or "
    "$B^\\top G$?":
        "dL/dA must be (n, m). G is (n, p) and B is (m, p); the only product of them with shape "
        "(n, m) is G B^T (B^T G does not even have matching inner sizes).",
    "Why is a prediction of shape (N,) against a target of shape (N, 1) dangerous, and how do "
    "you guard against it?":
        "pred - target broadcasts to (N, N), comparing every prediction with every target; the "
        "loss is still a number and training runs on the wrong objective. Reshape the target to "
        "the prediction's shape, assert shapes, or use F.mse_loss, which warns.",
    "What does `gradcheck` add to checking a broadcasting op against a formula?":
        "It nudges every element of every input, so it also tests the unbroadcasting (the sums "
        "over stretched axes) without any formula that could share the same mistake.",
}
