"""The gradient monitor's one-pass norms agree with numpy, on every layout and dtype."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad.kernels import set_jit_enabled, stats
from minigrad.kernels.stats import update_norms, update_norms_reference


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("order", ["C", "F"])
def test_matches_numpy(rng, dtype, order):  # noqa: ANN001
    before = np.asarray(rng.standard_normal((7, 5)), dtype=dtype, order=order)
    weight = np.asarray(before + 1e-3 * rng.standard_normal((7, 5)), dtype=dtype, order=order)
    grad = np.asarray(rng.standard_normal((7, 5)), dtype=dtype, order=order)
    b64, w64, g64 = (a.astype(np.float64) for a in (before, weight, grad))
    expected = ((g64**2).sum(), (b64**2).sum(), ((w64 - b64) ** 2).sum())
    for jit in (True, False):
        with set_jit_enabled(jit):
            np.testing.assert_allclose(update_norms(weight, before, grad), expected, rtol=1e-12)
    np.testing.assert_allclose(update_norms_reference(weight, before, None)[0], 0.0)


def test_strided_views_take_the_reference_path(rng):  # noqa: ANN001
    big = rng.standard_normal((8, 8)).astype(np.float32)
    weight, before, grad = big[::2], big[1::2], big[::2, ::2]
    np.testing.assert_allclose(update_norms(weight, before, grad),
                               update_norms_reference(weight, before, grad), rtol=1e-12)


def test_float32_sums_do_not_overflow(rng):  # noqa: ANN001
    before = np.full(10, 1e30, np.float32)
    g2, b2, d2 = update_norms(before * 2, before, before)
    assert np.isfinite([g2, b2, d2]).all() and b2 == pytest.approx(10 * 1e60, rel=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [None, np.nan, np.inf, -np.inf])
def test_all_finite_agrees_with_numpy(dtype, bad):
    x = np.random.default_rng(0).standard_normal((5, 7)).astype(dtype)
    if bad is not None:
        x[3, 4] = bad
    expected = bool(np.isfinite(x).all())
    assert stats.all_finite(x) == expected
    assert stats.all_finite(x[:, ::2]) == bool(np.isfinite(x[:, ::2]).all())  # the numpy path
    with set_jit_enabled(False):
        assert stats.all_finite(x) == expected
