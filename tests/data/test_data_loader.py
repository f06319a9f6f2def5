"""DataLoader, TensorDataset, Subset and random_split semantics."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split


class ListDataset(Dataset):
    """A generic dataset (no arrays behind it): forces the per-sample path."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __getitem__(self, i: int):
        return np.full(3, float(i), dtype=np.float32), i

    def __len__(self) -> int:
        return self.n


def _xy(n: int = 10):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return X, y


@pytest.mark.parametrize("drop_last, sizes", [(False, [4, 4, 2]), (True, [4, 4])])
@pytest.mark.parametrize("generic", [False, True])
def test_batch_sizes_and_len(drop_last, sizes, generic):
    ds = ListDataset(10) if generic else TensorDataset(*_xy(10))
    loader = DataLoader(ds, batch_size=4, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(sizes)
    assert [len(b[1].data) for b in batches] == sizes
    x, y = batches[0]
    assert isinstance(x, mg.Tensor) and isinstance(y, mg.Tensor)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.shape == (4, 3)
    np.testing.assert_array_equal(y.data, [0, 1, 2, 3])


@pytest.mark.parametrize("generic", [False, True])
def test_shuffle_covers_each_sample_once_and_is_reproducible(generic):
    ds = ListDataset(23) if generic else TensorDataset(*_xy(23))

    def epochs(seed):
        loader = DataLoader(ds, batch_size=5, shuffle=True, generator=mg.Generator(seed))
        return [np.concatenate([y.data for _, y in loader]) for _ in range(2)]

    e1, e2 = epochs(7)
    for e in (e1, e2):
        np.testing.assert_array_equal(np.sort(e), np.arange(23))
    assert not np.array_equal(e1, e2), "two epochs gave the same order"
    assert not np.array_equal(e1, np.arange(23))
    f1, f2 = epochs(7)
    np.testing.assert_array_equal(e1, f1)
    np.testing.assert_array_equal(e2, f2)


def test_fast_and_generic_paths_agree():
    X, y = _xy(17)

    class Wrapped(Dataset):
        def __getitem__(self, i):
            return X[i], int(y[i])

        def __len__(self):
            return 17

    fast = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, generator=mg.Generator(3))
    slow = DataLoader(Wrapped(), batch_size=4, shuffle=True, generator=mg.Generator(3))
    for (xa, ya), (xb, yb) in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(xa.data, xb.data)
        np.testing.assert_array_equal(ya.data, yb.data)
        assert ya.dtype == yb.dtype == np.int64


def test_shuffle_uses_global_generator_when_none_given():
    ds = TensorDataset(*_xy(30))
    mg.manual_seed(123)
    a = np.concatenate([y.data for _, y in DataLoader(ds, batch_size=7, shuffle=True)])
    mg.manual_seed(123)
    b = np.concatenate([y.data for _, y in DataLoader(ds, batch_size=7, shuffle=True)])
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("generic", [False, True])
def test_transform_is_applied_per_batch_to_inputs(generic):
    ds = ListDataset(6) if generic else TensorDataset(np.arange(6, dtype=np.float32)[:, None] * np.ones(3,
                                                      dtype=np.float32), np.arange(6))
    shapes = []

    def double(x):
        shapes.append(x.shape)
        return x * 2

    out = list(DataLoader(ds, batch_size=4, transform=double))
    assert shapes == [(4, 3), (2, 3)]
    np.testing.assert_array_equal(out[1][0].data, np.array([[8.0] * 3, [10.0] * 3]))
    np.testing.assert_array_equal(out[1][1].data, [4, 5])


def test_custom_collate_fn_and_transform_conflict():
    ds = ListDataset(5)
    batches = list(DataLoader(ds, batch_size=2, collate_fn=lambda s: [i for _, i in s]))
    assert batches == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match="transform or collate_fn"):
        DataLoader(ds, transform=lambda x: x, collate_fn=list)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(*_xy()), batch_size=bad)


def test_default_collate_dtypes():
    xs, ys = default_collate([(1.5, 3), (2.5, 4)])
    assert xs.dtype == np.float32 and ys.dtype == np.int64
    single = default_collate([mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0])])
    assert single.shape == (2, 2)


def test_tensor_dataset_checks_and_items():
    X, y = _xy(5)
    ds = TensorDataset(mg.tensor(X), y)
    xi, yi = ds[2]
    np.testing.assert_array_equal(xi.data, X[2])
    assert int(yi.data) == 2
    assert len(ds) == 5 and len(ds.tensors) == 2
    with pytest.raises(ValueError, match=r"size mismatch.*\(5, 3\).*\(4,\)"):
        TensorDataset(X, y[:4])


def test_subset_through_loader_and_random_split():
    ds = TensorDataset(*_xy(20))
    sub = Subset(ds, [5, 1, 9])
    np.testing.assert_array_equal(next(iter(DataLoader(sub, batch_size=3)))[1].data, [5, 1, 9])
    parts = random_split(ds, [12, 8], generator=mg.Generator(0))
    assert [len(p) for p in parts] == [12, 8]
    everything = np.concatenate([p.indices for p in parts])
    np.testing.assert_array_equal(np.sort(everything), np.arange(20))
    again = random_split(ds, [12, 8], generator=mg.Generator(0))
    np.testing.assert_array_equal(parts[0].indices, again[0].indices)
    loaded = np.concatenate([y.data for _, y in DataLoader(parts[1], batch_size=3)])
    np.testing.assert_array_equal(loaded, parts[1].indices)


def test_random_split_fractions_match_torch(torch):
    for n, fr in [(10, [0.3, 0.7]), (11, [0.5, 0.25, 0.25]), (7, [1 / 3, 1 / 3, 1 / 3])]:
        ours = [len(p) for p in random_split(TensorDataset(np.zeros(n)), fr, generator=mg.Generator(0))]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fr)]
        assert ours == theirs
    with pytest.raises(ValueError, match="sum"):
        random_split(TensorDataset(np.zeros(5)), [2, 2])
    with pytest.raises(IndexError, match="Subset"):
        Subset(TensorDataset(np.zeros(5)), [0, 5])


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_never_share_memory_with_the_dataset(shuffle):
    """As in PyTorch (default_collate stacks into new tensors): an in-place transform or an
    in-place edit of a batch leaves the dataset unchanged."""
    x = np.arange(12.0, dtype=np.float32).reshape(6, 2)
    y = np.arange(6)
    ds = TensorDataset(x.copy(), y.copy())

    def in_place(batch):
        batch -= 100
        return batch

    for _, yb in DataLoader(ds, batch_size=4, shuffle=shuffle, transform=in_place):
        yb.data[...] = -1
    for xb, _ in DataLoader(ds, batch_size=4, shuffle=shuffle):
        xb.data[...] = 0
    np.testing.assert_array_equal(ds.arrays[0], x)
    np.testing.assert_array_equal(ds.arrays[1], y)
