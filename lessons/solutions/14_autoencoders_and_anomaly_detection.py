"""Answer key of lesson 14, autoencoders and anomaly detection: the exercises and the
questionnaire. The AUC references are minigrad's `metrics.roc_auc`."""

from __future__ import annotations

import numpy as np
from course import Exercise

import minigrad as mg
from minigrad import metrics, nn


def _errors_reference(model, X):
    with mg.no_grad():
        return ((X - model(mg.tensor(X)).numpy()) ** 2).mean(axis=1)


def _model_and_images(rng: np.random.Generator) -> tuple:
    mg.manual_seed(int(rng.integers(1_000)))
    model = nn.Sequential(nn.Linear(784, 8), nn.ReLU(), nn.Linear(8, 784), nn.Sigmoid())
    return model, rng.uniform(0, 1, size=(int(rng.integers(2, 7)), 784)).astype(np.float32)


def _scores_and_target(rng: np.random.Generator) -> tuple:
    n = int(rng.integers(4, 30))
    scores = np.round(rng.normal(size=n), 1)          # rounded: some ties
    target = rng.random(n) < 0.4
    target[:2] = [True, False]
    return scores, target


def _detection_reference(normal_errors, anomaly_errors):
    return float((anomaly_errors > np.quantile(normal_errors, 0.95)).mean())


EXERCISES: dict[str, Exercise] = {
    "14-per-image-error": Exercise(
        kind="bug",
        task="a reconstruction error averaged over the whole batch instead of per image",
        hints=("Print the shape of what the function returns. How many scores should there be?",
               "The mean runs over every pixel of every image; average over the pixels of each "
               "row only."),
        reference=_errors_reference,
        make_inputs=_model_and_images,
        rtol=1e-6,
        solution='''def reconstruction_errors(model, X):
    """Mean squared reconstruction error of each row of X (N, 784): an array of N scores."""
    with mg.no_grad():
        X_hat = model(mg.tensor(X)).numpy()
    return ((X - X_hat) ** 2).mean(axis=1)


check_function("14-per-image-error", reconstruction_errors)''',
    ),
    "14-auc-by-pairs": Exercise(
        kind="implement",
        task="the AUC as the fraction of correctly ordered (positive, negative) pairs",
        hints=("Split the scores into pos = scores[target] and neg = scores[~target]; "
               "pos[:, None] > neg[None, :] compares every pair at once.",
               "Average (pos[:, None] > neg) + 0.5 * (pos[:, None] == neg) over all pairs; "
               "convert target to bool first."),
        reference=lambda scores, target: metrics.roc_auc(scores, target),
        make_inputs=_scores_and_target,
        solution='''def auc_by_pairs(scores, target):
    """P(score of a random positive > score of a random negative), ties counting 1/2."""
    target = np.asarray(target, dtype=bool)
    pos, neg = scores[target][:, None], scores[~target][None, :]
    return np.mean((pos > neg) + 0.5 * (pos == neg))


check_function("14-auc-by-pairs", auc_by_pairs)''',
    ),
    "14-flipped-auc": Exercise(
        kind="predict",
        task="the AUC of the negated score",
        hints=("Negating every score reverses the order of every (positive, negative) pair.",
               "A pair that was ranked correctly is now ranked wrongly, and ties stay ties: the "
               "fractions add up to one."),
        expected=lambda errors, is_anomaly: metrics.roc_auc(-errors, is_anomaly),
        rtol=1e-9,
        solution='''flipped_auc = 1 - auc

check("14-flipped-auc", flipped_auc, errors=errors, is_anomaly=is_anomaly)''',
    ),
    "14-detection-rate": Exercise(
        kind="implement",
        task="the fraction of anomalies flagged at the normal errors' 95th percentile",
        hints=("np.quantile(normal_errors, 0.95) is the threshold.",
               "Compare anomaly_errors with it (strictly above) and take the mean of the booleans."),
        reference=_detection_reference,
        make_inputs=lambda rng: (rng.gamma(2.0, size=int(rng.integers(20, 60))),
                                 rng.gamma(4.0, size=int(rng.integers(5, 20)))),
        solution='''def detection_rate(normal_errors, anomaly_errors):
    """Fraction of anomalies above the 95th percentile of the normal errors."""
    threshold = np.quantile(normal_errors, 0.95)
    return float((anomaly_errors > threshold).mean())


check_function("14-detection-rate", detection_rate)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "Why does an autoencoder need a bottleneck (or another constraint) to be useful?":
        "Without one it can learn the identity and reconstruct everything perfectly, normal or "
        "not; the bottleneck forces it to keep only what is common to the training data.",
    "Why can the reconstruction error detect a digit the autoencoder never saw, and when would "
    "it fail to?":
        "The encoder and decoder learned the shapes of the training digits, so an unseen shape is "
        "rebuilt as something familiar and the error is large. It fails when the unseen class is "
        "close to seen ones or simple (few strokes), so it reconstructs well anyway.",
    "What does an AUC of 0.5 mean, and what does an AUC of 0.2 mean?":
        "0.5: the score ranks a random anomaly above a random normal image half the time, no "
        "better than chance. 0.2: it ranks them the wrong way round 80% of the time; negating "
        "the score gives 0.8.",
    "Why is the AUC independent of any threshold, and why do you still need one in practice?":
        "It averages over all thresholds (it is a property of the ranking). A deployed detector "
        "must decide yes or no, so you still choose a threshold for the false-alarm rate you can "
        "afford.",
    "Why is the held-out digit labelled the positive class here, and does swapping the labels "
    "change the AUC?":
        "The task is to detect anomalies, and a high error should mean anomaly. Swapping the labels "
        "with the same score gives 1 - AUC; swapping them and negating the score gives the same AUC.",
    "Why might a normal image get a large reconstruction error?":
        "It is unusual for its class (odd handwriting, thick or off-centre strokes), or the "
        "bottleneck lost detail it needed: the detector measures distance from the training data, "
        "not membership of a class.",
}
