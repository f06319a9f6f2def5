"""Regression tests for issue 16's loss bugs (found by the differential fuzzer against PyTorch).

B03: target gradients. B09/B12: empty batches. B14: cross-entropy's numpy path and ignored
positions. B17: second derivatives at the edges (all targets ignored, Huber's kink).
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.kernels import set_jit_enabled
from minigrad.nn import functional as F

REDUCTIONS = ("none", "mean", "sum")
pytestmark = pytest.mark.filterwarnings("ignore:.*'batchmean':UserWarning")


def leaf(a: np.ndarray) -> mg.Tensor:
    return mg.tensor(np.array(a, dtype=np.float64), requires_grad=True)


# ----------------------------------------------------------------------------- B03: target gradients
def _data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    n, c = 4, 3
    probs = rng.dirichlet(np.ones(c), n)
    counts = rng.uniform(0, 4, (n, c))
    counts[0, 0] = 0.5
    return {
        "logits": rng.standard_normal((n, c)), "p": rng.uniform(0.05, 0.95, (n, c)),
        "y01": rng.uniform(0, 1, (n, c)), "probs": probs, "logp": np.log(probs),
        "logq": np.log(probs[::-1].copy()), "counts": counts, "w": rng.uniform(0.5, 2, (n, c)),
        "q": rng.uniform(0.5, 2, c), "logits3": rng.standard_normal((2, c, 5)),
        "probs3": rng.dirichlet(np.ones(c), (2, 5)).transpose(0, 2, 1).copy(),
    }


D = _data()


TARGET_CASES = {
    # name: (call(F or torch F, tensor constructor, input, target, reduction), input data, target data)
    "bce": (lambda L, T, a, t, r: L.binary_cross_entropy(a, t, reduction=r), "p", "y01"),
    "bce_weight": (lambda L, T, a, t, r: L.binary_cross_entropy(a, t, weight=T(D["w"]), reduction=r),
                   "p", "y01"),
    "bce_logits": (lambda L, T, a, t, r: L.binary_cross_entropy_with_logits(a, t, reduction=r),
                   "logits", "y01"),
    "bce_logits_pos_weight": (lambda L, T, a, t, r: L.binary_cross_entropy_with_logits(
        a, t, weight=T(D["w"]), pos_weight=T(D["q"]), reduction=r), "logits", "y01"),
    "ce_probs": (lambda L, T, a, t, r: L.cross_entropy(a, t, reduction=r), "logits", "probs"),
    "ce_probs_smoothing_weight": (lambda L, T, a, t, r: L.cross_entropy(
        a, t, weight=T(D["q"]), label_smoothing=0.2, reduction=r), "logits", "probs"),
    "ce_probs_kdim": (lambda L, T, a, t, r: L.cross_entropy(a, t, weight=T(D["q"]), reduction=r),
                      "logits3", "probs3"),
    "kl_div": (lambda L, T, a, t, r: L.kl_div(a, t, reduction=r), "logq", "probs"),
    "kl_div_log_target": (lambda L, T, a, t, r: L.kl_div(a, t, reduction=r, log_target=True), "logq", "logp"),
    "poisson_full": (lambda L, T, a, t, r: L.poisson_nll_loss(a, t, full=True, reduction=r),
                     "logits", "counts"),
    "poisson_full_rate": (lambda L, T, a, t, r: L.poisson_nll_loss(a, t, log_input=False, full=True,
                                                                  reduction=r), "p", "counts"),
    "multilabel_soft_margin": (lambda L, T, a, t, r: L.multilabel_soft_margin_loss(a, t, reduction=r),
                               "logits", "y01"),
}


def _run(lib, tensor, case: str, reduction: str, input_grad: bool):  # noqa: ANN001, ANN202
    call, a, t = TARGET_CASES[case]
    x, target = tensor(D[a], requires_grad=input_grad), tensor(D[t], requires_grad=True)
    return call(lib, tensor, x, target, reduction), x, target


@pytest.mark.parametrize("input_grad", [True, False])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", sorted(TARGET_CASES))
def test_target_gradient_matches_torch(torch, case, reduction, input_grad):  # noqa: ANN001
    loss, x, target = _run(F, mg.tensor, case, reduction, input_grad)
    tloss, tx, ttarget = _run(torch.nn.functional, torch.tensor, case, reduction, input_grad)
    assert loss.requires_grad
    up = np.linspace(0.5, 1.5, max(loss.numel(), 1)).reshape(loss.shape)
    loss.backward(mg.tensor(up))
    tloss.backward(torch.tensor(up))
    np.testing.assert_allclose(loss.data, tloss.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(target.grad.data, ttarget.grad.numpy(), rtol=1e-10, atol=1e-13)
    if input_grad:
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("case", sorted(TARGET_CASES))
def test_target_gradcheck_and_gradgradcheck(case):  # noqa: ANN001
    call, a, t = TARGET_CASES[case]
    x = leaf(D[a])
    for reduction in REDUCTIONS:
        assert mg.gradcheck(lambda target, r=reduction: call(F, mg.tensor, x.detach(), target, r),
                            [leaf(D[t])])
        assert mg.gradgradcheck(lambda inp, target, r=reduction: call(F, mg.tensor, inp, target, r),
                                [x, leaf(D[t])])


def test_poisson_full_target_gradient_golden():
    """d/dy of exp(x) - y x + [y > 1] (y log y - y + log(2 pi y) / 2) is -x + [y > 1] (log y + 1 / (2y))."""
    x, y = mg.tensor([0.5, -2.0, 1.0]), leaf([0.5, 2.0, 3.0])
    F.poisson_nll_loss(x, y, full=True, reduction="sum").backward()
    expected = [-0.5, 2.0 + np.log(2.0) + 0.25, -1.0 + np.log(3.0) + 1 / 6]
    np.testing.assert_allclose(y.grad.data, expected, rtol=1e-12)


@pytest.mark.parametrize("jit", [True, False])
def test_bce_target_gradient_at_saturated_inputs_is_infinite_as_torch(jit):  # noqa: ANN001
    y = leaf([0.3, 0.3, 0.3])
    with set_jit_enabled(jit):
        F.binary_cross_entropy(mg.tensor([0.0, 1.0, 0.5], dtype=mg.float64), y, reduction="sum").backward()
    np.testing.assert_array_equal(y.grad.data, [np.inf, -np.inf, 0.0])


def test_arguments_without_a_derivative_raise_like_torch():
    x, p, y = mg.tensor([0.5, -1.0]), mg.tensor([0.3, 0.6]), mg.tensor([1.0, -1.0])
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="soft_margin_loss: .*not differentiable .* argument 'target'"):
        F.soft_margin_loss(x, leaf([1.0, -1.0]))
    with pytest.raises(RuntimeError, match="binary_cross_entropy: .*argument 'weight'"):
        F.binary_cross_entropy(p, y.abs(), weight=w)
    with pytest.raises(RuntimeError, match="binary_cross_entropy_with_logits: .*argument 'weight'"):
        F.binary_cross_entropy_with_logits(x, y.abs(), weight=w)
    with pytest.raises(RuntimeError, match="binary_cross_entropy_with_logits: .*argument 'pos_weight'"):
        F.binary_cross_entropy_with_logits(x, y.abs(), pos_weight=w)
    with mg.no_grad():  # no graph is recorded, so there is nothing to refuse (as in torch)
        assert np.isfinite(F.soft_margin_loss(x, leaf([1.0, -1.0])).item())


# ----------------------------------------------------------------------------- B09/B12: empty batches
_E, _EI = np.zeros((0, 3)), np.zeros(0, dtype=np.int64)
EMPTY_CASES = {
    # name: (call(F or torch F, tensor constructor, input, target, reduction), input, target, target grad)
    "bce": (lambda L, T, a, t, r: L.binary_cross_entropy(a, t, reduction=r), _E, _E, True),
    "bce_weight": (lambda L, T, a, t, r: L.binary_cross_entropy(a, t, weight=T(np.ones(3)), reduction=r),
                   _E, _E, True),
    "bce_logits": (lambda L, T, a, t, r: L.binary_cross_entropy_with_logits(a, t, reduction=r), _E, _E, True),
    "bce_logits_broadcast_weight": (lambda L, T, a, t, r: L.binary_cross_entropy_with_logits(
        a, t, weight=T(np.ones((1, 3))), pos_weight=T(np.ones(3)), reduction=r), _E, _E, True),
    "bce_logits_row_weight_no_columns": (lambda L, T, a, t, r: L.binary_cross_entropy_with_logits(
        a, t, weight=T(np.ones((2, 1))), reduction=r), np.zeros((2, 0)), np.zeros((2, 0)), True),
    "cross_entropy": (lambda L, T, a, t, r: L.cross_entropy(a, t, reduction=r), _E, _EI, False),
    "cross_entropy_weight_smoothing": (lambda L, T, a, t, r: L.cross_entropy(
        a, t, weight=T(np.ones(3)), label_smoothing=0.1, reduction=r), _E, _EI, False),
    "cross_entropy_kdim": (lambda L, T, a, t, r: L.cross_entropy(a, t, reduction=r), np.zeros((0, 3, 2)),
                           np.zeros((0, 2), np.int64), False),
    "cross_entropy_many_classes": (lambda L, T, a, t, r: L.cross_entropy(a, t, reduction=r),
                                   np.zeros((0, 60)), _EI, False),
    "cross_entropy_probs": (lambda L, T, a, t, r: L.cross_entropy(a, t, reduction=r), _E, _E, True),
    "nll": (lambda L, T, a, t, r: L.nll_loss(a, t, weight=T(np.ones(3)), reduction=r), _E, _EI, False),
    "kl_div": (lambda L, T, a, t, r: L.kl_div(a, t, reduction=r), _E, _E, True),
    "l1": (lambda L, T, a, t, r: L.l1_loss(a, t, reduction=r), _E, _E, True),
    "mse": (lambda L, T, a, t, r: L.mse_loss(a, t, reduction=r), _E, _E, True),
    "huber": (lambda L, T, a, t, r: L.huber_loss(a, t, reduction=r), _E, _E, True),
    "smooth_l1": (lambda L, T, a, t, r: L.smooth_l1_loss(a, t, reduction=r), _E, _E, True),
    "poisson_full": (lambda L, T, a, t, r: L.poisson_nll_loss(a, t, full=True, reduction=r), _E, _E, True),
    "gaussian_nll": (lambda L, T, a, t, r: L.gaussian_nll_loss(a, t, T(np.ones((0, 3))), reduction=r),
                     _E, _E, True),
    "soft_margin": (lambda L, T, a, t, r: L.soft_margin_loss(a, t, reduction=r), _E, _E, False),
    "multilabel_soft_margin": (lambda L, T, a, t, r: L.multilabel_soft_margin_loss(a, t, reduction=r),
                               _E, _E, True),
    "hinge_embedding": (lambda L, T, a, t, r: L.hinge_embedding_loss(a, t, reduction=r), _E, _E, False),
    "cosine_embedding": (lambda L, T, a, t, r: L.cosine_embedding_loss(a, T(_E), t, reduction=r),
                         _E, np.zeros(0), False),
    "margin_ranking": (lambda L, T, a, t, r: L.margin_ranking_loss(a, T(np.zeros(0)), t, reduction=r),
                       np.zeros(0), np.zeros(0), True),
    "triplet": (lambda L, T, a, t, r: L.triplet_margin_loss(a, t, T(_E), reduction=r), _E, _E, True),
}


def _run_empty(lib, tensor, case: str, reduction: str):  # noqa: ANN001, ANN202
    call, a, t, target_grad = EMPTY_CASES[case]
    x, target = tensor(a.copy(), requires_grad=True), tensor(t.copy(), requires_grad=target_grad)
    loss = call(lib, tensor, x, target, reduction)
    loss.sum().backward()
    return loss, x, target


@pytest.mark.parametrize("jit", [True, False])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", sorted(EMPTY_CASES))
def test_empty_batch_matches_torch(torch, case, reduction, jit):  # noqa: ANN001
    with set_jit_enabled(jit):
        loss, x, target = _run_empty(F, mg.tensor, case, reduction)
    tloss, tx, ttarget = _run_empty(torch.nn.functional, torch.tensor, case, reduction)
    assert loss.shape == tuple(tloss.shape)
    np.testing.assert_array_equal(loss.data, tloss.detach().numpy())  # NaN == NaN here
    assert x.grad.shape == tuple(tx.grad.shape)
    if ttarget.requires_grad:
        assert target.grad.shape == tuple(ttarget.grad.shape)


@pytest.mark.parametrize("jit", [True, False])
def test_empty_bce_mean_is_nan_and_backward_runs(jit):  # noqa: ANN001
    """Used to raise ZeroDivisionError in backward."""
    for fn in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        x, y = leaf(np.zeros((0, 3))), leaf(np.zeros((0, 3)))
        with set_jit_enabled(jit):
            loss = fn(x, y)
            assert np.isnan(loss.item())
            loss.backward()
            (gx,) = mg.grad(fn(x, y), [x], create_graph=True)
        assert x.grad.shape == y.grad.shape == gx.shape == (0, 3)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_empty_margin_losses_with_class_targets(reduction):  # noqa: ANN001
    """torch returns uninitialised memory here; we give what every other loss gives: NaN, 0."""
    x = leaf(np.zeros((0, 3)))
    for loss in (F.multi_margin_loss(x, mg.tensor(_EI), reduction=reduction),
                 F.multilabel_margin_loss(x, mg.tensor(np.zeros((0, 3), np.int64)), reduction=reduction)):
        assert np.isnan(loss.item()) if reduction == "mean" else loss.item() == 0.0


def test_batch_norm_on_an_empty_batch_matches_torch(torch):  # noqa: ANN001
    """torch only refuses exactly one value per channel; an empty batch gets weight and bias."""
    w, b = np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.0, -1.0])
    outs = []
    for lib, tensor in ((F, mg.tensor), (torch.nn.functional, torch.tensor)):
        x = tensor(np.zeros((0, 3, 2)), requires_grad=True)
        weight, bias = tensor(w, requires_grad=True), tensor(b, requires_grad=True)
        rm, rv = tensor(np.full(3, 0.5)), tensor(np.ones(3))
        y = lib.batch_norm(x, rm, rv, weight, bias, training=True)
        (y * 2).sum().backward()
        outs.append([t.detach().numpy() for t in (y, rm, x.grad, weight.grad, bias.grad)])
    for ours, theirs in zip(*outs):
        assert ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(ValueError, match="expected more than 1 value per channel"):
        F.batch_norm(mg.tensor(np.zeros((1, 3))), None, None, training=True)


# ------------------------------------------------------------------------ B14: ignored positions, rounding
def _paths(x: np.ndarray):  # noqa: ANN202
    """(label, logits, jit) for every cross-entropy path: the Numba kernel (2-D, at most 48
    classes), and numpy with the JIT off, for a K-dim input, and for more than 48 classes."""
    wide = np.concatenate([x, np.full((x.shape[0], 50), -5.0)], axis=1)
    return [("kernel", x, True), ("numpy, JIT off", x, False), ("numpy, K-dim", x[:, :, None], True),
            ("numpy, C > 48", wide, True)]


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ignored_position_with_minus_inf_logit_matches_torch(torch, fn, reduction):  # noqa: ANN001
    base = np.array([[1.0, 2.0, 0.5], [-np.inf, 0.0, 1.0], [0.3, -0.2, 0.1]])
    target = np.array([1, 0, 2])
    target[1] = -100
    for label, x, jit in _paths(base):
        t = target.reshape((-1,) + (1,) * (x.ndim - 2))
        ours = leaf(x)
        with set_jit_enabled(jit):
            loss = getattr(F, fn)(ours, mg.tensor(t), reduction=reduction)
            loss.sum().backward()
        theirs = torch.tensor(x, requires_grad=True)
        tloss = getattr(torch.nn.functional, fn)(theirs, torch.tensor(t), reduction=reduction)
        tloss.sum().backward()
        np.testing.assert_allclose(loss.data, tloss.detach().numpy(), rtol=1e-12, err_msg=label)
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-12, atol=1e-15, err_msg=label)
        assert np.all(np.isfinite(loss.data)), label
        if reduction == "none":
            assert loss.data.reshape(-1)[1] == 0.0, label


def test_ignored_minus_inf_golden_value():
    """The brief's case: a -inf logit at the ignored position must not turn the mean into NaN."""
    x = mg.tensor(np.array([[[0.0, -np.inf], [1.0, 2.0]]]))  # (N=1, C=2, d=2): logits (0, 1), (-inf, 2)
    loss = F.cross_entropy(x, mg.tensor(np.array([[1, -100]])))
    np.testing.assert_allclose(loss.item(), np.log1p(np.exp(-1.0)), rtol=1e-12)


