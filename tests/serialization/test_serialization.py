"""minigrad.save / minigrad.load: round trips, atomic writes, clear errors on bad files."""

from __future__ import annotations

import math
import os
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad import atomic, nn, serialization
from minigrad.serialization import CheckpointError


def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))


def test_model_state_dict_round_trip(tmp_path) -> None:
    a, b = _model(), _model()
    a(mg.randn(5, 4))  # move BatchNorm's running stats
    path = tmp_path / "model.npz"
    mg.save(a.state_dict(), path)
    loaded = mg.load(path)
    assert list(loaded) == list(a.state_dict())
    assert loaded["1.num_batches_tracked"].dtype == np.int64
    assert loaded["1.num_batches_tracked"].shape == () and loaded["1.num_batches_tracked"] == 1
    b.load_state_dict(loaded)
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values()):
        assert v.dtype == w.dtype, k
        np.testing.assert_array_equal(v, w)
    b.eval(), a.eval()
    x = mg.randn(2, 4)
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_optimizer_like_nested_state_round_trip(tmp_path) -> None:
    state = {
        "state": {0: {"step": 3, "exp_avg": mg.ones(2, 2), "exp_avg_sq": np.arange(3.0)},
                  1: {"step": mg.tensor(4.0), "momentum_buffer": None}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False,
                          "name": "main", "eps": float("inf"), "wd": float("nan"),
                          "big": 2**70, "np_scalar": np.float32(0.5)}],
    }
    path = tmp_path / "opt.npz"
    mg.save(state, str(path))
    out = mg.load(path)
    assert set(out["state"]) == {0, 1}
    s0 = out["state"][0]
    assert s0["step"] == 3 and type(s0["step"]) is int
    assert isinstance(s0["exp_avg"], mg.Tensor) and s0["exp_avg"].data.tolist() == [[1, 1], [1, 1]]
    assert isinstance(s0["exp_avg_sq"], np.ndarray) and s0["exp_avg_sq"].tolist() == [0, 1, 2]
    assert isinstance(out["state"][1]["step"], mg.Tensor) and out["state"][1]["step"].item() == 4
    assert out["state"][1]["momentum_buffer"] is None
    g = out["param_groups"][0]
    assert g["betas"] == (0.9, 0.999) and isinstance(g["betas"], tuple)
    assert g["params"] == [0, 1] and g["amsgrad"] is False and g["name"] == "main"
    assert g["lr"] == 1e-3 and g["eps"] == math.inf and math.isnan(g["wd"])
    assert g["big"] == 2**70 and g["np_scalar"] == 0.5


def test_unsupported_values_are_refused(tmp_path) -> None:
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match=r"cannot save a set at obj\['a'\]"):
        mg.save({"a": {1, 2}}, path)
    with pytest.raises(TypeError, match="dict key"):
        mg.save({(1, 2): 3}, path)
    with pytest.raises(TypeError, match="<U1 array"):
        mg.save([np.array(["a"])], path)
    assert os.listdir(tmp_path) == []


def test_save_interrupted_inside_the_write_keeps_the_old_file(tmp_path, monkeypatch) -> None:
    """The crash comes after the new bytes were written but before they are made durable and
    renamed (the old version of this test crashed in np.savez, before any writer ran); any
    writer that puts the bytes into ``path`` itself fails it."""
    path = tmp_path / "ckpt.npz"
    mg.save({"w": np.ones(3)}, path)
    before = path.read_bytes()
    written = []

    def power_cut(fd: int) -> None:
        written.append(os.fstat(fd).st_size)
        raise KeyboardInterrupt("power cut during the write")

    monkeypatch.setattr(os, "fsync", power_cut)
    with pytest.raises(KeyboardInterrupt):
        mg.save({"w": np.zeros(1000)}, path)
    assert written and written[0] > len(before)  # the new, bigger checkpoint was being written
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    np.testing.assert_array_equal(mg.load(path)["w"], np.ones(3))


def test_save_interrupted_halfway_through_the_bytes(tmp_path, monkeypatch) -> None:
    path = tmp_path / "ckpt.npz"
    mg.save({"w": np.ones(3)}, path)
    before = path.read_bytes()
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, f) -> None:  # noqa: ANN001
            self.f = f

        def __enter__(self):  # noqa: ANN204
            return self

        def __exit__(self, *exc) -> None:  # noqa: ANN002
            self.f.close()

        def write(self, data: bytes) -> None:
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="No space left"):
        mg.save({"w": np.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_save_fsyncs_then_replaces(tmp_path, monkeypatch) -> None:
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(serialization.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(serialization.os, "replace",
                        lambda a, b: (calls.append(("replace", os.path.dirname(a))), real_replace(a, b)))
    mg.save({"a": 1}, tmp_path / "c.npz")
    assert calls == ["fsync", ("replace", str(tmp_path))]


def _expect_error(path, match: str) -> None:
    with pytest.raises(CheckpointError, match=match) as info:
        mg.load(path)
    assert str(path) in str(info.value)


def test_truncated_and_corrupted_files(tmp_path) -> None:
    good = tmp_path / "good.npz"
    mg.save({"w": np.arange(1000.0)}, good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    _expect_error(truncated, "truncated, corrupted or not a minigrad checkpoint")
    corrupted = tmp_path / "corrupted.npz"
    middle = len(data) // 2
    corrupted.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64])
                          + data[middle + 64:])
    _expect_error(corrupted, "truncated, corrupted or not a minigrad checkpoint")
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    _expect_error(empty, "truncated, corrupted")
    with pytest.raises(FileNotFoundError, match="no such file"):
        mg.load(tmp_path / "missing.npz")
    with pytest.raises(CheckpointError, match="no such file"):  # every failure to read is one
        mg.load(tmp_path / "missing.npz")


def test_foreign_files(tmp_path) -> None:
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    _expect_error(text, "truncated, corrupted or not a minigrad checkpoint")
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=np.ones(2))
    _expect_error(plain, "not a minigrad checkpoint")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, __minigrad__=np.array([{"format": "x"}], dtype=object))
    _expect_error(pickled, "truncated, corrupted")  # object arrays need pickle: refused
    other = tmp_path / "other.npz"
    np.savez(other, __minigrad__=np.array('{"format": "something-else"}'))
    _expect_error(other, "unknown header")
    odd = tmp_path / "odd.npz"
    np.savez(odd, __minigrad__=np.array('{"format": "minigrad-checkpoint", "version": 1, '
                                        '"tree": {"dict": [["w", {"ndarray": "a7"}]]}}'))
    _expect_error(odd, "refers to array 'a7', which the file does not contain")
    future = tmp_path / "future.npz"
    np.savez(future, __minigrad__=np.array('{"format": "minigrad-checkpoint", "version": 99}'))
    _expect_error(future, "version 99")


def test_bad_checkpoint_changes_nothing_in_model(tmp_path) -> None:
    model = _model()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    bad = tmp_path / "bad.npz"
    sd = model.state_dict()
    sd["0.weight"] = np.zeros((2, 2))
    mg.save(sd, bad)
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        model.load_state_dict(mg.load(bad))
    broken = tmp_path / "broken.npz"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("junk.txt", "x")
    with pytest.raises(CheckpointError):
        model.load_state_dict(mg.load(broken))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
