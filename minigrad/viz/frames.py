"""``backward_frames(loss)``: the backward pass as a flip-book, one picture per step.

The walk is the engine's own (``autograd.engine.topological_order``): each step takes one
op, whose output gradient is complete, runs the engine's ``node_step`` (hooks, backward,
each share fitted to its input's shape and dtype) and adds each input's share into that
input's gradient. A value used twice receives two shares, so its gradient grows
across two frames. The layout is computed once (``dot -Tjson0``) and every frame is drawn
at the same positions (``neato -n2``), so only the colours and numbers change.

Nothing of the user's graph is disturbed: the walk never writes ``.grad`` and never frees
saved values. Hooks on intermediate tensors run, as in a real backward (a hook that
changes the gradient changes what the frames show).
"""

from __future__ import annotations

import html
import io
import itertools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write
from ..autograd.engine import topological_order
from ..tensor import Tensor
from . import summary as S
from .dot import Layout, Options, to_dot
from .draw import prepare
from .graph import GraphModel, op_input_grads
from .render import run_graphviz

_html_ids = itertools.count()


def _walk(graph: GraphModel, output: Tensor) -> list[tuple[int, dict, dict, str]]:
    """(op index, tensor grads so far, edge shares so far, caption) after each step."""
    where = {id(op.fn): op.index for op in graph.ops}
    grads: dict[int, np.ndarray | None] = {graph.root: np.ones(output.shape, dtype=output.dtype)}
    shares: dict[tuple[int, int], np.ndarray] = {}
    steps = []
    order = topological_order([output.grad_fn])
    for fn in order:
        op = graph.ops[where[id(fn)]]
        g_out = grads.get(op.output)
        if g_out is None:
            continue
        sent = []
        for pos, (i, share) in enumerate(zip(op.inputs, op_input_grads(fn, g_out))):
            if share is None:
                continue
            shares[(op.index, pos)] = share
            prev = grads.get(i)
            grads[i] = share if prev is None else prev + share
            sent.append(f"%{i}" + (" (accumulated)" if prev is not None else ""))
        caption = (f"step {len(steps) + 1}: {op.name}.backward gets grad of %{op.output} "
                   f"({S.grad_short(g_out)}) and sends shares to {', '.join(sent) or 'nothing'}")
        steps.append((op.index, dict(grads), dict(shares), caption))
    return steps


def _layout(source: str) -> Layout:
    data = json.loads(run_graphviz(source, "json0"))
    nodes = {}
    for obj in data.get("objects", []):
        if "pos" in obj:
            x, y = (float(v) for v in obj["pos"].split(","))
            nodes[obj["name"]] = (x, y, float(obj["width"]), float(obj["height"]))
    edges = {e["id"]: e["pos"] for e in data.get("edges", []) if "id" in e and "pos" in e}
    return Layout(nodes, edges)


class Frames:
    """The frames of one backward pass: DOT sources on a fixed layout, plus captions."""

    def __init__(self, sources: list[str], captions: list[str]) -> None:
        self.sources = sources
        self.captions = captions
        self._svgs: list[str] | None = None

    def __len__(self) -> int:
        return len(self.sources)

    def __repr__(self) -> str:
        return f"<minigrad.viz.Frames: {len(self)} backward steps>"

    def render(self, fmt: str) -> list[bytes]:
        return [run_graphviz(s, fmt, "neato", ("-n2",)) for s in self.sources]

    def svgs(self) -> list[str]:
        """Every frame as SVG text (needs Graphviz)."""
        if self._svgs is None:
            self._svgs = [b.decode("utf-8") for b in self.render("svg")]
        return self._svgs

    def save_svgs(self, directory: str | os.PathLike) -> list[Path]:
        """Write ``frame_000.svg``, ``frame_001.svg``... into ``directory``."""
        return [atomic_write(Path(directory) / f"frame_{k:03d}.svg", svg.encode("utf-8"))
                for k, svg in enumerate(self.svgs())]

    def save_gif(self, path: str | os.PathLike, duration_ms: int = 1000) -> Path:
        """An animated GIF (Graphviz PNGs assembled with Pillow, which matplotlib brings)."""
        from PIL import Image

        images = [Image.open(io.BytesIO(b)).convert("RGBA") for b in self.render("png")]
        width = max(im.width for im in images)
        height = max(im.height for im in images)
        frames = []
        for im in images:
            canvas = Image.new("RGBA", (width, height), "white")
            canvas.paste(im, (0, 0), im)
            frames.append(canvas.convert("P", palette=Image.Palette.ADAPTIVE))
        buf = io.BytesIO()
        frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                       duration=duration_ms, loop=0)
        return atomic_write(path, buf.getvalue())

    def html(self) -> str:
        """A slider over the SVG frames, with the caption of each step (self-contained)."""
        uid = f"mgframes{next(_html_ids)}"
        divs = "\n".join(
            f'<div class="{uid}-f" style="display:{"block" if k == 0 else "none"}">'
            f"<p><b>{html.escape(c)}</b></p>{svg[svg.find('<svg'):]}</div>"
            for k, (svg, c) in enumerate(zip(self.svgs(), self.captions)))
        return (
            f'<div id="{uid}"><input type="range" min="0" max="{len(self) - 1}" value="0" '
            f'style="width:60%" oninput="var f=document.querySelectorAll(\'.{uid}-f\');'
            f"for(var i=0;i<f.length;i++)f[i].style.display=(i==this.value)?'block':'none';"
            f"document.getElementById('{uid}-n').textContent=(+this.value+1);\"> "
            f'step <span id="{uid}-n">1</span> of {len(self)}\n{divs}</div>'
        )

    def save_html(self, path: str | os.PathLike) -> Path:
        page = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>minigrad backward pass"
                f"</title></head><body>\n{self.html()}\n</body></html>\n")
        return atomic_write(path, page.encode("utf-8"))

    def _repr_html_(self) -> str:
        return self.html()


def backward_frames(output: Tensor, params: Any = None, *, rankdir: str = "LR", max_nodes: int = 200,
                    show_legend: bool = True) -> Frames:
    """The backward pass from ``output`` as frames, one per op the walk processes.

    Each frame highlights the op running its backward, labels the edges with the gradient
    shares sent so far, and shows every tensor's gradient as accumulated so far. Call it
    before ``backward()`` (or after ``backward(retain_graph=True)``): it needs the saved values.
    """
    opts = Options("gradient", rankdir=rankdir, show_legend=show_legend)
    graph = prepare(output, params, None, opts, max_nodes, caller="backward_frames")
    if output.grad_fn is None:
        raise ValueError("backward_frames: the output has no graph (it is a leaf or was computed "
                         "without grad); there is no backward pass to show.")
    if output.data.size != 1:
        raise ValueError(f"backward_frames: the output must be a scalar (like a loss), got shape "
                         f"{output.shape}; reduce it first (e.g. .sum()).")
    if any(op.fn.freed for op in graph.ops):
        raise RuntimeError("backward_frames: the graph's saved values were freed by backward(); call "
                           "backward_frames before backward(), or use backward(retain_graph=True).")
    steps = _walk(graph, output)
    last = steps[-1]
    layout = _layout(to_dot(graph, opts, last[1], last[0], Layout({}, {}), last[2]))
    sources = [to_dot(graph, opts, grads, k, layout, shares) for k, grads, shares, _ in steps]
    return Frames(sources, [c for *_, c in steps])
