"""The main job: `minigrad train` on a tiny generated MNIST (IDX files), its outputs,
resuming, Ctrl-C and bad arguments."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad.cli import main
from minigrad.trainer import TrainConfig, Trainer, load_data
from tests.tiny_mnist import keep_thread_variables, write_tiny_mnist


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory):
    """600 train / 100 test generated images (see tests/tiny_mnist.py)."""
    return write_tiny_mnist(tmp_path_factory.mktemp("mnist"), 600, 100)


@pytest.fixture(autouse=True)
def _keep_thread_variables(monkeypatch):
    keep_thread_variables(monkeypatch)


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


# ---------------------------------------------------------------- issue 16: reliability
def cli_args(tiny_mnist, out, *extra) -> list[str]:
    return ["train", "--data-dir", str(tiny_mnist), "--out", str(out), "--no-progress", "--no-graph",
            "--epochs", "1", "--batch-size", "32", *extra]


def model_arrays(path) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in mg.load(path)["model"].items()}


def test_resume_with_a_bad_optimizer_state_leaves_the_trainer_untouched(tiny_mnist, tmp_path):
    """B20: the model used to be overwritten before the optimizer state failed to load."""
    Trainer(config(tiny_mnist, tmp_path, epochs=1, graph=False)).fit()
    state = mg.load(tmp_path / "run" / "checkpoint.npz")
    state["optimizer"]["state"][0]["exp_avg"] = np.zeros((3, 3), np.float32)
    mg.save(state, tmp_path / "bad.npz")
    trainer = Trainer(config(tiny_mnist, tmp_path, epochs=2, out=str(tmp_path / "run2"), graph=False))
    trainer.set_schedule(16)
    before = {k: v.copy() for k, v in trainer.model.state_dict().items()}
    optimizer, generator = trainer.optimizer, trainer.generator
    with pytest.raises(ValueError, match="shape"):
        trainer.resume(tmp_path / "bad.npz")
    for k, v in trainer.model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    assert trainer.optimizer is optimizer and trainer.generator is generator and trainer.epoch == 0


def test_resume_with_more_epochs_continues_the_schedule_over_the_new_total(tiny_mnist, tmp_path):
    """The README's `--resume ... --epochs 15`: the cosine used to keep its old length, so
    the learning rate climbed back up from 0 after the old end."""
    Trainer(config(tiny_mnist, tmp_path, epochs=2, graph=False)).fit()
    more = Trainer(config(tiny_mnist, tmp_path, epochs=4, graph=False, out=str(tmp_path / "run2")))
    more.set_schedule(16)  # 500 training images in batches of 32
    more.resume(tmp_path / "run" / "checkpoint.npz")
    lrs, real_step = [], more.step

    def record_lr(*a, **k):  # the lr each step's update reads (a replayed step reads it too)
        lrs.append(more.optimizer.param_groups[0]["lr"])
        return real_step(*a, **k)

    more.step = record_lr
    more.run_epochs(load_data(more.config))
    steps_done, total = 2 * 16, 4 * 16
    assert len(lrs) == total - steps_done and len(more.history.val_loss) == 4
    assert lrs[0] == pytest.approx(1e-2 * (1 + math.cos(math.pi * steps_done / total)) / 2, rel=1e-6)
    assert all(b <= a for a, b in zip(lrs, lrs[1:])), "the learning rate rose during the resumed epochs"
    assert more.optimizer.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def _interrupt_at_step(trainer, step):
    """Send a real SIGINT (Ctrl-C) from inside training step number `step` (Trainer.step, which
    runs the step eagerly or replays it: a replay does not call optimizer.step's Python)."""
    real_step, calls = trainer.step, []

    def step_then_ctrl_c(*a, **k):
        calls.append(1)
        if len(calls) == step:
            os.kill(os.getpid(), signal.SIGINT)
        return real_step(*a, **k)

    trainer.step = step_then_ctrl_c


@pytest.mark.parametrize("capture", [True, False])
def test_ctrl_c_mid_epoch_then_resume_equals_the_uninterrupted_run(tiny_mnist, tmp_path, capture):
    """Ctrl-C inside a step used to replay steps on resume; now the run continues exactly,
    replayed by mg.capture (the resumed trainer records its plans again) or eager."""
    straight = Trainer(config(tiny_mnist, tmp_path, graph=False, out=str(tmp_path / "straight"),
                              capture=capture)).fit()
    assert straight["capture"]["used"] is capture
    first = Trainer(config(tiny_mnist, tmp_path, graph=False, capture=capture))
    _interrupt_at_step(first, 16 + 5)  # the 5th step of the 2nd epoch (16 steps per epoch)
    with pytest.raises(SystemExit) as stop:
        first.fit()
    assert stop.value.code == 130
    ckpt = tmp_path / "run" / "interrupted.npz"
    assert json.loads(mg.load(ckpt)["progress"])["steps_done"] == 5
    resumed = Trainer(config(tiny_mnist, tmp_path, graph=False, resume=str(ckpt), capture=capture)).fit()
    got, want = model_arrays(tmp_path / "run" / "checkpoint.npz"), model_arrays(
        tmp_path / "straight" / "checkpoint.npz")
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    assert resumed["history"]["step_loss"] == straight["history"]["step_loss"]
    assert resumed["history"]["val_loss"] == straight["history"]["val_loss"]
    assert resumed["test_loss"] == straight["test_loss"]


@pytest.mark.parametrize("out", ["afile/sub", "readonly/run"])
def test_an_unwritable_out_fails_before_training(tiny_mnist, tmp_path, capsys, monkeypatch, out):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "readonly").mkdir()
    (tmp_path / "readonly").chmod(0o500)
    if out.startswith("readonly") and os.access(tmp_path / "readonly", os.W_OK):  # root writes anyway
        def refuse(*a, **k):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr("minigrad.trainer.tempfile.mkstemp", refuse)
    try:
        assert main(cli_args(tiny_mnist, tmp_path / out)) == 2
    finally:
        (tmp_path / "readonly").chmod(0o700)
    captured = capsys.readouterr()
    assert "--out" in captured.err and "cannot write" in captured.err
    assert "epoch" not in captured.out and "Traceback" not in captured.err


