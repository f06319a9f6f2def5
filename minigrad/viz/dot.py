"""DOT text for a computation graph: what Graphviz lays out and draws.

Tensors are record boxes (name | shape dtype | data | grad), ops are ellipses. Fill
colours tell the role of each tensor (see ``ROLE_COLORS`` and the legend). In the gradient
view every arrow points backward, from the loss towards the leaves, and carries the
gradient it passed. The text depends only on the graph (numbers, never ``id()``), so the
same program always gives the same bytes.
"""

from __future__ import annotations

import html
import math
import textwrap
from dataclasses import dataclass

import numpy as np

from . import summary as S
from .graph import GraphModel, edge_grads, nan_path

ROLE_COLORS = {
    "input": "#cfe2f3",
    "parameter": "#d9ead3",
    "constant": "#eeeeee",
    "intermediate": "#ffffff",
    "output": "#fce5cd",
}
OP_COLOR = "#fff2cc"
WRAP_TB = 26  # characters per label line in top-to-bottom graphs
NAN_FILL, NAN_LINE = "#f4cccc", "#cc0000"
CURRENT_COLOR = "#ffd966"
GRAD_EDGE = "#e69138"
# Gradient-norm colour scale by decade: (upper bound of log10(norm), fill, font colour).
GRAD_SCALE = [
    (-6, "#313695", "white"), (-4, "#4575b4", "white"), (-2, "#abd9e9", "black"),
    (0, "#ffffbf", "black"), (2, "#fdae61", "black"), (4, "#f46d43", "black"),
    (math.inf, "#a50026", "white"),
]
_SCALE_NAMES = ["< 1e-6", "1e-6 .. 1e-4", "1e-4 .. 0.01", "0.01 .. 1", "1 .. 100", "100 .. 1e4", "> 1e4"]


@dataclass(frozen=True)
class Options:
    """Drawing options (see ``minigrad.viz.draw``)."""

    view: str = "forward"
    color_by_grad: bool = False
    show_saved: bool = False
    collapse_modules: bool = False
    rankdir: str = "LR"
    show_legend: bool = True


@dataclass
class Layout:
    """Fixed positions (points) for every node and edge, so frames of an animation align."""

    nodes: dict[str, tuple[float, float, float, float]]
    edges: dict[str, str]


def grad_color(norm: float) -> tuple[str, str]:
    """(fill, font colour) for a gradient norm on the decade scale; 0 counts as vanishing."""
    level = math.log10(norm) if norm > 0 else -math.inf
    for bound, fill, font in GRAD_SCALE:
        if level < bound:
            return fill, font
    return GRAD_SCALE[-1][1], GRAD_SCALE[-1][2]


