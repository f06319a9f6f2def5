"""LRScheduler: the base class of the learning-rate schedulers.

Construction stores ``initial_lr`` in every param group (``base_lrs``) and performs one
initial step, so right after it ``last_epoch`` is 0 and each group's lr is the
schedule's value at 0. ``step()`` advances ``last_epoch`` and writes the lrs that the
subclass's ``get_lr()`` computes.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from ..trace import refuse
from .optimizer import Optimizer


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


_COUNTERS = ("last_epoch", "_step_count", "num_bad_epochs", "cooldown_counter")


def _mismatch(key: str, ours: Any, saved: Any) -> str | None:
    """Why ``saved`` cannot replace this scheduler's ``ours`` for entry ``key``, or None: it must
    be of the same kind (a number stays a number, and a counter an integer; a list keeps its
    length, e.g. one lr per param group)."""
    if isinstance(ours, bool):
        ok = isinstance(saved, bool)
    elif key in _COUNTERS:
        ok = _is_int(saved)
    elif _is_real(ours):
        ok = _is_real(saved)
    elif isinstance(ours, str):
        ok = isinstance(saved, str)
    elif isinstance(ours, list | tuple):
        if not isinstance(saved, list | tuple) or len(saved) != len(ours):
            length = len(saved) if isinstance(saved, list | tuple) else None
            return (f"'{key}' must be a list of {len(ours)} entries (this scheduler's length), got "
                    f"{type(saved).__name__}" + (f" of {length}" if length is not None else ""))
        for i, (a, b) in enumerate(zip(ours, saved, strict=True)):
            problem = _mismatch(f"{key}[{i}]", a, b)
            if problem is not None:
                return problem
        return None
    elif isinstance(ours, Mapping):
        ok = isinstance(saved, Mapping)
    else:
        return None
    return None if ok else f"'{key}' must be like {ours!r} ({type(ours).__name__}), got {saved!r}"


class LRScheduler:
    """Base class: stores ``initial_lr``/``base_lrs``, counts ``last_epoch``, writes lrs."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param 'initial_lr' is not specified in "
                                   f"param_groups[{i}] when resuming with last_epoch={last_epoch}; load the "
                                   "optimizer's state_dict first, or use last_epoch=-1 for a fresh run")
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The step every constructor performs, so the lr is the schedule's value at 0."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The next lrs (chainable form), with ``last_epoch`` already advanced."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr()")

    def get_last_lr(self) -> list[float]:
        """The lrs this scheduler set most recently, one per param group."""
        return self._last_lr

    def step(self) -> None:
        """Advance one epoch and write the new lrs into the optimizer's param groups."""
        refuse("lr_scheduler.step()", "call it outside the captured function, between steps")
        self._step_count += 1
        self._update_lr(None)

    def _update_lr(self, epoch: int | None) -> None:
        """Advance one epoch (chainable ``get_lr``), or jump to ``epoch`` (closed form if any)."""
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer (plain data, saveable with ``minigrad.save``)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()``. It is checked against this scheduler's own state first
        (no entries it does not have, which would be another scheduler's; counters stay
        integers; lists such as ``base_lrs`` keep one entry per param group); on a problem
        this raises ``ValueError`` and the scheduler is left as it was."""
        self._apply_state(self._check_state_dict(state_dict))

    def _check_state_dict(self, state_dict: Mapping[str, Any]) -> dict[str, Any]:
        """``state_dict`` as a dict, after the checks of ``load_state_dict``."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{name} expects a dict (from state_dict()), got {type(state_dict).__name__}")
        ours = self.state_dict()
        unknown = [key for key in state_dict if key not in ours]
        if unknown:
            raise ValueError(f"{name}: unknown entries {unknown}; is this the state of another scheduler? "
                             f"this one has {sorted(ours)}")
        for key, value in state_dict.items():
            problem = _mismatch(key, ours[key], value)
            if problem is not None:
                raise ValueError(f"{name}: {problem}")
        return dict(state_dict)

    def _apply_state(self, state: dict[str, Any]) -> None:
        """Assign a checked state (subclasses convert entries saved as plain data)."""
        self.__dict__.update(state)
