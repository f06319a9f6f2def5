"""Answer key of lesson 16, multi-task losses, custom losses and distillation: the exercises
and the questionnaire. The references are autograd through minigrad's own losses
(`F.distillation_loss`, a Tensor-op Charbonnier) and a grid search over `nn.MultiTaskLoss`."""

from __future__ import annotations

import numpy as np
from course import Exercise

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


def _grid_optimal_weight(L):
    """exp(-s) at the s minimising nn.MultiTaskLoss's learned term, by a grid search."""
    s = np.linspace(-12.0, 12.0, 240_001)
    mtl = nn.MultiTaskLoss(num_tasks=1, learn_uncertainty=True, dtype=mg.float64)
    best = []
    for value in np.atleast_1d(L):
        with mg.no_grad():
            mtl.log_vars.data[...] = 0.0
        objective = 0.5 * (np.exp(-s) * value + s)          # what mtl computes at each s
        s_best = s[np.argmin(objective)]
        with mg.no_grad():
            mtl.log_vars.data[...] = s_best
            assert np.isclose(mtl(mg.tensor(value)).item(), objective.min())
        best.append(np.exp(-s_best))
    return np.array(best)


def _charbonnier_autograd(d, eps):
    """By autograd; enable_grad because the lesson's Function calls it inside a backward."""
    with mg.enable_grad():
        x = mg.tensor(np.asarray(d), requires_grad=True)
        ((x * x + eps**2).sqrt() - eps).sum().backward()
    return x.grad.numpy()


def _module_grad_reference(pred, target, eps):
    p = mg.tensor(pred, requires_grad=True)
    d = p - mg.tensor(target)
    ((d * d + eps**2).sqrt() - eps).mean().backward()
    return p.grad.numpy()


def _kd_reference(z, t, T):
    zt = mg.tensor(z, requires_grad=True)
    F.distillation_loss(zt, mg.tensor(t), mg.tensor(np.zeros(len(z), dtype=np.int64)),
                        T=T, alpha=1.0).backward()
    return zt.grad.numpy()


def _logits(rng: np.random.Generator) -> tuple:
    n, c = int(rng.integers(1, 6)), int(rng.integers(2, 8))
    return rng.normal(0, 3, size=(n, c)), rng.normal(0, 3, size=(n, c)), float(rng.uniform(0.5, 8))


