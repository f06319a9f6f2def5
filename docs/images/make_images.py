"""Make the pictures used in the README and docs/viz.md.

    PYTHONPATH=. python docs/images/make_images.py

Writes docs/images/mlp_graph.svg: one training step of a tiny 2-layer MLP (2-3-2, batch 4)
with every value and gradient, drawn by ``minigrad.viz.draw``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import nn, viz
from minigrad.nn import functional as F

HERE = Path(__file__).parent


class Linear(nn.Module):
    def __init__(self, n_in: int, n_out: int, g: np.random.Generator) -> None:
        super().__init__()
        self.weight = nn.Parameter(g.uniform(-1, 1, (n_out, n_in)).astype(np.float32))
        self.bias = nn.Parameter(np.zeros(n_out, dtype=np.float32))

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return F.linear(x, self.weight, self.bias)


class MLP(nn.Module):
    def __init__(self, g: np.random.Generator) -> None:
        super().__init__()
        self.fc1 = Linear(2, 3, g)
        self.fc2 = Linear(3, 2, g)

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return self.fc2(F.relu(self.fc1(x)))


def main() -> None:
    g = np.random.default_rng(0)
    model = MLP(g)
    x = mg.tensor(g.normal(size=(4, 2)).astype(np.float32))
    x.label = "x"
    y = mg.tensor([0, 1, 1, 0])
    with viz.record_modules(model):
        logits = model(x)
    loss = viz.trace_grads(-F.log_softmax(logits, 1).gather(1, y.unsqueeze(1)).mean())
    loss.label = "loss"
    loss.backward()
    path = viz.draw(loss, model=model, rankdir="TB").save(HERE / "mlp_graph.svg")
    print("wrote", path)


if __name__ == "__main__":
    main()
