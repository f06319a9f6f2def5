"""Small models for the debug-tool tests, built from ``minigrad.nn`` layers.

The tests derive expected statistics from the initial weights (for example the hidden
activations ``relu(x W^T)``), so the layers are initialised from the test's numpy generator
rather than minigrad's global one: W ~ N(0, 1/fan_in) and b = 0, which keeps the bias out
of those formulas.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from minigrad import nn


def normal_init_(layer: nn.Linear, rng: np.random.Generator) -> nn.Linear:
    """Set ``layer.weight`` ~ N(0, 1/fan_in) drawn from ``rng`` and ``layer.bias`` to 0."""
    fan_out, fan_in = layer.weight.shape
    layer.weight.data[...] = rng.normal(0, 1 / np.sqrt(fan_in), (fan_out, fan_in))
    layer.bias.data[...] = 0.0
    return layer


def linear(fan_in: int, fan_out: int, rng: np.random.Generator) -> nn.Linear:
    """An ``nn.Linear(fan_in, fan_out)`` initialised by :func:`normal_init_`."""
    return normal_init_(nn.Linear(fan_in, fan_out), rng)


def mlp(n_in: int, hidden: int, n_out: int, rng: np.random.Generator,
        act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """``fc1 -> act -> fc2`` as an ``nn.Sequential`` with those child names."""
    return nn.Sequential(OrderedDict(fc1=linear(n_in, hidden, rng), act=act(),
                                     fc2=linear(hidden, n_out, rng)))