EXERCISES: dict[str, Exercise] = {
    "16-uncertainty-weight": Exercise(
        kind="derive",
        task="the weight exp(-s) that uncertainty weighting settles on for a loss L",
        hints=("Differentiate 0.5 (exp(-s) L + s) with respect to s and set it to zero.",
               "-exp(-s) L + 1 = 0 gives exp(-s) directly, in terms of L."),
        reference=_grid_optimal_weight,
        make_inputs=lambda rng: (10.0 ** rng.uniform(-2, 2, size=4),),
        rtol=2e-4,
        solution='''def optimal_weight(L):
    """exp(-s*) where s* minimises 0.5 * (exp(-s) L + s), for an array of losses L > 0."""
    return 1 / L


check_function("16-uncertainty-weight", optimal_weight)''',
    ),
    "16-module-cuts-graph": Exercise(
        kind="bug",
        task="a custom loss Module that leaves the graph through numpy",
        hints=("Autograd records Tensor operations only. Which line turns the Tensor into "
               "something autograd cannot follow?",
               "d.detach().numpy() and mg.tensor(...) make a new leaf with no history. Keep d a Tensor and "
               "write the formula with Tensor ops (d * d, .sqrt())."),
        reference=_module_grad_reference,
        make_inputs=lambda rng: (lambda shape: (rng.normal(size=shape), rng.normal(size=shape),
                                                float(rng.uniform(0.05, 1))))((int(rng.integers(1, 6)), 3)),
        rtol=1e-9,
        solution='''class CharbonnierLoss(nn.Module):
    """mean(sqrt((pred - target)^2 + eps^2) - eps)."""

    def __init__(self, eps: float = 0.1) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, pred, target):
        d = pred - target
        return ((d * d + self.eps**2).sqrt() - self.eps).mean()


def module_grad(pred, target, eps):
    """d CharbonnierLoss(eps)(pred, target) / d pred, by autograd."""
    p = mg.tensor(pred, requires_grad=True)
    CharbonnierLoss(eps)(p, mg.tensor(target)).backward()
    return p.grad.numpy()


check_function("16-module-cuts-graph", module_grad)''',
    ),
    "16-charbonnier-grad": Exercise(
        kind="implement",
        task="the Charbonnier loss's derivative, for a hand-written backward",
        hints=("Chain rule on sqrt(u) with u = d^2 + eps^2: (1 / (2 sqrt(u))) du/dd.",
               "du/dd = 2d, and the 2's cancel: the result is d over the square root."),
        reference=_charbonnier_autograd,
        make_inputs=lambda rng: (rng.normal(0, 2, size=int(rng.integers(2, 10))), float(rng.uniform(0.01, 1))),
        rtol=1e-9,
        solution='''def charbonnier_grad(d, eps):
    """d/dd of sqrt(d^2 + eps^2) - eps, elementwise."""
    return d / np.sqrt(d**2 + eps**2)


check_function("16-charbonnier-grad", charbonnier_grad)''',
    ),
    "16-kd-grad": Exercise(
        kind="derive",
        task="the gradient of T^2 KL(teacher || student) over a batch with respect to the student's logits",
        hints=("Per sample the gradient of KL(p || q) is (q - p) / T with q = softmax(z / T) and "
               "p = softmax(t / T); then multiply by T^2.",
               "Compute both softmaxes row by row (subtract the row max before exp), take "
               "T * (q - p), and divide by N for the mean over the batch."),
        reference=_kd_reference,
        make_inputs=_logits,
        rtol=1e-8,
        atol=1e-12,
        solution='''def kd_grad(z, t, T):
    """d/dz of mean over the batch of T^2 KL(softmax(t / T) || softmax(z / T))."""
    def softmax(v):
        e = np.exp(v - v.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return T * (softmax(z / T) - softmax(t / T)) / z.shape[0]


check_function("16-kd-grad", kd_grad)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "Why is summing two task losses with weights 1 and 1 an arbitrary choice?":
        "The losses have different units and scales (a cross-entropy in nats, an MSE in squared "
        "units of the target), so equal weights give each task an influence on the shared trunk "
        "that depends on those units, not on how much the task matters.",
    "In uncertainty weighting, what stops every $s_k$ from growing without bound so that the "
    "loss goes to 0?":
        "The + s_k term: raising s_k lowers exp(-s_k) L_k but adds s_k, and the sum is smallest "
        "at exp(-s_k) = 1 / L_k, a finite weight.",
    "When is a custom loss better written as a `Function` with a hand-written backward than as "
    "a `Module`?":
        "When the backward is much cheaper or more stable by hand than through the recorded ops "
        "(fused formulas, avoiding large intermediates, a clamp whose derivative you want to "
        "define), or when the forward is not made of differentiable Tensor ops at all. The Module "
        "is simpler and correct by construction otherwise; check either with gradcheck.",
    "Why does `.detach().numpy()` inside a loss's forward break training, and why does it not "
    "raise an error there?":
        "It leaves the graph: the value is right but the new tensor has no grad_fn, so backward "
        "cannot reach the parameters. The forward itself is legal (detach is how you ask for a "
        "value without history); the failure only shows at backward: an error, or silently "
        "unchanged weights if some other term of the loss still requires grad.",
    "Why is KL divergence not symmetric, and which direction does distillation use?":
        "KL(p || q) weighs the log-ratio by p, so it punishes q being small where p is large, but "
        "not the reverse. Distillation uses KL(teacher || student): the student must put "
        "probability wherever the teacher does.",
    "What does the temperature $T$ do, and why is the KL term multiplied by $T^2$?":
        "Dividing logits by T > 1 flattens the softmax, exposing how the teacher ranks the wrong "
        "classes. The KL's gradient with respect to the student's logits is (q - p) / T, and "
        "q - p itself shrinks like 1/T, so T^2 keeps the term's gradient on the cross-entropy's "
        "scale whatever T is.",
    "Why can a student learn more from a teacher's soft predictions than from the labels alone?":
        "A soft target carries, for every image, the teacher's similarity structure between "
        "classes (this 7 looks a bit like a 1), many numbers per example instead of one index, "
        "and it is smoother: the student fits a function the teacher already made easy.",
}
