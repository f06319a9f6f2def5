"""Answer key of lesson 11, the MNIST capstone: the exercises and the questionnaire."""

from __future__ import annotations

import numpy as np
from course import Exercise

import minigrad as mg
from minigrad import metrics
from minigrad.debug import diagnose
from minigrad.nn import functional as F


def _ce_dlogits(z, y):
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return (p - np.eye(z.shape[1])[y]) / len(y)


def _random_confusion(rng: np.random.Generator) -> tuple:
    c = int(rng.integers(2, 8))
    return (rng.integers(0, 50, (c, c)) + np.diag(rng.integers(1, 50, c)),)


def _mse_softmax_dlogits(z, y):
    """The reference: minigrad's autograd through softmax and mse_loss."""
    zt = mg.tensor(z, requires_grad=True)
    target = mg.tensor(np.eye(z.shape[1])[y])
    F.mse_loss(zt.softmax(1), target).backward()
    return zt.grad.numpy()


def _logits_and_labels(rng: np.random.Generator) -> tuple:
    n, c = int(rng.integers(1, 9)), int(rng.integers(2, 11))
    return rng.standard_normal((n, c)) * 3, rng.integers(0, c, n)


EXERCISES: dict[str, Exercise] = {
    "11-diagnose-capstone": Exercise(
        kind="predict",
        task="diagnose's verdict for the capstone's own healthy run",
        hints=("Lesson 8's rules go in order: no NaN, no validation loss here; does any single "
               "step stand out from the noise of its neighbours?",
               "The swings are large, but compare them with how far the trend fell over the "
               "whole run (lesson 8's progress-to-noise)."),
        expected=lambda losses: diagnose(losses).status,
        solution='''my_verdict = "healthy"

_ = check("11-diagnose-capstone", my_verdict, losses=log["step_loss"])''',
    ),
    "11-ce-dlogits": Exercise(
        kind="derive",
        task="cross-entropy's gradient w.r.t. the logits of a real batch, in numpy",
        hints=("Softmax of each row first (subtract the row max before np.exp), then subtract "
               "the one-hot labels np.eye(10)[y].",
               "The loss is a mean over the batch: divide (softmax(z) - onehot(y)) by len(y)."),
        expected=_ce_dlogits,
        rtol=1e-10,
        solution='''p = np.exp(z - z.max(1, keepdims=True))
p /= p.sum(1, keepdims=True)
mine = (p - np.eye(10)[y]) / len(y)

_ = check("11-ce-dlogits", mine, z=z, y=y)''',
    ),
    "11-recall-from-confusion": Exercise(
        kind="implement",
        task="per-class recall from a confusion matrix, against metrics.precision_recall_f1",
        hints=("Recall of class c: of all samples whose true class is c (row c), the fraction "
               "predicted as c.",
               "np.diag(C) holds the correct counts; divide by the row sums C.sum(1)."),
        reference=lambda C: metrics.precision_recall_f1(C)["recall"],
        make_inputs=_random_confusion,
        solution='''def recall_per_class(C):
    """Recall of every class of a square confusion matrix C (true classes in rows)."""
    return np.diag(C) / C.sum(1)


_ = check_function("11-recall-from-confusion", recall_per_class)''',
    ),
    "11-mse-softmax-dlogits": Exercise(
        kind="derive",
        task="dL/dlogits of MSE on softmax probabilities, against autograd",
        hints=("Two steps: dL/dp of a mean over all N * C entries, then the chain rule through "
               "each row's softmax with its Jacobian dp_k/dz_j = p_k (delta_kj - p_j).",
               "No need to build the Jacobian: for each row, sum_k dL/dp_k p_k is one number; "
               "dL/dz_j is p_j times (dL/dp_j minus that number)."),
        reference=_mse_softmax_dlogits,
        make_inputs=_logits_and_labels,
        rtol=1e-8,
        atol=1e-12,
        solution='''def mse_softmax_dlogits(z, y):
    """dL/dz of L = mean((softmax(z) - onehot(y))**2) for (N, C) logits z and (N,) labels y."""
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dp = 2 * (p - np.eye(z.shape[1])[y]) / z.size
    return p * (dp - (dp * p).sum(1, keepdims=True))


_ = check_function("11-mse-softmax-dlogits", mse_softmax_dlogits)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "What does the `Trainer` do in one epoch that the hand-written loop leaves out?":
        "It applies the learning-rate schedule, optional gradient clipping, validates after "
        "every epoch, writes a checkpoint and the metrics files, and ends with a test; the "
        "hand-written loop only evaluates on part of the validation split.",
    "Why does `diagnose` call the capstone run healthy although its loss jumps by 50% and more "
    "between steps?":
        "It measures noise on the log of the loss and spikes against the local noise, so the "
        "normal, growing minibatch noise late in training is not a spike; and the trend fell "
        "several times the size of the swings (progress_to_noise above 3.5), so it is not "
        "oscillating.",
    "Why is cross-entropy's gradient with respect to the logits $(p - e_y)/N$ so convenient?":
        "It is cheap (no Jacobian to form), bounded, and largest exactly when the model is "
        "confidently wrong, so mistakes are corrected fast.",
    "Why do MSE and L1 on softmax probabilities learn slowly from confident mistakes?":
        "Their gradient w.r.t. p is bounded and passes through the softmax Jacobian "
        "p_k (delta_kj - p_j), which is nearly zero when p_y is near 0 and another class near 1.",
    "Why is the gap between the losses much smaller under Adam than under plain SGD?":
        "Adam divides each parameter's gradient by its running RMS, so a consistently small "
        "gradient still produces steps of about lr; SGD's step is proportional to the raw, "
        "tiny gradient.",
    "Why are this course's MNIST gaps so much smaller than the seed's CIFAR-10 gaps?":
        "MNIST is far easier (a linear model reaches about 92%), so every loss ends near the "
        "ceiling; the seed's numbers come from a CNN on a harder problem where a slow loss "
        "never catches up, with an unstated optimizer and one run per loss.",
    "When is a difference between two losses in the table evidence that one is better?":
        "When it is large compared with the seed-to-seed spread: as a rule of thumb more than "
        "about two standard deviations, measured over several seeds with everything else equal.",
}
