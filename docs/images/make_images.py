"""Make the pictures used in the README and docs/viz.md.

    PYTHONPATH=. python docs/images/make_images.py

Writes docs/images/mlp_graph.svg: one training step of a tiny 2-layer MLP (2-3-2, batch 4,
cross-entropy) with every value and gradient, drawn by ``minigrad.viz.draw``.
"""

from __future__ import annotations

from pathlib import Path

import minigrad as mg
from minigrad import nn, viz
from minigrad.nn import functional as F

HERE = Path(__file__).parent


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(2, 3)
        self.fc2 = nn.Linear(3, 2)

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return self.fc2(F.relu(self.fc1(x)))


def main() -> None:
    mg.manual_seed(0)
    model = MLP()
    x = mg.randn(4, 2)
    x.label = "x"
    y = mg.tensor([0, 1, 1, 0])
    with viz.record_modules(model):
        logits = model(x)
    loss = viz.trace_grads(F.cross_entropy(logits, y))
    loss.label = "loss"
    loss.backward()
    path = viz.draw(loss, model=model, rankdir="TB").save(HERE / "mlp_graph.svg")
    print("wrote", path)


if __name__ == "__main__":
    main()
