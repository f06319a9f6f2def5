"""Classification metrics computed from predictions: accuracy, confusion matrix, and
per-class precision/recall/F1 (what to look at when classes are imbalanced)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _array(x: Any) -> np.ndarray:
    return np.asarray(getattr(x, "data", x))


def accuracy(logits_or_pred: Any, target: Any) -> float:
    """Fraction of correct predictions; accepts logits (N, C) or predicted labels (N,)."""
    pred, target = _array(logits_or_pred), _array(target)
    if pred.ndim == target.ndim + 1:
        pred = pred.argmax(-1)
    if pred.shape != target.shape:
        raise ValueError(f"accuracy: predictions {pred.shape} and targets {target.shape} differ")
    return float((pred == target).mean()) if target.size else float("nan")


def confusion_matrix(pred: Any, target: Any, num_classes: int) -> np.ndarray:
    """counts[i, j] = how many samples of true class i were predicted as class j."""
    pred, target = _array(pred).reshape(-1), _array(target).reshape(-1)
    if pred.shape != target.shape:
        raise ValueError(f"confusion_matrix: {pred.size} predictions for {target.size} targets")
    for name, values in (("pred", pred), ("target", target)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"confusion_matrix: {name} has labels outside [0, {num_classes})")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (target.astype(np.int64), pred.astype(np.int64)), 1)
    return counts


def precision_recall_f1(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class precision = TP / predicted, recall = TP / actual, F1 = their harmonic mean
    (NaN-free: 0 where a class was never predicted or never present)."""
    tp = np.diag(counts).astype(np.float64)
    predicted, actual = counts.sum(0), counts.sum(1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"precision": precision, "recall": recall, "f1": f1}
