"""``to_text(output)``: the graph as a listing, one line per op, like a jaxpr.

    %0: input (4, 3) float32
    %1: w (2, 3) float32  [parameter]
    %2 = Permute(%1: (2, 3)) dims=(1, 0) -> (3, 2) float32
    %3 = MatMul(%0: (4, 3), %2: (3, 2)) -> (4, 2) float32

Needs no Graphviz: it is for terminals, logs and tests.
"""

from __future__ import annotations

from ..tensor import Tensor
from . import summary as S
from .graph import build


def to_text(output: Tensor, params: object = None, values: bool = False) -> str:
    """One line per leaf and per op in creation order; ``values=True`` adds value summaries
    and gradients (where computed)."""
    g = build(output, params)
    lines = []
    for t in g.tensors:
        desc = f"{S.shape_str(t.data.shape)} {t.data.dtype}"
        extra = f"  # {S.values(t.data)}" + (f", grad {S.grad_short(t.grad)}" if t.grad is not None else "")
        extra = extra if values else ""
        if t.producer is None:
            name = f" {t.name}" if t.name else ""
            lines.append(f"%{t.index}:{name} {desc}  [{t.role}]{extra}")
            continue
        op = g.ops[t.producer]
        args = ", ".join(f"%{i}: {S.shape_str(g.tensors[i].data.shape)}" for i in op.inputs)
        attrs = " ".join(f"{k}={S.attr_str(v)}" for k, v in op.attrs.items())
        tail = f"  ({t.name})" if t.name else ""
        if t.index == g.root:
            tail += "  [output]"
        lines.append(f"%{t.index} = {op.name}({args}){' ' + attrs if attrs else ''} -> {desc}{tail}{extra}")
    return "\n".join(lines) + "\n"
