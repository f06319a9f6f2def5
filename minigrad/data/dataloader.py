"""DataLoader: cut a dataset into (shuffled) mini-batches of Tensors.

Two paths give the same batches:
- fast path, for a ``TensorDataset`` (MNIST is one) or a ``Subset`` of one: each batch is
  one numpy fancy-indexing call per field (a copied slice when not shuffling), a few microseconds;
- generic path, for any other dataset: ``dataset[i]`` for each sample, then ``collate_fn``
  stacks them (``default_collate`` unless given).

``transform(x) -> x`` is applied per batch to the numpy array of the first field (the
inputs) on both paths, after batching, so it sees shape ``(batch, ...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .. import dtypes
from ..random import Generator, rng
from ..tensor import Tensor
from .dataset import Dataset, Subset, TensorDataset
from .sampler import Sampler


def _to_array(samples: Sequence[Any]) -> np.ndarray:
    first = samples[0]
    if isinstance(first, Tensor):
        return np.stack([s.data for s in samples])
    if isinstance(first, bool):
        return np.array(samples, dtype=np.bool_)
    if isinstance(first, int):
        return np.array(samples, dtype=np.int64)
    if isinstance(first, float):
        return np.array(samples, dtype=dtypes.get_default_dtype())
    return np.stack([np.asarray(s) for s in samples])


def default_collate(samples: Sequence[Any]) -> list[np.ndarray] | np.ndarray:
    """Stack samples field by field into numpy arrays with a leading batch axis.

    Samples that are tuples/lists give a list of arrays (one per field); single values
    give one array. Python ints become int64, Python floats the default float dtype.
    """
    first = samples[0]
    if isinstance(first, tuple | list):
        return [_to_array([s[k] for s in samples]) for k in range(len(first))]
    return _to_array(samples)


def _array_source(dataset: Dataset) -> tuple[tuple[np.ndarray, ...], np.ndarray | None] | None:
    """The arrays behind ``dataset`` and the index map into them, when batching can skip
    ``__getitem__`` (a TensorDataset that keeps the default one, possibly inside Subsets)."""
    if isinstance(dataset, TensorDataset) and type(dataset).__getitem__ is TensorDataset.__getitem__:
        return dataset.arrays, None
    if type(dataset) is Subset:
        inner = _array_source(dataset.dataset)
        if inner is not None:
            arrays, index = inner
            return arrays, dataset.indices if index is None else index[dataset.indices]
    return None


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` (PyTorch's ``DataLoader``).

    ``shuffle=True`` draws a new permutation each epoch from ``generator`` (or the global
    generator, see ``minigrad.manual_seed``): a seeded generator reproduces the order, and
    successive epochs differ. ``drop_last`` drops a final short batch. Batches are lists
    of Tensors, one per field (a single Tensor for single-field samples).
    ``sampler`` (e.g. a ``WeightedRandomSampler``) chooses the indices of an epoch instead
    of 0..n-1 or a permutation; it excludes ``shuffle``.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, generator: Generator | None = None,
                 transform: Callable[[np.ndarray], np.ndarray] | None = None,
                 collate_fn: Callable[[list[Any]], Any] | None = None,
                 sampler: Sampler | None = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if transform is not None and collate_fn is not None:
            raise ValueError("DataLoader: give transform or collate_fn, not both; with a custom "
                             "collate_fn apply the transform inside it")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle; the "
                             "sampler decides the order (pass shuffle=False)")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.transform = transform
        self.collate_fn = collate_fn
        self.sampler = sampler
        self._source = _array_source(dataset) if collate_fn is None else None

    def __len__(self) -> int:
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray | None:
        """Sample positions for this epoch; None means 0..n-1 in order."""
        n = len(self.dataset)
        if self.sampler is not None:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
            if order.size and (order.min() < -n or order.max() >= n):
                raise IndexError(f"DataLoader: the sampler gave indices in [{order.min()}, {order.max()}] "
                                 f"for a dataset of {n} samples")
            return order
        return rng(self.generator).permutation(n) if self.shuffle else None

    def __iter__(self) -> Iterator[Any]:
        order = self._order()
        bs = self.batch_size
        n = len(self.dataset) if order is None else len(order)
        stop = n - n % bs if self.drop_last else n
        if self._source is not None:
            arrays, index = self._source
            if index is not None:
                order = index if order is None else index[order]
            for start in range(0, stop, bs):
                if order is None:  # a slice is a view: copy it so batches never alias the dataset
                    fields = [a[start:start + bs].copy() for a in arrays]
                else:
                    fields = [a[order[start:start + bs]] for a in arrays]
                yield self._finish(fields, single=False)
            return
        for start in range(0, stop, bs):
            ids = range(start, min(start + bs, n)) if order is None else order[start:start + bs].tolist()
            samples = [self.dataset[i] for i in ids]
            if self.collate_fn is not None:
                yield self.collate_fn(samples)
                continue
            batch = default_collate(samples)
            single = isinstance(batch, np.ndarray)
            yield self._finish([batch] if single else batch, single)

    def _finish(self, fields: list[np.ndarray], single: bool) -> Any:
        if self.transform is not None:
            fields[0] = np.asarray(self.transform(fields[0]))
        tensors = [Tensor.make(f) for f in fields]
        return tensors[0] if single else tensors
