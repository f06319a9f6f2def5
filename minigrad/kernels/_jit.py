"""Lazy ``@njit``: nothing is compiled, and Numba is not even imported, until a kernel runs.

``lazy_njit(parallel=False)`` marks a plain Python function as a kernel. Its first call
imports Numba and wraps it with ``numba.njit(cache=True, error_model="numpy", ...)``. The
machine code is written to ``__pycache__`` (or ``NUMBA_CACHE_DIR``), so later processes load
it in milliseconds instead of compiling again. ``error_model="numpy"`` gives IEEE division
(x / 0 is inf or nan, as in numpy) instead of Python's ZeroDivisionError check; that check
is a branch in every loop that divides and stops LLVM from vectorising it (a serial Adam
loop ran 8x faster without it). Kernels never call each other (a lazy kernel is not visible to
Numba), which keeps each one self-contained and readable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

KERNELS: list[LazyKernel] = []
_NOTICES: list[_Notice] = []


class _Notice:
    """A callback waiting for the first compile (called at most once)."""

    def __init__(self, callback: Callable[[str], None]) -> None:
        self.callback, self.done = callback, False


@contextmanager
def notify_compiles(callback: Callable[[str], None]) -> Iterator[None]:
    """Within this block, call ``callback(kernel name)`` once, right before the first kernel
    that is not in the disk cache starts compiling (seconds of silence otherwise)."""
    notice = _Notice(callback)
    _NOTICES.append(notice)
    try:
        yield
    finally:
        _NOTICES.remove(notice)


class LazyKernel:
    """A Python function that becomes a cached Numba dispatcher on its first call."""

    def __init__(self, pyfunc: Callable, options: dict[str, Any]) -> None:
        self.pyfunc = pyfunc
        self.options = options
        self.dispatcher: Any = None
        self.__name__ = pyfunc.__name__
        self.__doc__ = pyfunc.__doc__
        KERNELS.append(self)

    def __call__(self, *args: Any) -> Any:
        dispatcher = self.dispatcher
        if dispatcher is None:
            import numba

            pending = [n for n in _NOTICES if not n.done]
            if pending and not self.is_cached():
                for notice in pending:
                    notice.done = True
                    notice.callback(self.__name__)

            jit = numba.njit(cache=True, error_model="numpy", **self.options)
            dispatcher = self.dispatcher = jit(self.pyfunc)
        return dispatcher(*args)

    def is_cached(self) -> bool:
        """Whether the on-disk cache holds machine code for this function's current source
        (checked without compiling); a cached kernel loads in milliseconds."""
        from numba.core.caching import FunctionCache

        return bool(FunctionCache(self.pyfunc)._cache_file._load_index())

    def cache_counts(self) -> tuple[int, int]:
        """(signatures compiled, signatures loaded from the disk cache) in this process."""
        if self.dispatcher is None:
            return 0, 0
        stats = self.dispatcher.stats
        return sum(stats.cache_misses.values()), sum(stats.cache_hits.values())

    @property
    def signatures(self) -> list[Any]:
        """The type signatures compiled (or loaded from cache) so far in this process."""
        return [] if self.dispatcher is None else list(self.dispatcher.signatures)


def lazy_njit(**options: Any) -> Callable[[Callable], LazyKernel]:
    """Decorator: ``@lazy_njit()`` or ``@lazy_njit(parallel=True)``; ``cache=True`` is implied."""
    return lambda pyfunc: LazyKernel(pyfunc, options)
