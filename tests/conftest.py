"""Shared test fixtures: an optional PyTorch oracle and fixed Hypothesis settings."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "minigrad", deadline=None, max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "25")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
    derandomize=True,
)
settings.load_profile("minigrad")


@pytest.fixture
def torch():
    """PyTorch as a reference implementation; tests using it skip where it is absent."""
    return pytest.importorskip("torch")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
