"""LinearAct, the fused Linear layer: same values and gradients as the composition of
minigrad ops, gradcheck (float64) on the kernel and reference paths, exact second
derivatives through its create_graph path, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.kernels import set_jit_enabled
from minigrad.ops.linear import LinearAct

TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}
ACTIVATIONS = ("none", "relu", "tanh", "sigmoid", "gelu")


def leaf(a: np.ndarray) -> mg.Tensor:
    return mg.tensor(a.copy(), requires_grad=True)


@pytest.mark.parametrize("jit", [True, False])
def test_gradcheck_float64(rng, jit):  # noqa: ANN001
    x = leaf(rng.standard_normal((3, 4)))
    wt, b = leaf(rng.standard_normal((2, 4))), leaf(rng.standard_normal(2))
    with set_jit_enabled(jit):
        for act in ACTIVATIONS:
            assert mg.gradcheck(lambda v, m, c, act=act: LinearAct.apply(v, m, c, activation=act), [x, wt, b])


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_second_derivatives_are_exact(rng, activation):  # noqa: ANN001
    x = leaf(rng.standard_normal((3, 4)))
    wt, b = leaf(rng.standard_normal((2, 4))), leaf(rng.standard_normal(2))
    assert mg.gradgradcheck(lambda v, m, c: LinearAct.apply(v, m, c, activation=activation), [x, wt, b])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["none", "relu", "tanh", "sigmoid", "gelu"])
def test_linear_act_matches_composition(rng, dtype, activation):  # noqa: ANN001
    x = rng.standard_normal((2, 5, 4)).astype(dtype)
    w = rng.standard_normal((3, 4)).astype(dtype)
    b = rng.standard_normal(3).astype(dtype)
    ours = [leaf(x), leaf(w), leaf(b)]
    theirs = [leaf(x), leaf(w), leaf(b)]
    out = LinearAct.apply(*ours, activation=activation)
    z = theirs[0] @ theirs[1].T + theirs[2]
    ref = {"none": z, "relu": mg.relu(z), "tanh": mg.tanh(z), "sigmoid": mg.sigmoid(z),
           "gelu": mg.gelu(z)}[activation]
    np.testing.assert_allclose(out.data, ref.data, **TOL[dtype])
    upstream = mg.tensor(rng.standard_normal(out.shape).astype(dtype))
    out.backward(upstream)
    ref.backward(upstream)
    for a, c in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, c.grad.data, rtol=TOL[dtype]["rtol"] * 10,
                                   atol=TOL[dtype]["atol"] * 10)


def test_linear_act_without_bias_and_frozen_weight(rng):  # noqa: ANN001
    x, w = leaf(rng.standard_normal((3, 4))), mg.tensor(rng.standard_normal((2, 4)))
    LinearAct.apply(x, w, activation="relu").sum().backward()
    assert w.grad is None
    ref = leaf(x.data)
    mg.relu(ref @ w.T).sum().backward()
    np.testing.assert_allclose(x.grad.data, ref.grad.data, rtol=1e-12)


def test_clear_errors():
    x = mg.tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"input of shape \(2, 3\) and weight of shape \(2, 4\)"):
        LinearAct.apply(x, mg.tensor(np.zeros((2, 4))))
    with pytest.raises(ValueError, match="activation must be one of"):
        LinearAct.apply(x, mg.tensor(np.zeros((2, 3))), activation="swish")
