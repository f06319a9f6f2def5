"""The trainer's pieces, each on its own: config checks, data, schedules, the output folder,
JSON of non-finite values, the monitor's lr-aware flag and the labelled plots."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from test_cli import config, tiny_mnist  # noqa: F401  (the module-scoped data fixture)

import minigrad as mg
from minigrad import nn
from minigrad.debug import GradientMonitor
from minigrad.trainer import (
    SCHEDULES,
    TrainConfig,
    Trainer,
    TrainingDiverged,
    build_mlp,
    build_optimizer,
    build_scheduler,
    json_safe,
    load_data,
    prepare_output,
    validate_config,
)
from minigrad.viz import plots

FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]


@pytest.mark.parametrize("name, cadence", [("cosine", "step"), ("onecycle", "step"), ("step", "epoch"),
                                           ("plateau", "val_loss")])
def test_each_schedule_declares_when_it_steps(name, cadence):
    optimizer = build_optimizer("adam", build_mlp("4-3").parameters(), 0.1, 0.0)
    schedule = build_scheduler(name, optimizer, epochs=3, steps_per_epoch=5, lr=0.1)
    assert schedule.cadence == cadence
    assert schedule.position(steps=12, epochs=2) == (12 if cadence == "step" else 2)
    assert set(SCHEDULES) == {"none", "cosine", "onecycle", "step", "plateau"}
    assert build_scheduler("none", optimizer, 3, 5) is None


def test_onecycle_peaks_at_the_configured_lr_not_the_optimizers_current_one():
    optimizer = build_optimizer("sgd", build_mlp("4-3").parameters(), 0.1, 0.0)
    optimizer.param_groups[0]["lr"] = 1e-6  # e.g. restored from a checkpoint late in the cycle
    schedule = build_scheduler("onecycle", optimizer, epochs=1, steps_per_epoch=10, lr=0.1)
    assert optimizer.param_groups[0]["max_lr"] == 0.1
    assert schedule.length == 10


@pytest.mark.parametrize("field, value", [("lr", math.inf), ("lr", -1.0), ("weight_decay", -0.1),
                                          ("clip_grad_norm", math.nan), ("epochs", 0), ("batch_size", 0),
                                          ("optimizer", "lbfgs"), ("scheduler", "linear")])
def test_validate_config_names_the_bad_option(field, value):
    with pytest.raises(ValueError, match="--" + field.replace("_", "-")):
        validate_config(TrainConfig(**{field: value}))


def test_load_data_gives_the_class_names_and_counts(tiny_mnist):  # noqa: F811
    data = load_data(TrainConfig(data_dir=str(tiny_mnist), limit=50))
    assert data.classes == [str(d) for d in range(10)]
    assert data.splits["train"][0].shape == (50, 784) and data.n_features == 784
    assert data.steps_per_epoch(32) == 2
    assert str(tiny_mnist) in data.source


def test_class_count_comes_from_the_dataset(tiny_mnist, tmp_path, monkeypatch):  # noqa: F811
    """No hard-coded 10: an 11-class dataset needs 11 outputs."""
    from minigrad import data as data_module

    monkeypatch.setattr(data_module.MNIST, "classes", [*map(str, range(10)), "extra"])
    trainer = Trainer(config(tiny_mnist, tmp_path, epochs=1))
    with pytest.raises(ValueError, match="11 classes"):
        trainer.fit()


def test_prepare_output_refuses_a_previous_run_but_allows_continuing_it(tmp_path):
    out = tmp_path / "run"
    assert prepare_output(TrainConfig(out=str(out))) == out and out.is_dir()
    (out / "metrics.json").write_text("{}")
    with pytest.raises(ValueError, match="--overwrite"):
        prepare_output(TrainConfig(out=str(out)))
    prepare_output(TrainConfig(out=str(out), overwrite=True))
    prepare_output(TrainConfig(out=str(out), resume=str(out / "checkpoint.npz")))
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # the write probe is gone


def test_json_safe_writes_non_finite_numbers_as_null():
    value = {"a": [1.0, math.nan, np.float32(np.inf)], "b": (-math.inf, 2), "c": "x"}
    text = json.dumps(json_safe(value), allow_nan=False)
    assert json.loads(text) == {"a": [1.0, None, None], "b": [None, 2], "c": "x"}


def test_resume_needs_the_schedule_first(tiny_mnist, tmp_path):  # noqa: F811
    trainer = Trainer(config(tiny_mnist, tmp_path))
    with pytest.raises(RuntimeError, match="set_schedule"):
        trainer.resume(tmp_path / "whatever.npz")


def test_resume_refuses_a_total_not_above_the_checkpoints_epochs(tiny_mnist, tmp_path):  # noqa: F811
    Trainer(config(tiny_mnist, tmp_path, epochs=2, graph=False)).fit()
    trainer = Trainer(config(tiny_mnist, tmp_path, epochs=2))
    trainer.set_schedule(16)
    with pytest.raises(ValueError, match="--epochs 7"):
        trainer.resume(tmp_path / "run" / "checkpoint.npz")


def _monitor_step(lr: float, peak: float) -> list[str]:
    """Flags of a Linear layer after an update of relative size 1e-7 at learning rate lr."""
    mg.manual_seed(0)
    layer = nn.Linear(4, 3)
    monitor = GradientMonitor(layer)
    layer(mg.randn(2, 4)).sum().backward()
    monitor.step(lr=peak)
    layer(mg.randn(2, 4)).sum().backward()
    layer.weight.data += 1e-7 * layer.weight.data
    layer.bias.data += 1e-7 * layer.bias.data
    record = monitor.step(lr=lr)
    monitor.remove()
    return record.layers["Linear"].flags


def test_monitor_does_not_call_a_scheduled_lr_of_zero_tiny_updates():
    assert "tiny updates" in _monitor_step(lr=1e-3, peak=1e-3)
    assert "tiny updates" not in _monitor_step(lr=0.0, peak=1e-3)
    assert "tiny updates" not in _monitor_step(lr=1e-6, peak=1e-3)


def test_confusion_matrix_and_image_grid_use_class_names_and_a_legend():
    y, p = np.array([0, 9, 3]), np.array([0, 1, 3])
    fig = plots.confusion_matrix(y, p, 10, class_names=FASHION)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == FASHION
    assert [t.get_text() for t in ax.get_yticklabels()] == FASHION
    grid = plots.image_grid(np.zeros((2, 784)), y[1:], p[1:], class_names=FASHION)
    titles = [a.get_title() for a in grid.axes]
    assert "Ankle boot→Trouser" in titles
    assert "true" in grid._suptitle.get_text() and "predicted" in grid._suptitle.get_text()
    with pytest.raises(ValueError, match="class_names"):
        plots.confusion_matrix(y, p, 10, class_names=FASHION[:3])


def test_resume_from_a_file_that_is_not_a_trainer_checkpoint_is_a_clear_error(tiny_mnist, tmp_path):  # noqa: F811
    trainer = Trainer(config(tiny_mnist, tmp_path))
    trainer.set_schedule(16)
    mg.save(trainer.model.state_dict(), tmp_path / "weights.npz")  # weights only, e.g. from a notebook
    with pytest.raises(ValueError, match="lacks .*optimizer"):
        trainer.resume(tmp_path / "weights.npz")


# ---------------------------------------------------------------- the step through mg.capture
def _fit(tiny_mnist, tmp_path, name, **kw):  # noqa: F811
    trainer = Trainer(config(tiny_mnist, tmp_path, graph=False, out=str(tmp_path / name), **kw))
    return trainer, trainer.fit()


@pytest.mark.parametrize("options", [
    {},  # Linear+ReLU, cross-entropy, Adam, cosine per step: the planned kernels
    {"optimizer": "sgd", "clip_grad_norm": 0.5},  # the optimizer's own step, clipping called again
    {"activation": "elu", "optimizer": "rmsprop", "weight_decay": 0.01, "scheduler": "onecycle"},  # ops' code
    {"loss": "mse", "optimizer": "adamw"},  # given its one-hot target as an input
])
def test_captured_training_equals_eager_training_bitwise(tiny_mnist, tmp_path, options):  # noqa: F811
    """The replayed steps make the eager steps' numbers exactly: every step's loss, the final
    parameters and the optimizer state. The run must really have replayed (not fallen back)."""
    captured, got = _fit(tiny_mnist, tmp_path, "captured", **options)
    eager, want = _fit(tiny_mnist, tmp_path, "eager", capture=False, **options)
    assert got["capture"]["used"] and got["capture"]["reason"] is None and got["capture"]["replays"] > 20
    assert want["capture"] == {"used": False, "reason": "--no-capture", "recordings": 0, "replays": 0,
                               "plans_built": 0, "recaptures": 0, "capture_seconds": 0.0}
    assert got["history"]["step_loss"] == want["history"]["step_loss"]
    assert got["history"]["val_loss"] == want["history"]["val_loss"]
    for (name, a), b in zip(captured.model.state_dict().items(), eager.model.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    for p, q in zip(captured.model.parameters(), eager.model.parameters()):
        for key, value in eager.optimizer.state[q].items():
            np.testing.assert_array_equal(captured.optimizer.state[p][key], value, err_msg=key)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_captured_tanh_and_sigmoid_agree_with_eager_to_float32_rounding(tiny_mnist, tmp_path, activation):  # noqa: F811
    """Not bitwise: the replay fuses the activation into Linear's kernel, whose tanh/exp are
    Numba's (libm), while the eager Tanh/Sigmoid ops use numpy's vectorised ones; each
    element may differ by an ulp. The losses agree to rtol 1e-6, the weights to float32
    rounding of the largest weight."""
    captured, got = _fit(tiny_mnist, tmp_path, "captured", activation=activation, optimizer="sgd")
    eager, want = _fit(tiny_mnist, tmp_path, "eager", activation=activation, optimizer="sgd", capture=False)
    assert got["capture"]["replays"] > 20
    np.testing.assert_allclose(got["history"]["step_loss"], want["history"]["step_loss"], rtol=1e-6)
    for (name, a), b in zip(captured.model.state_dict().items(), eager.model.state_dict().values()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6 * np.abs(b).max(), err_msg=name)


def test_the_captured_step_is_built_once_so_its_plans_serve_every_epoch(tiny_mnist, tmp_path):  # noqa: F811
    """500 images in batches of 32: 15 full batches and one of 20, each shape its own plan.
    Two eager recordings per shape in the whole run, not per epoch; the rest replay."""
    trainer, result = _fit(tiny_mnist, tmp_path, "run", epochs=3)
    summary = result["capture"]
    assert (summary["plans_built"], summary["recordings"], summary["replays"]) == (2, 4, 3 * 16 - 4)
    assert sorted(plan.signature for plan in trainer._capture.plans.values()) == [
        "train_step(x: float32[20, 784], y: int64[20])", "train_step(x: float32[32, 784], y: int64[32])"]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("capture", [True, False])
def test_a_diverging_step_leaves_the_model_and_optimizer_as_it_found_them(tiny_mnist, tmp_path, capture):  # noqa: F811
    """NaN images in epoch 2: its first step's loss is NaN. The eager loop reads the loss
    before the update; a replayed step stops at its check_finite op, before backward and the
    optimizer, so both end with the weights and Adam state after epoch 1 (finite), not NaN."""
    trainer = Trainer(config(tiny_mnist, tmp_path, capture=capture))
    x, y = load_data(trainer.config).splits["train"]
    trainer.train_epoch(x, y)
    before = {k: v.copy() for k, v in trainer.model.state_dict().items()}
    adam = {(i, k): np.copy(v) for i, p in enumerate(trainer.model.parameters())
            for k, v in trainer.optimizer.state[p].items()}
    replays = trainer.capture_summary()["replays"]
    with pytest.raises(TrainingDiverged, match="loss became nan at step 17"):
        trainer.train_epoch(np.full_like(x, np.nan), y)
    assert trainer.capture_summary()["replays"] == replays + capture  # the diverging step was a replay
    for name, value in trainer.model.state_dict().items():
        assert np.isfinite(value).all(), name
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    for i, p in enumerate(trainer.model.parameters()):
        assert trainer.optimizer.state[p].keys() == {k for j, k in adam if j == i}
        for key, value in trainer.optimizer.state[p].items():
            np.testing.assert_array_equal(value, adam[i, key], err_msg=key)
    assert trainer.steps == 16 and math.isnan(trainer.history.step_loss[-1])


def test_a_step_capture_refuses_switches_the_run_to_eager_with_the_same_numbers(tiny_mnist, tmp_path):  # noqa: F811
    """The focal loss computes its mean's divisor in Python from the targets, so capture
    refuses its second recording (after running it): that step's result is kept and the
    rest of the run is eager, giving an eager run's numbers; metrics.json says why."""
    _, got = _fit(tiny_mnist, tmp_path, "captured", loss="focal", epochs=1)
    _, want = _fit(tiny_mnist, tmp_path, "eager", loss="focal", epochs=1, capture=False)
    assert got["history"]["step_loss"] == want["history"]["step_loss"]
    summary = got["capture"]
    assert summary["used"] is False and summary["reason"].startswith("capture refused the step")
    assert "different path" in summary["reason"] and summary["recordings"] == 2


