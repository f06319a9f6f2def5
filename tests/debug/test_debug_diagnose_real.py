"""diagnose() on real loss curves: healthy MNIST runs must read as healthy, real failures as
their failure.

``tests/data/loss_curves/`` holds two recorded per-step curves (header line: how each was
made): the default ``minigrad train`` run (``History.step_loss``) and lesson 11's
hand-written capstone loop. Both are healthy runs whose late minibatch noise swings 50%
around the trend; the old rules called them ``spiking`` (6 and 9 "spikes").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.data import make_blobs
from minigrad.debug import diagnose
from minigrad.nn import functional as F

CURVES = Path(__file__).resolve().parent.parent / "data" / "loss_curves"
RECORDED = sorted(CURVES.glob("*.txt"))


def recorded(name: str) -> np.ndarray:
    return np.loadtxt(CURVES / f"{name}.txt")


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
def test_recorded_healthy_mnist_runs_are_healthy(path):
    loss = np.loadtxt(path)
    assert loss.size == 3910
    d = diagnose(loss)
    assert d.status == "healthy", str(d)
    assert d.evidence["spike_count"] == 0
    assert d.evidence["oscillation"] > 0.3, "the late noise is large: this is what used to fool diagnose"
    assert d.evidence["progress_to_noise"] > 4.0


def test_a_fresh_default_training_run_is_healthy(tmp_path):
    """The default `minigrad train` configuration, shortened to 3 epochs on the first 10,000
    images (237 steps; most of the time goes to validating on 10,000 images per epoch)."""
    from minigrad.trainer import TrainConfig, Trainer

    config = TrainConfig(epochs=3, limit=10_000, out=str(tmp_path), progress=False, graph=False)
    result = Trainer(config).fit()
    d = diagnose(result["history"]["step_loss"])
    assert d.status == "healthy", str(d)


def test_a_real_spike_inside_the_noisy_tail_is_still_found():
    """The loss jumping back to its starting level late in a run is an instability, however
    noisy the run is around it."""
    loss = recorded("minigrad_train_default")
    steps = [1500, 2500, 3500]
    loss[steps] = loss[0]
    d = diagnose(loss)
    assert d.status == "spiking", str(d)
    assert d.evidence["spike_steps"] == steps


BLOBS_X, BLOBS_Y = make_blobs(600, noise=1.5, seed=0, centers=4)
BLOBS_X = ((BLOBS_X - BLOBS_X.mean(0)) / BLOBS_X.std(0)).astype(np.float32)
BLOBS_Y = BLOBS_Y.astype(np.int64)


def blobs_run(lr: float, batch: int, steps: int = 400, lr_at=None) -> list[float]:
    """Minibatch SGD on four overlapping blobs (lesson 08's recipes); per-step losses."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 4))
    opt = optim.SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(0)
    losses = []
    with np.errstate(all="ignore"):
        for step in range(steps):
            if lr_at is not None:
                opt.param_groups[0]["lr"] = lr_at(step)
            idx = rng.choice(len(BLOBS_X), batch, replace=False)
            loss = F.cross_entropy(model(mg.from_numpy(BLOBS_X[idx])), mg.from_numpy(BLOBS_Y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses


def test_real_runs_healthy_and_failing():
    assert diagnose(blobs_run(lr=0.1, batch=128)).status == "healthy"
    assert diagnose(blobs_run(lr=1e-4, batch=128)).status == "not_decreasing"
    assert diagnose(blobs_run(lr=50.0, batch=128)).status == "diverged"
    noisy = diagnose(blobs_run(lr=0.3, batch=16))
    assert noisy.status == "oscillating", str(noisy)
    assert noisy.evidence["progress_to_noise"] < 3.5


def test_real_lr_spikes_are_found_at_their_steps():
    """lr 10 for one step in every 70: the loss jumps on the step after each (50 + 70k)."""
    d = diagnose(blobs_run(lr=0.1, batch=128, lr_at=lambda s: 10.0 if s % 70 == 50 else 0.1))
    assert d.status == "spiking", str(d)
    assert d.evidence["spike_count"] >= 3
    assert all(s % 70 == 51 for s in d.evidence["spike_steps"]), d.evidence["spike_steps"]


def test_a_loss_that_reaches_zero_or_below_is_read_on_the_linear_scale():
    """A hinge loss can hit exactly 0 and a shifted loss can go negative: no log is taken."""
    t = np.linspace(0.0, 1.0, 300)
    noise = 1 + 0.02 * np.random.default_rng(0).standard_normal(300)
    hinge = np.maximum(1.0 - 3.0 * t, 0.0) * noise
    assert diagnose(hinge).status == "plateaued"
    shifted = (2.0 * np.exp(-4.0 * t) - 0.5) * noise
    d = diagnose(shifted)
    assert d.status in {"healthy", "plateaued"} and d.evidence["relative_decrease"] > 0.5
