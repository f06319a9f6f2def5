"""Regression losses: L1, MSE, Huber, SmoothL1, PoissonNLL, GaussianNLL, LogCosh."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests import reference_losses_a as ref

X5 = np.array([0.0, 0.5, 1.0, 3.0, -2.0])
REDUCTIONS = ["none", "mean", "sum"]


def T(a, requires_grad=False, dtype=np.float64):
    return mg.Tensor(np.array(a, dtype=dtype), requires_grad=requires_grad)


def away_from(x: np.ndarray, kinks: list[float], rng: np.random.Generator) -> np.ndarray:
    """Resample elements within 1e-3 of a kink, so finite differences stay valid."""
    x = x.copy()
    for _ in range(100):
        near = np.zeros(x.shape, bool)
        for k in kinks:
            near |= np.abs(np.abs(x) - k) < 1e-3
        if not near.any():
            return x
        x[near] = rng.standard_normal(int(near.sum())) * 2
    raise AssertionError("could not avoid the kinks")


# ------------------------------------------------------------------ golden values (spec section 2)
@pytest.mark.parametrize("fn, kw, value, grad", [
    (F.l1_loss, {}, 1.3, [0, .2, .2, .2, -.2]),
    (F.mse_loss, {}, 2.85, [0, .2, .4, 1.2, -.8]),
])
def test_golden_mean(fn, kw, value, grad):
    x = T(X5, True)
    loss = fn(x, T(np.zeros(5)), **kw)
    loss.backward()
    assert loss.item() == pytest.approx(value, abs=1e-12)
    np.testing.assert_allclose(x.grad.data, grad, atol=1e-12)


@pytest.mark.parametrize("fn, kw, none, grad", [
    (F.huber_loss, {}, [0, .125, .5, 2.5, 1.5], [0, .5, 1, 1, -1]),
    (F.smooth_l1_loss, {"beta": .5}, [0, .25, .75, 2.75, 1.75], [0, 1, 1, 1, -1]),
])
def test_golden_none(fn, kw, none, grad):
    x = T(X5, True)
    loss = fn(x, T(np.zeros(5)), reduction="none", **kw)
    loss.sum().backward()
    np.testing.assert_allclose(loss.data, none, atol=1e-12)
    np.testing.assert_allclose(x.grad.data, grad, atol=1e-12)


def test_golden_poisson():
    y = T([0, 1, 2, 3, 4])
    np.testing.assert_allclose(F.poisson_nll_loss(T(X5), y, reduction="none").data,
                               [1, 1.148721, .718282, 11.085537, 8.135335], atol=1e-6)
    np.testing.assert_allclose(F.poisson_nll_loss(T(X5), y, full=True, reduction="none").data,
                               [1, 1.148721, 1.370088, 12.849618, 11.292598], atol=1e-6)


def test_golden_gaussian():
    x = T(X5, True)
    loss = F.gaussian_nll_loss(x, T(np.zeros(5)), 2.0, reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.data, [.346574, .409074, .596574, 2.596574, 1.346574], atol=1e-6)
    np.testing.assert_allclose(x.grad.data, [0, .25, .5, 1.5, -1], atol=1e-12)


# ------------------------------------------------------------------ reference matrix
ELEMENTWISE = [
    (F.l1_loss, ref.l1, {}),
    (F.mse_loss, ref.mse, {}),
    (F.huber_loss, ref.huber, {"delta": 0.7}),
    (F.smooth_l1_loss, ref.smooth_l1, {"beta": 0.6}),
    (F.smooth_l1_loss, ref.smooth_l1, {"beta": 0.0}),
    (F.log_cosh_loss, ref.log_cosh, {}),
    (F.poisson_nll_loss, ref.poisson_nll, {}),
    (F.poisson_nll_loss, ref.poisson_nll, {"full": True}),
]
SHAPES = [(), (5,), (3, 4), (2, 3, 2), (0,), (0, 3)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fn, reference, kw", ELEMENTWISE)
def test_matches_reference(fn, reference, kw, shape, reduction, rng):
    x = rng.standard_normal(shape)
    y = np.abs(rng.standard_normal(shape)) * 2 if fn is F.poisson_nll_loss else rng.standard_normal(shape)
    out = fn(T(x), T(y), reduction=reduction, **kw)
    expected = reference(x, y, reduction=reduction, **kw)
    assert out.shape == (shape if reduction == "none" else ())
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


def test_empty_mean_is_nan_sum_is_zero():
    for fn in (F.l1_loss, F.mse_loss, F.huber_loss, F.smooth_l1_loss, F.log_cosh_loss):
        assert np.isnan(fn(T(np.zeros((0, 2))), T(np.zeros((0, 2)))).item())
        assert fn(T(np.zeros((0, 2))), T(np.zeros((0, 2))), reduction="sum").item() == 0


def test_poisson_without_log_input(rng):
    x = rng.random((3, 4)) + 0.1
    y = rng.integers(0, 5, (3, 4)).astype(float)
    for red in REDUCTIONS:
        np.testing.assert_allclose(F.poisson_nll_loss(T(x), T(y), log_input=False, reduction=red).data,
                                   ref.poisson_nll(x, y, log_input=False, reduction=red), rtol=1e-12)


@pytest.mark.parametrize("var_shape", [(3, 4), (3,), (3, 1)])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_matches_reference(var_shape, full, rng):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    var = rng.random(var_shape) + 0.1
    ref_var = var[:, None] if var_shape == (3,) else var
    for red in REDUCTIONS:
        np.testing.assert_allclose(F.gaussian_nll_loss(T(x), T(y), T(var), full=full, reduction=red).data,
                                   ref.gaussian_nll(x, y, ref_var, full=full, reduction=red), rtol=1e-12)


def test_gaussian_clamps_var_straight_through():
    """v = max(var, eps) is used in the value, but var's gradient is the unclamped formula at v."""
    var = T([0.0, 1e-8, 2.0], True)
    x = T([1.0, 0.0, 1.0])
    loss = F.gaussian_nll_loss(x, T(np.zeros(3)), var, eps=1e-6, reduction="sum")
    loss.backward()
    v = np.array([1e-6, 1e-6, 2.0])
    np.testing.assert_allclose(loss.item(), np.sum(0.5 * (np.log(v) + x.data ** 2 / v)), rtol=1e-12)
    np.testing.assert_allclose(var.grad.data, 0.5 * (1 / v - x.data ** 2 / v ** 2), rtol=1e-12)