@pytest.mark.parametrize("label", ["kernel", "numpy, JIT off", "numpy, C > 48"])
def test_per_sample_cross_entropy_is_never_negative(label):  # noqa: ANN001
    """One logit 30 above the rest but 60 below the batch max: the loss is ~1e-20, and shifting
    by the batch max rounded it to -3.6e-15 on the numpy path, so sqrt(loss) was NaN."""
    classes = 40 if label == "kernel" else 60
    x = np.zeros((2, classes))
    x[0, 0] = 90.0
    x[1, 0], x[1, 1:] = 30.02, np.linspace(-26, -13, classes - 1)
    with set_jit_enabled(label != "numpy, JIT off"):
        for smoothing in (0.0, 0.1):
            loss = F.cross_entropy(mg.tensor(x), mg.tensor(np.array([0, 0])), reduction="none",
                                   label_smoothing=smoothing)
            assert np.all(loss.data >= 0), (label, smoothing, loss.data)
            assert np.all(np.isfinite(loss.sqrt().data))


# ------------------------------------------------------------------------ B17: second derivatives at edges
@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_every_target_ignored_has_zero_second_derivative(fn):  # noqa: ANN001
    """'mean' over no target: the value is NaN (0/0), the gradient and its derivative are 0 (torch)."""
    for label, data, jit in _paths(np.random.default_rng(2).standard_normal((3, 4))):
        x = leaf(data)
        t = mg.tensor(np.full((3,) + (1,) * (data.ndim - 2), -100))
        with set_jit_enabled(jit):
            loss = getattr(F, fn)(x, t)
            (g,) = mg.grad(loss, [x], create_graph=True)
            (g * x * mg.tensor(np.arange(1.0, 1.0 + data.size).reshape(data.shape))).sum().backward()
        assert np.isnan(loss.item()), label
        np.testing.assert_array_equal(g.data, np.zeros(data.shape), err_msg=label)
        np.testing.assert_array_equal(x.grad.data, np.zeros(data.shape), err_msg=label)


