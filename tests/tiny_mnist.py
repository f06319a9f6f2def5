"""Shared by the CLI and trainer tests: a tiny generated MNIST, and thread variables kept.

A class is written into each image as a bright 3x3 block at a row given by the label, so a
small MLP learns it in a few steps and a test run takes a second."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from minigrad.cli import THREAD_VARIABLES
from minigrad.data import write_idx


def write_tiny_mnist(root: Path, n_train: int, n_test: int) -> Path:
    """IDX files of ``n_train``/``n_test`` 28x28 images under ``root`` (the MNIST file names)."""
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = (rng.random((n, 28, 28)) * 60).astype(np.uint8)
        for i, c in enumerate(labels):
            images[i, 2 * c:2 * c + 3, 5:8] = 255
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return root


def keep_thread_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """`main` sets the BLAS/Numba thread variables in-process; have monkeypatch give them back."""
    for var in THREAD_VARIABLES:
        if var in os.environ:
            monkeypatch.setenv(var, os.environ[var])
        else:  # recorded as absent, so undo deletes what main sets
            monkeypatch.setenv(var, "")
            monkeypatch.delenv(var)
