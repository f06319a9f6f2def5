"""Optimizer: the base class every update rule shares.

An optimizer holds *param groups* (lists of parameters, each with its own ``lr`` and
options) and a per-parameter ``state`` (momentum buffers, running averages, step
counters) created lazily the first time ``step()`` sees a gradient for that parameter.
Subclasses only write ``step()``: gather the tensors that have gradients, then call a
module-level function that does the maths on plain numpy arrays, in place.

``state_dict()`` uses PyTorch's layout, with parameters replaced by their position::

    {'state': {0: {'step': 3, 'exp_avg': array, ...}, ...},
     'param_groups': [{'lr': 0.001, ..., 'params': [0, 1]}, ...]}
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor


def _check_non_negative(owner: str, name: str, value: float) -> None:
    """Raise ``ValueError`` naming the optimizer unless ``value >= 0``."""
    if not value >= 0.0:
        raise ValueError(f"{owner}: invalid {name} {value!r}; it must be >= 0")


class Optimizer:
    """Base class: param groups, lazy per-parameter state, zero_grad and (de)serialisation.

    ``params`` is an iterable of Tensors, or of dicts ``{'params': [...], 'lr': ...}``
    whose keys override ``defaults`` for that group.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params must be an iterable of Tensors or dicts, got a single "
                            "Tensor; wrap it in a list: [p]")
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if len(groups) == 0:
            raise ValueError(f"{name} got an empty parameter list; pass model.parameters() of a model "
                             "that has parameters")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"

    # ------------------------------------------------------------------ groups
    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check a group's hyperparameters; subclasses raise ``ValueError`` on bad values."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (e.g. a newly unfrozen layer) with its own options."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group expects a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if isinstance(param_group["params"], set):
            raise TypeError(f"{name}: parameters must be an ordered collection (list), not a set")
        seen: set[int] = set()
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, got {type(p).__name__}")
            if p.dtype.kind != "f":
                raise ValueError(f"{name} can only optimize floating-point tensors, got dtype {p.dtype}")
            if not p.is_leaf:
                raise ValueError(f"{name} can't optimize a non-leaf Tensor (one computed from others); "
                                 "optimize the leaf it came from, or .detach() it")
            if id(p) in seen:
                raise ValueError(f"{name}: a parameter appears twice in the same group "
                                 f"(shape {p.shape}); pass each parameter once")
            seen.add(id(p))
        in_groups = {id(p) for g in self.param_groups for p in g["params"]}
        if seen & in_groups:
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group = {k: v for k, v in param_group.items() if k != "params"}
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate_group(group)
        group["params"] = params
        self.param_groups.append(group)

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set ``.grad`` to None (default) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad.data.fill(0)

    def _closure_loss(self, closure: Callable[[], Any] | None) -> Any:
        """Call ``closure`` with grad enabled (it usually recomputes the loss and backward)."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement step()")

    # ------------------------------------------------------------------ state_dict
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain data (arrays, numbers); parameters become indices."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            saved = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            saved["params"] = ids
            groups.append(saved)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``; checks group count and sizes before changing anything."""
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the saved state has {len(saved_groups)} parameter "
                             f"groups but this optimizer has {len(self.param_groups)}")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has {len(group['params'])} "
                                 f"parameters but the saved group has {len(saved['params'])}")
        by_index = {}
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            for idx, p in zip(saved["params"], group["params"], strict=True):
                by_index[int(idx)] = p
        new_state: dict[Tensor, dict[str, Any]] = {}
        for idx, values in state_dict["state"].items():
            p = by_index.get(int(idx))
            if p is None:
                raise ValueError(f"{name}.load_state_dict: saved state for parameter index {idx}, "
                                 "which no parameter group refers to")
            restored = {}
            for key, value in values.items():
                if isinstance(value, np.ndarray) and key == "step":
                    value = value.item()
                elif isinstance(value, np.ndarray):
                    if value.shape != p.shape:
                        raise ValueError(f"{name}.load_state_dict: state '{key}' of parameter {idx} has "
                                         f"shape {value.shape} but the parameter has shape {p.shape}")
                    value = value.astype(p.dtype, copy=True)
                restored[key] = value
            new_state[p] = restored
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            new_group = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            new_group["params"] = group["params"]
            new_groups.append(new_group)
        self.state = new_state
        self.param_groups = new_groups
