"""Answer key of lesson 05, modules and a first training loop: the exercises and the questionnaire."""

from __future__ import annotations

import numpy as np
from course import Exercise

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F


def _count(n_in: int, n_hidden: int, n_out: int) -> int:
    """The parameters of the lesson's MLP, counted by minigrad on the same three layers."""
    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.Linear(n_hidden, n_hidden),
                         nn.Linear(n_hidden, n_out)).num_parameters()


class _ScaleShift(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.scale = nn.Parameter(mg.ones(n_features))
        self.shift = nn.Parameter(mg.zeros(n_features))

    def forward(self, x):
        return x * self.scale + self.shift


class _Deep(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = x.tanh()
        return x


def _build(cls, *args) -> tuple:
    """An instance of the learner's class, or None and what went wrong."""
    if not isinstance(cls, type) or not issubclass(cls, nn.Module):
        return None, f"the answer should be an nn.Module subclass, got {cls!r}"
    try:
        return cls(*args), ""
    except Exception as error:  # the learner's __init__ may fail in any way; say how
        return None, f"building {cls.__name__}{args} raised {type(error).__name__}: {error}"


def _same_outputs_and_grads(mine: nn.Module, ref: nn.Module, n_in: int) -> tuple:
    """Give ``ref`` the learner's parameter values (in registration order), run both on the same
    random batch and compare outputs and parameter gradients."""
    values = [p.detach().numpy() for p in mine.parameters()]
    ref.load_state_dict(dict(zip(ref.state_dict().keys(), values)))
    x = mg.tensor(np.random.default_rng(0).standard_normal((4, n_in)).astype(np.float32))
    try:
        out = mine(x)
        out.sum().backward()
    except Exception as error:  # the learner's forward may fail in any way; say how
        return False, f"the forward or backward pass raised {type(error).__name__}: {error}"
    ref_out = ref(x)
    ref_out.sum().backward()
    if out.shape != ref_out.shape or not np.allclose(out.detach().numpy(), ref_out.detach().numpy(), atol=1e-5):
        return False, "the outputs are not right"
    for p, q in zip(mine.parameters(), ref.parameters()):
        if p.grad is None or not np.allclose(p.grad.numpy(), q.grad.numpy(), atol=1e-5):
            return False, "a parameter's gradient is missing or not right"
    return True, ""


def _same_scale_shift(answer, reference) -> tuple:
    mine, why = _build(answer, 3)
    if mine is None:
        return False, why
    names = sorted(name for name, _ in mine.named_parameters())
    if names != ["scale", "shift"]:
        return False, f"ScaleShift(3) registers the parameters {names}, which is not what forward uses"
    ref = reference(3)
    for name, value in ref.state_dict().items():
        if mine.state_dict()[name].shape != value.shape or not np.allclose(mine.state_dict()[name], value):
            return False, f"{name} has the wrong shape or starting value"
    mine.load_state_dict({k: np.random.default_rng(1).standard_normal(v.shape).astype(np.float32)
                          for k, v in mine.state_dict().items()})
    return _same_outputs_and_grads(mine, ref, 3)


def _same_deep(answer, reference) -> tuple:
    sizes = [3, 5, 4, 2]
    mine, why = _build(answer, sizes)
    if mine is None:
        return False, why
    ref = reference(sizes)
    if mine.num_parameters() != ref.num_parameters():
        return False, f"Deep({sizes}) registers {mine.num_parameters()} parameters, not the right number"
    return _same_outputs_and_grads(mine, ref, sizes[0])


def _sgd_step(weight, grad, lr):
    """The weight after one plain mg.optim.SGD step, run on a copy."""
    p = nn.Parameter(mg.tensor(np.array(weight)))
    p.grad = mg.tensor(np.array(grad))
    mg.optim.SGD([p], lr=lr).step()
    return p.detach().numpy()


def _logits_and_labels(rng: np.random.Generator) -> tuple:
    n, c = int(rng.integers(2, 8)), int(rng.integers(2, 5))
    return mg.tensor(rng.normal(0, 3, size=(n, c))), mg.tensor(rng.integers(0, c, size=n))


EXERCISES: dict[str, Exercise] = {
    "05-parameter-count": Exercise(
        kind="predict",
        task="the number of parameters of MLP(2, 16, 2)",
        hints=("A Linear(a, b) has a weight of shape (b, a) and a bias of shape (b,). MLP has "
               "three of them: which sizes?",
               "The layers are Linear(2, 16), Linear(16, 16) and Linear(16, 2); add a*b + b over "
               "the three."),
        expected=_count,
        solution='''n_params = (2 * 16 + 16) + (16 * 16 + 16) + (16 * 2 + 2)

check("05-parameter-count", n_params, n_in=2, n_hidden=16, n_out=2)''',
    ),
    "05-small-module": Exercise(
        kind="implement",
        task="a ScaleShift module whose parameters register by attribute assignment",
        hints=("forward uses self.scale and self.shift: create them in __init__, one value per "
               "feature.",
               "Wrap a tensor of n_features ones in nn.Parameter and assign it to self.scale; "
               "the shift is the same with zeros."),
        expected=lambda: _ScaleShift,
        same=_same_scale_shift,
        solution='''class ScaleShift(nn.Module):
    """y = x * scale + shift, with a learnable scale (starting at 1) and shift (starting at 0)."""

    def __init__(self, n_features):
        super().__init__()
        self.scale = nn.Parameter(mg.ones(n_features))
        self.shift = nn.Parameter(mg.zeros(n_features))

    def forward(self, x):
        return x * self.scale + self.shift


check("05-small-module", ScaleShift)''',
    ),
    "05-unregistered-layers": Exercise(
        kind="bug",
        task="layers kept in a plain list, so the module registers no parameters",
        hints=("Print Deep([3, 5, 2]).num_parameters(). Where does a module look for its "
               "parameters?",
               "A module registers Modules and Parameters assigned as attributes, not ones "
               "inside a Python list: wrap the list in nn.ModuleList."),
        expected=lambda: _Deep,
        same=_same_deep,
        solution='''class Deep(nn.Module):
    """Linear layers of the given sizes with tanh between them."""

    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = x.tanh()
        return x


check("05-unregistered-layers", Deep)''',
    ),
    "05-double-softmax": Exercise(
        kind="bug",
        task="softmax applied before cross_entropy",
        hints=("What does F.cross_entropy expect as its first argument: probabilities or "
               "logits? What does it compute inside?",
               "cross_entropy applies log-softmax itself; a second softmax squashes every input "
               "into (0, 1), so the loss cannot approach 0. Pass the logits unchanged."),
        reference=lambda logits, y: F.cross_entropy(logits, y),
        make_inputs=_logits_and_labels,
        solution='''def moons_loss(logits, y):
    """The mean cross-entropy of a batch of logits (N, C) and labels y (N,)."""
    return F.cross_entropy(logits, y)


check_function("05-double-softmax", moons_loss)''',
    ),
    "05-sgd-step": Exercise(
        kind="predict",
        task="the weight after one plain SGD step, before the optimizer runs",
        hints=("The update subtracts the learning rate times the gradient from the old weight.",
               "Use w_old and small[0].weight.grad.numpy(), both numpy arrays of the same shape."),
        expected=_sgd_step,
        rtol=1e-5,
        atol=1e-6,
        solution='''lr = 0.5
w_old = small[0].weight.detach().numpy().copy()
w_new = w_old - lr * small[0].weight.grad.numpy()

check("05-sgd-step", w_new, weight=w_old, grad=small[0].weight.grad.numpy(), lr=lr)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "How does a module know which tensors are its parameters?":
        "Module.__setattr__ registers every nn.Parameter and every sub-Module assigned as an "
        "attribute, under the attribute's name; named_parameters() walks them recursively "
        "(fc1.weight, fc1.bias, ...).",
    "Why does a plain Python list of layers break training, and what do you use instead?":
        "The module does not look inside lists, so the layers' parameters are not registered: "
        "parameters() misses them, the optimizer never updates them and state_dict does not "
        "save them. Use nn.ModuleList or nn.Sequential.",
    "What is in a `state_dict`, and why can it be loaded into a model built from a different "
    "class?":
        "A mapping from parameter and buffer names to their arrays. Only names and shapes "
        "matter, so a model with the same layers under other names can load it after renaming "
        "the keys, as the lesson did from MLP to Sequential.",
    "Why must `zero_grad` be called every step, and why before `backward()`?":
        "backward() adds into .grad; without clearing, each step would use the sum of all past "
        "gradients. It must come before backward() (or after step()) so that the gradient the "
        "step uses is this batch's only.",
    "Why evaluate a model under `mg.no_grad()`?":
        "No graph is recorded, which saves memory and time, and nothing can accidentally be "
        "backpropagated through the evaluation.",
    "Why should the logits not go through `softmax` before `cross_entropy`?":
        "cross_entropy applies log-softmax itself. A softmax first feeds probabilities in "
        "(0, 1) as logits: with two classes the logit difference is at most 1, so the loss "
        "cannot go below log(1 + e^-1) = 0.31, and the gradients are squashed by the extra "
        "softmax's derivative: training is slow and stalls.",
    "What does one `LinearAct` node of the graph compute, and what would an unfused graph show "
    "instead?":
        "x W^T + b (optionally followed by an activation) as a single op with its own backward; "
        "an unfused graph would show a transpose of the weight, a matrix product and a bias "
        "addition as three nodes.",
}
