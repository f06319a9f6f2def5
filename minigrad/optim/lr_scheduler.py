"""Learning-rate schedulers: change each param group's ``lr`` as training advances.

Call ``optimizer.step()`` then ``scheduler.step()`` once per epoch (or per batch for
OneCycleLR). Construction performs one initial step, so right after it ``last_epoch``
is 0 and the lr is the schedule's value at 0. Most schedulers are *chainable*: they
compute the next lr from the group's *current* lr, so two of them can act on one
optimizer; their closed forms (from ``base_lrs``) are the same when one owns the lr.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .one_cycle import OneCycleLR
from .optimizer import Optimizer
from .plateau import ReduceLROnPlateau
from .scheduler_base import LRScheduler, _is_int

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "LinearLR",
           "CosineAnnealingLR", "SequentialLR", "OneCycleLR", "ReduceLROnPlateau"]


class LambdaLR(LRScheduler):
    """lr = base_lr · lr_lambda(epoch); one function, or one per param group."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: expected {n} lr_lambdas (one per param group), "
                                 f"got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base_lr * fn(self.last_epoch)
                for fn, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)]

    def state_dict(self) -> dict[str, Any]:
        """Functions are not saved (they are code); reconstruct the scheduler with them."""
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs: base_lr·gamma^⌊t/step_size⌋."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return lrs
        return [lr * self.gamma for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each milestone epoch (twice if listed twice)."""

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        if self.last_epoch not in self.milestones:
            return lrs
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in lrs]

    def state_dict(self) -> dict[str, Any]:
        """Milestones are saved as a plain dict (epoch -> count)."""
        state = super().state_dict()
        state["milestones"] = dict(self.milestones)
        return state

    def _check_state_dict(self, state_dict: Mapping[str, Any]) -> dict[str, Any]:
        state = super()._check_state_dict(state_dict)
        milestones = state.get("milestones", {})
        if not all(_is_int(k) and _is_int(v) and v > 0 for k, v in milestones.items()):
            raise ValueError(f"MultiStepLR.load_state_dict: 'milestones' must map epochs to positive counts "
                             f"(integers), got {milestones!r}")
        return state

    def _apply_state(self, state: dict[str, Any]) -> None:
        super()._apply_state(state)
        self.milestones = Counter({int(k): int(v) for k, v in self.milestones.items()})

    def _get_closed_form_lr(self) -> list[float]:
        passed = sum(count for m, count in self.milestones.items() if m <= self.last_epoch)
        return [base_lr * self.gamma ** passed for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch: base_lr·gamma^t."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        if self._is_initial:
            return lrs
        return [lr * self.gamma for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the lr linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` epochs.

    The usual warm-up: ``LinearLR(opt, start_factor=0.01, total_iters=5)``. Chainable
    step t ≤ total_iters: lr *= 1 + (e - s) / (total_iters·s + (t-1)(e - s)).
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in lrs]
        if self._is_initial or self.last_epoch > self.total_iters:
            return lrs
        delta = self.end_factor - self.start_factor
        factor = 1.0 + delta / (self.total_iters * self.start_factor + (self.last_epoch - 1) * delta)
        return [lr * factor for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        t = min(self.total_iters, self.last_epoch)
        factor = self.start_factor + (self.end_factor - self.start_factor) * t / self.total_iters
        return [base_lr * factor for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """η_t = η_min + (η_base - η_min)(1 + cos(π t / T_max)) / 2, not clamped at T_max.

    Computed by the chainable recursion (so it composes with other schedulers); past
    ``T_max`` the cosine rises again with period 2·T_max.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        t, T = self.last_epoch, self.T_max
        if self._is_initial:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and t > 0:
            return self._get_closed_form_lr()
        if (t - 1 - T) % (2 * T) == 0:
            return [group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for base_lr, group in zip(self.base_lrs, groups, strict=True)]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (group["lr"] - self.eta_min) + self.eta_min for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        cos = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * cos for base_lr in self.base_lrs]


def _undo_initial_steps(schedulers: list[LRScheduler]) -> None:
    """Take back the initial step each scheduler made at construction (nested ones too)."""
    for scheduler in schedulers:
        if isinstance(scheduler, SequentialLR):
            _undo_initial_steps(scheduler._schedulers)
        else:
            scheduler.last_epoch -= 1


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another, switching at the ``milestones`` epochs.

    Typical warm-up: ``SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5),
    CosineAnnealingLR(opt, T_max=95)], milestones=[5])``. At a milestone the next
    scheduler restarts from its own epoch 0.
    """

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int],
                 last_epoch: int = -1) -> None:
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler, got none")
        for i, scheduler in enumerate(schedulers):
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"SequentialLR does not support ReduceLROnPlateau (index {i}): it needs a "
                                 "metric at each step")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"SequentialLR: scheduler {type(scheduler).__name__} at index {i} "
                                 "belongs to "
                                 "a different optimizer; all schedulers must share one optimizer")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR expects one milestone fewer than schedulers, got "
                             f"{len(schedulers)} "
                             f"schedulers and {len(milestones)} milestones")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        _undo_initial_steps(self._schedulers)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def _check_state_dict(self, state_dict: Mapping[str, Any]) -> dict[str, Any]:
        """Also checks the inner schedulers' states, so that nothing is assigned unless all are valid."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"SequentialLR.load_state_dict expects a dict (from state_dict()), got "
                            f"{type(state_dict).__name__}")
        inner = state_dict.get("_schedulers")
        if not isinstance(inner, list | tuple) or len(inner) != len(self._schedulers):
            raise ValueError(f"SequentialLR.load_state_dict: '_schedulers' must hold the states of "
                             f"{len(self._schedulers)} schedulers, got {inner!r:.80}")
        state = super()._check_state_dict({k: v for k, v in state_dict.items() if k != "_schedulers"})
        state["_schedulers"] = [s._check_state_dict(saved) for s, saved in zip(self._schedulers, inner,
                                                                                strict=True)]
        return state

    def _apply_state(self, state: dict[str, Any]) -> None:
        inner = state.pop("_schedulers")
        super()._apply_state(state)
        for scheduler, saved in zip(self._schedulers, inner, strict=True):
            scheduler._apply_state(saved)