def test_broadcast_target_warns_and_broadcasts(rng):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal(4)
    with pytest.warns(UserWarning, match="different to the input size") as record:
        out = F.mse_loss(T(x), T(y))
    assert record[0].filename == __file__
    assert out.item() == pytest.approx(ref.mse(x, y), rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.mse_loss(T(x), T(x))


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn, kw, kinks", [
    (F.l1_loss, {}, [0.0]),
    (F.mse_loss, {}, []),
    (F.huber_loss, {"delta": 0.7}, [0.0, 0.7]),
    (F.smooth_l1_loss, {"beta": 0.6}, [0.0, 0.6]),
    (F.smooth_l1_loss, {"beta": 0.0}, [0.0]),
    (F.log_cosh_loss, {}, []),
])
def test_gradcheck_input_and_target(fn, kw, kinks, reduction, rng):
    y = rng.standard_normal((3, 4))
    x = y + away_from(rng.standard_normal((3, 4)), kinks, rng)
    xt, yt = T(x, True), T(y, True)
    assert gradcheck(lambda a, b: fn(a, b, reduction=reduction, **kw), (xt, yt))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn, kw", [(F.mse_loss, {}), (F.huber_loss, {"delta": 0.7}), (F.l1_loss, {}),
                                    (F.smooth_l1_loss, {"beta": 0.6}), (F.log_cosh_loss, {})])
