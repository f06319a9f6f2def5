"""minigrad.utils.tensorboard: event files read back with TensorBoard's own reader, and
served by a real ``tensorboard`` process over HTTP; GradientMonitor logging to a writer."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.debug import GradientMonitor
from minigrad.utils.tensorboard import SummaryWriter


@pytest.fixture(autouse=True)
def needs_the_extra(request):
    """Every test but the one about the missing extra needs tensorboardX and TensorBoard."""
    if request.node.name != "test_missing_tensorboardx_names_the_extra":
        pytest.importorskip("tensorboardX")
        pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read_events(log_dir):
    from tensorboard.backend.event_processing import event_accumulator

    acc = event_accumulator.EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "histograms": 0,
                                                                          "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_scalars_read_back_with_tensorboards_reader(tmp_path):
    losses = [2.5, 1.25, 0.75, 0.5]
    with SummaryWriter(tmp_path) as w:
        for step, loss in enumerate(losses):
            w.add_scalar("loss/train", loss, step * 10)
        w.add_scalar("lr", mg.tensor(0.125), 3)
    acc = read_events(tmp_path)
    events = acc.Scalars("loss/train")
    assert [e.step for e in events] == [0, 10, 20, 30]
    assert [e.value for e in events] == losses
    assert [(e.step, e.value) for e in acc.Scalars("lr")] == [(3, 0.125)]


def test_add_scalars_writes_one_run_per_key(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalars("loss", {"train": 1.5, "val": 2.0}, 7)
    for key, value in (("train", 1.5), ("val", 2.0)):
        [event] = read_events(tmp_path / f"loss_{key}").Scalars("loss")
        assert (event.step, event.value) == (7, value)


def test_histograms_of_tensor_grad_and_array(tmp_path):
    layer = nn.Linear(4, 3)
    layer(mg.ones(2, 4)).sum().backward()
    values = np.arange(10.0)
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("weight", layer.weight, 1)
        w.add_histogram("grad", layer.weight.grad, 1)
        w.add_histogram("array", values, 2)
    acc = read_events(tmp_path)
    for tag, data, step in (("weight", layer.weight.data, 1), ("grad", layer.weight.grad.data, 1),
                            ("array", values, 2)):
        [event] = acc.Histograms(tag)
        hist = event.histogram_value
        assert event.step == step
        assert hist.num == data.size
        assert hist.min == pytest.approx(float(data.min()))
        assert hist.max == pytest.approx(float(data.max()))
        assert hist.sum == pytest.approx(float(data.sum()), rel=1e-6)
        assert sum(hist.bucket) == data.size


def test_histogram_refuses_none_and_non_finite_naming_the_tag(tmp_path):
    layer = nn.Linear(2, 2)
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match=r"add_histogram\('fc.grad'\).*\.grad is None"):
            w.add_histogram("fc.grad", layer.weight.grad, 0)
        with pytest.raises(ValueError, match=r"'bad'.*1 of 3 values are NaN/inf"):
            w.add_histogram("bad", np.array([1.0, np.inf, 2.0]), 0)
        with pytest.raises(ValueError, match="expected one number"):
            w.add_scalar("loss", mg.ones(2), 0)


def test_image_figure_and_text(tmp_path):
    from matplotlib.figure import Figure

    digit = np.zeros((28, 28), dtype=np.float32)
    digit[4:24, 13:15] = 1.0
    fig = Figure(figsize=(2, 1), dpi=50)
    fig.subplots().plot([0, 1], [1, 0])
    with SummaryWriter(tmp_path) as w:
        w.add_image("digit", mg.tensor(digit), 5, dataformats="HW")
        w.add_figure("curve", fig, 6)
        w.add_text("notes", "lr **0.1**", 7)
        with pytest.raises(ValueError, match="does not match dataformats"):
            w.add_image("bad", digit, 0)
    acc = read_events(tmp_path)
    [image] = acc.Images("digit")
    assert (image.step, image.width, image.height) == (5, 28, 28)
    [figure] = acc.Images("curve")
    assert (figure.step, figure.width, figure.height) == (6, 100, 50)
    [text] = acc.Tensors("notes/text_summary")
    assert text.step == 7 and b"lr **0.1**" in text.tensor_proto.string_val[0]


def test_missing_tensorboardx_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r'pip install "minigrad-edu\[tensorboard\]"'):
        SummaryWriter(tmp_path)


def test_gradient_monitor_logs_to_a_writer(tmp_path):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    x, y = mg.randn(16, 4), mg.tensor(np.arange(16) % 2)
    with SummaryWriter(tmp_path) as w, GradientMonitor(model, writer=w) as monitor:
        for _ in range(3):
            opt.zero_grad()
            mg.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            monitor.step()
    acc = read_events(tmp_path)
    assert [(e.step, e.value) for e in acc.Scalars("grad_norm/global")] == \
        [(r.step, pytest.approx(r.global_grad_norm, rel=1e-6)) for r in monitor.history]
    ratios = [r.layers["0"].update_ratio for r in monitor.history]
    assert [e.value for e in acc.Scalars("update_ratio/0")] == pytest.approx(ratios, rel=1e-6)
    [*_, last] = acc.Histograms("grad/2.weight")
    assert last.step == 2 and last.histogram_value.num == 16
    assert {"weight/0.weight", "grad/0.bias"} <= set(acc.Tags()["histograms"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str, deadline: float, proc: subprocess.Popen):
    """GET url until it answers 200 with non-empty JSON, the process dies or the deadline passes."""
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"tensorboard exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                data = json.loads(r.read())
            if data:
                return data
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError) as e:
            last = e
        time.sleep(0.5)
    raise AssertionError(f"no answer from {url} in time (last error: {last})")


def test_tensorboard_server_serves_the_scalars(tmp_path):
    pytest.importorskip("tensorboard.main")
    values = [(0, 3.0), (1, 2.0), (5, 0.5)]
    with SummaryWriter(tmp_path / "run1") as w:
        for step, v in values:
            w.add_scalar("loss", v, step)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(tmp_path),
                             "--host", "127.0.0.1", "--port", str(port), "--load_fast", "false"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        base = f"http://127.0.0.1:{port}"
        runs = _get_json(f"{base}/data/runs", deadline, proc)
        assert runs == ["run1"]
        query = urllib.parse.urlencode({"run": "run1", "tag": "loss"})
        points = _get_json(f"{base}/data/plugin/scalars/scalars?{query}", deadline, proc)
        assert [(step, value) for _, step, value in points] == values
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
