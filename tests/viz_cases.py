"""Small, fully deterministic programs whose pictures the viz tests compare byte for byte."""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F


def scalar_expression() -> mg.Tensor:
    """micrograd's classic: L = tanh(a*b + 2*a), drawn before backward."""
    a = mg.tensor(2.0, requires_grad=True)
    b = mg.tensor(-3.0, requires_grad=True)
    a.label, b.label = "a", "b"
    c = a * b
    c.label = "c"
    out = (c + a * 2).tanh()
    out.label = "L"
    return out


def reuse() -> tuple[mg.Tensor, mg.Tensor]:
    """a + a: one value, two edges."""
    a = mg.tensor([1.0, -2.0], requires_grad=True)
    a.label = "a"
    return (a + a).sum(), a


class Lin(nn.Module):
    """A linear layer from the core pieces (y = x W^T + b)."""

    def __init__(self, n_in: int, n_out: int, seed: int) -> None:
        super().__init__()
        g = np.random.default_rng(seed)
        self.weight = nn.Parameter(g.uniform(-0.5, 0.5, (n_out, n_in)).astype(np.float32))
        self.bias = nn.Parameter(g.uniform(-0.1, 0.1, n_out).astype(np.float32))

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return F.linear(x, self.weight, self.bias)


class TinyMLP(nn.Module):
    def __init__(self, sizes: tuple[int, int, int] = (3, 4, 2)) -> None:
        super().__init__()
        self.fc1 = Lin(sizes[0], sizes[1], seed=1)
        self.fc2 = Lin(sizes[1], sizes[2], seed=2)

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return self.fc2(F.relu(self.fc1(x)))


def nll(logits: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
    return -F.log_softmax(logits, 1).gather(1, y.unsqueeze(1)).mean()


def mlp_step(record: bool = False) -> tuple[mg.Tensor, TinyMLP]:
    """Loss of a 3-4-2 MLP on 5 fixed points, with intermediate gradients traced."""
    from minigrad import viz

    model = TinyMLP()
    x = mg.tensor(np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32))
    x.label = "x"
    y = mg.tensor([0, 1, 1, 0, 1])
    if record:
        with viz.record_modules(model):
            logits = model(x)
    else:
        logits = model(x)
    loss = viz.trace_grads(nll(logits, y))
    loss.label = "loss"
    loss.backward()
    return loss, model


def nan_graph() -> mg.Tensor:
    """log of a negative number makes a NaN, which spreads to the output."""
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    x.label = "x"
    w = mg.tensor([0.5, 2.0], requires_grad=True)
    w.label = "w"
    return ((x * 3).log() * w + w).sum()
