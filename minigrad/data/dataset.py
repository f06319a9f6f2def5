"""Datasets: anything with ``len(ds)`` and ``ds[i]`` (PyTorch's map-style datasets).

``TensorDataset`` keeps its fields as numpy arrays of equal length, which lets the
``DataLoader`` cut a whole batch with one fancy-indexing call instead of a Python loop
over samples. ``Subset`` and ``random_split`` carve a dataset into parts by index.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..random import Generator, rng
from ..tensor import Tensor


class Dataset:
    """Base class: subclasses define ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


def _as_array(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


class TensorDataset(Dataset):
    """Samples are rows of equally long arrays: ``ds[i] == (t[i] for t in tensors)``.

    ``arrays`` holds the numpy arrays (shared, not copied); ``tensors`` wraps them as
    Tensors, as in PyTorch.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor or array")
        arrays = tuple(_as_array(t) for t in tensors)
        for a in arrays:
            if a.ndim == 0:
                raise ValueError("TensorDataset: every tensor needs a first (sample) dimension; "
                                 "got a 0-d one")
        sizes = [a.shape[0] for a in arrays]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(f"TensorDataset: size mismatch between tensors: shapes {shapes}; "
                             f"all first dimensions must be equal")
        self.arrays: tuple[np.ndarray, ...] = arrays

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        return tuple(Tensor.make(a) for a in self.arrays)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(Tensor.make(np.asarray(a[index])) for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset: indices must lie in [-{n}, {n}) for a dataset of {n} samples, "
                             f"got range [{self.indices.min()}, {self.indices.max()}]")

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Integer lengths; fractions are turned into counts as PyTorch does (floor, then
    the remainder is handed out one by one from the first part)."""
    if all(isinstance(x, int | np.integer) for x in lengths):
        counts = [int(x) for x in lengths]
    elif math.isclose(sum(lengths), 1.0) and all(0 <= x <= 1 for x in lengths):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        raise ValueError(f"random_split: lengths must be integers summing to the dataset size or "
                         f"fractions summing to 1, got {list(lengths)}")
    if any(c < 0 for c in counts) or sum(counts) != n:
        raise ValueError(f"random_split: lengths {counts} must be non-negative and sum to the "
                         f"dataset size {n}")
    return counts


def random_split(dataset: Dataset, lengths: Sequence[float],
                 generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    ``lengths`` are counts (summing to ``len(dataset)``) or fractions (summing to 1).
    The permutation comes from ``generator`` (or the global one), so a seed fixes it.
    """
    counts = _split_lengths(len(dataset), lengths)
    perm = rng(generator).permutation(len(dataset))
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
