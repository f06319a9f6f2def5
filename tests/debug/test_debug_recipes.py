"""Real failure recipes reproduced with minigrad, and what the debug tools say about them."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.debug import AnomalyError, GradientMonitor, detect_anomaly, diagnose, global_grad_norm
from tests.debug_models import mlp


def mnist_mlp():
    """784-32-10, as for MNIST."""
    return mlp(784, 32, 10, np.random.default_rng(1))


class MnistLike:
    """Random 784-d inputs around one learnable centre per class."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        self.centres = self.rng.normal(0, 1, (10, 784)).astype(np.float32)

    def batch(self, n=64):
        y = self.rng.integers(0, 10, n)
        x = self.centres[y] + self.rng.normal(0, 1, (n, 784)).astype(np.float32)
        return mg.tensor(x), mg.tensor(y)


def cross_entropy(logits, y):
    return -(logits.log_softmax(1).gather(1, y[:, None])).mean()


def train(lr, steps, monitor=None, max_norm=None):
    model, data = mnist_mlp(), MnistLike()
    losses, norms = [], []
    for _ in range(steps):
        x, y = data.batch()
        model.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        norms.append(global_grad_norm(model))
        if max_norm is not None and norms[-1] > max_norm:
            for p in model.parameters():
                p.grad.data *= max_norm / (norms[-1] + 1e-6)
            assert global_grad_norm(model) <= max_norm * (1 + 1e-6)  # float32 rounding
        for p in model.parameters():
            p.data -= lr * p.grad.data
        losses.append(loss.item())
        if monitor is not None:
            monitor.step(loss=losses[-1])
    return model, losses, norms


def test_learning_rate_10_diverges_to_nan_and_diagnose_says_so():
    with np.errstate(all="ignore"):
        _, losses, norms = train(lr=10.0, steps=30)
    assert not np.isfinite(losses[-1])
    d = diagnose({"loss": losses, "grad_norm": norms, "lr": [10.0] * len(losses)})
    assert d.status == "diverged"
    assert d.evidence["nan_step"] == int(np.argmax(~np.isfinite(losses)))
    assert d.evidence["lr_at_nan"] == 10.0
    assert "lower the learning rate (try 10x smaller)" in d.remedies


def test_small_learning_rate_is_healthy():
    _, losses, _ = train(lr=0.05, steps=40)
    d = diagnose(losses)
    assert d.status == "healthy", str(d)


def test_anomaly_mode_stops_the_diverging_run_at_the_first_bad_op():
    model, data = mnist_mlp(), MnistLike()
    with pytest.raises(AnomalyError) as info, detect_anomaly(), np.errstate(all="ignore"):
        for _ in range(30):
            x, y = data.batch()
            model.zero_grad()
            cross_entropy(model(x), y).backward()
            for p in model.parameters():
                p.data -= 10.0 * p.grad.data
    msg = str(info.value)
    assert "produced" in msg and "test_debug_recipes.py:" in msg and "input 0: shape" in msg


def test_monitor_on_a_training_run_flags_large_updates_at_lr_10():
    model, data = mnist_mlp(), MnistLike()
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        for _ in range(3):
            x, y = data.batch()
            model.zero_grad()
            loss = cross_entropy(model(x), y)
            loss.backward()
            for p in model.parameters():
                p.data -= 10.0 * p.grad.data
            monitor.step(loss=loss.item())
    first = monitor.history[0]
    assert "large updates" in first.layers["fc1"].flags
    assert first.layers["act"].kind == "relu"
    assert 0.0 < first.layers["act"].dead < 1.0
    assert diagnose(monitor.history).evidence["steps"] == 3


def test_gradient_clipping_keeps_a_high_lr_run_finite():
    _, losses, norms = train(lr=1.0, steps=30, max_norm=1.0)
    assert all(np.isfinite(losses))
    assert max(norms) > 1.0
