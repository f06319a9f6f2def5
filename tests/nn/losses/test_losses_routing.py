"""The losses routed through minigrad.kernels: the kernel path and the numpy path must agree.

Each test runs the same data down both paths (JIT on/off, or a shape/dtype that skips the
kernel) and compares, or compares with PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad.nn.functional as F
from minigrad import Tensor, optim
from minigrad.kernels.config import set_jit_enabled


def _loss_and_grad(fn, x, *args, jit, up=None, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
    with set_jit_enabled(jit):
        a = Tensor(x.copy(), requires_grad=True)
        loss = fn(a, *args, **kw)
        loss.backward(None if up is None else Tensor(up))
        return loss.data, a.grad.data


HALF_CASES = [
    (F.cross_entropy, lambda rng: Tensor(rng.integers(0, 3, 4))),
    (F.nll_loss, lambda rng: Tensor(rng.integers(0, 3, 4))),
    (F.mse_loss, lambda rng: Tensor(rng.standard_normal((4, 3)).astype(np.float16))),
    (F.l1_loss, lambda rng: Tensor(rng.standard_normal((4, 3)).astype(np.float16))),
    (F.huber_loss, lambda rng: Tensor(rng.standard_normal((4, 3)).astype(np.float16))),
    (F.smooth_l1_loss, lambda rng: Tensor(rng.standard_normal((4, 3)).astype(np.float16))),
    (F.binary_cross_entropy_with_logits, lambda rng: Tensor(rng.random((4, 3)).astype(np.float16))),
]


@pytest.mark.parametrize(("fn", "target"), HALF_CASES)
def test_float16_losses_run_with_jit_on_as_with_jit_off(fn, target, rng):  # noqa: ANN001
    x = rng.standard_normal((4, 3)).astype(np.float16)
    y = target(rng)
    loss_on, grad_on = _loss_and_grad(fn, x, y, jit=True)
    loss_off, grad_off = _loss_and_grad(fn, x, y, jit=False)
    assert loss_on.dtype == grad_on.dtype == np.float16
    np.testing.assert_allclose(loss_on.astype(np.float64), loss_off.astype(np.float64), rtol=2e-3)
    np.testing.assert_allclose(grad_on.astype(np.float64), grad_off.astype(np.float64), rtol=2e-3, atol=1e-4)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_float16_optimizers_run_with_jit_on_as_with_jit_off(name):  # noqa: ANN001
    results = []
    for jit in (True, False):
        with set_jit_enabled(jit):
            p = Tensor(np.array([1.0, -2.0, 3.0], np.float16), requires_grad=True)
            p.grad = Tensor(np.array([0.5, 0.25, -1.0], np.float16))
            getattr(optim, name)([p], lr=0.1).step()
            results.append(p.data)
    assert results[0].dtype == np.float16
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("activation", ["none", "relu", "gelu"])
def test_float16_linear_runs_with_jit_on_as_with_jit_off(activation, rng):  # noqa: ANN001
    from minigrad.ops.linear import LinearAct

    x, w, b = (rng.standard_normal(s).astype(np.float16) for s in ((4, 3), (2, 3), (2,)))
    results = []
    for jit in (True, False):
        with set_jit_enabled(jit):
            ts = [Tensor(v.copy(), requires_grad=True) for v in (x, w, b)]
            y = LinearAct.apply(*ts, activation=activation)
            y.sum().backward()
            results.append([y.data] + [t.grad.data for t in ts])
    for on, off in zip(*results):
        assert on.dtype == np.float16
        np.testing.assert_allclose(on.astype(np.float64), off.astype(np.float64), rtol=2e-3, atol=2e-3)


def _l1_grads(x, y, reduction):  # noqa: ANN001, ANN202
    """The L1 gradient down every path: kernel, reference, numpy (broadcast target), Tensor ops."""
    from minigrad import grad

    out = {}
    for jit in (True, False):
        out[f"jit={jit}"] = _loss_and_grad(F.l1_loss, x, Tensor(y), jit=jit, reduction=reduction)[1]
    with pytest.warns(UserWarning):
        out["numpy"] = _loss_and_grad(F.l1_loss, x[None], Tensor(y), jit=True, reduction=reduction)[1][0]
    a = Tensor(x.copy(), requires_grad=True)
    (g,) = grad(F.l1_loss(a, Tensor(y), reduction=reduction), [a], create_graph=True)
    out["create_graph"] = g.data
    return out


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_l1_gradient_at_nan_is_zero_on_every_path_as_in_torch(torch, reduction):  # noqa: ANN001
    x = np.array([np.nan, 2.0, -1.0, 0.5])
    y = np.array([0.0, 2.0, 1.0, np.nan])
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.l1_loss(tx, torch.tensor(y), reduction=reduction).sum().backward()
    for path, g in _l1_grads(x, y, reduction).items():
        np.testing.assert_array_equal(g, tx.grad.numpy(), err_msg=path)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
@pytest.mark.parametrize("target_dtype", [np.int64, np.int32, np.bool_])
def test_float32_input_with_integer_target_keeps_float32_as_torch(torch, name, target_dtype):  # noqa: ANN001
    """PyTorch promotes float32 with an integer target to float32 (or, for some losses, refuses
    integer targets: then the reference is the target converted to float32)."""
    x = np.array([[0.3, 2.0, 1.0], [-1.5, 0.25, 4.0]], np.float32)
    y = np.array([[0, 1, 3], [1, 0, 1]]).astype(target_dtype)
    for jit in (True, False):
        loss, grad = _loss_and_grad(getattr(F, name), x, Tensor(y), jit=jit)
        for torch_target in (y, y.astype(np.float32)):
            tx = torch.tensor(x, requires_grad=True)
            try:
                expected = getattr(torch.nn.functional, name)(tx, torch.tensor(torch_target))
                expected.backward()
                break
            except RuntimeError:
                continue
        assert loss.dtype == np.float32 and grad.dtype == np.float32
        np.testing.assert_allclose(loss, expected.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-6)


# ----------------------------------------------------------------------------- parity
CE_OPTIONS = [
    dict(),
    dict(label_smoothing=0.2),
    dict(weight="w", ignore_index=1),
    dict(weight="w", ignore_index=-100, label_smoothing=0.3),
]


def _options(kw, c, rng):  # noqa: ANN001, ANN202
    kw = dict(kw)
    if kw.get("weight") == "w":
        kw["weight"] = Tensor(rng.random(c) + 0.25)
    return kw


@pytest.mark.parametrize("classes", [3, 48, 49])
@pytest.mark.parametrize("options", CE_OPTIONS)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("jit", [True, False])
def test_cross_entropy_2d_kernel_path_agrees_with_numpy_path(classes, options, reduction, jit, rng):  # noqa: ANN001
    """(N, C) runs the kernel (C <= 48); the same data as (N, C, 1) runs the numpy functions."""
    n = 6
    x = rng.standard_normal((n, classes)) * 3
    t = rng.integers(0, classes, n)
    t[::3] = options.get("ignore_index", -100)
    kw = _options(options, classes, rng)
    up = rng.standard_normal(2 * n)[::2] if reduction == "none" else None  # odd strides
    loss2, grad2 = _loss_and_grad(F.cross_entropy, x, Tensor(t), jit=jit, up=up, reduction=reduction, **kw)
    loss3, grad3 = _loss_and_grad(F.cross_entropy, x[:, :, None], Tensor(t[:, None]), jit=jit,
                                  up=None if up is None else up[:, None], reduction=reduction, **kw)
    np.testing.assert_allclose(loss2, loss3.reshape(loss2.shape), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad2, grad3[:, :, 0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("options", CE_OPTIONS)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_cross_entropy_2d_jit_on_and_off_agree(options, reduction, rng):  # noqa: ANN001
    x = rng.standard_normal((7, 5)).astype(np.float32)
    t = rng.integers(0, 5, 7)
    t[::3] = options.get("ignore_index", -100)
    kw = _options(options, 5, rng)
    up = rng.standard_normal(7).astype(np.float32) if reduction == "none" else None
    on = _loss_and_grad(F.cross_entropy, x, Tensor(t), jit=True, up=up, reduction=reduction, **kw)
    off = _loss_and_grad(F.cross_entropy, x, Tensor(t), jit=False, up=up, reduction=reduction, **kw)
    for a, b in zip(on, off):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("jit", [True, False])
def test_regression_kernel_path_agrees_with_numpy_path(name, reduction, jit, rng):  # noqa: ANN001
    """Same shapes run the kernel; a target with an extra leading 1 broadcasts (numpy path)."""
    x = rng.standard_normal((4, 5))
    y = rng.standard_normal((4, 5))
    y[0, :2] = x[0, :2]
    results = []
    for target in (y, y[None]):
        with set_jit_enabled(jit), pytest.warns(UserWarning) if target.ndim == 3 else _nothing():
            a, b = Tensor(x.copy(), requires_grad=True), Tensor(target.copy(), requires_grad=True)
            loss = getattr(F, name)(a, b, reduction=reduction)
            loss.backward()
            results.append((loss.data, a.grad.data, b.grad.data.reshape(y.shape)))
    for k, (p, q) in enumerate(zip(*results)):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15, err_msg=f"output {k}")


def _nothing():  # noqa: ANN202
    import contextlib

    return contextlib.nullcontext()


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("options", CE_OPTIONS)
def test_gradgradcheck_cross_entropy_kernel_path(reduction, options, rng):  # noqa: ANN001
    from minigrad import gradgradcheck

    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    t = Tensor(np.array([0, 1, 2, 1]))
    kw = _options(options, 3, rng)
    assert gradgradcheck(lambda a: F.cross_entropy(a, t, reduction=reduction, **kw), (x,))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_gradgradcheck_nll_and_bce_with_logits(reduction, rng):  # noqa: ANN001
    from minigrad import gradgradcheck

    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    t = Tensor(np.array([0, 1, 2, 1]))
    w, q, y = Tensor(rng.random((4, 1))), Tensor(rng.random(3) + 0.5), Tensor(rng.random((4, 3)))
    assert gradgradcheck(lambda a: F.nll_loss(a, t, weight=q, reduction=reduction), (x,))
    assert gradgradcheck(lambda a: F.binary_cross_entropy_with_logits(a, y, w, reduction, q), (x,))


# ----------------------------------------------------------------------------- results stay put
def test_results_held_from_one_call_survive_the_next_call(rng):
    """A loss or gradient the caller holds must never change when the kernels run again."""
    x, y = rng.standard_normal((8, 4)), rng.random((8, 4))
    t = Tensor(rng.integers(0, 4, 8))
    calls = {
        "ce": lambda a: F.cross_entropy(a, t, reduction="none"),
        "nll": lambda a: F.nll_loss(a, t, reduction="none"),
        "bce": lambda a: F.binary_cross_entropy_with_logits(a, Tensor(y), reduction="none"),
        "mse": lambda a: F.mse_loss(a, Tensor(y), reduction="none"),
        "huber": lambda a: F.huber_loss(a, Tensor(y)),
    }
    for name, fn in calls.items():
        a1 = Tensor(x.copy(), requires_grad=True)
        loss1 = fn(a1)
        loss1.sum().backward()
        kept = loss1.data.copy(), a1.grad.data.copy()
        for scale in (2.0, -3.0, 0.5, 4.0, 7.0):
            a2 = Tensor(x * scale, requires_grad=True)
            loss2 = fn(a2)
            loss2.sum().backward()
        np.testing.assert_array_equal(loss1.data, kept[0], err_msg=name)
        np.testing.assert_array_equal(a1.grad.data, kept[1], err_msg=name)


def test_retained_graph_backward_twice_gives_the_same_gradient_after_other_calls(rng):
    x = rng.standard_normal((5, 3))
    t = Tensor(np.array([0, 2, 1, 1, 0]))
    a = Tensor(x.copy(), requires_grad=True)
    loss = F.cross_entropy(a, t)
    loss.backward(retain_graph=True)
    first = a.grad.data.copy()
    for k in range(6):
        F.cross_entropy(Tensor(x * (k + 2), requires_grad=True), t).backward()
    a.grad = None
    loss.backward()
    np.testing.assert_array_equal(a.grad.data, first)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
@pytest.mark.parametrize("jit", [True, False])
def test_integer_input_is_refused_not_truncated(name, jit):  # noqa: ANN001
    """PyTorch refuses integer inputs; a silently truncated integer loss (huber of [1, 3] = 1) is worse."""
    with set_jit_enabled(jit), pytest.raises(RuntimeError, match=f"{name}.*floating point.*int64"):
        getattr(F, name)(Tensor(np.array([1, 2])), Tensor(np.array([0, 5])))


# ----------------------------------------------------------------------------- zero total weight
def _zero_weight_case():  # noqa: ANN202
    """Every kept target has class weight 0 (one row ignored): the 'mean' divides 0 by 0."""
    x = np.array([[0.5, 1.0, -1.0], [0.2, 0.1, 0.3], [1.5, -0.5, 0.0]])
    return x, np.array([0, 1, 0]), np.array([0.0, 1.0, 1.0])


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("jit", [True, False])
def test_cross_entropy_zero_total_weight_is_nan_as_torch_on_every_path(torch, label_smoothing, create_graph,
                                                                        jit):  # noqa: ANN001
    from minigrad import grad

    x, t, w = _zero_weight_case()
    tx = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(tx, torch.tensor(t), weight=torch.tensor(w), ignore_index=1,
                                                 label_smoothing=label_smoothing)
    expected.backward()
    for xs, ts in ((x, t), (x[:, :, None], t[:, None])):  # kernel path, numpy path
        with set_jit_enabled(jit):
            a = Tensor(xs.copy(), requires_grad=True)
            loss = F.cross_entropy(a, Tensor(ts), weight=Tensor(w), ignore_index=1,
                                   label_smoothing=label_smoothing)
            (g,) = grad(loss, [a], create_graph=create_graph)
        np.testing.assert_array_equal(loss.data, expected.detach().numpy(), err_msg=f"loss {xs.ndim}-D")
        np.testing.assert_array_equal(g.data.reshape(x.shape), tx.grad.numpy(), err_msg=f"grad {xs.ndim}-D")


@pytest.mark.parametrize("create_graph", [False, True])
def test_nll_zero_total_weight_is_nan_at_the_targets_as_torch(torch, create_graph):  # noqa: ANN001
    from minigrad import grad

    x, t, w = _zero_weight_case()
    tx = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.nll_loss(tx, torch.tensor(t), weight=torch.tensor(w), ignore_index=1)
    expected.backward()
    a = Tensor(x.copy(), requires_grad=True)
    loss = F.nll_loss(a, Tensor(t), weight=Tensor(w), ignore_index=1)
    (g,) = grad(loss, [a], create_graph=create_graph)
    np.testing.assert_array_equal(loss.data, expected.detach().numpy())
    np.testing.assert_array_equal(g.data, tx.grad.numpy())
