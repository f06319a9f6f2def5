"""Optimizer: the base class every update rule shares.

An optimizer holds *param groups* (lists of parameters, each with its own ``lr`` and
options) and a per-parameter ``state`` (momentum buffers, running averages, step
counters) created lazily the first time ``step()`` sees a gradient for that parameter.
A subclass gives its hyperparameter checks (``_validate_group``), its fresh state
(``_init_state``), the state arrays its update reads (``_state_arrays``) and the update
itself (``_update``: a call to ``minigrad.kernels.optim`` on plain numpy arrays, in place).

``step()`` first checks every gradient and state array against its parameter (same shape
and dtype: the fused kernels index them all with the parameter's flat index, so a smaller
one would be read past its end), then updates: a bad array raises and changes nothing.

``state_dict()`` uses PyTorch's layout, with parameters replaced by their position::

    {'state': {0: {'step': 3, 'exp_avg': array, ...}, ...},
     'param_groups': [{'lr': 0.001, ..., 'params': [0, 1]}, ...]}

``load_state_dict()`` checks a saved state with the constructor's own validator and the
step-time array checks, and assigns nothing unless all of it is valid.
"""

from __future__ import annotations

import copy
import functools
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor
from ..trace import TRACE


def _check_non_negative(owner: str, name: str, value: Any) -> None:
    """Raise ``ValueError`` naming the optimizer unless ``value`` is a real number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0.0:
        raise ValueError(f"{owner}: invalid {name} {value!r}; it must be a number >= 0")


def _check_real(owner: str, name: str, value: Any) -> None:
    """Raise ``ValueError`` naming the optimizer unless ``value`` is a real number (not nan)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        raise ValueError(f"{owner}: invalid {name} {value!r}; it must be a number")


def _check_flag(owner: str, name: str, value: Any) -> None:
    """Raise ``ValueError`` unless ``value`` is True or False."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{owner}: {name} must be True or False, got {value!r}")


def _check_implementation(owner: str, foreach: bool | None, fused: bool | None) -> None:
    """``foreach`` and ``fused`` pick one of PyTorch's implementations of the same maths;
    minigrad has one (a fused Numba kernel, or numpy), so it accepts and ignores them, but
    refuses both at once as PyTorch does."""
    if foreach and fused:
        raise RuntimeError(f"{owner}: `fused` and `foreach` cannot be `True` together.")


def check_grad(owner: str, p: Tensor, where: Callable[[], str]) -> np.ndarray | None:
    """``p.grad.data``, or None without a gradient, after checking that it fits ``p``.

    ``Tensor.grad``'s setter refuses a wrong gradient, but ``p.grad.data = ...`` or
    ``p.data = ...`` get around it; the fused kernels would then read past the end of the
    smaller array. Raises ``RuntimeError`` naming ``owner`` and ``where()`` (the parameter,
    described only when there is an error).
    """
    grad = p.grad
    if grad is None:
        return None
    g = grad.data if isinstance(grad, Tensor) else grad
    if not isinstance(g, np.ndarray):
        raise RuntimeError(f"{owner}: the gradient of {where()} must be a Tensor holding a numpy array, "
                           f"got {type(grad).__name__} holding {type(g).__name__}")
    if g.shape != p.data.shape or g.dtype != p.data.dtype:
        raise RuntimeError(f"{owner}: the gradient of {where()} has shape {g.shape} and dtype {g.dtype} but "
                           f"the parameter has shape {p.shape} and dtype {p.dtype}; a gradient must match "
                           "its parameter (were .grad.data or .data replaced?)")
    return g


def _as_step(value: Any) -> int | None:
    """``value`` as a step count (an integer >= 0; a whole-number float, e.g. PyTorch's
    ``tensor(3.)``, is accepted), or None when it is not one."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.ndarray):
        if value.shape != () or value.dtype.kind not in "iuf":
            return None
        value = value.item()
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return None
    if isinstance(value, numbers.Integral):
        value = int(value)
    elif not (np.isfinite(value) and float(value).is_integer()):
        return None
    value = int(value)
    return value if value >= 0 else None


