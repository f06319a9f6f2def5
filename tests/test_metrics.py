from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.metrics import accuracy, confusion_matrix, precision_recall_f1


def test_accuracy_from_logits_and_labels():
    logits = mg.tensor([[0.1, 2.0], [3.0, 0.0], [0.0, 1.0]])
    assert accuracy(logits, mg.tensor([1, 0, 0])) == pytest.approx(2 / 3)
    assert accuracy(np.array([1, 1]), np.array([1, 0])) == 0.5
    with pytest.raises(ValueError, match="differ"):
        accuracy(np.array([1, 1]), np.array([1, 0, 0]))


def test_confusion_matrix_and_per_class_scores():
    counts = confusion_matrix([0, 1, 1, 2, 2, 2], [0, 1, 2, 2, 2, 0], 3)
    assert counts.tolist() == [[1, 0, 1], [0, 1, 0], [0, 1, 2]]
    scores = precision_recall_f1(counts)
    np.testing.assert_allclose(scores["precision"], [1.0, 0.5, 2 / 3])
    np.testing.assert_allclose(scores["recall"], [0.5, 1.0, 2 / 3])
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix([3], [0], 3)
