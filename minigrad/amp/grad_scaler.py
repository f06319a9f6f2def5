"""GradScaler: dynamic loss scaling, step for step what ``torch.amp.GradScaler`` does.

float16 cannot hold gradients below about 6e-8 (they round to 0) or above 65504 (they
become inf). Multiplying the loss by a large scale S multiplies every gradient by S
(the chain rule is linear), lifting the small ones out of the underflow zone; before the
optimizer uses them they are divided by S again, in float32. If S was too large some
gradient overflows: then the step is skipped and S is halved. After ``growth_interval``
good steps in a row S is doubled, so S hovers just below the overflow point:

    found inf/NaN:  skip optimizer.step(),  S <- S * backoff_factor,  tracker <- 0
    otherwise:      optimizer.step(),       tracker += 1;
                    if tracker == growth_interval: S <- S * growth_factor (if finite), tracker <- 0

The scale is a float32 number, the tracker an int, as in PyTorch; ``state_dict`` has
PyTorch's keys, so a scaler checkpoint reads the same.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from ..trace import refuse


class OptState(enum.Enum):
    """Where one optimizer is in the current iteration (PyTorch's names)."""

    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state() -> dict[str, Any]:
    return {"stage": OptState.READY, "found_inf": None}


class GradScaler:
    """Scale the loss, unscale and check the gradients, skip bad steps, adapt the scale.

    ``GradScaler(device="cpu", init_scale=2**16, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True)``; every method is a no-op (``step`` just calls
    ``optimizer.step()``) when ``enabled=False``, so one flag switches mixed precision off.
    """

    def __init__(self, device: str = "cpu", init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device, self._enabled = device, bool(enabled)
        if self._enabled:
            if not growth_factor > 1.0:
                raise ValueError(f"GradScaler: the growth factor must be > 1.0, got {growth_factor}")
            if not backoff_factor < 1.0:
                raise ValueError(f"GradScaler: the backoff factor must be < 1.0, got {backoff_factor}")
            if not (math.isfinite(init_scale) and init_scale > 0):
                raise ValueError(f"GradScaler: init_scale must be a positive finite number, got {init_scale}")
            if isinstance(growth_interval, bool) or not isinstance(growth_interval, int) \
                    or growth_interval < 1:
                raise ValueError(f"GradScaler: growth_interval must be a positive integer, got "
                                 f"{growth_interval!r}")
        self._init_scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._init_growth_tracker = 0
        self._scale: np.float32 | None = None
        self._growth_tracker: int | None = None
        self._per_optimizer_states: dict[int, dict[str, Any]] = {}

    # ------------------------------------------------------------------ the iteration
    def _lazy_init(self) -> None:
        if self._scale is None:
            self._scale = np.float32(self._init_scale)
            self._growth_tracker = self._init_growth_tracker

    def _check_started(self, funcname: str) -> None:
        if self._scale is None:
            raise RuntimeError(f"GradScaler: {funcname}() was called before scale(); call "
                               f"scaler.scale(loss).backward() earlier in the iteration.")

    def _state(self, optimizer: Any) -> dict[str, Any]:
        return self._per_optimizer_states.setdefault(id(optimizer), _fresh_state())

    def scale(self, outputs: Tensor | Iterable[Tensor]) -> Any:
        """outputs * S (a Tensor, or a list/tuple of them); unchanged when disabled.

        Backpropagate from the result: every gradient comes out multiplied by S.
        """
        if not self._enabled:
            return outputs
        refuse("an enabled amp.GradScaler (its scale and skipped steps follow the gradients' values)",
               "run mixed precision without capture")
        self._lazy_init()
        if isinstance(outputs, Tensor):
            return outputs * float(self._scale)
        if isinstance(outputs, list | tuple):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError(f"GradScaler.scale: outputs must be a Tensor or a list/tuple of Tensors, got "
                         f"{type(outputs).__name__}")

    def unscale_(self, optimizer: Any) -> None:
        """Divide the gradients of ``optimizer``'s parameters by S in place, and note whether
        any is inf/NaN. Optional: ``step`` does it if not done; call it yourself to clip or
        inspect the true gradients first. Once per optimizer per ``update()``."""
        if not self._enabled:
            return
        self._check_started("unscale_")
        state = self._state(optimizer)
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("GradScaler: unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("GradScaler: unscale_() is being called after step(); call it between "
                               "backward() and step().")
        inv_scale = np.float32(1.0 / np.float64(self._scale))
        found_inf = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if g.dtype == np.float16:
                    raise ValueError("GradScaler: Attempting to unscale FP16 gradients; keep the "
                                     "parameters in float32 (autocast rounds them to float16 for you).")
                if not found_inf and not np.isfinite(g).all():
                    found_inf = True
                if inv_scale != 1.0:
                    with np.errstate(invalid="ignore", over="ignore"):
                        g *= inv_scale
        state["found_inf"] = found_inf
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """Unscale (unless ``unscale_`` was called), then ``optimizer.step(*args, **kwargs)``
        unless a gradient was inf/NaN, in which case the parameters are left untouched.

        Returns what ``optimizer.step`` returned (None when skipped). A step was skipped
        exactly when the following ``update()`` lowers the scale (``found_inf`` says it now)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("GradScaler: closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._check_started("step")
        state = self._state(optimizer)
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("GradScaler: step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        retval = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def found_inf(self, optimizer: Any) -> bool:
        """Whether ``optimizer``'s gradients held an inf/NaN this iteration (so its step was or
        will be skipped); False before ``unscale_``/``step``. Not in PyTorch, which only
        shows it through the scale: ``update()`` lowers it exactly after a skipped step."""
        return bool(self._per_optimizer_states.get(id(optimizer), {}).get("found_inf"))

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Back off after a skipped step, grow after ``growth_interval`` good ones (see the
        module docstring); or set the scale to ``new_scale``. Call once per iteration, after
        every ``step``."""
        if not self._enabled:
            return
        self._check_started("update")
        if new_scale is not None:
            value = new_scale.item() if isinstance(new_scale, Tensor) else new_scale
            self._scale = np.float32(value)
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values()
                     if s["found_inf"] is not None]
            if not found:
                raise RuntimeError("GradScaler: no inf checks were recorded prior to update(); call "
                                   "scaler.step(optimizer) (or unscale_) first.")
            if any(found):
                self._scale = np.float32(np.float64(self._scale) * self._backoff_factor)
                self._growth_tracker = 0
            else:
                successful = self._growth_tracker + 1
                if successful == self._growth_interval:
                    with np.errstate(over="ignore"):
                        grown = np.float32(np.float64(self._scale) * self._growth_factor)
                    if np.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
                else:
                    self._growth_tracker = successful
        self._per_optimizer_states = {}

    # ------------------------------------------------------------------ getters and state
    def get_scale(self) -> float:
        """The current scale S (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale)

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else int(self._growth_tracker)

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """{'scale', 'growth_factor', 'backoff_factor', 'growth_interval', '_growth_tracker'}
        (PyTorch's keys); {} when disabled. Save it after ``update()``."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned (checked first; nothing is assigned on error)."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("GradScaler: the source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        keys = {"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"}
        if set(state_dict) != keys:
            raise KeyError(f"GradScaler.load_state_dict: expected the keys {sorted(keys)}, got "
                           f"{sorted(state_dict)}")
        scale, tracker = float(state_dict["scale"]), state_dict["_growth_tracker"]
        interval = state_dict["growth_interval"]
        if not (math.isfinite(scale) and scale > 0) or not float(state_dict["growth_factor"]) > 1.0 \
                or not float(state_dict["backoff_factor"]) < 1.0 or int(interval) != interval \
                or interval < 1 or int(tracker) != tracker or tracker < 0:
            raise ValueError(f"GradScaler.load_state_dict: invalid values {state_dict}")
        self._init_scale = scale
        if self._scale is not None:
            self._scale = np.float32(scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(interval)
        self._init_growth_tracker = int(tracker)
        if self._growth_tracker is not None:
            self._growth_tracker = int(tracker)

    def __repr__(self) -> str:
        if not self._enabled:
            return "GradScaler(enabled=False)"
        return (f"GradScaler(scale={self.get_scale():g}, growth_tracker={self._get_growth_tracker()}, "
                f"growth_interval={self._growth_interval})")
