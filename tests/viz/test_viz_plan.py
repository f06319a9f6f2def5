"""minigrad.viz.plan: the picture of a captured step's plan shows every buffer's lifetime and
the arena exactly as the plan has them, and shared bytes only between buffers never alive
at the same time."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from minigrad import viz
from minigrad.replay import Buffer, Call, Plan
from minigrad.replay.plan import assign_offsets
from minigrad.viz.plan import HALF
from tests.captured_mlp import captured_mlp


@pytest.fixture(scope="module")
def plan() -> Plan:
    """The plan of a tiny 4-layer MLP's Adam step: deep enough that backward frees buffers
    whose bytes later ones reuse."""
    step, batches = captured_mlp((8, 16, 16, 16, 4), batch=6, batches=2)
    for x, y in batches:
        step(x, y)
    assert step.stats["plans_built"] == 1
    return step.plan


def _patches(fig, axes_index: int, prefix: str) -> dict[int, object]:
    found = {}
    for patch in fig.axes[axes_index].patches:
        gid = patch.get_gid() or ""
        if gid.startswith(prefix):
            index = int(gid[len(prefix):])
            assert index not in found, f"two patches for buffer {index}"
            found[index] = patch
    return found


def _x_extent(b: Buffer) -> tuple[float, float]:
    start = max(b.first, -1)
    return start - HALF, max(b.last, start) + HALF


def _arena_clashes(fig, plan: Plan) -> list[tuple[str, str]]:
    """Pairs of arena rectangles that overlap in bytes while both buffers are alive."""
    rects = _patches(fig, 1, "arena:")
    clashes = []
    for (i, p), (j, q) in itertools.combinations(rects.items(), 2):
        alive_together = p.get_x() < q.get_x() + q.get_width() and q.get_x() < p.get_x() + p.get_width()
        same_bytes = p.get_y() < q.get_y() + q.get_height() and q.get_y() < p.get_y() + p.get_height()
        if alive_together and same_bytes:
            clashes.append((plan.buffers[i].name, plan.buffers[j].name))
    return clashes


def test_one_bar_per_buffer_spanning_its_lifetime(plan):
    fig = viz.draw_plan(plan)
    bars = _patches(fig, 0, "buffer:")
    assert sorted(bars) == [b.index for b in plan.buffers]
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == len(plan.buffers)
    for b in plan.buffers:
        bar = bars[b.index]
        left, right = _x_extent(b)
        assert (bar.get_x(), bar.get_x() + bar.get_width()) == pytest.approx((left, right)), b.name
        assert labels[round(bar.get_y() + bar.get_height() / 2)].startswith(b.describe()), b.name
        assert (bar.get_hatch() is not None) == b.pinned, b.name
    pinned = [b for b in plan.buffers if b.pinned]
    assert pinned and all(b.last == len(plan.calls) for b in pinned)  # drawn up to "after"
    ticks = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert ticks == ["before", *(f"{i} {c.name}" for i, c in enumerate(plan.calls)), "after"]


def test_arena_rectangles_are_the_offsets_and_never_overlap_while_alive(plan):
    fig = viz.draw_plan(plan)
    rects = _patches(fig, 1, "arena:")
    in_arena = [b for b in plan.buffers if b.planned and not b.pinned and b.base is None]
    assert sorted(rects) == sorted(b.index for b in in_arena) and len(in_arena) >= 4
    for b in in_arena:
        r = rects[b.index]
        assert (r.get_y(), r.get_height()) == pytest.approx((b.offset / 1024, b.nbytes / 1024)), b.name
        assert (r.get_x(), r.get_x() + r.get_width()) == pytest.approx(_x_extent(b)), b.name
    assert _arena_clashes(fig, plan) == []
    shared = [(a.name, c.name) for a, c in itertools.combinations(in_arena, 2)
              if a.offset < c.offset + c.nbytes and c.offset < a.offset + a.nbytes]
    assert shared, "this plan should reuse bytes; the test needs a plan where sharing shows"
    assert plan.arena_bytes < sum(b.nbytes for b in in_arena)
    title = fig.axes[1].get_title()
    assert "shared by liveness" in title and "if every planned buffer had its own memory" in title


def test_a_hand_made_plan_shows_the_freed_bytes_reused():
    """a dies at call 1, so c (made at call 2) takes a's bytes; b overlaps both in time."""
    f32 = np.dtype(np.float32)
    a, b, c = (Buffer(i, name, (16,), f32, "temp", planned=True) for i, name in enumerate("abc"))
    a.first, a.last, b.first, b.last, c.first, c.last = 0, 1, 1, 2, 2, 3
    arena_bytes = assign_offsets([a, b, c])
    calls = [Call(f"op{i}", [], [], lambda env: None) for i in range(4)]
    plan = Plan("hand(made)", calls, [a, b, c], [None] * 3, [], lambda env: None, arena_bytes=arena_bytes)
    fig = viz.draw_plan(plan)
    rects = _patches(fig, 1, "arena:")
    assert rects[2].get_y() == rects[0].get_y() == 0 and rects[1].get_y() == pytest.approx(64 / 1024)
    assert _arena_clashes(fig, plan) == []
    b.offset = 0  # a plan whose b sits on a's bytes while both live: the picture shows the clash
    assert _arena_clashes(viz.draw_plan(plan), plan) == [("a", "b"), ("b", "c")]


def test_saves_png_and_svg_atomically(plan, tmp_path):
    fig = plan.draw(tmp_path / "plan.png")
    assert (tmp_path / "plan.png").read_bytes()[:4] == b"\x89PNG"
    assert fig.axes[0].get_title().startswith(plan.signature)
    viz.draw_plan(plan, tmp_path / "sub" / "plan.svg")
    svg = (tmp_path / "sub" / "plan.svg").read_text()
    first_temp = next(b for b in plan.buffers if b.offset is not None)
    assert "<svg" in svg and f'id="arena:{first_temp.index}"' in svg
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["plan.png", "plan.svg", "sub"]


def test_refuses_what_is_not_a_plan():
    with pytest.raises(TypeError, match="draw_plan: expected a minigrad.replay.Plan.*got dict"):
        viz.draw_plan({"calls": []})
