"""`minigrad train --amp` and `--tensorboard DIR` on a tiny generated MNIST (small --limit runs)."""

from __future__ import annotations

import json
import sys

import pytest

from minigrad.amp import GradScaler
from minigrad.cli import main
from minigrad.trainer import TrainConfig, Trainer
from tests.tiny_mnist import keep_thread_variables, write_tiny_mnist


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory):
    """300 train / 50 test generated images (see tests/tiny_mnist.py)."""
    return write_tiny_mnist(tmp_path_factory.mktemp("mnist"), 300, 50)


@pytest.fixture(autouse=True)
def _keep_thread_variables(monkeypatch):
    keep_thread_variables(monkeypatch)


def args(tiny_mnist, out, *extra):
    return ["train", "--data-dir", str(tiny_mnist), "--out", str(out), "--epochs", "2", "--limit", "200",
            "--batch-size", "32", "--lr", "1e-2", "--no-progress", "--no-graph", *extra]


def test_amp_run_reports_skipped_steps_and_final_scale(tiny_mnist, tmp_path, capsys):
    assert main(args(tiny_mnist, tmp_path / "amp", "--amp")) == 0
    out = capsys.readouterr().out
    metrics = json.loads((tmp_path / "amp" / "metrics.json").read_text())
    amp = metrics["amp"]
    assert amp == {"skipped_steps": 0, "steps": 2 * 7, "final_scale": 65536.0}
    assert "amp: 0 of 14 steps skipped (inf/NaN gradients), final loss scale 65536" in out
    assert metrics["config"]["amp"] is True
    assert main(args(tiny_mnist, tmp_path / "plain")) == 0
    plain = json.loads((tmp_path / "plain" / "metrics.json").read_text())
    assert "amp" not in plain
    assert plain["history"]["train_loss"] != metrics["history"]["train_loss"], "float16 rounding shows"
    assert metrics["history"]["train_loss"] == pytest.approx(plain["history"]["train_loss"], rel=0.05)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_amp_skips_overflowing_steps_and_backs_off(tiny_mnist, tmp_path):
    """Scaled by 2^24 the float16 gradients overflow: the scaler skips those steps, halving the
    scale each time, until they fit; the weights move only on the steps it did not skip."""
    trainer = Trainer(TrainConfig(data_dir=str(tiny_mnist), out=str(tmp_path / "run"), epochs=1, limit=200,
                                  batch_size=32, progress=False, graph=False, amp=True))
    trainer.scaler = GradScaler(init_scale=2.0**24)
    result = trainer.fit()
    skipped = result["amp"]["skipped_steps"]
    assert 0 < skipped < 7
    assert result["amp"]["final_scale"] == 2.0 ** (24 - skipped)
    assert trainer.optimizer.state[trainer.model[0].weight]["step"] == 7 - skipped


def test_tensorboard_logs_each_epoch(tiny_mnist, tmp_path, capsys):
    pytest.importorskip("tensorboardX")
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    logdir = tmp_path / "tb"
    assert main(args(tiny_mnist, tmp_path / "run", "--tensorboard", str(logdir), "--amp")) == 0
    assert f"tensorboard: logging each epoch to {logdir}" in capsys.readouterr().out
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())["history"]

    def read(path):
        acc = ea.EventAccumulator(str(path), size_guidance={"scalars": 0, "histograms": 0})
        acc.Reload()
        return acc

    main_run = read(logdir)
    assert [(e.step, e.value) for e in main_run.Scalars("lr")] == \
        [(i + 1, pytest.approx(v, rel=1e-6)) for i, v in enumerate(history["lr"])]
    for run, tag, key in (("loss_train", "loss", "train_loss"), ("loss_val", "loss", "val_loss"),
                          ("accuracy_train", "accuracy", "train_acc"),
                          ("accuracy_val", "accuracy", "val_acc")):
        assert [e.value for e in read(logdir / run).Scalars(tag)] == pytest.approx(history[key], rel=1e-6)
    norms = [e.value for e in main_run.Scalars("grad_norm")]
    assert len(norms) == 2 and all(n > 0 for n in norms)
    assert [e.value for e in main_run.Scalars("amp/scale")] == [65536.0, 65536.0]
    tags = set(main_run.Tags()["histograms"])
    assert {"weight/0.weight", "weight/2.bias", "grad/0.weight", "grad/2.bias"} <= tags
    assert [e.step for e in main_run.Histograms("grad/0.weight")] == [1, 2]


def test_tensorboard_without_the_extra_is_a_clear_error(tiny_mnist, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    assert main(args(tiny_mnist, tmp_path / "run", "--tensorboard", str(tmp_path / "tb"))) == 2
    err = capsys.readouterr().err
    assert 'pip install "minigrad-edu[tensorboard]"' in err
    assert not (tmp_path / "run" / "metrics.json").exists()


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_resume_continues_the_loss_scale_and_the_skip_count(tiny_mnist, tmp_path):
    cfg = dict(data_dir=str(tiny_mnist), out=str(tmp_path / "run"), limit=200, batch_size=32, progress=False,
               graph=False, amp=True)
    first = Trainer(TrainConfig(epochs=1, **cfg))
    first.scaler = GradScaler(init_scale=2.0**24)
    skipped = first.fit()["amp"]["skipped_steps"]
    assert skipped > 0
    second = Trainer(TrainConfig(epochs=2, resume=str(tmp_path / "run" / "checkpoint.npz"), **cfg))
    result = second.fit()["amp"]
    assert result["skipped_steps"] >= skipped
    assert result["final_scale"] == 2.0 ** (24 - result["skipped_steps"])


def test_tensorboard_grad_norms_of_a_captured_run_equal_the_eager_ones(tiny_mnist, tmp_path):
    """A replay binds each parameter's .grad to its plan buffer, so the loop reads the step's
    gradients after the call as it does after an eager step."""
    pytest.importorskip("tensorboardX")
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    norms = {}
    for mode in ([], ["--no-capture"]):
        logdir = tmp_path / f"tb{len(mode)}"
        assert main(args(tiny_mnist, tmp_path / f"run{len(mode)}", "--tensorboard", str(logdir), *mode)) == 0
        acc = ea.EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0})
        acc.Reload()
        norms[bool(mode)] = [e.value for e in acc.Scalars("grad_norm")]
        assert [e.step for e in acc.Histograms("grad/0.weight")] == [1, 2]
    captured = json.loads((tmp_path / "run0" / "metrics.json").read_text())["capture"]
    assert captured["used"] and captured["replays"] > 0
    assert len(norms[False]) == 2 and norms[False] == norms[True]