@pytest.mark.parametrize("where", ["load_data", "confusion_matrix", "training_curves", "save_checkpoint"])
def test_ctrl_c_anywhere_exits_130_without_a_traceback_or_half_written_files(tiny_mnist, tmp_path, capsys,
                                                                          monkeypatch, where):
    from minigrad import trainer as trainer_module
    from minigrad.viz import plots

    def interrupt(*a, **k):
        raise KeyboardInterrupt

    target = {"load_data": (trainer_module, "load_data"), "confusion_matrix": (plots, "confusion_matrix"),
              "training_curves": (plots, "training_curves"),
              "save_checkpoint": (trainer_module.Trainer, "save_checkpoint")}[where]
    monkeypatch.setattr(*target, interrupt)
    out = tmp_path / "run"
    assert main(cli_args(tiny_mnist, out)) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err
    files = sorted(p.name for p in out.iterdir())
    assert not [f for f in files if f.startswith(".")], files  # no temporary half-written file
    if "metrics.json" in files:
        json.loads((out / "metrics.json").read_text())
    for name in files:
        assert (out / name).stat().st_size > 0


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_a_data_dir_without_the_data_is_an_error(tiny_mnist, tmp_path, capsys, make):
    data_dir = tmp_path / "nothing-here"
    if make == "empty":
        data_dir.mkdir()
    args = cli_args(tiny_mnist, tmp_path / "run")
    args[args.index("--data-dir") + 1] = str(data_dir)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--data-dir" in err and str(data_dir) in err
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_a_second_run_into_the_same_out_needs_overwrite(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(cli_args(tiny_mnist, out, "--debug")) == 0
    assert (out / "monitor.txt").exists()
    first = (out / "metrics.json").read_bytes()
    capsys.readouterr()
    assert main(cli_args(tiny_mnist, out)) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "metrics.json").read_bytes() == first
    assert main(cli_args(tiny_mnist, out, "--overwrite")) == 0
    wrote = [line for line in capsys.readouterr().out.splitlines() if line.startswith("wrote")][0]
    assert "metrics.json" in wrote and "monitor.txt" not in wrote
    assert not (out / "monitor.txt").exists()  # the previous run's file is not mixed with this run's


