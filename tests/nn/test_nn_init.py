"""nn.init: gains, fans, and the statistics of every initialiser."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import init


def _w(*shape: int) -> mg.Tensor:
    return mg.zeros(*shape, dtype=mg.float64)


def test_calculate_gain_matches_torch(torch) -> None:
    for name in ("linear", "conv2d", "sigmoid", "tanh", "relu", "selu", "leaky_relu"):
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_fans() -> None:
    assert init._calculate_fan_in_and_fan_out(_w(30, 20)) == (20, 30)
    assert init._calculate_fan_in_and_fan_out(_w(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(_w(5))
    with pytest.raises(ValueError, match="Mode 'fan_avg' not supported"):
        init.kaiming_normal_(_w(3, 3), mode="fan_avg")


def _uniform_ok(t: mg.Tensor, bound: float) -> None:
    a = t.data
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.98 * bound
    np.testing.assert_allclose(a.std(), bound / math.sqrt(3), rtol=0.02)


def _normal_ok(t: mg.Tensor, std: float) -> None:
    a = t.data
    np.testing.assert_allclose(a.std(), std, rtol=0.02)
    assert abs(a.mean()) < 4 * std / math.sqrt(a.size)


def test_uniform_and_normal() -> None:
    t = _w(200, 100)
    assert init.uniform_(t, -2.0, 3.0) is t
    assert t.data.min() >= -2 and t.data.max() <= 3 and abs(t.data.mean() - 0.5) < 0.05
    _normal_ok(init.normal_(t, 0.0, 0.3), 0.3)
    assert init.constant_(t, 1.5).data.tolist()[0][:2] == [1.5, 1.5]
    assert not init.zeros_(t).data.any() and (init.ones_(t).data == 1).all()


def test_xavier() -> None:
    t = _w(300, 200)
    _uniform_ok(init.xavier_uniform_(t, gain=2.0), 2.0 * math.sqrt(6 / 500))
    _normal_ok(init.xavier_normal_(t), math.sqrt(2 / 500))


@pytest.mark.parametrize("mode, fan", [("fan_in", 200), ("fan_out", 300)])
def test_kaiming(mode: str, fan: int) -> None:
    t = _w(300, 200)
    _uniform_ok(init.kaiming_uniform_(t, mode=mode, nonlinearity="relu"), math.sqrt(6 / fan))
    _normal_ok(init.kaiming_normal_(t, mode=mode, nonlinearity="relu"), math.sqrt(2 / fan))
    _normal_ok(init.kaiming_normal_(t, a=0.3, mode=mode), math.sqrt(2 / 1.09 / fan))


def test_draws_from_global_generator_and_keeps_graph_clean() -> None:
    p = mg.nn.Parameter(mg.zeros(4, 4))
    mg.manual_seed(3)
    init.kaiming_uniform_(p)
    first = p.data.copy()
    mg.manual_seed(3)
    init.kaiming_uniform_(p)
    np.testing.assert_array_equal(p.data, first)
    assert p.grad_fn is None and p.is_leaf and p.dtype == np.float32
    g = mg.Generator(3)
    init.normal_(p, generator=g)
    np.testing.assert_array_equal(p.data, np.random.default_rng(3).normal(0, 1, (4, 4)).astype(np.float32))
