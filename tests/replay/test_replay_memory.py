"""Memory: a replay allocates no array, and buffers share bytes only when their lifetimes do not overlap."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from minigrad.replay.plan import Buffer, assign_offsets
from tests.captured_mlp import captured_mlp

NUMPY_DOMAIN = np.lib.tracemalloc_domain  # numpy reports every array's data under this domain


def _captured_mlp(sizes=(784, 128, 10), batch: int = 64):
    return captured_mlp(sizes, batch)


def _numpy_allocations(fn) -> list[tracemalloc.Trace]:
    tracemalloc.start()
    try:
        fn()
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    return [t for t in snapshot.traces if t.domain == NUMPY_DOMAIN]


def test_a_replay_allocates_no_array():
    step, batches = _captured_mlp()
    for x, y in batches:
        step(x, y)
    assert step.stats["replays"] == 2

    def replay_and_hold():
        held.append(step(*batches[0]).item())

    held: list[float] = []
    assert _numpy_allocations(replay_and_hold) == []

    peaks = []
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        for i in range(20):
            tracemalloc.reset_peak()
            before, _ = tracemalloc.get_traced_memory()
            step(*batches[i % 2])
            peaks.append(tracemalloc.get_traced_memory()[1] - before)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - start < 4096, after - start  # nothing kept per step
    # Python objects (views, floats) peak at about 1.5 KiB a call; any batch-sized array made
    # even briefly (the smallest, the logits, is 64 x 10 x 4 = 2.5 KiB) would go past the bound
    assert max(peaks) < 2048, peaks


def test_the_check_sees_allocations():
    """The measurement is not blind: one eager step allocates many arrays."""
    step, batches = _captured_mlp()
    eager = step.fn
    allocations = _numpy_allocations(lambda: eager(*batches[0]))
    assert sum(t.size for t in allocations) > 64 * 128 * 4


def _check_no_overlap(buffers: list[Buffer]) -> None:
    placed = [b for b in buffers if b.planned and not b.pinned and b.base is None]
    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:
            alive_together = a.first <= b.last and b.first <= a.last
            share_bytes = a.offset < b.offset + b.nbytes and b.offset < a.offset + a.nbytes
            assert not (alive_together and share_bytes), (a, b)


@pytest.mark.parametrize("sizes", [(784, 128, 10), (64, 256, 256, 256, 10)])
def test_planned_buffers_share_bytes_only_when_their_lifetimes_do_not_overlap(sizes):
    step, batches = _captured_mlp(sizes)
    for x, y in batches[:2]:
        step(x, y)
    plan = step.plan
    _check_no_overlap(plan.buffers)
    unshared = sum(b.nbytes for b in plan.buffers if b.planned and not b.pinned and b.base is None)
    assert plan.arena_bytes <= unshared + 64 * len(plan.buffers)
    if len(sizes) > 3:
        assert plan.arena_bytes < unshared  # a deeper net reuses memory
    text = str(plan)
    assert (
        f"arena {plan.arena_bytes / 1024:.1f} KiB" in text and len(text.splitlines()) == len(plan.calls) + 2
    )


def test_assign_offsets_packs_by_liveness():
    def buf(i, first, last, n):
        return Buffer(i, f"b{i}", (n,), np.dtype(np.float32), "temp", first, last, planned=True)

    a, b, c, d = buf(0, 0, 1, 16), buf(1, 1, 2, 16), buf(2, 2, 3, 16), buf(3, 3, 4, 32)
    size = assign_offsets([a, b, c, d])
    assert a.offset == c.offset == 0  # a dies before c is made
    assert b.offset == 64  # alive with both a and c
    assert d.offset == 64 and size == 192  # d outlives only c, so it goes where b was
    _check_no_overlap([a, b, c, d])
