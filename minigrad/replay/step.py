"""``capture(step_fn)``: run a training step eagerly twice, then replay its recorded plan.

    step = mg.capture(train_step)      # train_step(x, y): forward, loss, backward, opt.step
    for x, y in loader:
        loss = step(x, y)              # calls 1 and 2 record, later calls replay

Per input signature (the shapes and dtypes of the array arguments, the other arguments'
values), the first two calls run eagerly under a ``Recorder``; if both recordings made the
same calls (``compare``), the second becomes a ``Plan`` (``build``), and later calls with
that signature replay it. A new signature records again; at most ``max_plans`` are kept.

A replay repeats the *array work* of the step: ops, backward, gradient clipping, the
optimizer. Other Python code in the function (a print, a counter) runs only while recording.
The returned Tensors are the plan's own buffers, overwritten by the next call (as CUDA
graphs and tinygrad's TinyJit do): read them (``loss.item()``) before calling again.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from ..amp.autocast import STATE as AUTOCAST
from ..autograd import anomaly
from ..autograd.grad_mode import STATE as GRAD_MODE
from ..kernels.config import jit_enabled
from ..tensor import Tensor
from ..trace import TRACE
from . import build, kernels
from .compare import _wiring, first_difference
from .plan import Plan
from .record import CaptureError, Event, Recorder


def lower(b: build.Builder, event: Event) -> None:
    """Lower one event: a planned kernel where one applies (and ``b.kernels``), else the op's own code."""
    if event.kind == "forward":
        kernel = kernels.FORWARD.get(event.op) if b.kernels else None
        if kernel is not None and kernel(b, event):
            b.kernel_forwards.add(b.event_index)
        else:
            build.lower_forward_op(b, event)
    elif event.kind == "backward":
        index = b.forward_of[id(event.ctx)]
        if index in b.kernel_forwards:
            kernels.BACKWARD[event.op](b, event, b.events[index])
        else:
            build.lower_backward_op(b, event)
    elif event.kind == "grad":
        build.lower_grad(b, event)
    elif event.kind == "optimizer":
        if not (b.kernels and any(kernel(b, event) for kernel in kernels.OPTIMIZER)):
            build.lower_optimizer_step(b, event)
    else:
        build.lower_call(b, event)


def _modes(name: str) -> None:
    if anomaly.STATE.enabled:
        raise CaptureError(
            f"capture: {name} was called with anomaly detection on; a replay skips its "
            "checks. Call the function eagerly (without capture) while debugging"
        )
    if AUTOCAST.enabled:
        raise CaptureError(
            f"capture: {name} was called inside amp.autocast, which capture does not "
            "support; train without capture (minigrad train --no-capture) for --amp"
        )


def _key(value: Any, where: str) -> Any:
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise CaptureError(
                f"capture: {where} requires grad; pass the data as tensors that do not "
                "(only parameters, found through the ops, are trained)"
            )
        return ("tensor", value.data.shape, value.data.dtype.str)
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.dtype.str)
    try:
        hash(value)
    except TypeError:
        raise CaptureError(
            f"capture: {where} is a {type(value).__name__}, which cannot be part of a "
            "signature; pass tensors, arrays, numbers or strings"
        ) from None
    return ("value", value)


