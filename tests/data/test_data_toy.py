"""Generated toy datasets: shapes, dtypes, labels, geometry and determinism."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import (
    make_blobs,
    make_circles,
    make_moons,
    make_regression_outliers,
    make_spirals,
    make_xor,
)

CLASSIFIERS = [(make_moons, 2), (make_circles, 2), (make_spirals, 3), (make_blobs, 3), (make_xor, 2)]


@pytest.mark.parametrize("make, k", CLASSIFIERS)
def test_shapes_labels_determinism(make, k):
    X, y = make(n_samples=101, noise=0.1, seed=5)
    assert X.shape == (101, 2) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(k))
    X2, y2 = make(n_samples=101, noise=0.1, seed=5)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(n_samples=101, noise=0.1, seed=6)
    assert not np.array_equal(X, X3)
    mg.manual_seed(9)
    a = make(n_samples=50, noise=0.1, seed=None)[0]
    mg.manual_seed(9)
    np.testing.assert_array_equal(a, make(n_samples=50, noise=0.1, seed=None)[0])


@pytest.mark.parametrize("make, k", CLASSIFIERS)
def test_bad_arguments(make, k):
    with pytest.raises(ValueError, match=f"{make.__name__}: n_samples"):
        make(n_samples=0)
    with pytest.raises(ValueError, match=f"{make.__name__}: noise"):
        make(n_samples=10, noise=-1.0)


def test_noise_free_geometry():
    X, y = make_circles(n_samples=40, noise=0.0, seed=0, factor=0.3)
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, rtol=1e-6)
    X, y = make_moons(n_samples=40, noise=0.0, seed=0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0, rtol=1e-6)
    X, y = make_xor(n_samples=200, noise=0.0, seed=0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    X, y = make_spirals(n_samples=90, noise=0.0, seed=0, n_classes=3)
    assert np.bincount(y).tolist() == [30, 30, 30] and np.abs(X).max() <= 1.0 + 1e-6


def test_blobs_given_centers():
    centers = np.array([[10.0, 0.0], [-10.0, 0.0]])
    X, y = make_blobs(n_samples=200, noise=0.5, seed=1, centers=centers)
    for k in range(2):
        np.testing.assert_allclose(X[y == k].mean(0), centers[k], atol=0.2)


def test_regression_outliers():
    X, y = make_regression_outliers(n_samples=200, noise=0.1, seed=0, outlier_fraction=0.1)
    assert X.shape == (200, 1) and y.shape == (200,) and X.dtype == y.dtype == np.float32
    resid = np.abs(y - (2.0 * X[:, 0] + 1.0))
    assert np.sum(resid > 5.0) == 20           # the outliers: pushed by 10 to 20
    assert np.all(resid[resid <= 5.0] < 1.0)   # the rest: noise of std 0.1
    with pytest.raises(ValueError, match="outlier_fraction"):
        make_regression_outliers(n_samples=10, outlier_fraction=1.5)
