"""Course losses: focal, Dice/Tversky, class-balanced, Wasserstein, BPR, multi-task."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from tests import reference_losses_b as ref

REDUCTIONS = ("none", "mean", "sum")


def t64(a, requires_grad: bool = True) -> mg.Tensor:
    return mg.tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)


def sigmoid_np(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax_np(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------- sigmoid focal (torchvision)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("alpha", "gamma"), [(0.25, 2.0), (-1.0, 2.0), (0.6, 0.0), (0.25, 1.5)])
def test_sigmoid_focal_matches_reference(rng, reduction, alpha, gamma):
    x = rng.standard_normal((4, 3)) * 3
    y = np.where(rng.random((4, 3)) < 0.5, 1.0, 0.0)
    y[0] = [0.3, 0.7, 0.5]                                       # soft labels work too
    out = F.sigmoid_focal_loss(t64(x), y, alpha, gamma, reduction)
    expected = ref.reduce_ref(ref.sigmoid_focal(x, y, alpha, gamma), reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10)


def test_sigmoid_focal_default_reduction_is_none_and_gradcheck(rng):
    x = rng.standard_normal((3, 4)) * 2
    y = (rng.random((3, 4)) < 0.5).astype(np.float64)
    assert F.sigmoid_focal_loss(t64(x), y).shape == (3, 4)
    assert mg.gradcheck(lambda v: F.sigmoid_focal_loss(v, y, 0.3, 2.0, "sum"), t64(x))
    assert mg.gradcheck(lambda v: F.sigmoid_focal_loss(v, y * 0.8 + 0.1, -1, 1.5, "mean"), t64(x))
    assert mg.gradgradcheck(lambda v: F.sigmoid_focal_loss(v, y[:1], 0.3, 2.0, "sum"), t64(x[:1]))


def test_sigmoid_focal_closed_form_gradient(rng):
    x, y, a, g = rng.standard_normal(6), (rng.random(6) < 0.5).astype(float), 0.25, 2.0
    v = t64(x)
    F.sigmoid_focal_loss(v, y, a, g, "sum").backward()
    p = sigmoid_np(x)
    ce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    pt = p * y + (1 - p) * (1 - y)
    s = 2 * y - 1
    at = a * y + (1 - a) * (1 - y)
    expected = at * (-g * (1 - pt) ** (g - 1) * s * p * (1 - p) * ce + (1 - pt) ** g * (p - y))
    np.testing.assert_allclose(v.grad.data, expected, rtol=1e-10)


def test_focal_losses_stable_at_extreme_logits():
    x = t64([[1000.0, -1000.0, 1000.0, -1000.0]])
    loss = F.sigmoid_focal_loss(x, [[1.0, 0.0, 0.0, 1.0]], reduction="sum")
    loss.backward()
    assert loss.item() == pytest.approx(0.75 * 1000 + 0.25 * 1000)
    assert np.isfinite(x.grad.data).all()
    z = t64([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 5.0]])
    loss = F.focal_loss(z, [0, 0])
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(z.grad.data).all()
    assert loss.item() == pytest.approx(2000.0 / 2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_sigmoid_focal_against_torchvision_formula(torch, rng, reduction):
    tf = torch.nn.functional

    def torchvision_focal(inputs, targets, alpha=0.25, gamma=2.0):
        p = torch.sigmoid(inputs)
        ce = tf.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
        p_t = p * targets + (1 - p) * (1 - targets)
        loss = ce * ((1 - p_t) ** gamma)
        if alpha >= 0:
            loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
        return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]

    x = rng.standard_normal((5, 3)) * 2
    y = (rng.random((5, 3)) < 0.3).astype(np.float64)
    ours = t64(x)
    out = F.sigmoid_focal_loss(ours, y, 0.25, 2.0, reduction)
    xt = torch.tensor(x, requires_grad=True)
    expected = torchvision_focal(xt, torch.tensor(y))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10)
    g = rng.standard_normal(out.shape)
    out.backward(mg.tensor(g))
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-14)


# ---------------------------------------------------------------- multiclass focal
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha", [None, 0.5, "tensor"])
def test_focal_matches_reference_with_ignore_index(rng, reduction, alpha):
    x, y = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    y[2] = -100
    a = rng.uniform(0.2, 1, 4) if alpha == "tensor" else alpha
    out = F.focal_loss(t64(x), y, None if a is None else (t64(a, False) if alpha == "tensor" else a),
                       1.5, reduction=reduction)
    expected = ref.reduce_ref(ref.focal(x, y, a, 1.5), reduction, denominator=5)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10)


def test_focal_kdim_unbatched_and_all_ignored(rng):
    x, y = rng.standard_normal((2, 3, 4)), rng.integers(0, 3, (2, 4))
    out = F.focal_loss(t64(x), y, reduction="none")
    flat = ref.focal(np.moveaxis(x, 1, -1).reshape(-1, 3), y.reshape(-1))
    np.testing.assert_allclose(out.data, flat.reshape(2, 4), rtol=1e-10)
    single = F.focal_loss(t64(x[0, :, 0]), np.array(y[0, 0]), reduction="none")
    assert single.item() == pytest.approx(out.data[0, 0], rel=1e-12)
    assert np.isnan(F.focal_loss(t64(x), np.full((2, 4), -100)).item())
    assert F.focal_loss(t64(x), np.full((2, 4), -100), reduction="sum").item() == 0.0


def test_focal_gamma0_equals_cross_entropy_and_gradcheck(rng):
    x, y = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    focal = F.focal_loss(t64(x), y, gamma=0.0)
    ce = -t64(x).log_softmax(1).gather(1, mg.tensor(y[:, None])).mean()
    assert focal.item() == pytest.approx(ce.item(), rel=1e-12)
    y[1] = 7
    assert mg.gradcheck(lambda v: F.focal_loss(v, y, t64([0.1, 0.2, 0.3, 0.4], False), 2.0, 7), t64(x))
    assert mg.gradgradcheck(lambda v: F.focal_loss(v, y[:3], None, 2.0, 7), t64(x[:3]))


def test_focal_closed_form_gradient(rng):
    x, y, g = rng.standard_normal((3, 4)), np.array([0, 3, 1]), 2.0
    v = t64(x)
    F.focal_loss(v, y, gamma=g, reduction="sum").backward()
    p = softmax_np(x, 1)
    py = p[np.arange(3), y][:, None]
    factor = -(1 - py) ** g + g * (1 - py) ** (g - 1) * py * np.log(py)
    np.testing.assert_allclose(v.grad.data, factor * (np.eye(4)[y] - p), rtol=1e-10)


# ---------------------------------------------------------------- Dice and Tversky
def test_dice_binary_and_multiclass_match_reference(rng):
    x = rng.standard_normal((2, 5))
    g = (rng.random((2, 5)) < 0.5).astype(np.float64)
    out = F.dice_loss(t64(x), g, "binary", smooth=0.5)
    assert out.item() == pytest.approx(ref.dice_binary(sigmoid_np(x).ravel(), g.ravel(), 0.5), rel=1e-12)
    per = F.dice_loss(t64(x), g, "binary", per_sample=True, square_denominator=True, reduction="none")
    expected = [ref.dice_binary(sigmoid_np(x[i]), g[i], 1.0, q=2) for i in range(2)]
    np.testing.assert_allclose(per.data, np.array(expected)[:, None], rtol=1e-12)
    z = rng.standard_normal((2, 3, 4))
    y = rng.integers(0, 3, (2, 4))
    y[0, 1] = 255
    out = F.dice_loss(t64(z), y, "multiclass", ignore_index=255, reduction="none")
    p = softmax_np(z, 1)
    keep = y != 255
    expected = [ref.dice_binary(p[:, c][keep], (y[keep] == c).astype(float)) for c in range(3)]
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)


def test_dice_multilabel_probabilities_and_bounds(rng):
    for _ in range(5):
        p = rng.random((2, 3, 4))
        g = (rng.random((2, 3, 4)) < 0.4).astype(np.float64)
        out = F.dice_loss(t64(p), g, "multilabel", from_logits=False, smooth=0.0, reduction="none")
        expected = [ref.dice_binary(p[:, c].ravel(), g[:, c].ravel(), 0.0) for c in range(3)]
        np.testing.assert_allclose(out.data, expected, rtol=1e-12)
        assert ((out.data >= 0) & (out.data <= 1)).all()
    perfect = F.dice_loss(t64(g), g, "multilabel", from_logits=False, smooth=0.0)
    assert perfect.item() == pytest.approx(0.0, abs=1e-12)


def test_tversky_matches_reference_and_dice_at_half(rng):
    x = rng.standard_normal((3, 6))
    g = (rng.random((3, 6)) < 0.5).astype(np.float64)
    out = F.tversky_loss(t64(x), g, alpha=0.3, beta=0.7, gamma=0.75)
    expected = ref.tversky_binary(sigmoid_np(x).ravel(), g.ravel(), 0.3, 0.7, 0.75)
    assert out.item() == pytest.approx(expected, rel=1e-12)
    tv = F.tversky_loss(t64(x), g, alpha=0.5, beta=0.5, smooth=0.7, per_sample=True, reduction="none")
    dice = F.dice_loss(t64(x), g, smooth=1.4, per_sample=True, reduction="none")
    np.testing.assert_allclose(tv.data, dice.data, rtol=1e-12)


def test_dice_tversky_gradcheck(rng):
    x = rng.standard_normal((2, 3, 4))
    y = rng.integers(0, 3, (2, 4))
    y[1, 2] = -1
    assert mg.gradcheck(lambda v: F.dice_loss(v, y, "multiclass", ignore_index=-1), t64(x))
    assert mg.gradcheck(lambda v: F.dice_loss(v, y, "multiclass", square_denominator=True,
                                              per_sample=True, ignore_index=-1), t64(x))
    g = (rng.random((2, 3, 4)) < 0.5).astype(np.float64)
    assert mg.gradcheck(lambda v: F.tversky_loss(v, g, "multilabel", 0.2, 0.8, 1.5), t64(x))


def test_dice_closed_form_gradient_wrt_probabilities(rng):
    p = rng.random(6)
    g = (rng.random(6) < 0.5).astype(np.float64)
    v = t64(p[None])
    F.dice_loss(v, g[None], from_logits=False, smooth=1.0).backward()
    num, den = 2 * (p * g).sum() + 1.0, p.sum() + g.sum() + 1.0
    np.testing.assert_allclose(v.grad.data[0], -(2 * g * den - num) / den ** 2, rtol=1e-12)


# ---------------------------------------------------------------- class-balanced
def test_class_balanced_weights():
    np.testing.assert_array_equal(F.class_balanced_weights([10, 200, 3], 0.0).data, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(F.class_balanced_weights([10, 200, 3], 0.99).data,
                               ref.class_balanced_weights([10, 200, 3], 0.99), rtol=1e-12)
    w = F.class_balanced_weights([1, 10, 100], 0.999).data
    assert w.sum() == pytest.approx(3.0) and w[0] > w[1] > w[2]
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\), got 1.0"):
        F.class_balanced_weights([1, 2], 1.0)
    with pytest.raises(ValueError, match="positive counts"):
        F.class_balanced_weights([3, 0], 0.9)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss_type", ["softmax", "sigmoid", "focal"])
def test_class_balanced_loss_matches_reference(rng, reduction, loss_type):
    x, y, counts = rng.standard_normal((5, 3)), rng.integers(0, 3, 5), [50, 5, 500]
    w = ref.class_balanced_weights(counts, 0.99)
    if loss_type == "softmax":
        per = [-math.log(ref.softmax_row(r)[t]) for r, t in zip(x, y)]
    else:
        gamma = 0.0 if loss_type == "sigmoid" else 2.0
        per = ref.sigmoid_focal(x, np.eye(3)[y], -1, gamma).sum(axis=1)
    expected = ref.reduce_ref(np.array([w[t] * v for t, v in zip(y, per)]), reduction)
    out = F.class_balanced_loss(t64(x), y, counts, 0.99, loss_type, 2.0, reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10)
    assert mg.gradcheck(lambda v: F.class_balanced_loss(v, y, counts, 0.99, loss_type, 2.0, reduction),
                        t64(x))


def test_class_balanced_mean_divides_by_batch_not_weights(rng):
    x, y = rng.standard_normal((4, 3)), np.array([0, 0, 1, 2])
    counts = [100, 10, 1]
    w = F.class_balanced_weights(counts, 0.9).data
    ce = -np.log(softmax_np(x, 1)[np.arange(4), y])
    out = F.class_balanced_loss(t64(x), y, counts, 0.9)
    assert out.item() == pytest.approx((w[y] * ce).sum() / 4, rel=1e-12)
    assert out.item() != pytest.approx((w[y] * ce).sum() / w[y].sum(), rel=1e-6)


# ---------------------------------------------------------------- Wasserstein, BPR, multi-task
def test_wasserstein_values_and_gradients():
    real, fake = t64([1.0, 2.0, 3.0]), t64([0.5, -0.5])
    loss = F.wasserstein_critic_loss(real, fake)
    loss.backward()
    assert loss.item() == pytest.approx(0.0 - 2.0)
    np.testing.assert_allclose(real.grad.data, [-1 / 3] * 3)
    np.testing.assert_allclose(fake.grad.data, [0.5, 0.5])
    fake.grad = None
    gen = nn.WassersteinLoss("generator")(fake)
    gen.backward()
    assert gen.item() == 0.0
    np.testing.assert_allclose(fake.grad.data, [-0.5, -0.5])
    assert nn.WassersteinLoss()(real, fake).item() == loss.item()
    with pytest.raises(TypeError, match="takes 2 score tensors"):
        nn.WassersteinLoss()(real)
    with pytest.raises(ValueError, match="role must be"):
        nn.WassersteinLoss("discriminator")


def test_gradient_penalty_linear_critic_is_exact_and_double_differentiable(rng):
    w_np = rng.standard_normal(3)
    real, fake = t64(rng.standard_normal((4, 3)), False), t64(rng.standard_normal((4, 3)), False)

    def penalty(w):
        return F.gradient_penalty(lambda x: x @ w, real, fake, weight=10.0)

    w = t64(w_np)
    value = penalty(w)
    norm = np.linalg.norm(w_np)
    assert value.item() == pytest.approx(10.0 * (norm - 1.0) ** 2, rel=1e-12)
    value.backward()
    np.testing.assert_allclose(w.grad.data, 20.0 * (norm - 1.0) * w_np / norm, rtol=1e-10)
    assert mg.gradcheck(penalty, t64(w_np))
    with pytest.raises(ValueError, match="same shape"):
        F.gradient_penalty(lambda x: x @ w, real, fake[:2])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bpr_matches_reference_and_closed_form_gradient(rng, reduction):
    pos, neg = rng.standard_normal(6), rng.standard_normal(6)
    p, n = t64(pos), t64(neg)
    out = F.bpr_loss(p, n, reduction)
    np.testing.assert_allclose(out.data, ref.reduce_ref(ref.bpr(pos, neg), reduction), rtol=1e-12)
    out.backward(mg.ones_like(out))
    scale = 1 / 6 if reduction == "mean" else 1.0
    s = sigmoid_np(neg - pos)
    np.testing.assert_allclose(p.grad.data, -s * scale, rtol=1e-12)
    np.testing.assert_allclose(n.grad.data, s * scale, rtol=1e-12)


def test_bpr_stable_and_broadcasts():
    loss = F.bpr_loss(t64([1000.0, -1000.0]), t64([-1000.0, 1000.0]), "none")
    np.testing.assert_allclose(loss.data, [0.0, 2000.0])
    assert F.bpr_loss(t64(np.zeros((3, 1))), t64(np.zeros((3, 4)))).item() == pytest.approx(math.log(2))
    assert mg.gradgradcheck(lambda a, b: F.bpr_loss(a, b), (t64([0.3, -1.0]), t64([0.5, 2.0])))


def test_multi_task_fixed_and_uncertainty_weights():
    a, b = t64(2.0), t64(3.0)
    total = nn.MultiTaskLoss([0.5, 2.0])(a, b)
    total.backward()
    assert total.item() == pytest.approx(7.0)
    assert a.grad.item() == 0.5 and b.grad.item() == 2.0
    assert F.multi_task_loss([a, b], [1.0, 1.0]).item() == 5.0
    m = nn.MultiTaskLoss(num_tasks=2, learn_uncertainty=True)
    assert [name for name, _ in m.named_parameters()] == ["log_vars"]
    with mg.no_grad():
        m.log_vars.copy_(np.array([0.5, -1.0]))
    out = m(t64(2.0, False), t64(3.0, False))
    s = np.array([0.5, -1.0])
    losses = np.array([2.0, 3.0])
    assert out.item() == pytest.approx((0.5 * np.exp(-s) * losses + 0.5 * s).sum(), rel=1e-6)
    out.backward()
    np.testing.assert_allclose(m.log_vars.grad.data, -0.5 * np.exp(-s) * losses + 0.5, rtol=1e-6)
    with pytest.raises(ValueError, match="expected 2 losses, got 1"):
        m(t64(1.0))
    with pytest.raises(ValueError, match="one weight per loss"):
        F.multi_task_loss([a], [1.0, 2.0])


# ---------------------------------------------------------------- modules and errors
def test_modules_match_functions(rng):
    x, y = t64(rng.standard_normal((4, 3))), rng.integers(0, 3, 4)
    g = (rng.random((4, 3)) < 0.5).astype(np.float64)
    pairs = [
        (nn.SigmoidFocalLoss(0.3, 1.0, "mean")(x, g), F.sigmoid_focal_loss(x, g, 0.3, 1.0, "mean")),
        (nn.FocalLoss(t64([1.0, 2.0, 3.0], False), 1.0)(x, y),
         F.focal_loss(x, y, t64([1.0, 2.0, 3.0], False), 1.0)),
        (nn.DiceLoss("multiclass")(x.reshape(4, 3, 1), y.reshape(4, 1)),
         F.dice_loss(x.reshape(4, 3, 1), y.reshape(4, 1), "multiclass")),
        (nn.TverskyLoss(0.2, 0.8, mode="multilabel")(x.reshape(4, 3, 1), g.reshape(4, 3, 1)),
         F.tversky_loss(x.reshape(4, 3, 1), g.reshape(4, 3, 1), "multilabel", 0.2, 0.8)),
        (nn.ClassBalancedLoss([5, 50, 500], 0.99, "focal")(x, y),
         F.class_balanced_loss(x, y, [5, 50, 500], 0.99, "focal")),
        (nn.BPRLoss("sum")(x[:, 0], x[:, 1]), F.bpr_loss(x[:, 0], x[:, 1], "sum")),
    ]
    for got, expected in pairs:
        assert got.item() == pytest.approx(expected.item(), rel=1e-12)
    cb = nn.ClassBalancedLoss([5, 50, 500], 0.99)
    assert "weight" in cb.state_dict() and not list(cb.parameters())
    assert "alpha" in nn.FocalLoss(t64([1.0, 2.0], False)).state_dict()


def test_error_contracts():
    x = t64(np.zeros((2, 3)))
    for fn in (lambda r: F.sigmoid_focal_loss(x, np.zeros((2, 3)), reduction=r),
               lambda r: F.focal_loss(x, [0, 1], reduction=r),
               lambda r: F.dice_loss(x, np.zeros((2, 3)), reduction=r),
               lambda r: F.tversky_loss(x, np.zeros((2, 3)), reduction=r),
               lambda r: F.class_balanced_loss(x, [0, 1], [1, 2, 3], reduction=r),
               lambda r: F.bpr_loss(x, x, reduction=r),
               lambda r: nn.DiceLoss(reduction=r)):
        with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
            fn("avg")
    with pytest.raises(ValueError, match="sigmoid_focal_loss: targets"):
        F.sigmoid_focal_loss(x, np.zeros(3))
    with pytest.raises(IndexError, match="focal_loss: target 3 is out of bounds for 3 classes"):
        F.focal_loss(x, [0, 3])
    with pytest.raises(RuntimeError, match="expected target dtype to be Long"):
        F.focal_loss(x, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="focal_loss: expected input"):
        F.focal_loss(x, [0, 1, 2])
    with pytest.raises(ValueError, match="dice_loss: mode must be one of"):
        F.dice_loss(x, np.zeros((2, 3)), "softmax")
    with pytest.raises(ValueError, match="multiclass mode needs input"):
        F.dice_loss(x, np.zeros((2, 3), np.int64), "multiclass")
    with pytest.raises(IndexError, match="tversky_loss: target value 5"):
        F.tversky_loss(x.reshape(2, 3, 1), np.array([[0], [5]]), "multiclass")
    with pytest.raises(ValueError, match="loss_type must be one of"):
        F.class_balanced_loss(x, [0, 1], [1, 2, 3], loss_type="ce")
    with pytest.raises(ValueError, match=r"expected input \(N, 2\)"):
        F.class_balanced_loss(x, [0, 1], [1, 2])
