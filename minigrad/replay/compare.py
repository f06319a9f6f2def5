"""Comparing two recordings of the same step: do they take the same path?

A replay repeats the calls of one recording on new data, so it is only right if the step
would make the same calls on any data of that signature. Capture records the step twice, on
two different batches, and checks that both made the same calls, on the same wiring, with
the same settings, and that every array not made by a call (a parameter, a constant such
as backward's seed gradient of 1) is the same object in both, or equal in value. A branch
on a value (``if loss > 1``), or an array computed in Python from the data (outside any op),
shows up here as a difference: the recording is refused, never replayed wrongly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .record import Event, Recorder


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return a is b
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return a is b or (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if callable(a) or callable(b):
        return a is b
    try:
        return bool(a == b) or (a != a and b != b)
    except (TypeError, ValueError):
        return a is b


def _describe(event: Event) -> str:
    shapes = ", ".join(str(tuple(a.shape)) for a in event.reads)
    return f"{event.kind} {event.name}({shapes})"


def _wiring(events: list[Event], inputs: list[np.ndarray]) -> list[list[tuple[Any, ...]]]:
    """Where each event's reads come from: ('in', k) an argument, ('made', i, j) output j of
    event i, ('outside', array) an array no event made (compared by identity or value)."""
    made: dict[int, tuple[Any, ...]] = {id(a): ("in", k) for k, a in enumerate(inputs)}
    wiring = []
    for i, event in enumerate(events):
        wiring.append([made.get(id(a), ("outside", a)) for a in event.reads])
        for j, a in enumerate(event.writes):
            if a is not None:
                made.setdefault(id(a), ("made", i, j))
    return wiring


def first_difference(
    a: Recorder, a_inputs: list[np.ndarray], b: Recorder, b_inputs: list[np.ndarray]
) -> str | None:
    """How recording ``b`` differs from ``a`` (the first difference, in words), or None."""
    if len(a.events) != len(b.events):
        k = next(
            (i for i, (x, y) in enumerate(zip(a.events, b.events)) if (x.kind, x.name) != (y.kind, y.name)),
            min(len(a.events), len(b.events)),
        )
        first = _describe(a.events[k]) if k < len(a.events) else "nothing"
        second = _describe(b.events[k]) if k < len(b.events) else "nothing"
        return (
            f"the first recording made {len(a.events)} calls and the second {len(b.events)}; "
            f"call {k} was {first} then {second}"
        )
    wiring_a, wiring_b = _wiring(a.events, a_inputs), _wiring(b.events, b_inputs)
    for i, (x, y) in enumerate(zip(a.events, b.events)):
        where = f"call {i}, {_describe(x)}"
        if (x.kind, x.name, x.op) != (y.kind, y.name, y.op) or len(x.reads) != len(y.reads):
            return f"{where} became {_describe(y)}"
        for j, (u, v) in enumerate(zip(x.reads + x.writes, y.reads + y.writes)):
            if (u is None) != (v is None) or (u is not None and (u.shape != v.shape or u.dtype != v.dtype)):
                return f"{where}: array {j} changed shape or dtype"
        for j, (u, v) in enumerate(zip(wiring_a[i], wiring_b[i])):
            if u[0] != v[0] or (u[0] != "outside" and u != v):
                return f"{where}: input {j} comes from elsewhere"
            if u[0] == "outside" and u[1] is not v[1] and v[1].size > 1:
                return (
                    f"{where}: input {j} is an array of shape {v[1].shape} made outside any op (by "
                    "Python code on .data, or a library function that is not an op); a replay would "
                    "bake its values in. Pass data as arguments, and make constant tensors once, "
                    "outside the function"
                )
            if u[0] == "outside" and not _same(u[1], v[1]):
                return (
                    f"{where}: input {j} is an array made outside any op whose values differ "
                    "(computed in Python from the data, or random numbers drawn outside an op)"
                )
        if x.target is not y.target and not (x.kind == "grad" and _same(x.target, y.target)):
            return f"{where} acts on another object"
        if not _same(x.params, y.params):
            return f"{where}: its settings differ ({_settings_diff(x.params, y.params)})"
    return None


def _settings_diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    keys = [k for k in a.keys() | b.keys() if not _same(a.get(k), b.get(k))]
    return ", ".join(sorted(keys))
