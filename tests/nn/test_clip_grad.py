"""Gradient clipping against the spec (losses.md section 10) and PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm


def _params(*grads: list[float]) -> list[mg.nn.Parameter]:
    ps = []
    for g in grads:
        p = mg.nn.Parameter(mg.zeros(len(g)))
        p.grad = mg.tensor(g)
        ps.append(p)
    return ps


def test_golden_norm_clip() -> None:
    ps = _params([3.0, 4.0], [0.0, 0.0, 12.0])
    total = clip_grad_norm_(ps, 1.0)
    assert total.shape == () and total.item() == pytest.approx(13.0)
    coef = 1.0 / (13.0 + 1e-6)
    np.testing.assert_allclose(ps[0].grad.data, [3 * coef, 4 * coef], rtol=1e-6)
    np.testing.assert_allclose(ps[1].grad.data, [0, 0, 12 * coef], rtol=1e-6)


def test_golden_value_clip() -> None:
    ps = _params([3.0, -4.0])
    assert clip_grad_value_(ps, 2.5) is None
    np.testing.assert_array_equal(ps[0].grad.data, [2.5, -2.5])


def test_no_clip_below_max_and_params_without_grad() -> None:
    ps = _params([0.3, 0.4])
    ps.append(mg.nn.Parameter(mg.ones(2)))
    assert clip_grad_norm_(ps, 1.0, foreach=True).item() == pytest.approx(0.5)
    np.testing.assert_allclose(ps[0].grad.data, [0.3, 0.4], rtol=1e-6)
    assert ps[1].grad is None
    assert clip_grad_norm_([], 1.0).item() == 0.0


def test_empty_generator_warns_and_returns_zero() -> None:
    with pytest.warns(UserWarning, match="empty generator"):
        total = clip_grad_norm_((p for p in []), 1.0)
    assert total.item() == 0.0


def test_inf_norm_and_other_p() -> None:
    ps = _params([3.0, -7.0], [5.0])
    assert clip_grad_norm_(ps, 14.0, norm_type=math.inf).item() == 7.0
    np.testing.assert_allclose(ps[0].grad.data, [3.0, -7.0])
    ps = _params([3.0, -7.0], [5.0])
    assert clip_grad_norm_(ps, 1.0, norm_type="inf").item() == 7.0
    np.testing.assert_allclose(ps[0].grad.data, np.array([3.0, -7.0]) / (7 + 1e-6), rtol=1e-6)
    assert get_total_norm([mg.tensor([1.0, -2.0]), mg.tensor([3.0])], 1).item() == 6.0


def test_nonfinite_total() -> None:
    ps = _params([1.0, float("nan")], [2.0])
    assert math.isnan(clip_grad_norm_(ps, 1.0).item())
    assert np.isnan(ps[0].grad.data).all() and np.isnan(ps[1].grad.data).all()
    ps = _params([1.0, float("inf")], [2.0])
    assert clip_grad_norm_(ps, 1.0).item() == math.inf
    np.testing.assert_array_equal(ps[1].grad.data, [0.0])
    assert ps[0].grad.data[0] == 0 and np.isnan(ps[0].grad.data[1])


def test_error_if_nonfinite_leaves_grads_untouched() -> None:
    ps = _params([1.0, float("inf")], [20.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(ps[1].grad.data, [20.0])
    assert ps[0].grad.data[1] == math.inf


def test_clip_grads_with_norm_composes() -> None:
    ps = _params([3.0, 4.0])
    total = get_total_norm([p.grad for p in ps])
    clip_grads_with_norm_(ps, 2.5, total)
    np.testing.assert_allclose(ps[0].grad.data, [1.5, 2.0], rtol=1e-6)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_matches_torch(torch, norm_type: float) -> None:
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) for s in [(4, 3), (3,), (2, 2, 2)]]
    ps = [mg.nn.Parameter(mg.zeros(*g.shape, dtype=mg.float64)) for g in grads]
    tps = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, tp, g in zip(ps, tps, grads):
        p.grad, tp.grad = mg.tensor(g), torch.tensor(g)
    total = clip_grad_norm_(ps, 0.7, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, 0.7, norm_type=norm_type)
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-12)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-12)
    clip_grad_value_(ps[0], 0.05)
    torch.nn.utils.clip_grad_value_(tps[0], 0.05)
    np.testing.assert_array_equal(ps[0].grad.data, tps[0].grad.numpy())