@pytest.mark.parametrize("extra, needle", [
    (["--lr", "inf"], "--lr"), (["--lr", "nan"], "--lr"), (["--lr", "0"], "--lr"),
    (["--weight-decay", "nan"], "--weight-decay"), (["--clip-grad-norm", "inf"], "--clip-grad-norm"),
    (["--epochs", "0"], "--epochs"),
])
def test_non_finite_hyperparameters_and_zero_epochs_are_rejected(tiny_mnist, tmp_path, capsys, extra, needle):
    assert main([*cli_args(tiny_mnist, tmp_path / "run"), *extra]) == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


def _strict_json(text: str):
    def refuse(name):
        raise ValueError(f"invalid JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_a_diverging_run_stops_keeps_the_last_good_checkpoint_and_exits_1(tiny_mnist, tmp_path, capsys,
                                                                          monkeypatch):
    """Divergence in epoch 2 (the loss made NaN once epoch 1's checkpoint is written)."""
    from minigrad import trainer as trainer_module

    real_save, poisoned = trainer_module.Trainer.save_checkpoint, []

    def save_then_poison(self, *a, **k):
        path = real_save(self, *a, **k)
        if not poisoned:
            poisoned.append(self)
            real_loss = self.loss_fn
            self.loss_fn = lambda logits, y: real_loss(logits, y) * float("nan")
        return path

    monkeypatch.setattr(trainer_module.Trainer, "save_checkpoint", save_then_poison)
    out = tmp_path / "run"
    assert main([*cli_args(tiny_mnist, out), "--epochs", "3"]) == 1
    err = capsys.readouterr().err
    assert "diverged" in err and "lower the learning rate" in err and "epoch 1" in err
    checkpoint = mg.load(out / "checkpoint.npz")
    assert int(checkpoint["epoch"]) == 1
    assert all(np.isfinite(v).all() for v in checkpoint["model"].values())
    metrics = _strict_json((out / "metrics.json").read_text())
    assert metrics["status"] == "diverged" and metrics["history"]["step_loss"][-1] is None


