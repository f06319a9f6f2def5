"""diagnose() on synthetic loss curves, one per failure class."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minigrad.debug import Diagnosis, diagnose

N = 400
T = np.linspace(0.0, 1.0, N)


def noisy(curve: np.ndarray, rel: float, seed: int = 0) -> np.ndarray:
    """Multiplicative Gaussian noise, like minibatch noise on a loss."""
    return curve * (1.0 + rel * np.random.default_rng(seed).standard_normal(curve.size))


def healthy_curve(seed: int = 0) -> np.ndarray:
    return noisy(2.3 * np.exp(-5.0 * T) + 0.1, 0.03, seed)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_healthy_exponential_decay(seed):
    d = diagnose(healthy_curve(seed))
    assert d.status == "healthy", str(d)
    assert d.evidence["relative_decrease"] > 0.5
    assert d.evidence["trend_slope"] < 0
    assert d.evidence["spike_count"] == 0


def test_flat_curve_is_not_decreasing():
    d = diagnose(noisy(np.full(N, 2.3), 0.02))
    assert d.status == "not_decreasing", str(d)
    assert abs(d.evidence["relative_decrease"]) < 0.05
    assert any("learning rate" in r for r in d.remedies)


def test_nan_loss_is_diverged_with_the_step():
    loss = healthy_curve()
    loss[123:] = np.nan
    d = diagnose({"loss": loss, "lr": np.full(N, 0.5)})
    assert d.status == "diverged"
    assert d.evidence["nan_step"] == 123
    assert d.evidence["lr_at_nan"] == 0.5
    assert any("lower the learning rate" in r for r in d.remedies)


def test_exploding_loss_is_diverged():
    d = diagnose(noisy(2.3 * np.exp(4.0 * T), 0.02))
    assert d.status == "diverged", str(d)


def test_exploding_grad_norm_is_diverged():
    grad_norm = np.exp(12.0 * T)
    d = diagnose({"loss": healthy_curve(), "grad_norm": grad_norm})
    assert d.status == "diverged"
    assert d.evidence["grad_norm_growth"] > 1e3


def test_oscillating_curve():
    zigzag = np.where(np.arange(N) % 2 == 0, 1.4, 0.6)
    d = diagnose((2.3 * np.exp(-2.0 * T) + 0.3) * zigzag)
    assert d.status == "oscillating", str(d)
    assert d.evidence["oscillation"] > 0.15
    assert d.evidence["sign_changes"] > 0.9


def test_spiking_curve():
    loss = healthy_curve()
    spikes = [60, 150, 260, 330]
    loss[spikes] *= 3.0
    d = diagnose(loss)
    assert d.status == "spiking", str(d)
    assert d.evidence["spike_steps"] == spikes
    assert d.evidence["spike_count"] == 4


def test_plateau_after_early_decrease():
    curve = np.maximum(2.3 - 13.0 * T, 1.0)
    d = diagnose(noisy(curve, 0.02))
    assert d.status == "plateaued", str(d)
    assert d.evidence["late_improvement"] < 0.05
    assert d.evidence["relative_decrease"] > 0.3


def test_overfitting_train_falls_val_rises():
    train = healthy_curve()
    epochs = np.linspace(0, 1, 20)
    val = 1.0 + 2.0 * (epochs - 0.3) ** 2
    d = diagnose({"loss": train, "val_loss": val})
    assert d.status == "overfitting", str(d)
    assert d.evidence["val_best_index"] == 6
    assert d.evidence["val_rise"] == pytest.approx((val[-1] - val[6]) / val[6])
    assert d.evidence["generalization_gap"] > 0.5
    assert any("early stopping" in r for r in d.remedies)


def test_val_falling_with_train_is_not_overfitting():
    val = np.linspace(2.0, 0.5, 20)
    assert diagnose({"loss": healthy_curve(), "val_loss": val}).status == "healthy"


def test_report_text_and_types():
    d = diagnose(list(healthy_curve()))
    assert isinstance(d, Diagnosis)
    text = str(d)
    assert text.startswith("diagnosis: healthy")
    assert "relative_decrease" in text and "remedies:" in text


def test_short_and_bad_inputs():
    assert diagnose([2.0, 1.0, 0.5, 0.25]).status in {"healthy", "plateaued"}
    assert diagnose([1.0]).status == "not_decreasing"
    with pytest.raises(ValueError, match="empty"):
        diagnose([])
    with pytest.raises(ValueError, match="'loss'"):
        diagnose({"val_loss": [1.0, 2.0]})


def test_inf_loss_reports_first_bad_step():
    loss = [2.0, 1.5, math.inf, math.nan]
    d = diagnose(loss)
    assert d.status == "diverged" and d.evidence["nan_step"] == 2
    assert d.evidence["loss_before_nan"] == 1.5


@pytest.mark.parametrize("losses", [[1.0, 0.5, 0.3], [1.0, 0.5, 0.3, 0.2], [2.3, 1.1, 0.6]])
def test_a_few_falling_epoch_losses_are_healthy(losses):
    """A series shorter than the smoothing window is used as is: a 3-epoch run whose loss
    fell 70% used to be smoothed into a constant and called not_decreasing."""
    d = diagnose(losses)
    assert d.status == "healthy", str(d)
    assert d.evidence["relative_decrease"] == pytest.approx((losses[0] - losses[-1]) / losses[0])
