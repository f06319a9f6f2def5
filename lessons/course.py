"""Helpers the lessons share: smoke mode and friendly self-checks for exercises.

Smoke mode (``MINIGRAD_SMOKE=1``, on by default when ``CI`` is set) shrinks data and step
counts so every lesson runs in seconds; without it the lessons run the full experiment.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

SMOKE = os.environ.get("MINIGRAD_SMOKE", "1" if os.environ.get("CI") else "0") == "1"


def pick(full: Any, smoke: Any) -> Any:
    """``full`` normally, ``smoke`` in smoke mode (e.g. ``epochs = pick(20, 2)``)."""
    return smoke if SMOKE else full


def check(name: str, answer: Any, expected: Any, hint: str, rtol: float = 1e-4,
          atol: float = 1e-6) -> bool:
    """Compare an exercise answer with the expected value and print OK or a hint."""
    try:
        got = np.asarray(getattr(answer, "data", answer), dtype=float)
        want = np.asarray(getattr(expected, "data", expected), dtype=float)
        ok = got.shape == want.shape and bool(np.allclose(got, want, rtol=rtol, atol=atol))
    except (TypeError, ValueError):
        ok = False
    if ok:
        print(f"OK: {name}")
    else:
        print(f"Not yet: {name}. Hint: {hint}")
    return ok
