"""Where ``minigrad.replay`` listens: the few places an eager step does array-level work.

Capture records a training step by watching it run eagerly (``minigrad/replay``). The
places that do the step's array work report to ``TRACE.recorder`` when one is set: an op's
forward (``Function.apply``), a node's backward (``node_step``), a gradient reaching a leaf
(``Tensor._accumulate``), an optimizer's update (``Optimizer.step``) and gradient clipping.
Places whose work a replay could not repeat (a hook's Python code, ``.item()`` handing a
value to Python, a scheduler step) report with ``refuse``. Outside a recording the
recorder is None, and each report costs one attribute test.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class Trace:
    """Holds the active recorder (``minigrad.replay.record.Recorder``), or None."""

    __slots__ = ("recorder",)

    def __init__(self) -> None:
        self.recorder: Any = None


TRACE = Trace()


def refuse(what: str, hint: str = "") -> None:
    """Tell the active recorder, if any, that the step did ``what``, which a replay would skip
    (``hint``: what to do instead)."""
    recorder = TRACE.recorder
    if recorder is not None:
        recorder.refuse(what, hint)


def replayed_whole(fn: F) -> F:
    """Mark a function whose array work (on gradients, in place) a replay repeats by calling
    it again with the same arguments, e.g. ``clip_grad_norm_``: it is recorded as one call."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        recorder = TRACE.recorder
        if recorder is None:
            return fn(*args, **kwargs)
        return recorder.call(fn, args, kwargs)

    return wrapper  # type: ignore[return-value]