@pytest.mark.parametrize("fn, param", [("huber_loss", "delta"), ("smooth_l1_loss", "beta")])
def test_second_derivative_at_the_kink_is_zero(fn, param):  # noqa: ANN001
    """At |x - y| = delta (beta) the slope is already the constant one: second derivative 0, as
    torch (its double backward uses |d| < delta); inside it is 1 (1 / beta)."""
    x, y = leaf([1.5, 0.5, 1.0, 1.25, 0.0]), mg.tensor([1.0] * 5)
    (g,) = mg.grad(getattr(F, fn)(x, y, reduction="sum", **{param: 0.5}), [x], create_graph=True)
    (g * mg.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    inside = 1.0 if fn == "huber_loss" else 2.0
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 3.0 * inside, 4.0 * inside, 0.0])


@pytest.mark.parametrize("fn, param", [("huber_loss", "delta"), ("smooth_l1_loss", "beta")])
def test_second_derivative_at_the_kink_matches_torch(torch, fn, param):  # noqa: ANN001
    xs, ys = np.array([1.5, 0.5, 1.0, 1.25, 0.0, -1.0]), np.array([1.0, 1.0, 1.0, 1.0, 1.0, -0.25])
    w = np.linspace(1, 2, 6)
    x = leaf(xs)
    (g,) = mg.grad(getattr(F, fn)(x, mg.tensor(ys), **{param: 0.5}), [x], create_graph=True)
    (g * mg.tensor(w)).sum().backward()
    tx = torch.tensor(xs, requires_grad=True)
    (tg,) = torch.autograd.grad(getattr(torch.nn.functional, fn)(tx, torch.tensor(ys), **{param: 0.5}), [tx],
                                create_graph=True)
    (tg * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["huber_loss", "smooth_l1_loss"])
def test_zero_d_huber_and_smooth_l1_differentiate_twice(name):
    """A 0-d input's readable backward clamped a numpy scalar in place (TypeError under
    create_graph); found by the torch fuzzer."""
    x = mg.tensor(1.7, dtype=mg.float64, requires_grad=True)
    loss = getattr(mg.nn.functional, name)(x * x, mg.tensor(0.5, dtype=mg.float64), reduction="none")
    (g,) = mg.grad(loss, x, create_graph=True)
    g.backward()
    half = mg.tensor(0.5, dtype=mg.float64)
    assert mg.gradgradcheck(lambda v: getattr(F, name)(v * v, half),
                            [mg.tensor(0.3, dtype=mg.float64, requires_grad=True)])
    assert x.grad is not None and np.isfinite(x.grad.item())
