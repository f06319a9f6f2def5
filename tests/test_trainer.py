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
