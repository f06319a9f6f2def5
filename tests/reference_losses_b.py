"""Naive float64 references for the second half of the loss library (margin, CTC, course).

Plain Python loops over samples and classes on numpy arrays, written from the formulas in
the spec, never calling minigrad. They return the unreduced losses; ``reduce_ref`` applies
a reduction with an explicit denominator.
"""

from __future__ import annotations

import math

import numpy as np


def reduce_ref(values: np.ndarray, reduction: str, denominator: float | None = None) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if reduction == "none":
        return values
    total = sum(values.ravel().tolist()) if values.size else 0.0
    if reduction == "sum":
        return np.float64(total)
    den = values.size if denominator is None else denominator
    return np.float64(total / den) if den else np.float64("nan")


def margin_ranking(x1, x2, y, margin):
    return np.array([max(0.0, -b * (a - c) + margin) for a, c, b in zip(x1, x2, y)])


def hinge_embedding(x, y, margin):
    out = []
    for a, b in zip(np.ravel(x), np.ravel(y)):
        v = 0.0
        if b != -1:
            v += a
        if b != 1:
            v += max(0.0, margin - a)
        out.append(v)
    return np.array(out).reshape(np.shape(x))


def cosine_embedding(x1, x2, y, margin):
    out = []
    for a, b, t in zip(x1, x2, y):
        dot = sum(p * q for p, q in zip(a, b))
        cos = dot / math.sqrt((sum(p * p for p in a) + 1e-12) * (sum(q * q for q in b) + 1e-12))
        out.append(1 - cos if t == 1 else (max(0.0, cos - margin) if t == -1 else 0.0))
    return np.array(out)


def multi_margin(x, y, p=1, margin=1.0, weight=None):
    out = []
    for row, t in zip(x, y):
        c = len(row)
        total = 0.0
        for i in range(c):
            if i == t:
                continue
            z = margin - row[t] + row[i]
            if z > 0:
                total += (1.0 if weight is None else weight[t]) * z ** p
        out.append(total / c)
    return np.array(out)


def multilabel_margin(x, y):
    out = []
    for row, t in zip(x, y):
        c = len(row)
        listed = []
        for v in t:
            if v < 0:
                break
            listed.append(int(v))
        total = 0.0
        for j in listed:
            for i in range(c):
                if i not in listed:
                    total += max(0.0, 1.0 - (row[j] - row[i]))
        out.append(total / c)
    return np.array(out)


def _dist(a, b, p, eps):
    return sum(abs(u - v + eps) ** p for u, v in zip(a, b)) ** (1.0 / p)


def triplet(a, pos, neg, margin=1.0, p=2.0, eps=1e-6, swap=False):
    out = []
    for x, y, z in zip(a, pos, neg):
        d_pos, d_neg = _dist(x, y, p, eps), _dist(x, z, p, eps)
        if swap:
            d_neg = min(d_neg, _dist(y, z, p, eps))
        out.append(max(0.0, margin + d_pos - d_neg))
    return np.array(out)


def hinge(x, y):
    return np.array([max(0.0, 1 - a * b) for a, b in zip(np.ravel(x), np.ravel(y))]).reshape(np.shape(x))


def categorical_hinge(x, y, keras_compat=False):
    out = []
    for row, t in zip(x, y):
        others = [v for i, v in enumerate(row) if i != t] + ([0.0] if keras_compat else [])
        out.append(max(0.0, max(others) - row[t] + 1))
    return np.array(out)


def ctc(probs, target, blank=0):
    """-log P(target) for probs (T, C) by the probability-space alpha recursion (Graves 2006)."""
    ext = [blank]
    for c in target:
        ext += [int(c), blank]
    t_len, width = len(probs), len(ext)
    if t_len == 0:
        return 0.0 if not target else math.inf
    alpha = [[0.0] * width for _ in range(t_len)]
    alpha[0][0] = probs[0][blank]
    if width > 1:
        alpha[0][1] = probs[0][ext[1]]
    for t in range(1, t_len):
        for s in range(width):
            v = alpha[t - 1][s] + (alpha[t - 1][s - 1] if s >= 1 else 0.0)
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                v += alpha[t - 1][s - 2]
            alpha[t][s] = v * probs[t][ext[s]]
    total = alpha[-1][-1] + (alpha[-1][-2] if width > 1 else 0.0)
    return -math.log(total) if total > 0 else math.inf


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def sigmoid_focal(x, y, alpha=0.25, gamma=2.0):
    """torchvision.ops.sigmoid_focal_loss, element by element (naive formula)."""
    out = []
    for v, t in zip(np.ravel(x), np.ravel(y)):
        p = sigmoid(v)
        ce = -(t * math.log(p) + (1 - t) * math.log(1 - p))
        p_t = p * t + (1 - p) * (1 - t)
        loss = ce * (1 - p_t) ** gamma
        if alpha >= 0:
            loss *= alpha * t + (1 - alpha) * (1 - t)
        out.append(loss)
    return np.array(out).reshape(np.shape(x))


def softmax_row(row):
    m = max(row)
    e = [math.exp(v - m) for v in row]
    s = sum(e)
    return [v / s for v in e]


def focal(x, y, alpha=None, gamma=2.0, ignore_index=-100):
    """Multiclass focal loss for x (N, C) and y (N); ignored targets give 0."""
    out = []
    for row, t in zip(x, y):
        if t == ignore_index:
            out.append(0.0)
            continue
        p = softmax_row(row)[t]
        a = 1.0 if alpha is None else (alpha if np.ndim(alpha) == 0 else alpha[t])
        out.append(-a * (1 - p) ** gamma * math.log(p))
    return np.array(out)


def dice_binary(p, g, smooth=1.0, eps=1e-7, q=1):
    """1 - dice for one class, p and g flat lists of probabilities and targets."""
    inter = sum(a * b for a, b in zip(p, g))
    total = sum(a ** q for a in p) + sum(b ** q for b in g)
    return 1.0 - (2 * inter + smooth) / max(total + smooth, eps)


def tversky_binary(p, g, alpha, beta, gamma=1.0, smooth=1.0, eps=1e-7):
    tp = sum(a * b for a, b in zip(p, g))
    fp = sum(a * (1 - b) for a, b in zip(p, g))
    fn = sum((1 - a) * b for a, b in zip(p, g))
    return (1.0 - (tp + smooth) / max(tp + alpha * fp + beta * fn + smooth, eps)) ** gamma


def class_balanced_weights(counts, beta):
    w = [(1 - beta) / (1 - beta ** n) for n in counts]
    return [v * len(counts) / sum(w) for v in w]


def bpr(pos, neg):
    return np.array([-math.log(sigmoid(a - b)) for a, b in zip(pos, neg)])
