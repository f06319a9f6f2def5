"""Recording helpers used before backward / during forward, so the picture can show more.

* ``trace_grads(out)`` keeps the gradient of every intermediate tensor (``retain_grad``),
  which backward otherwise throws away: the drawing can then show them.
* ``record_modules(model)`` remembers which submodule produced which ops (via forward
  hooks), so ``draw(..., model=model)`` can group them into clusters or collapse them.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..autograd.engine import topological_order
from ..tensor import Tensor

_RECORDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def trace_grads(output: Tensor) -> Tensor:
    """Call ``retain_grad()`` on every intermediate tensor behind ``output`` (and on it), so
    that after ``output.backward()`` each one has ``.grad`` and ``draw`` shows it.
    Returns ``output`` for chaining: ``loss = viz.trace_grads(model(x))``."""
    if output.grad_fn is None:
        return output
    for fn in topological_order([output.grad_fn]):
        out = fn.out_ref()
        if out is not None:
            out.retain_grad()
    return output


def _tensors(value: Any) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, tuple | list):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


@contextmanager
def record_modules(model: Any) -> Iterator[None]:
    """Within this block, note for every op which (innermost) submodule of ``model`` made it.

    A forward hook on each submodule walks back from the module's outputs to its inputs;
    inner modules finish first, so the innermost name wins. ``draw(out, model=model)`` then
    draws one cluster per module, and ``collapse_modules=True`` one box per top-level child.
    """
    owner: dict[int, tuple[weakref.ref, str]] = {}
    inputs: dict[int, list[set[int]]] = {}
    handles = []

    def pre(module: Any, args: tuple) -> None:
        inputs.setdefault(id(module), []).append({id(t) for t in _tensors(args)})

    def post_for(path: str) -> Any:
        def post(module: Any, args: tuple, output: Any) -> None:
            stop = inputs[id(module)].pop()
            stack = [t.grad_fn for t in _tensors(output) if t.grad_fn is not None and id(t) not in stop]
            seen: set[int] = set()
            while stack:
                fn = stack.pop()
                if id(fn) in seen:
                    continue
                seen.add(id(fn))
                owner.setdefault(id(fn), (weakref.ref(fn), path))
                stack.extend(t.grad_fn for t in fn.inputs if t.grad_fn is not None and id(t) not in stop)
        return post

    _RECORDS[model] = owner
    for path, module in model.named_modules():
        if path:
            handles.append(module.register_forward_pre_hook(pre))
            handles.append(module.register_forward_hook(post_for(path)))
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def module_map(model: Any) -> dict[int, str]:
    """``id(fn) -> module path`` for the ops recorded by ``record_modules(model)``."""
    rec = _RECORDS.get(model, {})
    return {key: path for key, (ref, path) in rec.items() if ref() is not None and id(ref()) == key}


def was_recorded(model: Any) -> bool:
    return model in _RECORDS
