"""Property tests (Hypothesis) for the margin and course losses: invariants, not values."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import minigrad as mg
import minigrad.nn.functional as F

finite = st.floats(-20, 20, allow_nan=False, width=64)
batches = st.integers(1, 5)


def t64(a) -> mg.Tensor:
    return mg.tensor(np.asarray(a, dtype=np.float64))


@given(st.data(), batches, st.integers(2, 5))
def test_sum_is_batch_times_mean_for_per_sample_losses(data, n, c):
    x = data.draw(arrays(np.float64, (n, c), elements=finite))
    other = data.draw(arrays(np.float64, (n, c), elements=finite))
    y = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    sign = np.where(y % 2 == 0, 1.0, -1.0)
    calls = [
        lambda r: F.multi_margin_loss(t64(x), y, reduction=r),
        lambda r: F.multilabel_margin_loss(t64(x), np.tile(np.arange(c)[::-1], (n, 1)) - 1, reduction=r),
        lambda r: F.cosine_embedding_loss(t64(x), t64(other), sign, reduction=r),
        lambda r: F.triplet_margin_loss(t64(x), t64(other), t64(x[::-1]), reduction=r),
        lambda r: F.categorical_hinge_loss(t64(x), y, reduction=r),
        lambda r: F.margin_ranking_loss(t64(x[:, 0]), t64(other[:, 0]), t64(sign), 0.5, r),
        lambda r: F.focal_loss(t64(x), y, reduction=r),
    ]
    for call in calls:
        np.testing.assert_allclose(call("sum").item(), n * call("mean").item(), rtol=1e-10, atol=1e-10)


@given(arrays(np.float64, (2, 3, 4), elements=finite), arrays(np.int64, (2, 4), elements=st.integers(0, 2)),
       st.floats(0.0, 3.0))
def test_dice_between_0_and_1_and_tversky_half_is_dice(logits, target, smooth):
    dice = F.dice_loss(t64(logits), target, "multiclass", smooth=smooth, reduction="none").data
    assert ((dice >= -1e-12) & (dice <= 1 + 1e-12)).all()
    tversky = F.tversky_loss(t64(logits), target, "multiclass", 0.5, 0.5, smooth=smooth / 2,
                             reduction="none").data
    np.testing.assert_allclose(tversky, dice, rtol=1e-9, atol=1e-12)


@given(arrays(np.float64, (3, 4), elements=finite), st.floats(0.5, 4.0))
def test_focal_never_exceeds_cross_entropy(logits, gamma):
    y = np.array([0, 3, 1])
    ce = F.focal_loss(t64(logits), y, gamma=0.0, reduction="none").data
    focal = F.focal_loss(t64(logits), y, gamma=gamma, reduction="none").data
    assert (focal <= ce + 1e-12).all() and (focal >= 0).all()
    bce_like = F.sigmoid_focal_loss(t64(logits), (logits > 0).astype(float), alpha=-1, gamma=0.0).data
    sfl = F.sigmoid_focal_loss(t64(logits), (logits > 0).astype(float), alpha=-1, gamma=gamma).data
    assert (sfl <= bce_like + 1e-12).all()


@given(st.lists(st.integers(1, 10_000), min_size=1, max_size=6), st.floats(0.0, 0.9999))
def test_class_balanced_weights_sum_to_num_classes_and_favour_rare(counts, beta):
    w = F.class_balanced_weights(counts, beta).data
    np.testing.assert_allclose(w.sum(), len(counts), rtol=1e-9)
    order = np.argsort(counts, kind="stable")
    assert (np.diff(w[order]) <= 1e-9).all()