class CapturedStep:
    """The callable ``capture`` returns; ``plan`` is the last plan used, ``plans`` all of them,
    ``stats`` counts the calls (eager recordings, replays, re-captures) and their seconds."""

    def __init__(
        self,
        fn: Callable[..., Any],
        max_plans: int = 8,
        model: Any = None,
        kernels: bool = True,
        fuse: bool = True,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"capture: expected a function, got {type(fn).__name__}")
        if not isinstance(max_plans, int) or max_plans < 1:
            raise ValueError(f"capture: max_plans must be an integer >= 1, got {max_plans!r}")
        functools.update_wrapper(self, fn, updated=())
        self.name = getattr(fn, "__name__", "step")
        self.fn = fn
        self.max_plans = max_plans
        self.kernels, self.fuse = kernels, fuse
        self.names = {id(p): name for name, p in model.named_parameters()} if model is not None else {}
        self.plans: OrderedDict[Any, Plan] = OrderedDict()
        self.plan: Plan | None = None
        self._first: OrderedDict[Any, tuple[Recorder, list[np.ndarray]]] = OrderedDict()
        self.stats = {
            "recordings": 0,
            "replays": 0,
            "plans_built": 0,
            "recaptures": 0,
            "capture_seconds": 0.0,
            "last_stale": None,
        }
        try:
            self._arg_names = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            self._arg_names = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = self.name
        _modes(name)
        values = list(args) + [kwargs[k] for k in sorted(kwargs)]
        labels = [self._arg_names[i] if i < len(self._arg_names) else f"arg{i}" for i in range(len(args))]
        labels += sorted(kwargs)
        key = (
            tuple(_key(v, f"argument {label!r}") for v, label in zip(values, labels)),
            tuple(sorted(kwargs)),
            GRAD_MODE.grad_enabled,
            jit_enabled(),
        )
        arrays = [
            v.data if isinstance(v, Tensor) else v for v in values if isinstance(v, Tensor | np.ndarray)
        ]
        plan = self.plans.get(key)
        if plan is not None:
            reason = plan.stale()
            if reason is None:
                self.plans.move_to_end(key)
                self.plan = plan
                self.stats["replays"] += 1
                return plan.replay(arrays)
            del self.plans[key]
            self.stats["recaptures"] += 1
            self.stats["last_stale"] = reason
        array_labels = [label for v, label in zip(values, labels) if isinstance(v, Tensor | np.ndarray)]
        return self._record(key, arrays, array_labels, args, kwargs)

    def _record(
        self,
        key: Any,
        arrays: list[np.ndarray],
        labels: list[str],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        name = self.name
        if TRACE.recorder is not None:
            raise CaptureError(
                f"capture: {name} was called while another captured function was "
                "recording; capture the outer function only"
            )
        recorder = Recorder()
        TRACE.recorder = recorder
        start = time.perf_counter()
        try:
            out = self.fn(*args, **kwargs)
        finally:
            TRACE.recorder = None
            self.stats["capture_seconds"] += time.perf_counter() - start
            self.stats["recordings"] += 1
        recorder.finish()
        if recorder.problems:
            self._first.pop(key, None)
            raise CaptureError(
                f"capture: {name} does what a replay would skip: "
                + "; ".join(recorder.problems)
                + ". This call ran eagerly and completed; change the function, or call it "
                "without capture"
            )
        first = self._first.pop(key, None)
        if first is None:
            self._first[key] = (recorder, arrays)
            while len(self._first) > self.max_plans:
                self._first.popitem(last=False)
            return out
        difference = first_difference(first[0], first[1], recorder, arrays)
        if difference is not None:
            raise CaptureError(
                f"capture: {name} took a different path in two calls of the same shapes: "
                f"{difference}. A replay repeats one path for all data, so it would be "
                "wrong here; keep such work out of the captured function (this call ran eagerly)"
            )
        shared = _shared(first[0], first[1], recorder, arrays)
        signature = (
            f"{name}("
            + ", ".join(f"{label}: {a.dtype}{list(a.shape)}" for label, a in zip(labels, arrays))
            + ")"
        )
        builder = build.Builder(recorder, arrays, labels, self.names, shared, self.kernels, self.fuse)
        plan = builder.build(signature, lower, out)
        self.plans[key] = plan
        while len(self.plans) > self.max_plans:
            self.plans.popitem(last=False)
        self.plan = plan
        self.stats["plans_built"] += 1
        return out


def _shared(a: Recorder, a_inputs: list[np.ndarray], b: Recorder, b_inputs: list[np.ndarray]) -> set[int]:
    """Ids of the arrays from outside any op that are the same object in both recordings:
    parameters and state, read by reference (the others are constants, baked in)."""
    shared = set()
    for reads_a, reads_b in zip(_wiring(a.events, a_inputs), _wiring(b.events, b_inputs)):
        for u, v in zip(reads_a, reads_b):
            if u[0] == "outside" and u[1] is v[1]:
                shared.add(id(v[1]))
    return shared


def capture(
    fn: Callable[..., Any] | None = None,
    *,
    max_plans: int = 8,
    model: Any = None,
    kernels: bool = True,
    fuse: bool = True,
) -> Any:
    """Capture a training step: record its array work twice, then replay it (``CapturedStep``).

    ``fn(*args)`` runs forward, loss, ``backward()`` and ``optimizer.step()`` (it must call
    ``optimizer.zero_grad()`` itself) and returns Tensors or None. ``max_plans`` bounds the
    plans kept (one per input signature); ``model`` names the parameters in the printed
    plan. ``kernels=False`` replays every call through the op's own code (no planned kernels,
    no memory plan) and ``fuse=False`` keeps a Linear and its activation apart: both are there
    to measure what planning and fusion buy. Usable as ``@capture`` or ``@capture(max_plans=2)``.
    """
    if fn is None:
        return lambda f: CapturedStep(f, max_plans, model, kernels, fuse)
    return CapturedStep(fn, max_plans, model, kernels, fuse)
