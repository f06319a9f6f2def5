"""WeightedRandomSampler and DataLoader(sampler=): over-sampling rare classes."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import (
    DataLoader,
    Dataset,
    TensorDataset,
    WeightedRandomSampler,
    class_balanced_sample_weights,
)


def test_draws_follow_the_weights():
    weights = [1.0, 3.0, 0.0, 6.0]
    n = 20000
    draws = np.array(list(WeightedRandomSampler(weights, n, generator=mg.Generator(0))))
    counts = np.bincount(draws, minlength=4)
    p = np.array(weights) / 10
    assert counts[2] == 0
    sigma = np.sqrt(n * p * (1 - p))
    assert (np.abs(counts - n * p) < 4 * sigma + 1e-9).all(), counts


def test_seeded_generator_reproduces_and_epochs_differ():
    s = WeightedRandomSampler([1, 2, 3, 4], 50, generator=mg.Generator(7))
    first, second = list(s), list(s)
    assert first != second
    assert list(WeightedRandomSampler([1, 2, 3, 4], 50, generator=mg.Generator(7))) == first
    assert len(s) == 50


def test_without_replacement_each_index_at_most_once():
    draws = list(WeightedRandomSampler([5, 1, 1, 0, 2], 4, replacement=False, generator=mg.Generator(1)))
    assert sorted(draws) == [0, 1, 2, 4]
    with pytest.raises(ValueError, match="cannot draw 5 samples without replacement from 4 non-zero"):
        WeightedRandomSampler([5, 1, 1, 0, 2], 5, replacement=False)


def test_class_balanced_weights_balance_an_imbalanced_set():
    labels = np.array([0] * 90 + [1] * 9 + [2] * 1)
    w = class_balanced_sample_weights(labels)
    np.testing.assert_allclose(w[[0, 90, 99]], [1 / 90, 1 / 9, 1.0])
    draws = np.array(list(WeightedRandomSampler(w, 30000, generator=mg.Generator(0))))
    fractions = np.bincount(labels[draws], minlength=3) / 30000
    np.testing.assert_allclose(fractions, [1 / 3] * 3, atol=0.02)


def test_dataloader_with_sampler_fast_and_generic_paths():
    x = np.arange(10, dtype=np.float32).reshape(10, 1) * 10
    y = np.arange(10)
    sampler = WeightedRandomSampler(np.r_[np.zeros(9), 1.0], 7, generator=mg.Generator(0))
    loader = DataLoader(TensorDataset(x, y), batch_size=3, sampler=sampler)
    assert len(loader) == 3
    batches = list(loader)
    assert [len(b[1]) for b in batches] == [3, 3, 1]
    assert all((b[1].data == 9).all() and (b[0].data == 90).all() for b in batches)

    class Squares(Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return float(i * i), i

    loader = DataLoader(Squares(), batch_size=4, drop_last=True, sampler=sampler)
    assert len(loader) == 1
    [(xs, ys)] = list(loader)
    assert ys.tolist() == [9, 9, 9, 9] and xs.tolist() == [81.0] * 4


def test_dataloader_accepts_any_sized_iterable_and_checks_its_indices():
    ds = TensorDataset(np.arange(5))
    assert [b.tolist() for (b,) in DataLoader(ds, batch_size=2, sampler=[4, 0, 3])] == [[4, 0], [3]]
    with pytest.raises(IndexError, match=r"sampler gave indices in \[0, 7\] for a dataset of 5"):
        list(DataLoader(ds, sampler=[0, 7]))


def test_bad_arguments():
    ds = TensorDataset(np.arange(4))
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, shuffle=True, sampler=[0, 1])
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got "
                                         "num_samples=0"):
        WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match="replacement should be a boolean"):
        WeightedRandomSampler([1.0], 1, replacement=1)
    with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights have shape "
                                         r"\(2, 1\)"):
        WeightedRandomSampler([[1.0], [2.0]], 1)
    for bad in ([0.0, 0.0], [1.0, -1.0], [np.nan, 1.0], []):
        with pytest.raises(ValueError, match="finite, non-negative and not all zero"):
            WeightedRandomSampler(bad, 1)
    with pytest.raises(ValueError, match="labels must be integers"):
        class_balanced_sample_weights([0.5, 1.0])
