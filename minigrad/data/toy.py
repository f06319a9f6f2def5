"""Small generated datasets for the lessons: 2-D classification shapes and a 1-D line.

Each ``make_<name>(n_samples, noise, seed, ...)`` returns ``(X, y)``: ``X`` float32 of
shape ``(n_samples, n_features)``; ``y`` int64 class labels (float32 targets for the
regression set). ``noise`` is the standard deviation of Gaussian noise added to ``X``
(to ``y`` for regression). The same ``seed`` gives the same data; ``seed=None`` draws
from minigrad's global generator, so ``minigrad.manual_seed`` fixes it too.
"""

from __future__ import annotations

import numpy as np

from ..random import Generator, rng


def _rng(seed: int | Generator | None) -> np.random.Generator:
    if seed is None or isinstance(seed, Generator):
        return rng(seed)
    return np.random.default_rng(seed)


def _check(name: str, n_samples: int, noise: float, minimum: int = 1) -> None:
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) or n_samples < minimum:
        raise ValueError(f"{name}: n_samples must be an integer >= {minimum}, got {n_samples!r}")
    if not noise >= 0:
        raise ValueError(f"{name}: noise is a standard deviation and must be >= 0, got {noise!r}")


def _finish(g: np.random.Generator, X: np.ndarray, y: np.ndarray,
            noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Add noise to X, shuffle the rows (classes come out interleaved), fix the dtypes."""
    X = X + noise * g.standard_normal(X.shape)
    perm = g.permutation(len(X))
    return X[perm].astype(np.float32), y[perm].astype(np.int64)


def _split(n: int, k: int) -> list[int]:
    """``n`` items over ``k`` groups, the remainder going to the first groups."""
    return [n // k + (i < n % k) for i in range(k)]


def make_moons(n_samples: int = 100, noise: float = 0.0, seed: int | Generator | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: class 0 is the upper arc, class 1 the lower one,
    shifted right by 1 and down by 0.5 (as in scikit-learn)."""
    _check("make_moons", n_samples, noise, 2)
    n_out, n_in = _split(n_samples, 2)
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)])
    y = np.repeat([0, 1], [n_out, n_in])
    return _finish(_rng(seed), X, y, noise)


def make_circles(n_samples: int = 100, noise: float = 0.0, seed: int | Generator | None = None,
                 factor: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` (< 1)."""
    _check("make_circles", n_samples, noise, 2)
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor (inner radius) must lie in (0, 1), got {factor!r}")
    n_out, n_in = _split(n_samples, 2)
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        factor * np.stack([np.cos(t_in), np.sin(t_in)], 1)])
    y = np.repeat([0, 1], [n_out, n_in])
    return _finish(_rng(seed), X, y, noise)


def make_spirals(n_samples: int = 300, noise: float = 0.0, seed: int | Generator | None = None,
                 n_classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved spiral arms: arm k is ``r (sin t, cos t)`` with radius r
    from 0 to 1 and angle t sweeping 4 radians from ``k * 2 pi / n_classes``."""
    _check("make_spirals", n_samples, noise, n_classes)
    if n_classes < 2:
        raise ValueError(f"make_spirals: n_classes must be >= 2, got {n_classes!r}")
    parts, labels = [], []
    for k, m in enumerate(_split(n_samples, n_classes)):
        r = np.linspace(0.0, 1.0, m)
        t = k * 2 * np.pi / n_classes + np.linspace(0.0, 4.0, m)
        parts.append(r[:, None] * np.stack([np.sin(t), np.cos(t)], 1))
        labels.append(np.full(m, k))
    return _finish(_rng(seed), np.concatenate(parts), np.concatenate(labels), noise)


def make_blobs(n_samples: int = 100, noise: float = 1.0, seed: int | Generator | None = None,
               centers: int | np.ndarray = 3, n_features: int = 2,
               center_box: tuple[float, float] = (-5.0, 5.0)) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters of standard deviation ``noise``, one class per center.

    ``centers`` is a count (drawn uniformly in ``center_box``) or an array of shape
    ``(n_centers, n_features)``.
    """
    _check("make_blobs", n_samples, noise)
    g = _rng(seed)
    if isinstance(centers, int | np.integer):
        if centers < 1:
            raise ValueError(f"make_blobs: centers must be >= 1, got {centers}")
        centers = g.uniform(center_box[0], center_box[1], size=(int(centers), n_features))
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2:
        raise ValueError(f"make_blobs: centers must have shape (n_centers, n_features), got {centers.shape}")
    counts = _split(n_samples, len(centers))
    X = np.repeat(centers, counts, axis=0)
    y = np.repeat(np.arange(len(centers)), counts)
    return _finish(g, X, y, noise)


def make_xor(n_samples: int = 200, noise: float = 0.0, seed: int | Generator | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in the square [-1, 1]^2, labelled 1 where exactly one coordinate
    is positive (the XOR of the signs); noise moves points after labelling."""
    _check("make_xor", n_samples, noise)
    g = _rng(seed)
    X = g.uniform(-1.0, 1.0, size=(n_samples, 2))
    y = (X[:, 0] > 0) ^ (X[:, 1] > 0)
    return _finish(g, X, y, noise)


def make_regression_outliers(n_samples: int = 100, noise: float = 0.5, seed: int | Generator | None = None,
                             slope: float = 2.0, intercept: float = 1.0,
                             outlier_fraction: float = 0.1, outlier_scale: float = 10.0
                             ) -> tuple[np.ndarray, np.ndarray]:
    """A noisy line ``y = slope * x + intercept + noise * N(0, 1)`` for x uniform in [-3, 3],
    where a fraction of the targets is pushed up or down by ``outlier_scale`` to 2x that:
    squared error chases the outliers, Huber / L1 losses do not.

    Returns ``X`` float32 ``(n, 1)`` and ``y`` float32 ``(n,)``.
    """
    _check("make_regression_outliers", n_samples, noise)
    if not 0 <= outlier_fraction <= 1:
        raise ValueError(f"make_regression_outliers: outlier_fraction must lie in [0, 1], "
                         f"got {outlier_fraction!r}")
    g = _rng(seed)
    x = g.uniform(-3.0, 3.0, size=n_samples)
    y = slope * x + intercept + noise * g.standard_normal(n_samples)
    n_out = int(round(outlier_fraction * n_samples))
    idx = g.choice(n_samples, size=n_out, replace=False)
    y[idx] += g.choice([-1.0, 1.0], size=n_out) * outlier_scale * g.uniform(1.0, 2.0, size=n_out)
    return x[:, None].astype(np.float32), y.astype(np.float32)
