"""Margin, ranking, embedding and SVM hinge losses: references, gradients, kinks, torch."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from tests import reference_losses_b as ref

REDUCTIONS = ("none", "mean", "sum")


def t64(a, requires_grad: bool = True) -> mg.Tensor:
    return mg.tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)


def away_from_kinks(values: np.ndarray, kinks: np.ndarray, gap: float = 1e-2) -> bool:
    return bool(np.all(np.abs(values - kinks) > gap))


def grad_of(loss_fn, *inputs):
    for x in inputs:
        x.grad = None
    loss_fn(*inputs).backward()
    return [x.grad.data for x in inputs]


# ---------------------------------------------------------------- references, every reduction
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.7])
def test_margin_ranking_matches_reference(rng, reduction, margin):
    x1, x2 = rng.standard_normal(7), rng.standard_normal(7)
    y = rng.choice([-1.0, 1.0], 7)
    out = F.margin_ranking_loss(t64(x1), t64(x2), t64(y, False), margin, reduction)
    expected = ref.reduce_ref(ref.margin_ranking(x1, x2, y, margin), reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_embedding_matches_reference_including_other_labels(rng, reduction):
    x = rng.standard_normal((3, 4))
    y = rng.choice([-1.0, 1.0, 0.0], (3, 4))
    out = F.hinge_embedding_loss(t64(x), y, 0.8, reduction)
    np.testing.assert_allclose(out.data, ref.reduce_ref(ref.hinge_embedding(x, y, 0.8), reduction),
                               rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_matches_reference(rng, reduction):
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    y = np.array([1, -1, 1, -1, 0])
    out = F.cosine_embedding_loss(t64(a), t64(b), y, 0.1, reduction)
    np.testing.assert_allclose(out.data, ref.reduce_ref(ref.cosine_embedding(a, b, y, 0.1), reduction),
                               rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin_matches_reference(rng, reduction, p, weighted):
    x, y = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    w = rng.uniform(0.5, 2, 4) if weighted else None
    out = F.multi_margin_loss(t64(x), y, p, 0.9, None if w is None else t64(w, False), reduction)
    expected = ref.reduce_ref(ref.multi_margin(x, y, p, 0.9, w), reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_matches_reference(rng, reduction):
    x = rng.standard_normal((5, 4))
    y = np.array([[3, 0, -1, 1], [1, 1, 2, -1], [-1, 2, 0, 0], [0, 1, 2, 3], [2, -5, 1, 1]])
    out = F.multilabel_margin_loss(t64(x), y, reduction)
    np.testing.assert_allclose(out.data, ref.reduce_ref(ref.multilabel_margin(x, y), reduction),
                               rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("p", "swap"), [(2.0, False), (2.0, True), (1.0, False), (3.0, True)])
def test_triplet_matches_reference(rng, reduction, p, swap):
    a, pos, neg = (rng.standard_normal((5, 3)) for _ in range(3))
    out = F.triplet_margin_loss(t64(a), t64(pos), t64(neg), 1.2, p, 1e-6, swap, reduction)
    expected = ref.reduce_ref(ref.triplet(a, pos, neg, 1.2, p, 1e-6, swap), reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10)


def test_triplet_with_distance_default_and_custom(rng):
    a, pos, neg = (rng.standard_normal((4, 3)) for _ in range(3))
    default = F.triplet_margin_with_distance_loss(t64(a), t64(pos), t64(neg), reduction="none")
    np.testing.assert_allclose(default.data, ref.triplet(a, pos, neg), rtol=1e-10)

    def l1(u, v):
        return (u - v).abs().sum(-1)

    custom = F.triplet_margin_with_distance_loss(t64(a), t64(pos), t64(neg), distance_function=l1,
                                                 margin=0.5, swap=True, reduction="none")
    np.testing.assert_allclose(custom.data, ref.triplet(a, pos, neg, 0.5, 1.0, 0.0, True), rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_svm_hinges_match_reference(rng, reduction):
    x = rng.standard_normal((4, 3))
    y01 = rng.integers(0, 2, (4, 3)).astype(np.float64)
    y = 2 * y01 - 1
    h = F.hinge_loss(t64(x), y, reduction=reduction)
    np.testing.assert_allclose(h.data, ref.reduce_ref(ref.hinge(x, y), reduction), rtol=1e-12)
    hb = F.hinge_loss(t64(x), y01, binary_labels=True, reduction=reduction)
    np.testing.assert_allclose(hb.data, h.data, rtol=1e-12)
    sq = F.squared_hinge_loss(t64(x), y, reduction=reduction)
    np.testing.assert_allclose(sq.data, ref.reduce_ref(ref.hinge(x, y) ** 2, reduction), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("keras_compat", [False, True])
def test_categorical_hinge_matches_reference(rng, reduction, keras_compat):
    x, y = rng.standard_normal((6, 4)) - 1.0, rng.integers(0, 4, 6)
    out = F.categorical_hinge_loss(t64(x), y, keras_compat, reduction)
    expected = ref.reduce_ref(ref.categorical_hinge(x, y, keras_compat), reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    onehot = np.eye(4)[y]
    np.testing.assert_allclose(F.categorical_hinge_loss(t64(x), onehot, keras_compat, reduction).data,
                               expected, rtol=1e-12)


# ---------------------------------------------------------------- golden values (spec section 4)
def test_golden_margin_ranking_and_hinge_embedding():
    x1 = t64([0, 0.5, 1, 3, -2])
    loss = F.margin_ranking_loss(x1, t64([0] * 5, False), t64([1, -1, 1, -1, 1], False), 0.5, "none")
    np.testing.assert_allclose(loss.data, [0.5, 1, 0, 3.5, 2.5])
    loss.sum().backward()
    np.testing.assert_allclose(x1.grad.data, [-1, 1, 0, 1, -1])
    x = t64([0, 0.5, 1, 3, -2])
    loss = F.hinge_embedding_loss(x, [1, -1, 1, -1, -1], reduction="none")
    np.testing.assert_allclose(loss.data, [0, 0.5, 1, 0, 3])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1, -1, 1, 0, -1])
    assert F.hinge_embedding_loss(t64([0.3]), [0.0], reduction="sum").item() == pytest.approx(1.0)


def test_golden_cosine_and_triplet():
    a = t64([[1, 2], [0.5, -1]])
    b = t64([[2, 1], [1, 1]], False)
    loss = F.cosine_embedding_loss(a, b, [1, -1], reduction="none")
    np.testing.assert_allclose(loss.data, [0.2, 0], atol=1e-12)
    loss.sum().backward()
    np.testing.assert_allclose(a.grad.data, [[-0.24, 0.12], [0, 0]], atol=1e-12)
    trip = F.triplet_margin_loss(a, b, t64(np.zeros((2, 2)), False), reduction="none")
    np.testing.assert_allclose(trip.data, [0.178144, 1.943518], atol=1e-6)


def test_golden_multi_margin_and_multilabel_margin():
    x = t64([[0.1, 0.2, 0.4, 0.8]])
    loss = F.multi_margin_loss(x, [3])
    loss.backward()
    assert loss.item() == pytest.approx(0.325)
    np.testing.assert_allclose(x.grad.data, [[0.25, 0.25, 0.25, -0.75]])
    x.grad = None
    loss = F.multi_margin_loss(x, [1], p=2, weight=t64([1, 2, 3, 4], False))
    loss.backward()
    assert loss.item() == pytest.approx(2.405)
    np.testing.assert_allclose(x.grad.data, [[0.9, -3.7, 1.2, 1.6]])
    x.grad = None
    loss = F.multilabel_margin_loss(x, [[3, 0, -1, 1]])
    loss.backward()
    assert loss.item() == pytest.approx(0.85)
    np.testing.assert_allclose(x.grad.data, [[-0.5, 0.5, 0.5, -0.5]])
    assert F.multilabel_margin_loss(x, [[3, 3, -1, 1]]).item() == pytest.approx(0.65)


# ---------------------------------------------------------------- gradients
def test_gradcheck_compositions(rng):
    x1, x2 = rng.standard_normal(6), rng.standard_normal(6)
    y = np.sign(rng.standard_normal(6))
    if away_from_kinks(-y * (x1 - x2) + 0.3, np.zeros(6)):
        assert mg.gradcheck(lambda a, b: F.margin_ranking_loss(a, b, t64(y, False), 0.3, "sum"),
                            (t64(x1), t64(x2)))
    x = rng.uniform(0.1, 2, (3, 4)) * np.where(rng.random((3, 4)) < 0.5, 1, -1)
    assert mg.gradcheck(lambda v: F.hinge_embedding_loss(v, np.sign(x), 0.05), t64(x))
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    assert mg.gradcheck(lambda u, v: F.cosine_embedding_loss(u, v, [1, -1, 1, -1], -0.9),
                        (t64(a), t64(b)))
    n = rng.standard_normal((4, 3))
    for p, swap in [(2.0, False), (2.0, True), (1.5, False)]:
        def fn(u, v, w, p=p, swap=swap):
            return F.triplet_margin_loss(u, v, w, 2.0, p, 1e-6, swap)

        assert mg.gradcheck(fn, (t64(a), t64(b), t64(n)))


def test_gradgradcheck_through_composed_margin_losses(rng):
    a, b, n = (rng.standard_normal((3, 2)) for _ in range(3))
    assert mg.gradgradcheck(lambda u, v: F.cosine_embedding_loss(u, v, [1, -1, 1], -0.9),
                            (t64(a), t64(b)))
    assert mg.gradgradcheck(lambda u, v, w: F.triplet_margin_loss(u, v, w, 3.0), (t64(a), t64(b), t64(n)))


@pytest.mark.parametrize("p", [1, 2])
def test_gradcheck_fused_margin_losses(rng, p):
    x = rng.standard_normal((4, 5))
    y = rng.integers(0, 5, 4)
    z = 0.7 - x[np.arange(4), y][:, None] + x
    z[np.arange(4), y] = 1.0
    assert away_from_kinks(z, np.zeros_like(z))
    w = t64(rng.uniform(0.5, 2, 5), False)
    assert mg.gradcheck(lambda v: F.multi_margin_loss(v, y, p, 0.7, w), t64(x))
    targets = np.array([[0, 2, -1, 1, 1], [4, -1, 0, 0, 0], [1, 2, 3, 4, 0], [3, 3, -1, 0, 0]])
    assert mg.gradcheck(lambda v: F.multilabel_margin_loss(v, targets, "sum"), t64(x))


def test_gradcheck_svm_hinges(rng):
    x = rng.standard_normal((3, 4))
    y = np.where(x > 0, -1.0, 1.0) * np.where(np.abs(1 - np.abs(x)) < 0.05, -1, 1)
    assert mg.gradcheck(lambda v: F.hinge_loss(v, y), t64(x))
    assert mg.gradcheck(lambda v: F.squared_hinge_loss(v, y), t64(x))
    x = np.array([[0.1, 0.9, -0.4], [1.5, -0.2, 0.3]])
    for compat in (False, True):
        assert mg.gradcheck(lambda v, c=compat: F.categorical_hinge_loss(v, [0, 2], c), t64(x))


# ---------------------------------------------------------------- kinks: subgradient 0 at the tie
def test_ties_give_zero_gradient():
    x1 = t64([0.5, 1.0])
    F.margin_ranking_loss(x1, t64([0.0, 0.5], False), t64([1, 1], False), 0.5, "sum").backward()
    np.testing.assert_array_equal(x1.grad.data, [0.0, 0.0])
    x = t64([1.0, 0.25])
    F.hinge_embedding_loss(x, [-1, -1], margin=1.0).backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, -0.5])
    x = t64([[0.0, 1.0, -3.0]])
    F.multi_margin_loss(x, [1]).backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.0, 0.0]])
    x = t64([[0.0, 1.0, -3.0]])
    F.multilabel_margin_loss(x, [[1, -1, 0]]).backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.0, 0.0]])
    x = t64([1.0, -1.0, 0.5])
    F.hinge_loss(x, [1, -1, 1], reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, -1.0])
    x = t64([[2.0, 1.0, 0.0]])
    F.categorical_hinge_loss(x, [0]).backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.0, 0.0]])
    a = t64([[0.0, 0.0]])
    F.triplet_margin_loss(a, t64([[1.0, 0.0]], False), t64([[0.0, 2.0]], False), eps=0.0).backward()
    np.testing.assert_array_equal(a.grad.data, [[0.0, 0.0]])


def test_cosine_tie_gives_zero_gradient():
    a = t64([[1.0, 0.0]])
    b = t64([[0.0, 1.0]], False)
    F.cosine_embedding_loss(a, b, [-1], margin=0.0).backward()
    np.testing.assert_array_equal(a.grad.data, [[0.0, 0.0]])


# ---------------------------------------------------------------- shapes, empty input, errors
def test_unbatched_equals_batched(rng):
    x, y = rng.standard_normal(4), 2
    for fn in (lambda v, t: F.multi_margin_loss(v, t, reduction="none"),):
        np.testing.assert_allclose(fn(t64(x), np.array(y)).data, fn(t64(x[None]), np.array([y])).data[0])
    tgt = np.array([2, 0, -1, 3])
    np.testing.assert_allclose(F.multilabel_margin_loss(t64(x), tgt, "none").data,
                               F.multilabel_margin_loss(t64(x[None]), tgt[None], "none").data[0])
    a, b, n = (rng.standard_normal(3) for _ in range(3))
    single = F.cosine_embedding_loss(t64(a), t64(b), np.array(-1), -1.0, "none")
    batch = F.cosine_embedding_loss(t64(a[None]), t64(b[None]), [-1], -1.0, "none")
    np.testing.assert_allclose(single.data, batch.data[0])
    np.testing.assert_allclose(F.triplet_margin_loss(t64(a), t64(b), t64(n), reduction="none").data,
                               F.triplet_margin_loss(t64(a[None]), t64(b[None]), t64(n[None]),
                                                     reduction="none").data[0])


@pytest.mark.filterwarnings("ignore:Mean of empty slice")
@pytest.mark.parametrize("name", ["mr", "he", "cos", "mm", "mlm", "trip", "hinge", "cat"])
def test_empty_batch_mean_nan_sum_zero(name):
    e2, e1 = t64(np.zeros((0, 3))), t64(np.zeros(0))
    calls = {
        "mr": lambda r: F.margin_ranking_loss(e1, e1, e1, reduction=r),
        "he": lambda r: F.hinge_embedding_loss(e2, np.zeros((0, 3)), reduction=r),
        "cos": lambda r: F.cosine_embedding_loss(e2, e2, np.zeros(0), reduction=r),
        "mm": lambda r: F.multi_margin_loss(e2, np.zeros(0, np.int64), reduction=r),
        "mlm": lambda r: F.multilabel_margin_loss(e2, np.zeros((0, 3), np.int64), reduction=r),
        "trip": lambda r: F.triplet_margin_loss(e2, e2, e2, reduction=r),
        "hinge": lambda r: F.hinge_loss(e2, np.zeros((0, 3)), reduction=r),
        "cat": lambda r: F.categorical_hinge_loss(e2, np.zeros(0, np.int64), reduction=r),
    }
    assert np.isnan(calls[name]("mean").item())
    assert calls[name]("sum").item() == 0.0
    assert calls[name]("none").shape[0] == 0


def test_error_contracts():
    x = t64([[0.1, 0.2, 0.4]])
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported, got p=3"):
        F.multi_margin_loss(x, [0], p=3)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(RuntimeError, match="multi_margin_loss: target out of range: 3"):
        F.multi_margin_loss(x, [3])
    with pytest.raises(RuntimeError, match="expected target dtype to be Long"):
        F.multi_margin_loss(x, np.array([0.0]))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.multi_margin_loss(x, [0], weight=t64([1.0, 2.0], False))
    with pytest.raises(RuntimeError, match="multilabel_margin_loss: target out of range: 5"):
        F.multilabel_margin_loss(x, [[5, -1, 0]])
    with pytest.raises(RuntimeError, match="same shape"):
        F.multilabel_margin_loss(x, [[0, 1]])
    with pytest.raises(RuntimeError, match="margin_ranking_loss: All input tensors should have same dim"):
        F.margin_ranking_loss(t64([1.0]), t64([[1.0]]), t64([1.0]))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input|expected inputs"):
        F.cosine_embedding_loss(t64([[[1.0]]]), t64([[[1.0]]]), [1])
    with pytest.raises(RuntimeError, match="triplet_margin_loss: All input tensors should have same dim"):
        F.triplet_margin_loss(t64([[1.0]]), t64([1.0]), t64([[1.0]]))
    with pytest.raises(ValueError, match="hinge_loss: target size"):
        F.hinge_loss(t64([1.0, 2.0]), [1.0])
    with pytest.raises(ValueError, match="categorical_hinge_loss"):
        F.categorical_hinge_loss(x, [4])
    for fn in (lambda r: F.margin_ranking_loss(x, x, x, reduction=r),
               lambda r: F.multi_margin_loss(x, [0], reduction=r),
               lambda r: F.triplet_margin_with_distance_loss(x, x, x, reduction=r),
               lambda r: nn.CosineEmbeddingLoss(reduction=r)):
        with pytest.raises(ValueError, match="elementwise_mean is not a valid value for reduction"):
            fn("elementwise_mean")


def test_modules_match_functions_and_keep_weight_buffer(rng):
    x, y = rng.standard_normal((3, 4)), rng.integers(0, 4, 3)
    w = t64([1.0, 2.0, 3.0, 4.0], False)
    m = nn.MultiMarginLoss(p=2, margin=0.5, weight=w, reduction="sum")
    assert "weight" in m.state_dict() and not list(m.parameters())
    assert m(t64(x), y).item() == pytest.approx(F.multi_margin_loss(t64(x), y, 2, 0.5, w, "sum").item())
    a, b, n = (t64(rng.standard_normal((3, 4))) for _ in range(3))
    s = np.array([1.0, -1.0, 1.0])
    pairs = [
        (nn.MarginRankingLoss(0.2)(a[:, 0], b[:, 0], t64(s, False)),
         F.margin_ranking_loss(a[:, 0], b[:, 0], t64(s, False), 0.2)),
        (nn.HingeEmbeddingLoss(0.5)(a, np.sign(x)), F.hinge_embedding_loss(a, np.sign(x), 0.5)),
        (nn.CosineEmbeddingLoss(0.1)(a, b, s), F.cosine_embedding_loss(a, b, s, 0.1)),
        (nn.MultiLabelMarginLoss()(a, [[1, -1, 0, 0]] * 3), F.multilabel_margin_loss(a, [[1, -1, 0, 0]] * 3)),
        (nn.TripletMarginLoss(swap=True)(a, b, n), F.triplet_margin_loss(a, b, n, swap=True)),
        (nn.TripletMarginWithDistanceLoss(margin=2.0)(a, b, n),
         F.triplet_margin_with_distance_loss(a, b, n, margin=2.0)),
        (nn.HingeLoss()(a, np.sign(x)), F.hinge_loss(a, np.sign(x))),
        (nn.SquaredHingeLoss()(a, np.sign(x)), F.squared_hinge_loss(a, np.sign(x))),
        (nn.CategoricalHingeLoss(True)(a, y), F.categorical_hinge_loss(a, y, True)),
    ]
    for got, expected in pairs:
        assert got.item() == pytest.approx(expected.item(), rel=1e-12)


def test_float32_stays_float32(rng):
    x = mg.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    loss = F.multi_margin_loss(x, [0, 1, 2])
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
    assert F.multilabel_margin_loss(x, [[0, -1, 0, 0]] * 3).dtype == np.float32


# ---------------------------------------------------------------- torch oracle
def _torch_pair(torch, arr):
    return t64(arr), torch.tensor(arr, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_against_torch_values_and_gradients(torch, rng, reduction):
    tf = torch.nn.functional
    x, y = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    sign = np.where(rng.random(5) < 0.5, -1.0, 1.0)
    w = rng.uniform(0.5, 2, 4)
    mlm_t = np.array([[1, 2, -1, 0], [0, -1, 1, 1], [3, 3, 0, -1], [2, 1, 0, 3], [-1, 0, 0, 0]])
    cases = [
        (lambda v: F.multi_margin_loss(v, y, 2, 0.8, t64(w, False), reduction),
         lambda v: tf.multi_margin_loss(v, torch.tensor(y), 2, 0.8, torch.tensor(w), reduction=reduction)),
        (lambda v: F.multi_margin_loss(v, y, reduction=reduction),
         lambda v: tf.multi_margin_loss(v, torch.tensor(y), reduction=reduction)),
        (lambda v: F.multilabel_margin_loss(v, mlm_t, reduction),
         lambda v: tf.multilabel_margin_loss(v, torch.tensor(mlm_t), reduction=reduction)),
        (lambda v: F.hinge_embedding_loss(v, np.sign(x + 0.1), 0.9, reduction),
         lambda v: tf.hinge_embedding_loss(v, torch.tensor(np.sign(x + 0.1)), 0.9, reduction=reduction)),
        (lambda v: F.margin_ranking_loss(v[:, 0], v[:, 1], t64(sign, False), 0.3, reduction),
         lambda v: tf.margin_ranking_loss(v[:, 0], v[:, 1], torch.tensor(sign), 0.3, reduction=reduction)),
        (lambda v: F.cosine_embedding_loss(v[:, :2], v[:, 2:], sign, -0.2, reduction),
         lambda v: tf.cosine_embedding_loss(v[:, :2], v[:, 2:], torch.tensor(sign), -0.2,
                                            reduction=reduction)),
        (lambda v: F.triplet_margin_loss(v[:2], v[2:4], v[3:5], 1.5, 2.0, 1e-6, True, reduction),
         lambda v: tf.triplet_margin_loss(v[:2], v[2:4], v[3:5], 1.5, 2.0, 1e-6, True, reduction=reduction)),
        (lambda v: F.triplet_margin_loss(v[:2], v[2:4], v[3:5], 1.5, 1.0, 1e-6, False, reduction),
         lambda v: tf.triplet_margin_loss(v[:2], v[2:4], v[3:5], 1.5, 1.0, 1e-6, False, reduction=reduction)),
        (lambda v: F.triplet_margin_with_distance_loss(v[:2], v[2:4], v[3:5], margin=2.0,
                                                       reduction=reduction),
         lambda v: tf.triplet_margin_with_distance_loss(v[:2], v[2:4], v[3:5], margin=2.0,
                                                        reduction=reduction)),
    ]
    for ours, theirs in cases:
        a, b = _torch_pair(torch, x)
        out, expected = ours(a), theirs(b)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(out.shape)
        out.backward(mg.tensor(g))
        expected.backward(torch.tensor(g))
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_non_contiguous_inputs_give_identical_results(rng):
    x = rng.standard_normal((4, 5))
    view = np.asfortranarray(x)
    y = np.array([0, 4, 2, 1])
    targets = np.array([[1, 0, -1, 0, 0]] * 4)
    for fn in (lambda v: F.multi_margin_loss(v, y, 2), lambda v: F.multilabel_margin_loss(v, targets)):
        a, b = mg.tensor(x, requires_grad=True), mg.tensor(view, requires_grad=True)
        fn(a).backward()
        fn(b).backward()
        np.testing.assert_array_equal(a.grad.data, b.grad.data)
