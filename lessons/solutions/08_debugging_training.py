"""Answer key of lesson 08, debugging training: the exercises and the questionnaire."""

from __future__ import annotations

import numpy as np
from course import Exercise

import minigrad as mg
from minigrad import nn, optim
from minigrad.data import make_blobs
from minigrad.debug import diagnose, global_grad_norm
from minigrad.nn import functional as F


def _as_parameters(grads):
    params = []
    for g in grads:
        p = mg.tensor(np.zeros_like(g), requires_grad=True)
        p.grad = mg.tensor(np.array(g, copy=True))
        params.append(p)
    return params


def _global_norm(grads):
    return global_grad_norm(_as_parameters(grads))


def _clip(grads, max_norm):
    params = _as_parameters(grads)
    nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad.numpy() for p in params]


def _random_grads(rng: np.random.Generator) -> list:
    shapes = [tuple(rng.integers(1, 6, size=int(rng.integers(1, 3)))) for _ in range(int(rng.integers(1, 5)))]
    return [rng.standard_normal(shape) * rng.uniform(0.1, 3.0) for shape in shapes]


def _same_arrays(answer, expected) -> bool:
    try:
        return len(answer) == len(expected) and all(
            np.shape(a) == np.shape(e) and np.allclose(a, e, rtol=1e-6, atol=1e-9)
            for a, e in zip(answer, expected))
    except TypeError:
        return False


def _log_softmax_rows(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _big_logits(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(1, 6)), int(rng.integers(2, 8)))
    return (rng.standard_normal(shape) * rng.uniform(200, 1000),)


_X, _Y = make_blobs(600, noise=1.5, seed=0, centers=4)
_X = ((_X - _X.mean(0)) / _X.std(0)).astype(np.float32)
_X_ALL, _Y_ALL = mg.from_numpy(_X), mg.from_numpy(_Y.astype(np.int64))


def _train_blobs(steps, lr):
    """The lesson's make_model(0) (2-32-4 ReLU MLP) trained full-batch on its blobs."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 4))
    opt = optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(_X_ALL), _Y_ALL)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


EXERCISES: dict[str, Exercise] = {
    "08-global-grad-norm": Exercise(
        kind="implement",
        task="the global L2 norm of a list of gradient arrays, against global_grad_norm",
        hints=("Treat all the arrays as one long vector: every element of every array counts "
               "once.",
               "Sum (g ** 2).sum() over the arrays, then take one square root at the end (not one "
               "per array)."),
        reference=_global_norm,
        make_inputs=lambda rng: (_random_grads(rng),),
        rtol=1e-5,
        solution='''def global_norm(grads):
    """The L2 norm of all the arrays in `grads` taken together, as one long vector."""
    return float(np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads)))


_ = check_function("08-global-grad-norm", global_norm)''',
    ),
    "08-clip-grad-norm": Exercise(
        kind="implement",
        task="clip_grad_norm_ by hand: one factor for all gradients, against nn.utils",
        hints=("First the global norm of all the gradients together; the same factor then "
               "multiplies every array.",
               "The factor is min(1, max_norm / (total_norm + 1e-6)): the 1e-6 is PyTorch's, and "
               "below the limit nothing changes."),
        reference=_clip,
        make_inputs=lambda rng: (_random_grads(rng), float(rng.uniform(0.1, 10.0))),
        same=_same_arrays,
        solution='''def clip_by_global_norm(grads, max_norm):
    """The gradients rescaled together so that their global norm is at most max_norm."""
    total = np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads))
    factor = min(1.0, max_norm / (total + 1e-6))
    return [g * factor for g in grads]


_ = check_function("08-clip-grad-norm", clip_by_global_norm)''',
    ),
    "08-log-softmax-bug": Exercise(
        kind="bug",
        task="a numpy log-softmax that overflows on large logits",
        hints=("np.exp(800) is inf in float64. Softmax does not change if you subtract the same "
               "number from every logit of a row: which number keeps every exp <= 1?",
               "Subtract the row maximum first, then use log softmax = shifted - log(sum(exp("
               "shifted))) instead of dividing and taking the log."),
        reference=_log_softmax_rows,
        make_inputs=_big_logits,
        solution='''def log_softmax_rows(z):
    """log softmax of each row of a 2-d numpy array z."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


