"""The plan: the calls of one recorded step, the buffers they read and write, and its memory.

A replay is ``for call in plan.calls: call.run(env)``: ``env`` is a list holding one array per
buffer (and the ctx of each op replayed through its own ``forward``); a call reads its inputs
from it and writes its results into it. No Tensor is made and no graph node recorded.

**Memory planning.** A buffer a kernel writes with ``out=`` is *planned*: it is a view into
one byte arena, allocated once. Each planned buffer is alive from the call that writes it
(``first``) to the last call that reads it (``last``); two buffers whose lifetimes do not
overlap may share bytes. ``assign_offsets`` is the greedy first-fit of compilers' register
allocators, over bytes: walk the buffers by ``first``, free what died before, place each in
the lowest gap that fits. Buffers that must outlive the step (a leaf's ``.grad``, a returned
value) are *pinned*: they never share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ALIGN = 64  # bytes: a cache line, so every planned buffer starts where SIMD loads like it


@dataclass(eq=False)
class Buffer:
    """One array of the plan.

    ``kind``: input (an argument of the step), param (a tensor that outlives the step,
    read and updated in place: parameters, optimizer state), const (a value baked in when
    recorded), temp (made by a call), grad (a leaf's gradient). ``first``/``last``: the calls
    that make it and last read it (-1: before the step). ``planned``: lives in the arena at
    ``offset``; ``pinned``: must outlive the step. ``base``: the buffer it is a view of.
    """

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    kind: str
    first: int = -1
    last: int = -1
    planned: bool = False
    pinned: bool = False
    offset: int | None = None
    base: Buffer | None = None

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

    def describe(self) -> str:
        dims = ",".join(str(n) for n in self.shape)
        return f"{self.name}[{dims}]"


@dataclass(eq=False)
class Call:
    """One step of the replay: ``run(env)`` reads ``reads`` and writes ``writes`` (Buffers).
    ``note`` says how it runs: a fused kernel, or the op's own forward (which allocates)."""

    name: str
    reads: list[Buffer]
    writes: list[Buffer]
    run: Callable[[list[Any]], None]
    note: str = ""


def _kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.2f} MiB"


def assign_offsets(buffers: list[Buffer]) -> int:
    """Give each planned, unpinned buffer an arena ``offset`` so that buffers alive at the same
    time never overlap; return the arena's size in bytes (its peak)."""
    live: list[tuple[int, int, Buffer]] = []  # (offset, size, buffer), sorted by offset
    top = 0
    for b in sorted(
        (b for b in buffers if b.planned and not b.pinned and b.base is None),
        key=lambda b: (b.first, -b.nbytes),
    ):
        live = [entry for entry in live if entry[2].last >= b.first]
        size = -(-max(b.nbytes, 1) // ALIGN) * ALIGN
        at = 0
        for offset, used, _ in live:
            if offset - at >= size:
                break
            at = max(at, offset + used)
        b.offset = at
        live.append((at, size, b))
        live.sort(key=lambda entry: entry[0])
        top = max(top, at + size)
    return top


@dataclass(eq=False)
class Plan:
    """The recorded step of one input signature, ready to replay.

    ``calls`` run in order on ``env``; ``inputs`` are the env slots of the step's array
    arguments; ``outputs`` rebuilds the step's return value; ``guards`` are checks run before
    each replay (a parameter replaced, an optimizer's options changed), each returning the
    reason the plan is stale, or None.
    """

    signature: str
    calls: list[Call]
    buffers: list[Buffer]
    env: list[Any]
    inputs: list[int]
    outputs: Callable[[list[Any]], Any]
    guards: list[Callable[[], str | None]] = field(default_factory=list)
    arena_bytes: int = 0

    def stale(self) -> str | None:
        for guard in self.guards:
            reason = guard()
            if reason is not None:
                return reason
        return None

    def replay(self, arrays: list[np.ndarray]) -> Any:
        env = self.env
        for slot, a in zip(self.inputs, arrays):
            if a.flags.c_contiguous:
                env[slot] = a
            else:
                np.copyto(env[slot], a)
        for call in self.calls:
            call.run(env)
        return self.outputs(env)

    @property
    def planned_bytes(self) -> int:
        """Bytes of every planned buffer if each had its own memory (no sharing)."""
        return sum(b.nbytes for b in self.buffers if b.planned and b.base is None)

    @property
    def pinned_bytes(self) -> int:
        return sum(b.nbytes for b in self.buffers if b.planned and b.pinned and b.base is None)

    @property
    def peak_bytes(self) -> int:
        """Memory the plan holds for its own arrays: the shared arena plus the pinned buffers."""
        return self.arena_bytes + self.pinned_bytes

    def __str__(self) -> str:
        kernels = sum(1 for c in self.calls if not c.note.startswith("op's own"))
        lines = [
            f"plan for {self.signature}: {len(self.calls)} calls ({kernels} planned kernels), "
            f"{len(self.buffers)} buffers",
            f"memory: {_kib(self.peak_bytes)} (arena {_kib(self.arena_bytes)} shared by liveness + "
            f"{_kib(self.pinned_bytes)} pinned); without sharing {_kib(self.planned_bytes)}",
        ]
        for i, call in enumerate(self.calls):
            reads = ", ".join(b.describe() for b in call.reads)
            writes = ", ".join(_where(b) for b in call.writes)
            lines.append(
                f"{i:3d}  {call.name:<26} {reads} -> {writes or '-'}"
                + (f"   [{call.note}]" if call.note else "")
            )
        return "\n".join(lines)

    def draw(self, path: str | None = None) -> Any:
        """A picture of the calls and buffer lifetimes (``minigrad.viz.plan``)."""
        from ..viz.plan import draw_plan

        return draw_plan(self, path)


def _where(b: Buffer) -> str:
    if b.planned and b.offset is not None:
        return f"{b.describe()}@{b.offset}"
    if b.planned and b.pinned:
        return f"{b.describe()} pinned"
    return b.describe()
