"""Answer key of lesson 04, the loss zoo: the exercises and the questionnaire.

The references differentiate minigrad's own losses with autograd, so a learner's closed form
is checked against the library, never against a second copy of the same formula."""

from __future__ import annotations

import numpy as np
from course import Exercise

import minigrad as mg
import minigrad.nn.functional as F


def _autograd(loss_fn, x: np.ndarray) -> np.ndarray:
    """d sum(loss_fn(x)) / dx by minigrad, for a loss that is elementwise in x."""
    xt = mg.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    loss_fn(xt).sum().backward()
    return xt.grad.numpy()


def _huber_grad(d, delta):
    return _autograd(lambda x: F.huber_loss(x, mg.zeros(x.shape, dtype=mg.float64),
                                            reduction="none", delta=delta), d)


def _focal_grad(m, gamma):
    return _autograd(lambda x: F.sigmoid_focal_loss(x, mg.ones(x.shape, dtype=mg.float64),
                                                    alpha=-1, gamma=gamma), m)


def _bce_grad_p(p, t):
    return _autograd(lambda x: F.binary_cross_entropy(x, mg.tensor(t, dtype=mg.float64), reduction="none"), p)


def _bce_logit_grad(x, t):
    return _autograd(lambda v: F.binary_cross_entropy_with_logits(v, mg.tensor(t), reduction="none"), x)


def _log_softmax(z):
    return F.log_softmax(mg.tensor(z), dim=1).numpy()


def _ce_dlogits(Z, y):
    Zt = mg.tensor(Z, requires_grad=True)
    F.cross_entropy(Zt, mg.tensor(y)).backward()
    return Zt.grad.numpy()


def _least_squares(x, y):
    w, b = np.polyfit(x, y, 1)
    return w, b


def _bootstrapped_grad(w, x, y, beta=0.8):
    wt = mg.tensor(w, dtype=mg.float64, requires_grad=True)
    pred = mg.tensor(x) * wt
    F.mse_loss(pred, beta * mg.tensor(y) + (1 - beta) * pred.detach()).backward()
    return wt.grad.item()


def _n(rng: np.random.Generator) -> int:
    return int(rng.integers(3, 9))


def _labels(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2, size=n).astype(np.float64)


def _batch(rng: np.random.Generator) -> tuple:
    n, c = _n(rng), int(rng.integers(2, 6))
    return rng.normal(0, 3, size=(n, c)), rng.integers(0, c, size=n)


def _line_data(rng: np.random.Generator) -> tuple:
    x = rng.normal(size=_n(rng) + 5)
    return x, 2 * x + 1 + rng.normal(size=x.size)


def _bootstrap_inputs(rng: np.random.Generator) -> tuple:
    x = rng.normal(size=_n(rng))
    return float(rng.normal()), x, 3 * x + rng.normal(size=x.size)


def _choose_regression_loss(has_outliers, predicts_counts, wants_uncertainty):
    if predicts_counts:
        return "poisson_nll"
    if wants_uncertainty:
        return "gaussian_nll"
    return "huber" if has_outliers else "mse"


def _loss_tree_inputs(rng):
    return tuple(bool(b) for b in rng.integers(0, 2, size=3))


