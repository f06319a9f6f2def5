"""A picture of a captured step's plan: its calls, its buffers' lifetimes and its arena.

    step = mg.capture(train_step, model=model)
    step(x, y); step(x2, y2)               # two recordings build the plan
    viz.draw_plan(step.plan, "plan.png")    # or step.plan.draw("plan.svg")

Top panel: one row per buffer, grouped and coloured by kind (input, param, const, temp,
grad), a bar from the call that writes it (``first``; "before" when it exists before the
step) to the last call that reads it (``last``; "after" when it must outlive the step).
Hatched bars are *pinned* (a leaf's ``.grad``, a returned value: never shared); faded bars
are views of another buffer. Bottom panel: the arena, bytes against the same call axis.
Each planned, unpinned buffer is a rectangle ``[first, last] x [offset, offset + nbytes]``:
two rectangles may sit at the same height only if their lifetimes do not overlap, which
is how liveness sharing makes the arena smaller than the buffers' sum.

Every bar and rectangle carries a gid (``buffer:<index>``, ``arena:<index>``), kept as an
``id`` in SVG output, so a test or a reader can find the one of a given buffer.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .plots import display_in_notebooks, save_figure

if TYPE_CHECKING:
    from ..replay.plan import Buffer, Plan

KINDS = ("input", "param", "const", "temp", "grad")
KIND_COLORS = {
    "input": "#4575b4",
    "param": "#1a9850",
    "const": "#969696",
    "temp": "#fdae61",
    "grad": "#d73027",
}
HALF = 0.4  # half the width of a call's column taken by a bar, so neighbouring bars stay apart
MAX_INCHES = 60.0


def _kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.2f} MiB"


def _span(b: Buffer, n_calls: int) -> tuple[float, float]:
    """The x extent of a buffer's bar: from its first call (-1: before the step) to its last
    (``n_calls``: after the step, where pinned buffers end), each call a column of width 1."""
    start = max(b.first, -1)
    end = max(b.last, start)
    return start - HALF, end - start + 2 * HALF


def _row_label(b: Buffer) -> str:
    label = b.describe()
    if b.base is not None:
        return f"{label} (view of {b.base.name})"
    if b.planned and not b.pinned and b.offset is not None:
        return f"{label} @{b.offset}"
    return label


def draw_plan(plan: Plan, path: str | os.PathLike | None = None) -> Any:
    """Draw ``plan`` (``step.plan`` of a captured step): buffer lifetimes over the calls, and
    the arena's byte layout over the same calls. Returns the matplotlib Figure; with ``path``
    it is also saved atomically, PNG, SVG or PDF by the suffix."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    from ..replay.plan import Plan

    if not isinstance(plan, Plan):
        raise TypeError(
            f"draw_plan: expected a minigrad.replay.Plan (step.plan after two calls of a captured "
            f"step), got {type(plan).__name__}"
        )
    unknown = sorted({b.kind for b in plan.buffers} - set(KINDS))
    if unknown:
        raise ValueError(f"draw_plan: buffers of unknown kind {unknown}; expected one of {KINDS}")
    display_in_notebooks()
    n = len(plan.calls)
    rows = sorted(plan.buffers, key=lambda b: (KINDS.index(b.kind), b.first, b.index))
    arena = [b for b in plan.buffers if b.planned and not b.pinned and b.base is None]

    width = min(MAX_INCHES, 4.0 + 0.42 * (n + 2))
    lifetimes_height = 0.24 * len(rows) + 1.0
    arena_height = 2.5 + 0.12 * len(arena)
    height = min(MAX_INCHES, lifetimes_height + arena_height + 2.0)
    fig = Figure(figsize=(width, height), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[lifetimes_height, arena_height])

    for y, b in enumerate(rows):
        left, span = _span(b, n)
        bar = Rectangle(
            (left, y - 0.35),
            span,
            0.7,
            facecolor=KIND_COLORS[b.kind],
            edgecolor="black" if b.pinned else KIND_COLORS[b.kind],
            hatch="///" if b.pinned else None,
            alpha=0.45 if b.base is not None else 1.0,
            linewidth=0.8,
        )
        bar.set_gid(f"buffer:{b.index}")
        top.add_patch(bar)
    for y in range(1, len(rows)):
        if rows[y].kind != rows[y - 1].kind:
            top.axhline(y - 0.5, color="black", linewidth=0.5, alpha=0.4)
    top.set_yticks(range(len(rows)), labels=[_row_label(b) for b in rows], fontsize=7)
    top.set_ylim(len(rows) - 0.5, -0.5)
    top.grid(axis="x", alpha=0.3)
    kinds_present = [k for k in KINDS if any(b.kind == k for b in rows)]
    handles = [Patch(facecolor=KIND_COLORS[k], label=k) for k in kinds_present]
    pinned = Patch(facecolor="white", edgecolor="black", hatch="///", label="pinned (outlives the step)")
    handles.append(pinned)
    top.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    top.set_title(
        f"{plan.signature}: {n} calls, {len(plan.buffers)} buffers (bar: from the call that writes it "
        "to the last that reads it)",
        fontsize=9,
    )

    colors = colormaps["tab20"]
    for k, b in enumerate(sorted(arena, key=lambda b: (b.first, b.offset))):
        left, span = _span(b, n)
        box = Rectangle(
            (left, b.offset / 1024),
            span,
            b.nbytes / 1024,
            facecolor=colors(k % 20),
            edgecolor="black",
            linewidth=0.6,
        )
        box.set_gid(f"arena:{b.index}")
        bottom.add_patch(box)
        if b.nbytes >= 0.04 * plan.arena_bytes:
            bottom.text(
                left + span / 2, (b.offset + b.nbytes / 2) / 1024, b.name, ha="center", va="center",
                fontsize=6, clip_on=True,
            )
    top_kib = max(plan.arena_bytes, 1) / 1024
    bottom.axhline(plan.arena_bytes / 1024, color="black", linestyle="--", linewidth=0.8)
    bottom.set_ylim(0, top_kib * 1.08)
    bottom.set_ylabel("arena offset (KiB)")
    if not arena:
        bottom.text(0.5, 0.5, "no planned temporaries: nothing shares the arena", transform=bottom.transAxes,
                    ha="center", va="center", fontsize=9)
    bottom.set_title(
        f"arena {_kib(plan.arena_bytes)} shared by liveness + {_kib(plan.pinned_bytes)} pinned = "
        f"{_kib(plan.peak_bytes)}, against {_kib(plan.planned_bytes)} if every planned buffer had "
        "its own memory",
        fontsize=9,
    )
    bottom.grid(axis="x", alpha=0.3)

    ticks = [-1, *range(n), n]
    labels = ["before", *(f"{i} {call.name}" for i, call in enumerate(plan.calls)), "after"]
    bottom.set_xticks(ticks, labels=labels, rotation=60, ha="right", fontsize=7)
    bottom.set_xlim(-1 - 0.5, n + 0.5)
    bottom.set_xlabel("call")
    if path is not None:
        save_figure(fig, path)
    return fig
