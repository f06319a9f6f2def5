"""Samplers: which dataset indices a DataLoader visits in one epoch, and in what order.

``WeightedRandomSampler`` draws indices with probability proportional to a weight per
sample. Giving each sample the weight 1 / (count of its class) makes every class equally
likely in a batch: over-sampling the rare classes instead of re-weighting their loss.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..random import Generator, rng
from ..tensor import Tensor


class Sampler:
    """Base class: an iterable of dataset indices with a length (PyTorch's ``Sampler``)."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class WeightedRandomSampler(Sampler):
    """Draw ``num_samples`` indices in [0, len(weights)), index i with probability
    weights[i] / sum(weights) (PyTorch's ``WeightedRandomSampler``).

    With ``replacement=True`` (the default) each draw is independent, so a rare sample can
    appear several times per epoch; without it every index appears at most once and
    ``num_samples`` cannot exceed the number of non-zero weights. The weights need not sum
    to 1. Each ``iter()`` draws a new epoch from ``generator`` (or the global generator).
    """

    def __init__(self, weights: Sequence[float] | np.ndarray | Tensor, num_samples: int,
                 replacement: bool = True, generator: Generator | None = None) -> None:
        if isinstance(num_samples, bool) or not isinstance(num_samples, int | np.integer) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples should be a positive integer value, "
                             f"but got num_samples={num_samples!r}")
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement should be a boolean value, but got "
                             f"replacement={replacement!r}")
        w = np.asarray(weights.data if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but given weights "
                             f"have shape {w.shape}")
        if w.size == 0 or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and not all "
                             f"zero, got {w[:10].tolist()}{' ...' if w.size > 10 else ''}")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError(f"WeightedRandomSampler: cannot draw {num_samples} samples without "
                             f"replacement from {np.count_nonzero(w)} non-zero weights; lower "
                             f"num_samples or pass replacement=True")
        self.weights, self.num_samples = w, int(num_samples)
        self.replacement, self.generator = replacement, generator

    def __iter__(self) -> Iterator[int]:
        p = self.weights / self.weights.sum()
        picks = rng(self.generator).choice(self.weights.size, size=self.num_samples,
                                           replace=self.replacement, p=p)
        return iter(picks.tolist())

    def __len__(self) -> int:
        return self.num_samples


def class_balanced_sample_weights(labels: Any) -> np.ndarray:
    """Weight 1 / count(class of sample) per sample: with these, a WeightedRandomSampler
    draws every class present equally often on average."""
    y = np.asarray(labels.data if isinstance(labels, Tensor) else labels).reshape(-1)
    if y.dtype.kind not in "iub":
        raise ValueError(f"class_balanced_sample_weights: labels must be integers, got dtype {y.dtype}")
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse.reshape(-1)]
