"""metrics.roc_curve, roc_auc and precision_recall_curve: golden values worked by hand, and
scikit-learn's results where it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import metrics

SCORES = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.7])
TARGET = np.array([0, 0, 1, 1, 1, 0])


def test_roc_auc_golden_with_a_tie():
    """Positives 0.35, 0.8, 0.4 against negatives 0.1, 0.4, 0.7: 0.35 beats one negative, 0.8
    all three, 0.4 beats one and ties one (1/2): 5.5 of 9 pairs."""
    assert metrics.roc_auc(SCORES, TARGET) == pytest.approx(5.5 / 9, rel=1e-15)
    assert metrics.roc_auc(mg.tensor(SCORES), mg.tensor(TARGET)) == pytest.approx(5.5 / 9, rel=1e-15)
    assert metrics.roc_auc([0.1, 0.2, 0.9], [0, 0, 1]) == 1.0
    assert metrics.roc_auc([0.9, 0.8, 0.1], [0, 0, 1]) == 0.0
    assert metrics.roc_auc(np.zeros(6), TARGET) == 0.5


def test_precision_recall_curve_golden():
    precision, recall, thresholds = metrics.precision_recall_curve(SCORES, TARGET)
    np.testing.assert_array_equal(thresholds, [0.1, 0.35, 0.4, 0.7, 0.8])
    np.testing.assert_allclose(precision, [3 / 6, 3 / 5, 2 / 4, 1 / 2, 1 / 1, 1.0])
    np.testing.assert_allclose(recall, [3 / 3, 3 / 3, 2 / 3, 1 / 3, 1 / 3, 0.0])


def test_roc_curve_golden_and_area_equals_roc_auc():
    fpr, tpr, thresholds = metrics.roc_curve(SCORES, TARGET)
    np.testing.assert_array_equal(thresholds, [np.inf, 0.8, 0.7, 0.4, 0.35, 0.1])
    np.testing.assert_allclose(fpr, [0, 0, 1 / 3, 2 / 3, 2 / 3, 1])
    np.testing.assert_allclose(tpr, [0, 1 / 3, 1 / 3, 2 / 3, 1, 1])
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    assert area == pytest.approx(metrics.roc_auc(SCORES, TARGET), rel=1e-12)


def test_against_scikit_learn(rng):
    sk = pytest.importorskip("sklearn.metrics")
    for _ in range(5):
        n = 200
        target = rng.integers(0, 2, n)
        scores = np.round(rng.standard_normal(n) + target, 1)  # rounding makes ties
        assert metrics.roc_auc(scores, target) == pytest.approx(sk.roc_auc_score(target, scores), rel=1e-12)
        for mine, theirs in zip(metrics.precision_recall_curve(scores, target),
                                sk.precision_recall_curve(target, scores)):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12)
        for mine, theirs in zip(metrics.roc_curve(scores, target),
                                sk.roc_curve(target, scores, drop_intermediate=False)):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="needs both classes in target .* 0 positives and 3 negatives"):
        metrics.roc_auc([0.1, 0.2, 0.3], [0, 0, 0])
    with pytest.raises(ValueError, match="3 scores for 2 targets"):
        metrics.roc_auc([0.1, 0.2, 0.3], [0, 1])
    with pytest.raises(ValueError, match=r"targets must be 0 \(negative\) or 1 \(positive\), got labels "
                                         r"\[0, 1, 2\]; .* target == c"):
        metrics.precision_recall_curve([0.1, 0.2, 0.3], [0, 1, 2])
    with pytest.raises(ValueError, match="scores must be finite; got 1 NaN/inf"):
        metrics.roc_curve([0.1, np.nan, 0.3], [0, 1, 1])
    with pytest.raises(ValueError, match="no positive sample"):
        metrics.precision_recall_curve([0.1, 0.2], [0, 0])
