"""Randomness: one global numpy Generator, seeded by ``minigrad.manual_seed``.

Everything random in minigrad (``rand``, ``randn``, initialisation, dropout masks,
DataLoader shuffling) draws from a numpy ``Generator``, the global one unless a
``minigrad.Generator`` is passed, so a seed reproduces a whole run.
"""

from __future__ import annotations

import numpy as np


class Generator:
    """A seedable source of random numbers (PyTorch's ``torch.Generator``)."""

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self._seed = seed

    def manual_seed(self, seed: int) -> Generator:
        self.rng = np.random.default_rng(seed)
        self._seed = seed
        return self

    def initial_seed(self) -> int | None:
        return self._seed

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the global generator: the same seed gives the same numbers."""
    return default_generator.manual_seed(int(seed))


def rng(generator: Generator | None = None) -> np.random.Generator:
    return (generator or default_generator).rng
