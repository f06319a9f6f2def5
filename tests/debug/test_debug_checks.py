"""check_gradients and global_grad_norm."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.debug import GradientFindings, check_gradients, global_grad_norm
from minigrad.nn import Module, Parameter
from tests.debug_models import linear


class WithUnusedLayer(Module):
    def __init__(self, rng):
        super().__init__()
        self.fc1 = linear(6, 5, rng)
        self.extra = linear(5, 5, rng)  # defined but never called
        self.fc2 = linear(5, 2, rng)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


def loss_of(model, rng, dtype=np.float32):
    x = mg.tensor(rng.normal(size=(8, 6)).astype(dtype))
    return ((model(x) - 1.0) ** 2).mean()


def test_healthy_model_has_no_findings(rng):
    model = WithUnusedLayer(rng)
    del model.extra
    loss_of(model, rng).backward()
    findings = check_gradients(model)
    assert isinstance(findings, GradientFindings)
    assert findings == []
    assert "healthy" in str(findings)


def test_unused_layer_is_reported(rng):
    model = WithUnusedLayer(rng)
    loss_of(model, rng).backward()
    findings = check_gradients(model)
    assert [(f.name, f.problem) for f in findings] == [("extra.weight", "unused"),
                                                       ("extra.bias", "unused")]
    assert "not part of the graph" in str(findings)
    assert "layer not called in forward" in findings[0].meaning


def test_detached_path_is_unused(rng):
    model = WithUnusedLayer(rng)
    x = mg.tensor(rng.normal(size=(8, 6)).astype(np.float32))
    (model.fc2(model.fc1(x).detach().relu()) ** 2).mean().backward()
    unused = {f.name for f in check_gradients(model) if f.problem == "unused"}
    assert {"fc1.weight", "fc1.bias"} <= unused


def test_dead_relu_gives_zero_gradients(rng):
    model = WithUnusedLayer(rng)
    del model.extra
    model.fc1.bias.data[...] = -100.0  # every hidden unit is dead
    loss_of(model, rng).backward()
    findings = check_gradients(model)
    assert {(f.name, f.problem) for f in findings} == {
        ("fc1.weight", "zero"), ("fc1.bias", "zero"), ("fc2.weight", "zero")}
    assert "dead ReLU" in str(findings)


def test_non_finite_gradient(rng):
    model = WithUnusedLayer(rng)
    del model.extra
    loss_of(model, rng).backward()
    model.fc2.weight.grad.data[0, 0] = np.nan
    findings = check_gradients(model.named_parameters())
    assert [(f.name, f.problem) for f in findings] == [("fc2.weight", "non_finite")]
    assert "detect_anomaly" in str(findings)
    assert "1 of 10 values" in str(findings)


def test_log_scale_outlier_is_vanishing(rng):
    params = [Parameter(rng.normal(size=(4, 4)).astype(np.float32)) for _ in range(4)]
    scales = [1.0, 2.0, 0.5, 1e-6]
    loss = sum((p * s).sum() for p, s in zip(params, scales))
    loss.backward()
    findings = check_gradients(params)
    assert [(f.name, f.problem) for f in findings] == [("param3", "vanishing")]
    assert findings[0].norm == pytest.approx(4 * 1e-6, rel=1e-5)


def test_log_scale_outlier_is_exploding(rng):
    params = [Parameter(np.ones(9, np.float32)) for _ in range(3)]
    (params[0].sum() + params[1].sum() + 1e5 * params[2].sum()).backward()
    assert [(f.name, f.problem) for f in check_gradients(params)] == [("param2", "exploding")]


def test_bad_argument():
    with pytest.raises(TypeError, match="check_gradients"):
        check_gradients([1, 2])


def test_global_grad_norm_matches_numpy_and_clipping_caps_it(rng):
    model = WithUnusedLayer(rng).double()  # float64: rounding stays far below clip's 1e-6
    (loss_of(model, rng, np.float64) * 1000).backward()
    grads = [p.grad.data.astype(np.float64) for p in model.parameters() if p.grad is not None]
    expected = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
    total = global_grad_norm(model.parameters())
    assert total == pytest.approx(expected, rel=1e-5)
    assert global_grad_norm(model) == total
    assert global_grad_norm(model, math.inf) == pytest.approx(max(np.abs(g).max() for g in grads))
    max_norm = 1.0
    assert total > max_norm
    scale = max_norm / (total + 1e-6)
    for p in model.parameters():
        if p.grad is not None:
            p.grad.data *= scale
    assert global_grad_norm(model) <= max_norm
    assert global_grad_norm(model) == pytest.approx(max_norm, rel=1e-5)


def test_global_grad_norm_edge_cases():
    p = Parameter(np.array([3e30, 4e30], np.float32))
    p.grad = mg.Tensor(np.array([3e30, 4e30], np.float32))
    assert global_grad_norm(p) == pytest.approx(5e30, rel=1e-6)
    assert global_grad_norm([Parameter(np.ones(2, np.float32))]) == 0.0
    with pytest.raises(ValueError, match="norm_type"):
        global_grad_norm(p, 1.0)
