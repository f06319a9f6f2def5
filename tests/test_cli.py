"""The main job: `minigrad train` on a tiny generated MNIST (IDX files), its outputs,
resuming, Ctrl-C and bad arguments."""

from __future__ import annotations

import json

import numpy as np
import pytest

from minigrad.cli import main
from minigrad.data import write_idx
from minigrad.trainer import TrainConfig, Trainer


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory):
    """600 train / 100 test 28x28 images whose class is written in a bright 3x3 block."""
    root = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 600), ("t10k", 100)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = (rng.random((n, 28, 28)) * 60).astype(np.uint8)
        for i, c in enumerate(labels):
            images[i, 2 * c:2 * c + 3, 5:8] = 255
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return root


def config(tiny_mnist, tmp_path, **kw) -> TrainConfig:
    base = dict(data_dir=str(tiny_mnist), out=str(tmp_path / "run"), epochs=2, batch_size=32,
                lr=1e-2, progress=False)
    return TrainConfig(**{**base, **kw})


def test_train_writes_every_output_and_learns(tiny_mnist, tmp_path, capsys):
    result = Trainer(config(tiny_mnist, tmp_path, epochs=3)).fit()
    out = tmp_path / "run"
    for name in ("checkpoint.npz", "metrics.json", "metrics.csv", "curves.png", "confusion.png",
                 "graph.svg"):
        assert (out / name).stat().st_size > 0, name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_acc"] == result["test_acc"] > 0.9
    assert len(metrics["history"]["val_acc"]) == 3
    assert (out / "metrics.csv").read_text().count("\n") == 4
    assert "784" in (out / "graph.svg").read_text()
    log = capsys.readouterr().out
    assert "test accuracy" in log and str(tiny_mnist) in log  # the log names the data source


def test_resume_after_an_interruption_matches_an_uninterrupted_run(tiny_mnist, tmp_path):
    first = Trainer(config(tiny_mnist, tmp_path, graph=False))
    calls = []
    real_epoch = first.train_epoch

    def stop_in_second_epoch(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_epoch(*args)

    first.train_epoch = stop_in_second_epoch
    with pytest.raises(SystemExit):
        first.fit()
    ckpt = tmp_path / "run" / "checkpoint.npz"
    resumed = Trainer(config(tiny_mnist, tmp_path, resume=str(ckpt), graph=False,
                             out=str(tmp_path / "run2"))).fit()
    straight = Trainer(config(tiny_mnist, tmp_path, graph=False, out=str(tmp_path / "run3"))).fit()
    assert len(resumed["history"]["train_loss"]) == 2
    np.testing.assert_allclose(resumed["history"]["val_loss"], straight["history"]["val_loss"],
                               rtol=1e-5)
    assert resumed["test_acc"] == straight["test_acc"]


def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(tiny_mnist, tmp_path, monkeypatch):
    trainer = Trainer(config(tiny_mnist, tmp_path))

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "train_epoch", interrupted)
    with pytest.raises(SystemExit) as exit_info:
        trainer.fit()
    assert exit_info.value.code == 130
    assert (tmp_path / "run" / "interrupted.npz").exists()


@pytest.mark.parametrize("loss", ["mse", "l1", "focal", "hinge"])
def test_every_loss_choice_trains(tiny_mnist, tmp_path, loss):
    """Each loss's gradient actually trains the model: the loss falls and the test accuracy
    is far above chance (0.1). A finite loss alone would pass with a zero or wrong gradient."""
    result = Trainer(config(tiny_mnist, tmp_path, epochs=2, loss=loss, graph=False)).fit()
    first, last = result["history"]["train_loss"]
    assert last < 0.5 * first
    assert result["test_acc"] > 0.9


def test_command_line_reports_bad_arguments(tiny_mnist, tmp_path, capsys, monkeypatch):
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    args = ["train", "--data-dir", str(tiny_mnist), "--out", str(tmp_path / "x"), "--no-progress"]
    assert main([*args, "--arch", "784-x-10"]) == 2
    assert "784-x-10" in capsys.readouterr().err
    assert main([*args, "--loss", "nope"]) == 2
    assert "choose one of" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("MINIGRAD_DATA", str(empty))
    assert main(["train", "--data-dir", str(empty), "--dataset", "fashion-mnist",
                 "--out", str(tmp_path / "y"), "--no-progress"]) == 2
    assert "fashion" in capsys.readouterr().err.lower()


def test_debug_run_writes_the_gradient_monitor_report(tiny_mnist, tmp_path):
    Trainer(config(tiny_mnist, tmp_path, epochs=1, debug=True, graph=False)).fit()
    report = (tmp_path / "run" / "monitor.txt").read_text()
    assert "grad norm" in report and "relu" in report
    assert (tmp_path / "run" / "monitor.png").stat().st_size > 0


@pytest.mark.parametrize("extra, needle", [
    (["--limit", "0"], "--limit"),
    (["--limit", "-5"], "--limit"),
    (["--clip-grad-norm", "-1"], "--clip-grad-norm"),
    (["--arch", "784-128-5"], "--arch"),
    (["--arch", "100-10"], "--arch"),
])
def test_command_line_rejects_bad_values_with_exit_code_2(tiny_mnist, tmp_path, capsys, monkeypatch,
                                                        extra, needle):
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    args = ["train", "--data-dir", str(tiny_mnist), "--out", str(tmp_path / "x"), "--no-progress",
            "--no-graph", "--epochs", "1"]
    assert main([*args, *extra]) == 2
    assert needle in capsys.readouterr().err


def test_command_line_rejects_an_out_path_that_is_a_file(tiny_mnist, tmp_path, capsys, monkeypatch):
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    (tmp_path / "afile").write_text("x")
    args = ["train", "--data-dir", str(tiny_mnist), "--out", str(tmp_path / "afile"), "--no-progress",
            "--no-graph", "--epochs", "1"]
    assert main(args) == 2
    assert "--out" in capsys.readouterr().err


def test_command_line_rejects_a_thread_count_below_one(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--threads", "0"])
    assert exit_info.value.code == 2
    assert "--threads" in capsys.readouterr().err


def test_resume_with_a_different_optimizer_or_scheduler_is_refused(tiny_mnist, tmp_path):
    Trainer(config(tiny_mnist, tmp_path, epochs=1, optimizer="sgd", graph=False)).fit()
    ckpt = str(tmp_path / "run" / "checkpoint.npz")
    for change in ({"optimizer": "adam"}, {"scheduler": "plateau"}):
        options = {"optimizer": "sgd", **change}
        trainer = Trainer(config(tiny_mnist, tmp_path, epochs=2, resume=ckpt, out=str(tmp_path / "run2"),
                                 graph=False, **options))
        with pytest.raises(ValueError, match=f"--{next(iter(change))}"):
            trainer.fit()