@pytest.mark.filterwarnings("ignore:.*encountered in matmul:RuntimeWarning")  # the point of the test
def test_lr_that_overflows_diverges_with_exit_1_and_valid_json(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "run"
    extra = ["--optimizer", "sgd", "--lr", "1e30", "--scheduler", "none"]
    assert main([*cli_args(tiny_mnist, out), *extra]) == 1
    assert "diverged" in capsys.readouterr().err
    _strict_json((out / "metrics.json").read_text())
    assert not (out / "checkpoint.npz").exists()


def test_fashion_mnist_missing_names_the_debian_package_and_data_dir(tmp_path, capsys, monkeypatch):
    from minigrad.data import FashionMNIST

    monkeypatch.setattr(FashionMNIST, "system_dirs", (str(tmp_path / "not-installed"),))
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(["train", "--dataset", "fashion-mnist", "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "apt-get install dataset-fashion-mnist" in err and "--data-dir" in err
    assert "download=True" not in err and "root=" not in err


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="Debian's dataset-fashion-mnist package is not installed")
def test_fashion_mnist_is_found_in_the_debian_package_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = load_data(TrainConfig(dataset="fashion-mnist", limit=100))
    assert "/usr/share/datasets/fashion-mnist" in data.source
    assert data.classes[0] == "T-shirt/top" and data.classes[9] == "Ankle boot"
    assert data.splits["train"][0].shape == (100, 784) and len(data.splits["test"][0]) == 10_000


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graph_svg_is_readable_at_1200_px_and_shows_activation_gradients(tiny_mnist, tmp_path):
    Trainer(config(tiny_mnist, tmp_path, epochs=1)).fit()
    svg = (tmp_path / "run" / "graph.svg").read_text()
    width = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
    assert width * 4 / 3 <= 1200, f"{width} pt = {width * 4 / 3:.0f} px"  # 1 pt = 4/3 px
    assert "not kept" not in svg
    assert "1 (ReLU)" in svg  # the ReLU module's cluster
    boxes = re.findall(r'<g id="node\d+" class="node">.*?</g>', svg, flags=re.S)
    activations = [b for b in boxes if "intermediate %" in b]  # not the legend
    assert activations and all("grad: norm" in b for b in activations)


def test_the_first_run_says_it_is_compiling_kernels(tiny_mnist, tmp_path, monkeypatch):
    """The first batch used to sit at 0/N for seconds with no message while Numba compiled."""
    from minigrad import kernels
    from minigrad.kernels import _jit

    if not kernels.jit_enabled():
        pytest.skip("Numba kernels are off")
    monkeypatch.setattr(_jit.LazyKernel, "is_cached", lambda self: False)
    for kernel in _jit.KERNELS:  # as in a fresh process: dispatchers not made yet
        monkeypatch.setattr(kernel, "dispatcher", None)
    lines = []
    trainer = Trainer(config(tiny_mnist, tmp_path), log=lines.append)
    x, y = np.zeros((2, 784), np.float32), np.zeros(2, np.int64)
    trainer.warm_kernels(x, y)
    assert lines[0] == "compiling kernels (once, cached on disk) ..."
    assert sum("compiling kernels" in line for line in lines) == 1
    assert re.fullmatch(r"kernels: \d+ compiled, \d+ loaded from cache in [\d.]+ s", lines[-1])


def test_warmup_says_compiled_or_loaded_from_cache_truthfully(tmp_path):
    """`minigrad warmup` said "compiled" even when it only loaded the cache."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    root = Path(__file__).resolve().parent.parent

    def warmup() -> str:
        return subprocess.run([sys.executable, "-m", "minigrad", "warmup"], env=env, cwd=root, check=True,
                              capture_output=True, text=True).stdout

    first, second = warmup(), warmup()
    assert "compiling kernels" in first and re.search(r"[1-9]\d* compiled, 0 loaded", first), first
    assert "compiling kernels" not in second and re.search(r" 0 compiled, [1-9]\d* loaded", second), second
    used = int(re.search(r"(\d+) compiled", first).group(1))
    assert used < 2 * len(kernels_list())  # only what training uses, not every kernel x 2 dtypes


def kernels_list():
    from minigrad.kernels import _jit

    return _jit.KERNELS


def test_threads_are_set_in_process_and_capped_to_idle_cores(monkeypatch):
    from threadpoolctl import threadpool_info

    from minigrad.cli import set_threads

    monkeypatch.setattr(os, "execve", lambda *a: pytest.fail("cli re-executed the interpreter"))
    try:
        threads, note = set_threads(2, idle=1)
        assert threads == 1 and "--threads 2" in note
        assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")
        threads, note = set_threads(2, idle=2)
        assert threads == 2 and note == ""
        assert all(pool["num_threads"] == 2 for pool in threadpool_info() if pool["user_api"] == "blas")
    finally:
        set_threads(1, idle=1)


def test_debug_monitor_is_told_the_scheduled_learning_rate(tiny_mnist, tmp_path):
    """--debug flagged "tiny updates" once the cosine schedule had taken the lr to ~0."""
    trainer = Trainer(config(tiny_mnist, tmp_path, epochs=1, debug=True, graph=False))
    trainer.fit()
    assert trainer.monitor.peak_lr == pytest.approx(1e-2)
    assert 0 < trainer.monitor.lr < 1e-2 * trainer.monitor.peak_lr  # the last step: the cosine is ending
    assert all("tiny updates" not in layer.flags for layer in trainer.monitor.last.layers.values())


@pytest.mark.parametrize("flag, reason", [
    ([], None),
    (["--no-capture"], "--no-capture"),
    (["--amp"], "--amp: amp.autocast cannot be captured"),
    (["--debug"], "--debug: the gradient monitor reads every step's values through hooks"),
])
def test_the_log_and_metrics_json_say_whether_the_step_was_captured(tiny_mnist, tmp_path, capsys, flag,
                                                                     reason):
    """Capture is the default; --no-capture, --amp and --debug run eagerly, and say why."""
    out = tmp_path / "run"
    assert main([*cli_args(tiny_mnist, out), "--limit", "200", *flag]) == 0
    summary = json.loads((out / "metrics.json").read_text())["capture"]
    log = capsys.readouterr().out
    assert summary["used"] is (reason is None) and summary["reason"] == reason
    if reason is None:
        assert "capture: on" in log and summary["replays"] == 7 - 3  # 200 images: 6 batches of 32 + 1 of 8
        assert "capture: 4 steps replayed, 3 run eagerly while recording (1 plan built" in log
    else:
        assert f"capture: off ({reason})" in log and summary["recordings"] == summary["replays"] == 0
    assert json.loads((out / "metrics.json").read_text())["config"]["capture"] is ("--no-capture" not in flag)
