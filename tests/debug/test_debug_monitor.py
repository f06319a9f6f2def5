"""GradientMonitor: statistics checked against numpy, vanishing gradients, hook hygiene."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.debug import GradientMonitor
from minigrad.nn import Module, Parameter
from tests.debug_models import mlp, normal_init_


def small_mlp(rng, act=nn.ReLU):
    """20-16-3: fc1, act, fc2."""
    return mlp(20, 16, 3, rng, act)


class SigmoidLayer(nn.Linear):
    """Linear then sigmoid inside one module: the monitor must infer the kind."""

    def __init__(self, width, rng):
        super().__init__(width, width)
        normal_init_(self, rng)

    def forward(self, x):
        return super().forward(x).sigmoid()


def sigmoid_stack(depth, width, rng):
    """``depth`` SigmoidLayers named l0, l1, ...: gradients shrink towards l0."""
    return nn.Sequential(OrderedDict((f"l{i}", SigmoidLayer(width, rng)) for i in range(depth)))


def ce(logits, y):
    return -(logits.log_softmax(1).gather(1, y[:, None])).mean()


def sgd(model, lr):
    for p in model.parameters():
        p.data -= lr * p.grad.data


def data(rng, n=32):
    return mg.tensor(rng.normal(size=(n, 20)).astype(np.float32)), mg.tensor(rng.integers(0, 3, n))


def test_layer_statistics_match_numpy(rng):
    model = small_mlp(rng)
    x, y = data(rng)
    w1_before = model.fc1.weight.data.copy()
    with GradientMonitor(model) as monitor:
        model.zero_grad()
        loss = ce(model(x), y)
        loss.backward()
        grads = {n: p.grad.data.copy() for n, p in model.named_parameters()}
        sgd(model, 0.1)
        record = monitor.step(loss=loss.item())
    hidden = np.maximum(x.data @ w1_before.T, 0)
    act = record.layers["act"]
    assert act.kind == "relu"
    assert act.act_mean == pytest.approx(hidden.mean(), rel=1e-5)
    assert act.act_std == pytest.approx(hidden.std(), rel=1e-4)
    assert act.dead == pytest.approx(np.mean(hidden == 0))
    assert act.saturated is None
    fc1 = record.layers["fc1"]
    expected = np.sqrt(np.sum(grads["fc1.weight"] ** 2) + np.sum(grads["fc1.bias"] ** 2))
    assert fc1.grad_norm == pytest.approx(expected, rel=1e-5)
    assert record.params["fc1.weight"].update_ratio == pytest.approx(
        0.1 * np.linalg.norm(grads["fc1.weight"]) / np.linalg.norm(w1_before), rel=1e-4)
    assert record.params["fc1.bias"].update_ratio is None  # zero-initialised: no ratio
    total = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads.values()))
    assert record.global_grad_norm == pytest.approx(total, rel=1e-5)
    assert record.loss == pytest.approx(loss.item())
    assert monitor.history == [record]


def test_output_gradient_norm_matches_a_retained_grad(rng):
    model = small_mlp(rng)
    x, y = data(rng)
    captured = []

    def keep(module, inputs, out):
        out.retain_grad()
        captured.append(out)

    model.act.register_forward_hook(keep)
    monitor = GradientMonitor(model)
    ce(model(x), y).backward()
    record = monitor.step()
    assert record.layers["act"].out_grad_norm == pytest.approx(
        np.linalg.norm(captured[0].grad.data), rel=1e-5)
    monitor.remove()


def test_tanh_saturation_fraction(rng):
    model = small_mlp(rng, act=nn.Tanh)
    model.fc1.weight.data *= 30
    x, y = data(rng)
    monitor = GradientMonitor(model)
    ce(model(x), y).backward()
    record = monitor.step()
    h = np.tanh(x.data @ model.fc1.weight.data.T)
    assert record.layers["act"].saturated == pytest.approx(np.mean(np.abs(h) > 0.99))
    assert "saturated" in record.layers["act"].flags
    monitor.remove()


def test_sigmoid_stack_shows_vanishing_gradients(rng):
    model = sigmoid_stack(20, 8, rng)
    x = mg.tensor(rng.normal(size=(16, 8)).astype(np.float32))
    monitor = GradientMonitor(model)
    for _ in range(2):
        model.zero_grad()
        loss = ((model(x) - 1.0) ** 2).mean()
        loss.backward()
        sgd(model, 0.5)
        monitor.step(loss=loss.item())
    layers = monitor.last.layers
    first, last = layers["l0"], layers["l19"]
    assert first.grad_norm < 1e-3 * last.grad_norm
    assert "vanishing" in first.flags
    assert "vanishing" not in last.flags
    assert first.kind == "sigmoid?"
    assert first.out_grad_norm < 1e-3 * last.out_grad_norm
    text = monitor.report()
    assert "vanishing" in text and "l19" in text and "global grad norm" in text
    monitor.remove()


def test_every_records_one_step_in_k(rng):
    model = small_mlp(rng)
    x, y = data(rng)
    monitor = GradientMonitor(model, every=3)
    for _ in range(7):
        model.zero_grad()
        ce(model(x), y).backward()
        sgd(model, 0.1)
        monitor.step()
    assert [r.step for r in monitor.history] == [0, 3, 6]
    assert all(r.layers["act"].act_mean is not None for r in monitor.history)
    w_prev = model.fc2.weight.data.copy()
    model.zero_grad()
    ce(model(x), y).backward()
    g = model.fc2.weight.grad.data.copy()
    sgd(model, 0.1)
    monitor.step()  # step 7: not recorded
    assert len(monitor.history) == 3
    monitor.remove()
    assert np.allclose(model.fc2.weight.data, w_prev - 0.1 * g)


def test_hooks_are_removed_cleanly(rng):
    model = small_mlp(rng)
    x, _ = data(rng)
    monitor = GradientMonitor(model)
    out = model(x)
    hidden = []
    model.act.register_forward_hook(lambda m, i, o: hidden.append(o))
    model(x)
    assert all(m._forward_hooks for name, m in model.named_modules() if name)
    assert hidden[0]._hooks  # an output-gradient hook is waiting for backward
    monitor.remove()
    assert hidden[0]._hooks == []
    assert [len(m._forward_hooks) for m in model.modules()] == [0, 0, 1, 0]
    assert all(not p._hooks for p in model.parameters())
    out.sum().backward()
    assert monitor.history == []


def test_no_grad_forward_is_ignored(rng):
    model = small_mlp(rng)
    x, y = data(rng)
    monitor = GradientMonitor(model)
    with mg.no_grad():
        model(x * 100)
    ce(model(x), y).backward()
    record = monitor.step()
    hidden = np.maximum(x.data @ model.fc1.weight.data.T, 0)
    assert record.layers["act"].act_mean == pytest.approx(hidden.mean(), rel=1e-5)
    monitor.remove()


def test_plot_returns_figure_and_writes_file(rng, tmp_path):
    model = small_mlp(rng)
    x, y = data(rng)
    monitor = GradientMonitor(model)
    for _ in range(3):
        model.zero_grad()
        ce(model(x), y).backward()
        sgd(model, 0.1)
        monitor.step()
    path = tmp_path / "monitor.png"
    fig = monitor.plot(path)
    assert len(fig.axes) == 2
    assert {line.get_label() for line in fig.axes[0].lines} == {"fc1", "fc2"}
    assert path.stat().st_size > 1000
    assert list(tmp_path.iterdir()) == [path]
    monitor.remove()


def test_bad_arguments(rng):
    model = small_mlp(rng)
    with pytest.raises(TypeError, match="nn.Module"):
        GradientMonitor([model])
    with pytest.raises(ValueError, match="every"):
        GradientMonitor(model, every=0)
    with pytest.raises(ValueError, match="nope"):
        GradientMonitor(model, kinds={"nope": "tanh"})
    assert all(not m._forward_hooks for m in model.modules())
    with pytest.raises(RuntimeError, match=r"monitor.step\(\)"):
        GradientMonitor(model).report()


def test_kinds_override(rng):
    model = small_mlp(rng)
    x, y = data(rng)
    with GradientMonitor(model, kinds={"fc1": "relu"}) as monitor:
        ce(model(x), y).backward()
        record = monitor.step()
    assert record.layers["fc1"].kind == "relu"
    assert record.layers["fc1"].dead == pytest.approx(np.mean((x.data @ model.fc1.weight.data.T) == 0))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dead_fraction_counts_negative_zero_and_not_nan(dtype):
    class Fixed(Module):
        """Outputs a fixed array; marked as a relu through ``kinds``."""

        def __init__(self):
            super().__init__()
            self.w = Parameter(np.ones(1, dtype))

        def forward(self, x):
            return x * self.w

    values = np.array([0.0, -0.0, np.nan, 1e-3, np.inf, 0.0, 2.0, -0.0], dtype)
    model = Fixed()
    with GradientMonitor(model, kinds={"": "relu"}) as monitor:
        model(mg.tensor(values))
        record = monitor.step()
    assert record.layers["Fixed"].dead == pytest.approx(4 / 8)
