"""check_gradients: after ``loss.backward()``, list the parameters whose gradient looks wrong.

Each finding says what was seen and what it usually means:

- ``unused``: ``.grad`` is None. The parameter is not part of the graph that produced the
  loss: a layer not called in forward, or its output detached.
- ``zero``: the gradient is all zeros. Dead ReLUs upstream, or a masked path.
- ``non_finite``: the gradient holds NaN or Inf. Exploding gradients or an overflow.
- ``vanishing`` / ``exploding``: the gradient's RMS (||g|| / sqrt(numel), so large and small
  tensors compare fairly) is more than ``OUTLIER_DECADES`` orders of magnitude below /
  above the median RMS of the other parameters (a log-scale outlier; needs 3 parameters).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..nn.module import Module
from ..tensor import Tensor
from .norms import array_norm

OUTLIER_DECADES = 3.0

MEANINGS = {
    "unused": "not part of the graph that produced the loss: a layer not called in forward, "
              "or its output detached (.detach(), .data, .item(), numpy) on the way",
    "zero": "every gradient is exactly 0: dead ReLUs upstream, or a masked path",
    "non_finite": "exploding gradients or an overflow; try detect_anomaly() to find the op, "
                  "lower the learning rate, clip gradients",
    "vanishing": "gradients orders of magnitude smaller than elsewhere: saturated sigmoid/tanh "
                 "or a very deep stack; try ReLU, better initialisation, normalisation, "
                 "residual connections",
    "exploding": "gradients orders of magnitude larger than elsewhere: bad initialisation or "
                 "a learning rate too high; clip gradients, lower the learning rate",
}


@dataclass
class GradientFinding:
    name: str
    problem: str
    norm: float | None
    detail: str

    @property
    def meaning(self) -> str:
        return MEANINGS[self.problem]

    def __str__(self) -> str:
        return f"{self.name}: {self.problem} ({self.detail}): {self.meaning}"


class GradientFindings(list):
    """A list of GradientFinding whose ``str()`` is a readable report; empty when healthy."""

    def __str__(self) -> str:
        if not self:
            return "check_gradients: all gradients look healthy."
        return "\n".join([f"check_gradients: {len(self)} problem(s)", *(f"- {f}" for f in self)])

    __repr__ = __str__


def check_gradients(model: Module | Iterable[tuple[str, Tensor]] | Iterable[Tensor]
                    ) -> GradientFindings:
    """Inspect ``.grad`` of every parameter that requires grad (call after backward)."""
    named = _named(model)
    findings = GradientFindings()
    rms: dict[str, float] = {}
    norms: dict[str, float] = {}
    for name, p in named:
        if not p.requires_grad:
            continue
        if p.grad is None:
            findings.append(GradientFinding(name, "unused", None, "grad is None"))
            continue
        g = p.grad.data
        with np.errstate(over="ignore"):
            norm = array_norm(g)
        if not np.isfinite(g).all():
            bad = g.size - int(np.count_nonzero(np.isfinite(g)))
            findings.append(GradientFinding(name, "non_finite", norm, f"{bad} of {g.size} values"))
        elif norm == 0.0:
            findings.append(GradientFinding(name, "zero", 0.0, f"all {g.size} values are 0"))
        else:
            rms[name], norms[name] = norm / math.sqrt(g.size), norm
    if len(rms) >= 3:
        logs = {name: math.log10(r) for name, r in rms.items()}
        for name, value in logs.items():
            median = float(np.median([v for n, v in logs.items() if n != name]))
            if abs(value - median) > OUTLIER_DECADES:
                problem = "vanishing" if value < median else "exploding"
                detail = (f"RMS gradient {rms[name]:.3g}, 10^{value - median:+.1f} times the "
                          f"median of the others ({10 ** median:.3g})")
                findings.append(GradientFinding(name, problem, norms[name], detail))
    return findings


def _named(model: Module | Iterable) -> list[tuple[str, Tensor]]:
    if isinstance(model, Module):
        return list(model.named_parameters())
    items = list(model)
    if all(isinstance(t, Tensor) for t in items):
        return [(f"param{i}", t) for i, t in enumerate(items)]
    if all(isinstance(t, tuple) and len(t) == 2 and isinstance(t[1], Tensor) for t in items):
        return items
    raise TypeError("check_gradients: expected a Module, an iterable of Tensors, or of "
                    "(name, Tensor) pairs such as model.named_parameters()")