EXERCISES: dict[str, Exercise] = {
    "04-huber-grad": Exercise(
        kind="derive",
        task="Huber's gradient as a function of the error and delta",
        hints=("Differentiate each piece: 0.5 d^2 inside |d| < delta, and delta (|d| - delta/2) "
               "outside. What is d|d|/dd?",
               "Inside, the derivative is d itself; outside, it is delta times the sign of d. "
               "Both cases together are one numpy function with a lower and an upper bound."),
        reference=_huber_grad,
        make_inputs=lambda rng: (rng.normal(0, 2, size=_n(rng)), float(rng.uniform(0.3, 2.0))),
        solution='''def huber_grad(d, delta):
    """d/dd of the Huber loss with threshold delta, elementwise."""
    return np.clip(d, -delta, delta)


check_function("04-huber-grad", huber_grad)''',
    ),
    "04-focal-grad": Exercise(
        kind="derive",
        task="the binary focal loss's gradient by the product and chain rules",
        hints=("Write the loss as u(p) v(p) with u = -(1-p)^gamma and v = log p, differentiate "
               "by p with the product rule, then multiply by dp/dm = p(1-p).",
               "d/dp[-(1-p)^g log p] = g (1-p)^(g-1) log p - (1-p)^g / p. Multiply by p(1-p) and "
               "factor out (1-p)^g."),
        reference=_focal_grad,
        make_inputs=lambda rng: (rng.normal(0, 2, size=_n(rng)), float(rng.choice([0.0, 0.5, 1.0, 2.0, 3.0]))),
        solution='''def focal_grad(m, gamma):
    """d/dm of the binary focal loss -(1 - p)^gamma log p, p = sigmoid(m), elementwise."""
    p = 1 / (1 + np.exp(-m))
    return (1 - p) ** gamma * (gamma * p * np.log(p) - (1 - p))


check_function("04-focal-grad", focal_grad)''',
    ),
    "04-bce-from-probabilities": Exercise(
        kind="derive",
        task="BCE on probabilities with 0/1 labels: dl/dp",
        hints=("d/dp log p = 1/p and d/dp log(1 - p) = -1/(1 - p); keep the minus sign in front "
               "of the bracket.",
               "You get -t/p + (1 - t)/(1 - p); over a common denominator p(1 - p) the numerator "
               "simplifies to something very short."),
        reference=_bce_grad_p,
        make_inputs=lambda rng: (lambda n: (rng.uniform(0.05, 0.95, size=n), _labels(rng, n)))(_n(rng)),
        solution='''def bce_grad_p(p, t):
    """d/dp of -[t log p + (1 - t) log(1 - p)], elementwise, for labels t in {0, 1}."""
    return (p - t) / (p * (1 - p))


check_function("04-bce-from-probabilities", bce_grad_p)''',
    ),
    "04-bce-margin-mapping": Exercise(
        kind="derive",
        task="BCE with logits: from the +-1 margin form to 0/1 labels",
        hints=("A 0/1 label t becomes y = 2t - 1. With m = y x, dl/dx = l'(m) dm/dx = "
               "(sigmoid(m) - 1) y.",
               "Check the two cases separately: t = 1 (y = 1) and t = 0 (y = -1, and use "
               "sigmoid(-x) = 1 - sigmoid(x)). Both give the same short formula in x and t."),
        reference=_bce_logit_grad,
        make_inputs=lambda rng: (lambda n: (rng.normal(0, 3, size=n), _labels(rng, n)))(_n(rng)),
        solution='''def bce_logit_grad(x, t):
    """d/dx of binary cross-entropy on the logit x with a 0/1 label t, elementwise."""
    return 1 / (1 + np.exp(-x)) - t


check_function("04-bce-margin-mapping", bce_logit_grad)''',
    ),
    "04-log-softmax-overflow": Exercise(
        kind="bug",
        task="log(softmax(z)) that overflows on large logits",
        hints=("np.exp(1000.0) is inf. log softmax(z) = z - log sum exp(z): which constant can "
               "you subtract from every logit of a row without changing the result?",
               "Subtract each row's maximum c (keepdims=True) before exp, and compute "
               "z - c - log(sum(exp(z - c))) without ever dividing."),
        reference=_log_softmax,
        make_inputs=lambda rng: (rng.normal(size=(_n(rng), 4)) * 10 ** rng.uniform(2, 3),),
        solution='''def my_log_softmax(z):
    """log(softmax(z)) of each row of the 2-d array z."""
    c = z.max(axis=1, keepdims=True)
    return z - c - np.log(np.exp(z - c).sum(axis=1, keepdims=True))


check_function("04-log-softmax-overflow", my_log_softmax)''',
    ),
    "04-ce-dlogits": Exercise(
        kind="derive",
        task="softmax cross-entropy's dL/dlogits for a batch",
        hints=("d/dz_k of log sum_j exp(z_j) is exp(z_k) / sum_j exp(z_j), a softmax; d/dz_k of "
               "-z_y is -1 when k = y and 0 otherwise.",
               "Per sample: softmax(z) minus a one-hot vector of y (np.eye(C)[y]). For the mean "
               "over the batch, do not forget the factor 1/N."),
        reference=_ce_dlogits,
        make_inputs=_batch,
        solution='''def ce_dlogits(Z, y):
    """dL/dZ of the mean cross-entropy of logits Z (N, C) and labels y (N,)."""
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    return (P - np.eye(Z.shape[1])[y]) / Z.shape[0]


check_function("04-ce-dlogits", ce_dlogits)''',
    ),
    "04-least-squares": Exercise(
        kind="implement",
        task="the least-squares line in closed form",
        hints=("Stack x and a column of ones into a design matrix A (n, 2); the best (w, b) "
               "solves min ||A (w, b) - y||^2.",
               "np.linalg.lstsq(A, y, rcond=None)[0] returns the two coefficients in the order of "
               "A's columns."),
        reference=_least_squares,
        make_inputs=_line_data,
        rtol=1e-6,
        solution='''def least_squares_line(x, y):
    """(w, b) minimising mean((w x + b - y)^2), in closed form."""
    design = np.stack([x, np.ones_like(x)], axis=1)
    w, b = np.linalg.lstsq(design, y, rcond=None)[0]
    return w, b


check_function("04-least-squares", least_squares_line)''',
    ),
    "04-target-requires-grad": Exercise(
        kind="bug",
        task="a bootstrapped target that still requires grad",
        hints=("Print target.requires_grad. Which tensors does the gradient of the loss flow "
               "into?",
               "The blend uses pred, so backward also differentiates through the target. Cut "
               "that path for the target only."),
        reference=_bootstrapped_grad,
        make_inputs=_bootstrap_inputs,
        solution='''def bootstrapped_grad(w, x, y, beta=0.8):
    """dL/dw for L = mse(w x, beta y + (1 - beta) w x), the blend being a fixed target."""
    w = mg.tensor(w, dtype=mg.float64, requires_grad=True)
    pred = mg.tensor(x) * w
    target = beta * mg.tensor(y) + (1 - beta) * pred.detach()
    F.mse_loss(pred, target).backward()
    return w.grad.item()


check_function("04-target-requires-grad", bootstrapped_grad)''',
    ),
    "04-loss-decision-tree": Exercise(
        kind="bug",
        task="a loss-choosing decision tree that sends outliers to MSE",
        hints=("Section 6 fitted a line to data with outliers under three losses. Which of them "
               "was dragged towards the outliers?",
               "MSE's pull grows with the residual, so outliers dominate it; the branch for data "
               "with outliers should pick the loss that is linear far from zero."),
        reference=_choose_regression_loss,
        make_inputs=_loss_tree_inputs,
        trials=24,
        solution='''def choose_regression_loss(has_outliers: bool, predicts_counts: bool,
                           wants_uncertainty: bool) -> str:
    """The loss to start with for a regression problem (section 7's summary)."""
    if predicts_counts:
        return "poisson_nll"
    if wants_uncertainty:
        return "gaussian_nll"
    if not has_outliers:
        return "mse"
    return "huber"


check_function("04-loss-decision-tree", choose_regression_loss)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "Why does one outlier pull an MSE fit much harder than an L1 fit?":
        "MSE's gradient 2d grows with the error, so a point far away pulls in proportion to its "
        "distance; L1's gradient sign(d) has size 1 whatever the error. MSE fits the mean, L1 "
        "the median.",
    "What does Huber's $\\delta$ control, and what happens as $\\delta$ goes to 0 or to "
    "infinity?":
        "delta is where the loss switches from quadratic to linear, the largest pull one point "
        "can exert. As delta goes to infinity Huber becomes MSE/2; as delta goes to 0 it becomes "
        "delta times L1 (the gradient becomes delta sign(d)).",
    "Why is cross-entropy with two classes the same as the logistic loss?":
        "softmax(z0, z1)_1 = sigmoid(z1 - z0): only the difference of the logits matters, and "
        "-log sigmoid(m) = log(1 + exp(-m)) is the logistic loss of the margin.",
    "Why does the hinge loss ignore points with a margin above 1, and why does the focal loss "
    "nearly ignore them?":
        "Hinge is exactly 0 for m >= 1, so its gradient is 0: only points near the boundary "
        "matter. Focal multiplies BCE by (1 - p)^gamma, which is tiny when p is near 1, so easy "
        "examples contribute almost nothing but not exactly nothing.",
    "Why should you pass raw logits to `cross_entropy` rather than `log(softmax(x))`?":
        "exp of a large logit overflows to inf and exp of a very negative one underflows to 0, "
        "giving NaN or -inf; cross_entropy computes log-softmax with the log-sum-exp trick "
        "(subtract the row maximum), which is finite for any logits, and its gradient "
        "softmax - onehot is exact.",
    "Why is `BCEWithLogitsLoss` preferred to `sigmoid` followed by `BCELoss`?":
        "sigmoid saturates to exactly 0 or 1 in floating point, so BCELoss must clamp log at "
        "-100 and its gradient; on logits the loss log(1 + exp(-m)) is computed stably for any "
        "logit and the gradient sigmoid(x) - t is exact.",
    "What goes wrong when a loss's target is computed from the model without `detach()`?":
        "Backward also differentiates through the target, so the optimizer moves the target "
        "towards the prediction as well as the prediction towards the target: the gradient is "
        "wrong (here scaled by beta^2 instead of beta) and the model can learn to chase itself.",
}