def test_a_step_refused_before_it_ran_runs_eagerly(tiny_mnist, tmp_path):  # noqa: F811
    """Under anomaly detection capture refuses a call before running it: the step then runs
    in the eager loop, so no step is lost."""
    _, want = _fit(tiny_mnist, tmp_path, "eager", epochs=1, capture=False)
    with mg.autograd.detect_anomaly():
        _, got = _fit(tiny_mnist, tmp_path, "captured", epochs=1)
    assert got["history"]["step_loss"] == want["history"]["step_loss"]
    assert "anomaly detection" in got["capture"]["reason"] and got["capture"]["recordings"] == 0


def test_warm_kernels_prepares_every_kernel_the_replayed_steps_use(tiny_mnist, tmp_path, monkeypatch):  # noqa: F811
    """The warm-up used read-only slices of the data, so its replay took the ops' own code
    and the planned kernels (Linear's activation gradient, the finiteness check) were first
    loaded or compiled in the middle of the first epoch."""
    from minigrad import kernels
    from minigrad.kernels import _jit

    if not kernels.jit_enabled():
        pytest.skip("Numba kernels are off")
    for kernel in _jit.KERNELS:  # as in a fresh process: dispatchers not made yet
        monkeypatch.setattr(kernel, "dispatcher", None)
    trainer = Trainer(config(tiny_mnist, tmp_path, epochs=1))
    x, y = load_data(trainer.config).splits["train"]
    trainer.warm_kernels(x, y)
    before = kernels.cache_counts()
    trainer.train_epoch(x, y)
    assert trainer.capture_summary()["replays"] > 0
    assert kernels.cache_counts() == before
