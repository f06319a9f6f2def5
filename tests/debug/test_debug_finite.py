"""check_finite stops a step at NaN/Inf before anything is updated, eager or captured."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.debug import NonFiniteError, check_finite


def _setup():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = optim.Adam(model.parameters(), lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        loss = check_finite(F.cross_entropy(model(x), y), "the loss")
        loss.backward()
        opt.step()
        return loss

    return model, step


def _batch(seed: int, bad: bool = False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    if bad:
        x[1, 2] = np.inf
    return mg.from_numpy(x), mg.from_numpy(rng.integers(0, 3, 6))


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("captured", [False, True])
def test_a_non_finite_loss_stops_the_step_before_any_update(captured):
    model, step = _setup()
    run = mg.capture(step) if captured else step
    for seed in range(4):
        run(*_batch(seed))
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(NonFiniteError, match="check_finite: the loss is nan") as info:
        run(*_batch(9, bad=True))
    assert np.isnan(info.value.value)
    for p, q in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, q)
    run(*_batch(5))
    assert not np.array_equal(model[0].weight.data, before[0])
    if captured:
        assert run.stats["replays"] == 4 and run.stats["recordings"] == 2  # the stopped one counts


def test_identity_value_and_gradient():
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = check_finite(x * 2.0)
    np.testing.assert_array_equal(y.data, [2.0, -4.0, 6.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])
    with pytest.raises(NonFiniteError, match="tensor is -inf"):
        check_finite(mg.tensor([1.0, -np.inf]))
