"""Graph extraction: turn the autograd graph behind a tensor into plain, numbered nodes.

The recorded graph is made of ``grad_fn`` nodes (``autograd.function.Node``) whose
``.inputs`` are Tensors. For drawing we want two kinds of node, as in a textbook picture:

* **tensor nodes**: the values (leaves such as inputs and parameters, and each op's output);
* **op nodes**: the operations, with one edge per input position (``a + a`` has two edges).

Numbering is relative to the drawn graph, never a global id or ``id()``: ops are visited in
creation order (``Node.seq``), and each op first numbers the inputs not seen yet, then
its output. The same program therefore always gives the same numbers and the same DOT text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd.engine import topological_order
from ..autograd.function import Node
from ..tensor import Tensor


@dataclass
class TensorNode:
    """One value in the picture: a leaf or the output of an op."""

    index: int
    tensor: Tensor | None
    data: np.ndarray
    role: str
    name: str | None
    requires_grad: bool
    producer: int | None = None
    module: str | None = None

    @property
    def grad(self) -> np.ndarray | None:
        g = None if self.tensor is None else self.tensor.grad
        return None if g is None else g.data


@dataclass
class OpNode:
    """One recorded operation, with its inputs (in order, repeats kept) and its output."""

    index: int
    fn: Node
    inputs: list[int]
    output: int
    module: str | None = None

    @property
    def name(self) -> str:
        return self.fn.name

    @property
    def attrs(self) -> dict[str, Any]:
        """Per-op settings set in forward (``dim``, ``keepdim``...), arrays shown by shape."""
        return dict(sorted(self.fn.attrs.items()))


@dataclass
class GraphModel:
    """The drawn graph: tensor nodes, op nodes, and what the caller told us about names."""

    tensors: list[TensorNode]
    ops: list[OpNode]
    root: int
    backward_ran: bool
    modules: dict[str, str] = field(default_factory=dict)

    def consumers(self) -> dict[int, list[tuple[int, int]]]:
        """tensor index -> [(op index, input position)], one entry per use."""
        uses: dict[int, list[tuple[int, int]]] = {t.index: [] for t in self.tensors}
        for op in self.ops:
            for pos, t in enumerate(op.inputs):
                uses[t].append((op.index, pos))
        return uses


def param_names(params: Any) -> dict[int, str]:
    """``id(tensor) -> name`` from a Module (``named_parameters``) or a ``{name: tensor}`` dict."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        items = list(params.named_parameters())
    elif isinstance(params, Mapping):
        items = list(params.items())
    else:
        raise TypeError(
            f"draw: params must be an nn.Module or a dict name -> tensor, got {type(params).__name__}"
        )
    return {id(t): name for name, t in items}


def _leaf_role(t: Tensor, names: dict[int, str]) -> str:
    from ..nn.parameter import Parameter

    if id(t) in names or isinstance(t, Parameter):
        return "parameter"
    if not t.requires_grad and t.label is None and t.data.size == 1:
        return "constant"
    return "input"


def build(output: Tensor, params: Any = None, module_of: dict[int, str] | None = None) -> GraphModel:
    """Walk back from ``output`` and number every tensor and op reachable from it."""
    if not isinstance(output, Tensor):
        raise TypeError(f"draw: expected the output Tensor, got {type(output).__name__}")
    names = param_names(params)
    module_of = module_of or {}
    fns = sorted(topological_order([output.grad_fn]) if output.grad_fn is not None else [],
                 key=lambda f: f.seq)
    tensors: list[TensorNode] = []
    ops: list[OpNode] = []
    leaf_index: dict[int, int] = {}
    out_index: dict[int, int] = {}

    def leaf(t: Tensor) -> int:
        if id(t) not in leaf_index:
            leaf_index[id(t)] = len(tensors)
            role = _leaf_role(t, names)
            name = names.get(id(t), t.label)
            module = names[id(t)].rpartition(".")[0] if id(t) in names else None
            tensors.append(TensorNode(len(tensors), t, t.data, role, name, t.requires_grad,
                                      module=module or None))
        return leaf_index[id(t)]

    for fn in fns:
        inputs = [out_index[id(t.grad_fn)] if t.grad_fn is not None else leaf(t) for t in fn.inputs]
        out = fn.out_ref()
        idx = len(tensors)
        out_index[id(fn)] = idx
        tensors.append(TensorNode(idx, out, fn.out_data if out is None else out.data, "intermediate",
                                  None if out is None else out.label, True, producer=len(ops),
                                  module=module_of.get(id(fn))))
        ops.append(OpNode(len(ops), fn, inputs, idx, module=module_of.get(id(fn))))
    if output.grad_fn is None:
        root = leaf(output)
    else:
        root = out_index[id(output.grad_fn)]
    tensors[root].role = "output"
    if tensors[root].tensor is None:
        tensors[root].tensor = output
    backward_ran = any(op.fn.freed for op in ops) or any(
        t.tensor is not None and t.tensor.grad is not None for t in tensors)
    return GraphModel(tensors, ops, root, backward_ran)


def has_nonfinite(a: np.ndarray | None) -> bool:
    return isinstance(a, np.ndarray | np.generic) and a.dtype.kind in "fc" and not bool(np.isfinite(a).all())


def nan_path(model: GraphModel, grads: dict[int, np.ndarray | None]) -> tuple[set[int], set[int]]:
    """Tensor nodes holding NaN/Inf (value or gradient), and the tensor nodes on the way from
    the first of them (lowest number = created first) to the output."""
    bad = {t.index for t in model.tensors if has_nonfinite(t.data) or has_nonfinite(grads.get(t.index))}
    if not bad:
        return bad, set()
    first = min(bad)
    reach = {first}
    for op in model.ops:
        if any(i in reach for i in op.inputs):
            reach.add(op.output)
    return bad, reach


def tensor_grads(model: GraphModel) -> dict[int, np.ndarray | None]:
    """tensor index -> its ``.grad`` array (None where it was not computed or not kept)."""
    return {t.index: t.grad for t in model.tensors}


def op_input_grads(fn: Node, grad: np.ndarray) -> list[np.ndarray | None]:
    """What ``fn``'s backward sends to each input for the output gradient ``grad``: the
    engine's own ``node_step`` (hooks, backward, fitted to each input's shape and dtype);
    None where the input needs no grad."""
    from ..autograd.engine import node_step
    from ..autograd.grad_mode import no_grad

    with no_grad():
        _, shares = node_step(fn, Tensor.make(grad))
    return [None if g is None else g.data for g in shares]


def edge_grads(model: GraphModel, grads: dict[int, np.ndarray | None]) -> dict[tuple[int, int], np.ndarray]:
    """(op index, input position) -> the gradient that edge carried backward.

    Recomputed from the op's backward when its saved values are still there (graph kept
    with ``retain_graph=True``); otherwise known only for an input used once, whose whole
    gradient came through that one edge.
    """
    uses = model.consumers()
    out: dict[tuple[int, int], np.ndarray] = {}
    for op in model.ops:
        g_out = grads.get(op.output)
        shares = op_input_grads(op.fn, g_out) if g_out is not None and not op.fn.freed else None
        for pos, t in enumerate(op.inputs):
            if shares is not None and shares[pos] is not None:
                out[(op.index, pos)] = shares[pos]
            elif shares is None and len(uses[t]) == 1 and grads.get(t) is not None:
                out[(op.index, pos)] = grads[t]
    return out