with np.errstate(all="ignore"):
    _ = check_function("08-log-softmax-bug", log_softmax_rows)''',
    ),
    "08-diagnose-verdict": Exercise(
        kind="predict",
        task="diagnose's verdict for a curve that falls, then stays flat",
        hints=("Go down the rules in their order: which is the first one this curve matches? It "
               "has no NaN, no spike and no swings.",
               "It fell by half overall, so it is decreasing; look at what happened in its second "
               "half."),
        expected=lambda curve: diagnose(curve).status,
        solution='''flat = list(np.linspace(1.0, 0.5, 50)) + [0.5] * 150
my_guess = "plateaued"

_ = check("08-diagnose-verdict", my_guess, curve=flat)''',
    ),
    "08-fix-unused-layer": Exercise(
        kind="bug",
        task="a forward that computes a layer and throws its output away",
        hints=("check_gradients names hidden.weight and hidden.bias: what happens to the value "
               "hidden computes?",
               "The result of self.hidden(h).relu() must become the h that self.out receives."),
        expected=lambda: 0,
        solution='''class Fixed(Buggy):
    def forward(self, x):
        h = self.fc1(x).relu()
        h = self.hidden(h).relu()
        return self.out(h)


fixed = Fixed()
F.cross_entropy(fixed(X_all), y_all).backward()
_ = check("08-fix-unused-layer", len(check_gradients(fixed)))''',
    ),
    "08-missing-zero-grad": Exercise(
        kind="bug",
        task="a training loop without zero_grad",
        hints=("Print the gradient norm after each step: what happens to .grad between two "
               "backward() calls?",
               "backward() adds into .grad; something must reset it to zero before each "
               "backward (the optimizer has a method for it)."),
        reference=_train_blobs,
        make_inputs=lambda rng: (int(rng.integers(3, 15)), float(rng.uniform(0.05, 0.5))),
        rtol=1e-5,
        solution='''def train_blobs(steps, lr):
    """Full-batch SGD on the blobs from make_model(0); the loss after each step."""
    model = make_model(0)
    opt = optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(X_all), y_all)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


_ = check_function("08-missing-zero-grad", train_blobs)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "What is the difference between a tensor hook that returns a value and one that returns "
    "`None`?":
        "A hook returning None only observes the gradient; one returning a tensor replaces the "
        "gradient that flows on to the tensor's inputs (and into leaves' .grad).",
    "Why does `clip_grad_norm_` scale all gradients by one factor instead of clipping each one?":
        "One common factor keeps the direction of the update and only shortens it; clipping "
        "entries or parameters separately would change the direction.",
    "Why does `softmax(z).log()` produce `-inf` for large logits while `log_softmax` does not?":
        "Probabilities below about 1e-45 (float32) underflow to exactly 0 and log(0) = -inf; "
        "log_softmax computes z - max - log(sum(exp(z - max))) directly, which stays finite for "
        "finite logits.",
    "What does forgetting `zero_grad()` do to the gradient, and why does the loss not simply stop "
    "falling?":
        "backward() accumulates, so each step uses the sum of all past gradients: a growing, "
        "stale direction, like momentum without decay. Steps get larger and point the wrong "
        "way, so the loss can fall at first and then oscillate or blow up.",
    "Why does `diagnose` measure noise on the logarithm of the loss?":
        "Minibatch noise is roughly multiplicative: near a perfect fit one hard sample in a "
        "batch doubles a small loss. On the log scale the same relative swing counts the same "
        "early and late in training, and spikes are judged against the local noise.",
    "A run's loss swings by 50% around its trend but its trend falls tenfold. What does "
    "`diagnose` say, and why?":
        "healthy: log(10) / 0.5 is about 4.6 swings of progress, above the 3.5 needed, and no "
        "single step stands out from its local noise, so it is normal minibatch noise around a "
        "falling trend (like the default minigrad train run and the lesson 11 capstone).",
    "What kinds of parameters does `check_gradients` report?":
        "Parameters whose .grad is None after backward (unused, or cut off by detach/item/numpy), "
        "gradients that are all zero, and gradients with NaN or Inf.",
}
