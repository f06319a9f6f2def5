"""Shared by the replay and viz tests: an MLP's Adam step, captured, and batches for it."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.replay import CapturedStep


def captured_mlp(sizes: tuple[int, ...], batch: int, batches: int = 4,
                 dtype: type = np.float32) -> tuple[CapturedStep, list[tuple[mg.Tensor, mg.Tensor]]]:
    """``mg.capture`` of a Linear/ReLU MLP's cross-entropy + Adam step (seed 0), and
    ``batches`` random batches of ``batch`` rows for it (not yet run)."""
    mg.manual_seed(0)
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b, dtype=dtype), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    opt = optim.Adam(model.parameters(), lr=1e-2)

    def train_step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    rng = np.random.default_rng(0)
    data = [(mg.from_numpy(rng.standard_normal((batch, sizes[0])).astype(dtype)),
             mg.from_numpy(rng.integers(0, sizes[-1], batch))) for _ in range(batches)]
    return mg.capture(train_step, model=model), data
