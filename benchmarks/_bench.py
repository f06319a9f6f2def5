"""Timing loops and environment lines shared by the benchmark scripts.

Scripts run as ``python benchmarks/X.py``, so this folder is on ``sys.path`` and
``from _bench import ...`` works. numpy is imported only inside :func:`blas_info` and
:func:`blas_threads`: scripts that take ``--threads`` must set the BLAS thread variables
(:data:`BLAS_THREAD_VARS`) before numpy loads, and may import this module before that.

Every timing is a mean per call over a *run* of consecutive calls, so that the clock's own
cost and resolution are spread over many calls; a benchmark repeats runs and reports the
best (least disturbed by other processes) or the median (typical) run.
"""

from __future__ import annotations

import ctypes
import glob
import os
import statistics
import time
from collections.abc import Callable

BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def time_per_call(fn: Callable[[], object], number: int) -> float:
    """Mean seconds per call over one run of ``number`` consecutive calls of ``fn``."""
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def timings(fn: Callable[[], object], number: int, repeat: int, warmup: int = 1) -> list[float]:
    """Seconds per call of each of ``repeat`` runs of ``number`` calls, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    return [time_per_call(fn, number) for _ in range(repeat)]


def best_of(fn: Callable[[], object], number: int, repeat: int = 5, warmup: int = 1) -> float:
    """Best (smallest) mean seconds per call over ``repeat`` runs of ``number`` calls."""
    return min(timings(fn, number, repeat, warmup))


def median_of(fn: Callable[[], object], number: int = 1, repeat: int = 5, warmup: int = 1) -> float:
    """Median over ``repeat`` runs of the mean seconds per call in a run of ``number`` calls."""
    return statistics.median(timings(fn, number, repeat, warmup))


def calls_for(fn: Callable[[], object], seconds: float = 0.05) -> int:
    """How many calls of ``fn`` take about ``seconds``: the run length for :func:`timings`.

    Runs of 1, 4, 16, ... calls until one takes over ``seconds / 4``, then scales that run up.
    """
    loops = 1
    while True:
        elapsed = time_per_call(fn, loops) * loops
        if elapsed > seconds / 4:
            break
        loops *= 4
    return max(1, int(loops * seconds / max(elapsed, 1e-9)))


def blas_info(configuration: bool = False) -> str:
    """numpy's BLAS library as ``"name version"`` (plus its build configuration in parentheses
    when ``configuration``), read from ``np.show_config(mode="dicts")``; ``"unknown"`` if absent."""
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (KeyError, TypeError):
        return "unknown"
    text = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    if configuration:
        text += f" ({blas.get('openblas configuration', '')})"
    return text


def configured_threads() -> int:
    """BLAS threads requested by the environment (:data:`BLAS_THREAD_VARS`), else the core count."""
    for var in BLAS_THREAD_VARS:
        if os.environ.get(var):
            return int(os.environ[var])
    return os.cpu_count() or 1


def blas_threads() -> str:
    """The thread count BLAS actually uses: via threadpoolctl if installed, else by asking
    numpy's bundled OpenBLAS directly; ``"unknown (...)"`` when neither answers."""
    try:
        from threadpoolctl import threadpool_info

        return ", ".join(f"{i['internal_api']}={i['num_threads']}" for i in threadpool_info())
    except ImportError:
        pass
    import numpy as np

    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "libscipy_openblas*"))
    for path in libs:
        lib = ctypes.CDLL(path)
        for symbol in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads"):
            if hasattr(lib, symbol):
                return str(getattr(lib, symbol)())
    return f"unknown (OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})"
