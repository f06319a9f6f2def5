"""Time to draw the graph of one training step of a 784-128-10 MLP (batch 128).

    PYTHONPATH=. python benchmarks/viz.py

Prints the median over a few runs of: DOT text only, and DOT + SVG (the ``dot`` program),
for the full graph and with ``collapse_modules=True``. Target: under 2 s each.
"""

from __future__ import annotations

import shutil

import numpy as np
from _bench import median_of

import minigrad as mg
from minigrad import nn, viz
from minigrad.nn import functional as F


class Linear(nn.Module):
    """y = x W^T + b (built here from Parameter + F.linear, independent of nn.Linear)."""

    def __init__(self, n_in: int, n_out: int, g: np.random.Generator) -> None:
        super().__init__()
        bound = 1.0 / np.sqrt(n_in)
        self.weight = nn.Parameter(g.uniform(-bound, bound, (n_out, n_in)).astype(np.float32))
        self.bias = nn.Parameter(g.uniform(-bound, bound, n_out).astype(np.float32))

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return F.linear(x, self.weight, self.bias)


class MLP(nn.Module):
    def __init__(self, g: np.random.Generator) -> None:
        super().__init__()
        self.fc1 = Linear(784, 128, g)
        self.fc2 = Linear(128, 10, g)

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return self.fc2(F.relu(self.fc1(x)))


def training_step() -> tuple[mg.Tensor, MLP]:
    g = np.random.default_rng(0)
    model = MLP(g)
    x = mg.tensor(g.random((128, 784), dtype=np.float32))
    x.label = "images"
    y = mg.tensor(g.integers(0, 10, 128))
    with viz.record_modules(model):
        logits = model(x)
    loss = viz.trace_grads(-F.log_softmax(logits, 1).gather(1, y.unsqueeze(1)).mean())
    loss.label = "loss"
    loss.backward()
    return loss, model


def main() -> None:
    loss, model = training_step()
    print("draw the graph of one 784-128-10 MLP training step (batch 128), median of 5 runs")
    print(f"{'variant':<28}{'DOT only':>12}{'DOT + SVG':>12}")
    for name, kwargs in (("full graph", {"params": model}),
                         ("collapse_modules=True", {"model": model, "collapse_modules": True})):
        dot_s = median_of(lambda kw=kwargs: viz.draw(loss, **kw).source, warmup=0)
        svg = (median_of(lambda kw=kwargs: viz.draw(loss, **kw).svg(), warmup=0)
               if shutil.which("dot") else float("nan"))
        print(f"{name:<28}{dot_s * 1e3:>10.1f}ms{svg * 1e3:>10.1f}ms")


if __name__ == "__main__":
    main()
