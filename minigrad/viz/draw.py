"""``draw(output)``: the picture of the computation graph behind a tensor."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .dot import Options, count_nodes, to_dot
from .graph import GraphModel, build
from .record import module_map, was_recorded
from .render import Graph

VIEWS = ("forward", "gradient")


def prepare(output: Tensor, params: Any, model: Any, opts: Options, max_nodes: int,
            caller: str = "draw") -> GraphModel:
    """Check the options, extract the graph and apply the ``max_nodes`` guard."""
    if opts.view not in VIEWS:
        raise ValueError(f"{caller}: view must be 'forward' or 'gradient', got {opts.view!r}")
    if opts.rankdir not in ("LR", "TB"):
        raise ValueError(f"{caller}: rankdir must be 'LR' (left to right) or 'TB' (top to bottom), "
                         f"got {opts.rankdir!r}")
    if opts.collapse_modules and model is None:
        raise ValueError(f"{caller}: collapse_modules=True needs model=...: run the forward pass inside "
                         f"`with viz.record_modules(model):` and pass the same model.")
    if model is not None and not was_recorded(model):
        raise ValueError(f"{caller}: model={type(model).__name__} was not recorded; run the forward "
                         f"pass inside `with viz.record_modules(model):` so ops can be grouped by module.")
    if params is None and model is not None:
        params = model
    graph = build(output, params, module_map(model) if model is not None else None)
    owner = model if model is not None else params
    if hasattr(owner, "named_modules"):
        graph.modules = {path: type(m).__name__ for path, m in owner.named_modules() if path}
    n = count_nodes(graph, opts)
    if n > max_nodes:
        hint = ("" if opts.collapse_modules else
                " Pass collapse_modules=True with model=... (forward run under viz.record_modules(model))"
                " to draw each submodule as one box, or")
        raise ValueError(f"{caller}: the graph has {n} nodes, more than max_nodes={max_nodes}; a picture "
                         f"that big is unreadable.{hint} draw a smaller part (e.g. one layer's output), "
                         f"or raise max_nodes.")
    return graph


def draw(output: Tensor, params: Any = None, *, view: str = "forward", color_by_grad: bool = False,
         show_saved: bool = False, collapse_modules: bool = False, model: Any = None,
         max_nodes: int = 500, rankdir: str = "LR", show_legend: bool = True) -> Graph:
    """Draw the computation graph that produced ``output``.

    Tensors are record boxes (name, shape and dtype, a summary of the values, and of the
    gradient once backward has run); ops are ellipses. ``params`` (a Module or a dict
    name -> tensor) names the parameters. ``view='gradient'`` reverses the arrows and labels
    each with the gradient it carried; ``color_by_grad`` colours tensors by gradient norm on
    a log scale; ``show_saved`` lists what each op kept for backward; ``model`` (recorded with
    ``record_modules``) groups ops by module, and ``collapse_modules`` draws each top-level
    submodule as one box. Tensors holding NaN/Inf are red, with the path from the first one
    to the output in bold. Intermediate gradients show only if kept: see ``trace_grads``.
    """
    opts = Options(view, color_by_grad, show_saved, collapse_modules, rankdir, show_legend)
    graph = prepare(output, params, model, opts, max_nodes)
    return Graph(to_dot(graph, opts))