def _wrap(text: str, width: int = WRAP_TB) -> str:
    """Break a long label line at spaces: top-to-bottom graphs put a layer's inputs and
    parameters side by side, so narrow boxes keep the picture readable at ~1,200 px."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text


def esc_record(text: str) -> str:
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\n")


def esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _attrs(pairs: dict[str, str]) -> str:
    """``k="v"`` pairs; labels come already escaped (record fields, ``\\n`` line breaks)."""
    def one(k: str, v: str) -> str:
        if k != "label":
            return f'{k}="{esc(v)}"'
        return f"{k}={v}" if v.startswith("<<") else f'{k}="{v}"'
    return ", ".join(one(k, v) for k, v in pairs.items())


class _Writer:
    """Builds the DOT text for one picture of a GraphModel."""

    def __init__(self, model: GraphModel, opts: Options, grads: dict[int, np.ndarray | None],
                 current: int | None = None, layout: Layout | None = None,
                 shares: dict[tuple[int, int], np.ndarray] | None = None) -> None:
        self.m, self.o, self.grads, self.current, self.layout = model, opts, grads, current, layout
        self.bad, self.path = nan_path(model, grads)
        self.shares = shares if shares is not None else (
            edge_grads(model, grads) if opts.view == "gradient" else {})
        self.hidden: dict[int, int] = {}
        self.groups: list[str] = []
        self.op_group: dict[int, int] = {}
        self.lines: list[str] = []

    # ------------------------------------------------------------------ labels
    def tensor_title(self, i: int) -> str:
        t = self.m.tensors[i]
        if t.name:
            return t.name
        if t.role == "constant":
            return f"const {S.values(t.data)}"
        return f"{t.role} %{i}"

    def grad_line(self, i: int) -> str:
        t = self.m.tensors[i]
        if not t.requires_grad:
            return "grad: none (does not require grad)"
        g = self.grads.get(i)
        if g is not None:
            return "grad: " + S.grad_values(g)
        if self.current is not None:
            return "grad: pending"
        if self.m.backward_ran and t.producer is not None:
            return "grad: not kept (call viz.trace_grads(out) before backward)"
        return "grad: not computed yet (run backward)"

    def tensor_label(self, i: int) -> str:
        t = self.m.tensors[i]
        fields = [self.tensor_title(i), f"{S.shape_str(t.data.shape)} {t.data.dtype}",
                  "data: " + S.values(t.data), self.grad_line(i)]
        if i in self.bad and i == min(self.bad):
            fields[0] += "  (first NaN/Inf)"
        if self.o.rankdir == "TB":
            fields = [_wrap(f) for f in fields]
        body = "|".join(esc_record(f) for f in fields)
        return body if self.o.rankdir == "LR" else "{" + body + "}"

    def op_label(self, k: int) -> str:
        op = self.m.ops[k]
        lines = [op.name]
        attrs = op.attrs
        plain = [f"{key}={S.attr_str(v)}" for key, v in attrs.items() if S.as_array(v) is None]
        if plain:
            lines.append(", ".join(plain))
        if self.o.rankdir == "TB":
            lines = [_wrap(x) for x in lines]
        if self.o.show_saved:
            if op.fn.freed:
                lines.append("saved: freed by backward (retain_graph=True keeps it)")
            else:
                saved = [S.attr_str(v) for v in op.fn.saved_tensors]
                saved += [f"{key}={S.attr_str(v)}" for key, v in attrs.items() if S.as_array(v) is not None]
                lines.append("saved: " + (", ".join(saved) if saved else "nothing"))
        return "\\n".join(esc(x) for x in lines)

    # ------------------------------------------------------------------ nodes
    def pos(self, name: str, attrs: dict[str, str]) -> None:
        if self.layout is not None and name in self.layout.nodes:
            x, y, w, h = self.layout.nodes[name]
            attrs.update(pos=f"{x:.2f},{y:.2f}!", width=f"{w:.4f}", height=f"{h:.4f}", fixedsize="true")

    def tensor_node(self, i: int) -> str:
        t = self.m.tensors[i]
        a = {"label": self.tensor_label(i), "shape": "record", "style": "filled",
             "fillcolor": ROLE_COLORS[t.role]}
        g = self.grads.get(i)
        if self.o.color_by_grad and g is not None:
            a["fillcolor"], a["fontcolor"] = grad_color(S.norm(g))
        if i in self.bad:
            a.update(fillcolor=NAN_FILL, color=NAN_LINE, penwidth="2")
        if self.current is not None and i == self.m.ops[self.current].output:
            a["penwidth"] = "3"
        self.pos(f"t{i}", a)
        return f"  t{i} [{_attrs(a)}];"

    def op_node(self, k: int) -> str:
        a = {"label": self.op_label(k), "shape": "ellipse", "style": "filled", "fillcolor": OP_COLOR}
        if self.current == k:
            a.update(fillcolor=CURRENT_COLOR, penwidth="3")
        self.pos(f"op{k}", a)
        return f"  op{k} [{_attrs(a)}];"

    def module_node(self, g: int, path: str) -> str:
        kind = self.m.modules.get(path, "Module")
        lines = [f"{path} ({kind})"]
        for t in self.m.tensors:
            if self.hidden.get(t.index) == g and t.role == "parameter":
                name = (t.name or "").rpartition(".")[2]
                grad = self.grads.get(t.index)
                extra = f", grad {S.grad_short(grad)}" if grad is not None else ""
                lines.append(f"{name} {S.shape_str(t.data.shape)}{extra}")
        a = {"label": "\\n".join(esc(x) for x in lines), "shape": "box3d", "style": "filled",
             "fillcolor": ROLE_COLORS["parameter"]}
        self.pos(f"m{g}", a)
        return f"  m{g} [{_attrs(a)}];"

    # ------------------------------------------------------------------ edges
    def edge(self, src: str, dst: str, eid: str, grad: np.ndarray | None, on_path: bool,
             carries_grad: bool = True) -> str:
        a: dict[str, str] = {}
        if self.o.view == "gradient" and not carries_grad:
            a.update(dir="none", style="dashed", color="#999999")
        elif self.o.view == "gradient":
            a.update(dir="back", color=GRAD_EDGE, fontcolor=GRAD_EDGE)
            if grad is not None:
                a["label"] = S.grad_short(grad)
        if on_path:
            a.update(penwidth="3", color=NAN_LINE)
        if self.layout is not None:
            a["id"] = eid
            if eid in self.layout.edges:
                a["pos"] = self.layout.edges[eid]
        return f"  {src} -> {dst}" + (f" [{_attrs(a)}];" if a else ";")

    # ------------------------------------------------------------------ collapse / clusters
    def collapse(self) -> None:
        """Hide each top-level submodule's ops, parameters and inner tensors behind one node."""
        uses = self.m.consumers()
        top = {op.index: op.module.split(".")[0] for op in self.m.ops if op.module}
        for t in self.m.tensors:
            if t.role == "parameter" and t.module:
                top_t = t.module.split(".")[0]
                if top_t not in self.groups:
                    self.groups.append(top_t)
        for k in sorted(top):
            if top[k] not in self.groups:
                self.groups.append(top[k])
        self.groups.sort(key=lambda p: min([k for k, q in top.items() if q == p] or [10**9]))
        gid = {p: g for g, p in enumerate(self.groups)}
        self.op_group = {k: gid[p] for k, p in top.items()}
        for t in self.m.tensors:
            if t.role == "parameter" and t.module and t.module.split(".")[0] in gid:
                if all(self.op_group.get(k) == gid[t.module.split(".")[0]] for k, _ in uses[t.index]):
                    self.hidden[t.index] = gid[t.module.split(".")[0]]
            elif t.producer is not None and t.producer in self.op_group and t.index != self.m.root:
                g = self.op_group[t.producer]
                if uses[t.index] and all(self.op_group.get(k) == g for k, _ in uses[t.index]):
                    self.hidden[t.index] = g

    def write(self) -> str:
        o, m = self.o, self.m
        if o.collapse_modules:
            self.collapse()
        out = self.lines
        out.append("digraph minigrad {")
        out.append(f'  graph [rankdir={o.rankdir}, fontname="Helvetica", nodesep=0.3, ranksep=0.4];')
        out.append('  node [fontname="Helvetica", fontsize=10];')
        out.append('  edge [fontname="Helvetica", fontsize=9];')
        clusters: dict[str, list[str]] = {}
        for t in m.tensors:
            if t.index in self.hidden:
                continue
            line = self.tensor_node(t.index)
            mod = None if o.collapse_modules else t.module if t.role != "output" else None
            clusters.setdefault(mod or "", []).append(line)
        for g, path in enumerate(self.groups):
            clusters.setdefault("", []).append(self.module_node(g, path))
        for op in m.ops:
            if op.index in self.op_group:
                continue
            clusters.setdefault("" if o.collapse_modules else op.module or "", []).append(
                self.op_node(op.index))
        out.extend(clusters.pop("", []))
        for n, (path, lines) in enumerate(clusters.items()):
            kind = m.modules.get(path, "Module")
            out.append(f"  subgraph cluster_{n} {{")
            out.append(f'    label="{esc(path)} ({kind})"; style="rounded,dashed"; color="#999999";')
            out.extend("  " + x for x in lines)
            out.append("  }")
        self.write_edges()
        if o.show_legend:
            out.append(self.legend())
        out.append("}")
        return "\n".join(out) + "\n"

    def write_edges(self) -> None:
        m, seen, n = self.m, set(), 0
        for op in m.ops:
            g = self.op_group.get(op.index)
            dst = f"op{op.index}" if g is None else f"m{g}"
            for pos, i in enumerate(op.inputs):
                if i in self.hidden:
                    continue
                if g is not None and (i, g) in seen:
                    continue
                seen.add((i, g))
                on_path = i in self.path and op.output in self.path
                self.lines.append(self.edge(f"t{i}", dst, f"e{n}", self.shares.get((op.index, pos)), on_path,
                                            m.tensors[i].requires_grad))
                n += 1
            if op.output not in self.hidden:
                on_path = op.output in self.path and any(i in self.path for i in op.inputs)
                src = dst
                self.lines.append(self.edge(src, f"t{op.output}", f"e{n}", self.grads.get(op.output),
                                            on_path))
                n += 1

    def legend(self) -> str:
        rows = ['<TR><TD><B>legend</B></TD></TR>']
        if self.o.color_by_grad:
            rows.append("<TR><TD>gradient norm</TD></TR>")
            for (_, fill, font), name in zip(GRAD_SCALE, _SCALE_NAMES):
                cell = f'<FONT COLOR="{font}">{html.escape(name)}</FONT>'
                rows.append(f'<TR><TD BGCOLOR="{fill}">{cell}</TD></TR>')
        for role, color in ROLE_COLORS.items():
            rows.append(f'<TR><TD BGCOLOR="{color}">{role}</TD></TR>')
        rows.append(f'<TR><TD BGCOLOR="{OP_COLOR}">op</TD></TR>')
        if self.bad:
            rows.append(f'<TR><TD BGCOLOR="{NAN_FILL}"><FONT COLOR="{NAN_LINE}">NaN / Inf</FONT></TD></TR>')
        if self.current is not None:
            rows.append(f'<TR><TD BGCOLOR="{CURRENT_COLOR}">running backward</TD></TR>')
        table = ('<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
                 + "".join(rows) + "</TABLE>>")
        a = {"shape": "plaintext", "label": table}
        self.pos("legend", a)
        return f"  legend [{_attrs(a)}];"


def to_dot(model: GraphModel, opts: Options, grads: dict[int, np.ndarray | None] | None = None,
           current: int | None = None, layout: Layout | None = None,
           shares: dict[tuple[int, int], np.ndarray] | None = None) -> str:
    """DOT text for ``model``; ``grads``/``current``/``shares``/``layout`` are for frames."""
    from .graph import tensor_grads

    grads = tensor_grads(model) if grads is None else grads
    return _Writer(model, opts, grads, current, layout, shares).write()


def count_nodes(model: GraphModel, opts: Options) -> int:
    """How many boxes and ellipses the picture would have (for the ``max_nodes`` guard)."""
    w = _Writer(model, opts, {}, shares={})
    if opts.collapse_modules:
        w.collapse()
    return len(model.tensors) - len(w.hidden) + len(model.ops) - len(w.op_group) + len(w.groups)
