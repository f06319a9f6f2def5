"""Classification metrics computed from predictions: accuracy, confusion matrix,
per-class precision/recall/F1 (what to look at when classes are imbalanced), and the
threshold-free curves of a binary score: ROC curve and AUC, precision-recall curve."""

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


def _binary_scores(name: str, scores: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    """Flattened float64 scores and 0/1 targets, checked."""
    s = _array(scores).astype(np.float64).reshape(-1)
    t = _array(target).reshape(-1)
    if s.shape != t.shape:
        raise ValueError(f"{name}: {s.size} scores for {t.size} targets; give one score per sample")
    if not np.isfinite(s).all():
        raise ValueError(f"{name}: scores must be finite; got {int((~np.isfinite(s)).sum())} "
                         f"NaN/inf values")
    labels = np.unique(t)
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"{name}: targets must be 0 (negative) or 1 (positive), got labels "
                         f"{labels[:10].tolist()}; for a class c of a multiclass target pass target == c")
    return s, t.astype(np.float64)


def _binary_clf_curve(scores: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, ...]:
    """True/false positives at every distinct threshold, from the highest score down:
    predicting "positive" for score >= thresholds[k] gives tps[k] and fps[k]."""
    order = np.argsort(scores, kind="mergesort")[::-1]
    s, t = scores[order], target[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tps = np.cumsum(t)[last_of_each]
    fps = 1 + last_of_each - tps
    return fps, tps, s[last_of_each]


def roc_curve(scores: Any, target: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic: (fpr, tpr, thresholds), one point per distinct score.

    Predicting positive for score >= thresholds[k] gives the true-positive rate tpr[k] =
    TP / P and false-positive rate fpr[k] = FP / N. The curve starts at (0, 0) with threshold
    +inf and ends at (1, 1); scikit-learn's ``roc_curve(target, scores, drop_intermediate=False)``.
    """
    s, t = _binary_scores("roc_curve", scores, target)
    pos, neg = t.sum(), t.size - t.sum()
    if pos == 0 or neg == 0:
        raise ValueError(f"roc_curve: needs both classes in target, got {int(pos)} positives and "
                         f"{int(neg)} negatives")
    fps, tps, thresholds = _binary_clf_curve(s, t)
    return np.r_[0.0, fps / neg], np.r_[0.0, tps / pos], np.r_[np.inf, thresholds]


def roc_auc(scores: Any, target: Any) -> float:
    """Area under the ROC curve = P(score of a random positive > score of a random negative),
    ties counting one half (the Mann-Whitney U statistic / (P N)).

    Computed from average ranks: AUC = (sum of the positives' ranks - P (P + 1) / 2) / (P N).
    0.5 is chance, 1 a perfect ranking. It only depends on the order of the scores, so
    logits, probabilities or reconstruction errors all work. Same value as scikit-learn's
    ``roc_auc_score(target, scores)``.
    """
    from scipy.stats import rankdata

    s, t = _binary_scores("roc_auc", scores, target)
    pos = t.sum()
    neg = t.size - pos
    if pos == 0 or neg == 0:
        raise ValueError(f"roc_auc: needs both classes in target (AUC is undefined otherwise), got "
                         f"{int(pos)} positives and {int(neg)} negatives")
    ranks = rankdata(s)
    return float((ranks[t == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def precision_recall_curve(scores: Any, target: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, thresholds) with precision = TP / (TP + FP), recall = TP / P when
    predicting positive for score >= thresholds[k], thresholds increasing.

    As scikit-learn's ``precision_recall_curve(target, scores)``: precision and recall have
    one more entry than thresholds, a final (precision 1, recall 0) point with no threshold.
    The area under it (``-np.trapz(precision, recall)`` or average precision) is more telling
    than ROC AUC when positives are rare.
    """
    s, t = _binary_scores("precision_recall_curve", scores, target)
    if t.sum() == 0:
        raise ValueError("precision_recall_curve: target has no positive sample, so recall is undefined")
    fps, tps, thresholds = _binary_clf_curve(s, t)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]