def test_gradgradcheck_input_and_target(fn, kw, reduction, rng):
    """The fused losses' backward switches to Tensor ops under create_graph: differentiable again."""
    y = rng.standard_normal((2, 3))
    x = y + away_from(rng.standard_normal((2, 3)), [0.0, 0.6, 0.7], rng)
    assert gradgradcheck(lambda a, b: fn(a, b, reduction=reduction, **kw), (T(x, True), T(y, True)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_numpy_and_tensor_backward_agree(reduction, rng):
    from minigrad.autograd.engine import grad as autograd_grad

    y = T(rng.standard_normal((3, 4)), True)
    x = T(rng.standard_normal((3, 4)), True)
    for fn, kw in [(F.mse_loss, {}), (F.huber_loss, {"delta": 0.7}), (F.l1_loss, {}),
                   (F.smooth_l1_loss, {"beta": 0.6})]:
        out = fn(x, y, reduction=reduction, **kw)
        g = T(rng.standard_normal(out.shape))
        fast = autograd_grad(out, (x, y), g)
        slow = autograd_grad(fn(x, y, reduction=reduction, **kw), (x, y), g, create_graph=True)
        for f, s in zip(fast, slow):
            np.testing.assert_allclose(f.data, s.data, rtol=1e-14, atol=1e-15)


def test_gradgradcheck_poisson(rng):
    x = rng.standard_normal((2, 3))
    assert gradgradcheck(lambda a: F.poisson_nll_loss(a, T(np.abs(x))), (T(x, True),))


def test_broadcast_target_gets_summed_gradient(rng):
    x, y = T(rng.standard_normal((3, 4)), True), T(rng.standard_normal(4), True)
    with pytest.warns(UserWarning):
        F.mse_loss(x, y, reduction="sum").backward()
    np.testing.assert_allclose(y.grad.data, -2 * (x.data - y.data).sum(0), rtol=1e-12)


@pytest.mark.parametrize("log_input, full", [(True, False), (False, True)])
def test_gradcheck_poisson(log_input, full, rng):
    x = rng.random((3, 4)) + 0.2
    y = rng.integers(0, 5, (3, 4)).astype(float)
    assert gradcheck(lambda a: F.poisson_nll_loss(a, T(y), log_input=log_input, full=full), (T(x, True),))


def test_gradcheck_gaussian_input_and_var(rng):
    x, y, var = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.random(3) + 0.3
    assert gradcheck(lambda a, v: F.gaussian_nll_loss(a, T(y), v, full=True), (T(x, True), T(var, True)))


@pytest.mark.parametrize("fn, kw, reference", [
    (F.l1_loss, {}, ref.l1), (F.huber_loss, {"delta": 0.7}, ref.huber), (F.log_cosh_loss, {}, ref.log_cosh),
    (F.smooth_l1_loss, {"beta": 0.6}, ref.smooth_l1), (F.poisson_nll_loss, {}, ref.poisson_nll),
])
def test_grad_output_of_none(fn, kw, reference, rng):
    y = rng.standard_normal((3, 4))
    x = y + away_from(rng.standard_normal((3, 4)), [0.0, 0.6, 0.7], rng)
    g = rng.standard_normal((3, 4))
    xt = T(x, True)
    fn(xt, T(y), reduction="none", **kw).backward(T(g))
    expected = ref.numeric_vjp(lambda a: reference(a, y, reduction="none", **kw), x, g)
    np.testing.assert_allclose(xt.grad.data, expected, rtol=1e-6, atol=1e-7)


def test_kinks_use_pytorch_subgradients():
    d = T([-1.0, -0.5, 0.0, 0.5, 1.0], True)
    zero = T(np.zeros(5))
    expected = {
        "l1": (F.l1_loss, {}, [-1, -1, 0, 1, 1]),
        "huber": (F.huber_loss, {"delta": 0.5}, [-.5, -.5, 0, .5, .5]),
        "smooth_l1": (F.smooth_l1_loss, {"beta": 0.5}, [-1, -1, 0, 1, 1]),
        "smooth_l1 beta=0": (F.smooth_l1_loss, {"beta": 0.0}, [-1, -1, 0, 1, 1]),
    }
    for name, (fn, kw, grad) in expected.items():
        d.grad = None
        fn(d, zero, reduction="sum", **kw).backward()
        np.testing.assert_array_equal(d.grad.data, grad, err_msg=name)


def test_huber_is_continuous_at_delta():
    assert F.huber_loss(T([0.5]), T([0.0]), delta=0.5).item() == pytest.approx(0.125, abs=1e-15)
    assert F.smooth_l1_loss(T([0.5]), T([0.0]), beta=0.5).item() == pytest.approx(0.25, abs=1e-15)


def test_target_gradient_is_minus_input_gradient(rng):
    for fn in (F.l1_loss, F.mse_loss, F.huber_loss, F.smooth_l1_loss):
        x, y = T(rng.standard_normal(6), True), T(rng.standard_normal(6), True)
        fn(x, y).backward()
        np.testing.assert_array_equal(y.grad.data, -x.grad.data)


def test_non_contiguous_inputs(rng):
    base_x, base_y = rng.standard_normal((4, 6)), rng.standard_normal((6, 4))
    x, y = base_x[:, ::2], base_y.T[:, ::2]
    for fn in (F.l1_loss, F.mse_loss, F.huber_loss, F.smooth_l1_loss, F.log_cosh_loss, F.poisson_nll_loss):
        a, b = T(x, True), T(np.ascontiguousarray(x), True)
        fn(a, T(y)).backward()
        fn(b, T(np.ascontiguousarray(y))).backward()
        assert fn(a, T(y)).item() == fn(b, T(np.ascontiguousarray(y))).item()
        np.testing.assert_array_equal(a.grad.data, b.grad.data)


def test_float32_sums_accumulate_in_float64():
    x = np.full(1_000_000, 0.1, np.float32)
    out = F.l1_loss(T(x, dtype=np.float32), T(np.zeros_like(x), dtype=np.float32), reduction="sum")
    assert out.dtype == np.float32
    assert out.item() == np.float32(np.sum(x, dtype=np.float64))


# ------------------------------------------------------------------ properties
def test_smooth_l1_is_huber_over_beta(rng):
    x, y = rng.standard_normal(50) * 3, rng.standard_normal(50)
    for beta in (0.3, 1.0, 2.5):
        np.testing.assert_allclose(F.smooth_l1_loss(T(x), T(y), beta=beta, reduction="none").data,
                                   F.huber_loss(T(x), T(y), delta=beta, reduction="none").data / beta,
                                   rtol=1e-12)


def test_huber_tends_to_half_mse_and_grad_is_bounded(rng):
    x, y = rng.standard_normal(50) * 3, rng.standard_normal(50)
    assert F.huber_loss(T(x), T(y), delta=1e6).item() == pytest.approx(0.5 * F.mse_loss(T(x), T(y)).item())
    xt = T(x, True)
    F.huber_loss(xt, T(y), delta=0.4, reduction="sum").backward()
    assert np.abs(xt.grad.data).max() == pytest.approx(0.4)


def test_l1_gradient_is_a_sign(rng):
    x = T(np.concatenate([rng.standard_normal(20), np.zeros(3)]), True)
    F.l1_loss(x, T(np.zeros(23)), reduction="sum").backward()
    assert set(np.unique(x.grad.data)) <= {-1.0, 0.0, 1.0}


def test_sum_is_numel_times_mean(rng):
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    for fn in (F.l1_loss, F.mse_loss, F.huber_loss, F.smooth_l1_loss, F.log_cosh_loss):
        assert fn(T(x), T(y), reduction="sum").item() == pytest.approx(20 * fn(T(x), T(y)).item())


def test_log_cosh_is_stable_for_large_errors():
    out = F.log_cosh_loss(T([1000.0, -1000.0]), T([0.0, 0.0]), reduction="none")
    np.testing.assert_allclose(out.data, 1000 - np.log(2), rtol=1e-15)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("fn", [F.l1_loss, F.mse_loss, F.huber_loss, F.smooth_l1_loss, F.poisson_nll_loss,
                                F.log_cosh_loss])
def test_invalid_reduction(fn):
    with pytest.raises(ValueError, match="elementwise_mean is not a valid value for reduction"):
        fn(T([1.0]), T([0.0]), reduction="elementwise_mean")


def test_parameter_errors():
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for delta"):
        F.huber_loss(T([1.0]), T([0.0]), delta=0.0)
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta"):
        F.smooth_l1_loss(T([1.0]), T([0.0]), beta=-0.1)
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(T([1.0, 2.0]), T([0.0, 0.0]), T([1.0, -1.0]))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(T(np.zeros((3, 4))), T(np.zeros((3, 4))), T(np.ones(4)))
    with pytest.raises(ValueError, match="reduction"):
        F.gaussian_nll_loss(T([1.0]), T([0.0]), 1.0, reduction="avg")


# ------------------------------------------------------------------ Modules
def test_modules_call_the_functions(rng):
    x, y, v = T(rng.standard_normal((3, 4))), T(rng.standard_normal((3, 4))), T(rng.random((3, 4)) + .1)
    pairs = [
        (nn.L1Loss(reduction="sum"), F.l1_loss(x, y, reduction="sum")),
        (nn.MSELoss(), F.mse_loss(x, y)),
        (nn.HuberLoss(delta=0.3), F.huber_loss(x, y, delta=0.3)),
        (nn.SmoothL1Loss(beta=0.3, reduction="none"), F.smooth_l1_loss(x, y, beta=0.3, reduction="none")),
        (nn.LogCoshLoss(), F.log_cosh_loss(x, y)),
        (nn.PoissonNLLLoss(full=True), F.poisson_nll_loss(x, v, full=True)),
    ]
    for module, expected in pairs:
        target = v if isinstance(module, nn.PoissonNLLLoss) else y
        np.testing.assert_array_equal(module(x, target).data, expected.data)
    assert nn.GaussianNLLLoss(full=True)(x, y, v).item() == F.gaussian_nll_loss(x, y, v, full=True).item()
    assert "reduction='sum'" in repr(nn.L1Loss(reduction="sum"))


# ------------------------------------------------------------------ PyTorch oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_matches_torch(torch, dtype, reduction, rng):
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    y = rng.standard_normal((4, 5)).astype(dtype)
    x = (y + away_from(rng.standard_normal((4, 5)), [0.0, 0.5, 0.8], rng)).astype(dtype)
    var = (rng.random((4, 5)) + 0.1).astype(dtype)
    counts = rng.integers(0, 5, (4, 5)).astype(dtype)
    tf = torch.nn.functional
    cases = [
        (F.l1_loss, tf.l1_loss, {}, y, True),
        (F.mse_loss, tf.mse_loss, {}, y, True),
        (F.huber_loss, tf.huber_loss, {"delta": 0.5}, y, True),
        (F.smooth_l1_loss, tf.smooth_l1_loss, {"beta": 0.8}, y, True),
        (F.smooth_l1_loss, tf.smooth_l1_loss, {"beta": 0.0}, y, True),
        (F.poisson_nll_loss, tf.poisson_nll_loss, {"full": True}, counts, False),
        (F.poisson_nll_loss, tf.poisson_nll_loss, {"log_input": False}, counts, False),
    ]
    for mine, theirs, kw, target, target_grad in cases:
        xin = np.abs(x) + 0.1 if kw.get("log_input") is False else x
        a, b = T(xin, True, dtype), T(target, target_grad, dtype)
        ta = torch.tensor(xin, requires_grad=True)
        tb = torch.tensor(target, requires_grad=target_grad)
        out, tout = mine(a, b, reduction=reduction, **kw), theirs(ta, tb, reduction=reduction, **kw)
        g = rng.standard_normal(out.shape).astype(dtype)
        out.backward(T(g, dtype=dtype))
        tout.backward(torch.tensor(g))
        assert out.dtype == dtype
        np.testing.assert_allclose(out.data, tout.detach().numpy(), **tol, err_msg=theirs.__name__)
        np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), **tol, err_msg=theirs.__name__)
        if target_grad:
            np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), **tol, err_msg=theirs.__name__)
    for var_shape, full in [((4, 5), True), ((4,), False), ((4, 1), True)]:
        var_np = var if var_shape == var.shape else var[:, :1].reshape(var_shape)
        a, v = T(x, True, dtype), T(var_np, True, dtype)
        ta, tv = torch.tensor(x, requires_grad=True), torch.tensor(var_np, requires_grad=True)
        out = F.gaussian_nll_loss(a, T(y, dtype=dtype), v, full=full, reduction=reduction)
        tout = tf.gaussian_nll_loss(ta, torch.tensor(y), tv, full=full, reduction=reduction)
        g = rng.standard_normal(out.shape).astype(dtype)
        out.backward(T(g, dtype=dtype))
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(out.data, tout.detach().numpy(), **tol)
        np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), **tol)
        np.testing.assert_allclose(v.grad.data, tv.grad.numpy(), **tol)
