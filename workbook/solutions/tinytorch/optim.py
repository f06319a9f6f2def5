"""Task 6: SGD with momentum, RMSProp, Adam, and gradient clipping, as in ``torch.optim``.

An optimizer holds the list of parameters and one state array per parameter (a velocity,
a running mean of squared gradients...). ``step()`` reads each parameter's ``grad`` and
updates its ``data`` in place; parameters whose ``grad`` is None (unused in the last
backward pass) are skipped and their state is left alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .tensor import Tensor


class Optimizer:
    """Base class: keeps the parameters and clears their gradients."""

    def __init__(self, params: Iterable[Tensor]) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty list of parameters; "
                             f"pass model.parameters()")

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define step()")


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (heavy-ball) momentum."""

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0) -> None:
        """Task 6: store ``lr`` and ``momentum`` and one velocity buffer per parameter
        (None until the parameter's first step)."""
        super().__init__(params)
        self.lr, self.momentum = lr, momentum
        self.velocity: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        """Task 6: for each parameter p with gradient g:

            b = g                   on p's first step (PyTorch starts the buffer at g, not 0)
            b = momentum * b + g    afterwards
            p = p - lr * b          (with momentum 0 this is plain p - lr * g)

        Momentum averages recent gradients: steps along a consistent direction grow (up to
        1/(1 - momentum) times), zig-zags across a narrow valley cancel out.
        """
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            if self.momentum:
                b = self.velocity[i]
                b = g.copy() if b is None else self.momentum * b + g
                self.velocity[i] = b
                g = b
            p.data -= (self.lr * g).astype(p.dtype, copy=False)


class RMSprop(Optimizer):
    """Divide each step by a running root-mean-square of that parameter's gradients."""

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, alpha: float = 0.99,
                 eps: float = 1e-8) -> None:
        """Task 6: store the hyperparameters and one running average of g^2 per parameter,
        starting at zeros."""
        super().__init__(params)
        self.lr, self.alpha, self.eps = lr, alpha, eps
        self.square_avg = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        """Task 6: for each parameter p with gradient g:

            v = alpha * v + (1 - alpha) * g^2
            p = p - lr * g / (sqrt(v) + eps)

        Parameters with large gradients take smaller steps and vice versa: one learning
        rate fits directions of very different curvature. eps only guards against 0/0.
        """
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            v = self.alpha * self.square_avg[i] + (1 - self.alpha) * g * g
            self.square_avg[i] = v
            p.data -= (self.lr * g / (np.sqrt(v) + self.eps)).astype(p.dtype, copy=False)


class Adam(Optimizer):
    """Momentum (first moment) and RMSProp (second moment) together, with bias correction."""

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        """Task 6: store the hyperparameters and, per parameter, a step count t = 0 and two
        zero arrays: m (mean of g) and v (mean of g^2)."""
        super().__init__(params)
        self.lr, self.betas, self.eps = lr, betas, eps
        self.t = [0] * len(self.params)
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        """Task 6: for each parameter p with gradient g, count its step (t = t + 1; t is per
        parameter, as in PyTorch: a step where p had no gradient does not count), then

            m = b1 * m + (1 - b1) * g           v = b2 * v + (1 - b2) * g^2
            m_hat = m / (1 - b1^t)              v_hat = v / (1 - b2^t)
            p = p - lr * m_hat / (sqrt(v_hat) + eps)

        Bias correction: m and v start at 0, so early on they are shrunk towards 0 by a
        factor (1 - b^t) (0.1 for m and 0.001 for v at t = 1); dividing by it undoes that.
        Without it the first steps are wrong by a factor of about 3 (0.1 / sqrt(0.001)).
        """
        b1, b2 = self.betas
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            self.t[i] += 1
            c1, c2 = 1 - b1 ** self.t[i], 1 - b2 ** self.t[i]
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            update = self.lr * (self.m[i] / c1) / (np.sqrt(self.v[i] / c2) + self.eps)
            p.data -= update.astype(p.dtype, copy=False)


def clip_grad_norm_(params: Iterable[Tensor], max_norm: float) -> float:
    """Task 6: scale all gradients together so that their global L2 norm is at most
    ``max_norm``; return the norm they had before (as ``torch.nn.utils.clip_grad_norm_``).

        total = sqrt(sum over parameters of sum(g^2))       (skip grads that are None)
        if max_norm / (total + 1e-6) < 1: multiply every g by max_norm / (total + 1e-6)

    One factor for all parameters keeps the gradient's direction and only shortens it, so
    a single exploding batch cannot throw the weights far away.
    """
    grads = [p.grad for p in params if p.grad is not None]
    total = math.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads))
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for g in grads:
            g *= np.asarray(scale, dtype=g.dtype)
    return total