def _advance_step(state: dict[str, Any]) -> int:
    """Add one to ``state['step']`` (already checked to be a step count) and return it."""
    step = state["step"]
    state["step"] = step = (step if type(step) is int else _as_step(step)) + 1
    return step


class Optimizer:
    """Base class: param groups, lazy per-parameter state, checks, zero_grad and (de)serialisation.

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

    # ------------------------------------------------------------------ what subclasses give
    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check a group's hyperparameters; subclasses raise ``ValueError`` on bad values."""

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The state of a parameter seen with a gradient for the first time."""
        return {}

    def _state_arrays(self, group: dict[str, Any]) -> tuple[str, ...]:
        """Names of the state arrays the update reads for a parameter of ``group``."""
        return ()

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[np.ndarray],
                states: list[dict[str, Any]]) -> None:
        """Update ``params`` (all with a gradient, all checked) and their ``states`` in place."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update()")

    _counts_steps = True  # whether the state holds a 'step' counter

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass's own ``step`` (a learner's optimizer) reports to capture as the base
        class's does, so a captured training step replays it instead of skipping it."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("step")
        if own is None:
            return

        @functools.wraps(own)
        def step(self: Optimizer, closure: Callable[[], Any] | None = None) -> Any:
            def run(c: Callable[[], Any] | None) -> Any:
                return own(self) if c is None else own(self, c)

            if TRACE.recorder is not None:
                return TRACE.recorder.optimizer_step(self, closure, run)
            return run(closure)

        cls.step = step

    # ------------------------------------------------------------------ groups
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

    def _state_problem(self, p: Tensor, state: Any, group: dict[str, Any]) -> str | None:
        """What is wrong with ``state`` for parameter ``p`` of ``group``, or None: every array in
        it must have the parameter's shape and dtype, the arrays the update reads must be
        there, and so must ``step`` (an integer >= 0) where the state counts steps."""
        if not isinstance(state, dict):
            return f"its state must be a dict, got {type(state).__name__}"
        shape, dtype = p.data.shape, p.data.dtype
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                if value.shape != shape:
                    return f"state '{key}' has shape {value.shape} but the parameter has shape {shape}"
                if value.dtype != dtype:
                    return f"state '{key}' has dtype {value.dtype} but the parameter has dtype {dtype}"
                if not value.flags.writeable:
                    return f"state '{key}' is a read-only array"
        for key in self._state_arrays(group):
            if not isinstance(state.get(key), np.ndarray):
                return (f"state '{key}' must be a numpy array, got {type(state.get(key)).__name__} (was the "
                        "state made with other options?)")
        if self._counts_steps:
            step = state.get("step")
            if not (type(step) is int and step >= 0) and _as_step(step) is None:
                return f"state 'step' is {step!r}; it must be an integer >= 0"
        return None

    def _params_with_grad(self, index: int, group: dict[str, Any]
                          ) -> tuple[list[Tensor], list[np.ndarray], list[dict[str, Any] | None]]:
        """The parameters of group ``index`` that have a gradient, their gradient arrays and
        their states (None before the first step), after checking them (``RuntimeError``
        naming the parameter)."""
        owner = f"{type(self).__name__}.step"
        params, grads, states = [], [], []
        for k, p in enumerate(group["params"]):
            def where(k: int = k, p: Tensor = p) -> str:
                return f"parameter {k} of group {index} (shape {getattr(p.data, 'shape', None)})"

            data = p.data
            if not isinstance(data, np.ndarray) or data.dtype.kind != "f" or not data.flags.writeable:
                raise RuntimeError(f"{owner}: the data of {where()} must be a writable floating-point numpy "
                                   f"array, got {type(data).__name__} {getattr(data, 'dtype', '')}"
                                   + (" (read-only)" if isinstance(data, np.ndarray) else ""))
            g = check_grad(owner, p, where)
            if g is None:
                continue
            state = self.state.get(p)
            if state is not None:
                problem = self._state_problem(p, state, group)
                if problem is not None:
                    raise RuntimeError(f"{owner}: {where()}: {problem}")
            params.append(p)
            grads.append(g)
            states.append(state)
        return params, grads, states

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss.

        All gradients and states are checked before the first parameter changes.
        """
        if TRACE.recorder is not None:
            return TRACE.recorder.optimizer_step(self, closure, self._step)
        return self._step(closure)

    def _step(self, closure: Callable[[], Any] | None) -> Any:
        loss = self._closure_loss(closure)
        with no_grad():
            work = [(group, *self._params_with_grad(i, group)) for i, group in enumerate(self.param_groups)]
            for group, params, grads, states in work:
                if not params:
                    continue
                for k, p in enumerate(params):
                    if states[k] is None:
                        states[k] = self.state[p] = self._init_state(p, group)
                self._update(group, params, grads, states)
        return loss

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

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()``.

        The saved groups go through the constructor's validator and the saved states through
        ``step()``'s checks (arrays cast to the parameter's dtype, as PyTorch does); on any
        problem this raises ``ValueError`` and the optimizer is left as it was.
        """
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{name} expects a dict with 'state' and 'param_groups', got "
                            f"{type(state_dict).__name__}")
        missing = [key for key in ("state", "param_groups") if key not in state_dict]
        if missing:
            raise ValueError(f"{name}: the saved state has no {' or '.join(map(repr, missing))} entry; "
                             "pass what optimizer.state_dict() returned")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not (isinstance(saved_groups, list | tuple) and all(isinstance(g, Mapping) for g in saved_groups)):
            raise ValueError(f"{name}: 'param_groups' must be a list of dicts")
        if not isinstance(saved_state, Mapping):
            raise ValueError(f"{name}: 'state' must be a dict, got {type(saved_state).__name__}")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}: the saved state has {len(saved_groups)} parameter "
                             f"groups but this optimizer has {len(self.param_groups)}")
        by_index: dict[int, tuple[Tensor, dict[str, Any]]] = {}
        new_groups = []
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            ids = saved.get("params")
            if not isinstance(ids, list | tuple) or not all(_is_index(j) for j in ids):
                raise ValueError(f"{name}: parameter group {i} must list its parameters as integer "
                                 f"indices under 'params', got {ids!r}")
            if len(ids) != len(group["params"]):
                raise ValueError(f"{name}: parameter group {i} has {len(group['params'])} "
                                 f"parameters but the saved group has {len(ids)}")
            new_group = {**self.defaults,
                         **{k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}}
            if isinstance(new_group.get("betas"), list):
                new_group["betas"] = tuple(new_group["betas"])
            try:
                self._validate_group(new_group)
            except (ValueError, TypeError) as e:
                raise ValueError(f"{name}: parameter group {i}: {e}") from e
            new_group["params"] = group["params"]
            new_groups.append(new_group)
            for j, p in zip(ids, group["params"], strict=True):
                if int(j) in by_index:
                    raise ValueError(f"{name}: parameter index {j} appears twice in the saved groups")
                by_index[int(j)] = (p, new_group)
        new_state: dict[Tensor, dict[str, Any]] = {}
        for idx, values in saved_state.items():
            if not _is_index(idx) or int(idx) not in by_index:
                raise ValueError(f"{name}: saved state for parameter index {idx!r}, "
                                 "which no parameter group refers to")
            p, group = by_index[int(idx)]
            restored = _restore_state(values, p)
            problem = self._state_problem(p, restored, group)
            if problem is not None:
                raise ValueError(f"{name}: parameter {idx}: {problem}")
            new_state[p] = restored
        self.state = new_state
        self.param_groups = new_groups


def _is_index(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_) and value >= 0


def _restore_state(values: Any, p: Tensor) -> Any:
    """A copy of one parameter's saved state: Tensors become arrays, arrays of the parameter's
    shape take its dtype (as PyTorch casts them), a 0-d ``step`` becomes an int."""
    if not isinstance(values, Mapping):
        return values
    restored: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Tensor):
            value = value.data
        if key == "step" and _as_step(value) is not None:
            value = _as_step(value)
        elif isinstance(value, np.ndarray):
            if value.shape == p.shape and value.dtype.kind in "biuf":
                value = value.astype(p.dtype)
            else:
                value = value.copy()
        restored[key] = value
    return restored
