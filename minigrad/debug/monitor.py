"""GradientMonitor: watch gradients, activations and update sizes layer by layer.

The protocol, in a training loop::

    monitor = GradientMonitor(model)          # hooks in; snapshots the parameters
    for x, y in batches:
        model.zero_grad()
        loss = loss_fn(model(x), y)           # forward hooks record activation statistics
        loss.backward()                       # tensor hooks record output-gradient norms
        sgd_update(model)                     # optimizer.step()
        monitor.step(loss=loss.item())        # after the update: reads .grad, measures the
                                              # update against the snapshot, snapshots again
    print(monitor.report())
    monitor.remove()                          # or use ``with GradientMonitor(model) as m:``

Which modules count as *layers*: every module that owns parameters directly (a Linear,
a custom block with its own ``Parameter``) and every activation module, recognised by
class name (``ReLU``, ``Tanh``, ``Sigmoid``, ...). The *kind* of a layer's output decides
which extra statistic makes sense:

- ``relu``: fraction *dead*, outputs exactly 0;
- ``tanh``: fraction *saturated*, |y| > 0.99 (where tanh' < 0.02);
- ``sigmoid``: fraction *saturated*, y < 0.01 or y > 0.99 (where sigmoid' < 0.01).

The kind comes from ``kinds={"layer.name": "tanh"}``, else from the class name, else it is
inferred from the output range the first time the layer runs (exact zeros and y >= 0:
relu; 0 <= y <= 1: sigmoid; -1 <= y <= 1: tanh; otherwise linear) and shown with a
``?``. An inferred kind is checked again on every call and falls back to ``linear`` as
soon as an output leaves its range, so a Linear layer with small outputs is not mistaken
for tanh for long.

Statistics are computed with numpy on ``.data`` (a sum, a dot product, a count): no graph
is built. Forward passes run with grad mode off (evaluation) are ignored.

``GradientMonitor(model, writer=SummaryWriter(dir))`` also logs every recorded step to
TensorBoard (see ``log_step``).
"""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from ..autograd.grad_mode import STATE as GRAD_STATE
from ..kernels.stats import update_norms
from ..nn.module import Module
from ..tensor import RemovableHandle, Tensor
from .norms import array_norm

ACTIVATION_KINDS = {
    "ReLU": "relu", "ReLU6": "relu", "Tanh": "tanh", "Hardtanh": "tanh", "Sigmoid": "sigmoid",
    "Hardsigmoid": "sigmoid", "LeakyReLU": "leaky_relu", "ELU": "elu", "GELU": "gelu",
    "SiLU": "silu", "Softplus": "softplus", "Softmax": "softmax", "LogSoftmax": "log_softmax",
}

VANISHING_RATIO = 1e-3    # layer grad norm below this times the largest layer's: "vanishing"
EXPLODING_RATIO = 1e2     # above this times the median layer's: "exploding"
EXPLODING_NORM = 1e3      # or above this in absolute terms: "exploding"
DEAD_FRACTION = 0.9       # relu outputs exactly zero: "dead"
SATURATED_FRACTION = 0.5  # tanh/sigmoid outputs in the flat tails: "saturated"
LARGE_UPDATE = 1e-1       # ||delta W|| / ||W|| above: "large updates" (typical: about 1e-3)
TINY_UPDATE = 1e-5        # below: "tiny updates"


@dataclass(slots=True)
class ParamStats:
    """One parameter at one step: ||grad|| (None: no gradient), ||W|| before the update, and
    ||delta W|| / ||W|| (None when W was all zeros before the update)."""

    grad_norm: float | None
    norm: float
    update_ratio: float | None


@dataclass(slots=True)
class LayerStats:
    """One layer at one step. ``grad_norm`` is over the layer's own parameters,
    ``out_grad_norm`` is ||dL/d output||, the activation statistics are over every output
    element of every call in the step."""

    kind: str
    grad_norm: float | None = None
    out_grad_norm: float | None = None
    act_mean: float | None = None
    act_std: float | None = None
    saturated: float | None = None
    dead: float | None = None
    update_ratio: float | None = None
    flags: list[str] = field(default_factory=list)


@dataclass(slots=True)
class StepRecord:
    step: int
    global_grad_norm: float
    loss: float | None
    params: dict[str, ParamStats]
    layers: dict[str, LayerStats]


class _Layer:
    """What the monitor knows about one layer, and its running sums for the current step."""

    def __init__(self, module: Module, kind: str | None, inferred: bool,
                 params: list[tuple[str, Tensor]]) -> None:
        self.module, self.kind, self.inferred, self.params = module, kind, inferred, params
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.total = self.total_sq = 0.0
        self.n_flat = self.n_dead = 0
        self.out_grad_sq: float | None = None
        self.finite = True


class GradientMonitor:
    """Record per-step gradient norms, activation statistics and update:data ratios.

    ``every=k`` records one step in k (the others cost one integer test per hook call).
    ``writer`` (a ``minigrad.utils.tensorboard.SummaryWriter``) gets each recorded step
    (``log_step``); ``histograms=False`` logs only its scalars.
    See the module docstring for the protocol and for what counts as a layer.
    """

    def __init__(self, model: Module, every: int = 1, kinds: dict[str, str] | None = None,
                 writer: Any = None, histograms: bool = True) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"GradientMonitor: expected an nn.Module, got {type(model).__name__}")
        if every < 1:
            raise ValueError(f"GradientMonitor: every must be >= 1, got {every}")
        kinds = dict(kinds or {})
        self.model, self.every = model, every
        self.writer, self.histograms = writer, histograms
        self.history: list[StepRecord] = []
        self._step = 0
        self._layers: dict[str, _Layer] = {}
        self._handles: list[RemovableHandle] = []
        self._tensor_handles: list[RemovableHandle] = []
        self._snapshots: dict[int, np.ndarray] = {}
        self.lr: float | None = None
        self.peak_lr = 0.0
        for name, module in model.named_modules():
            params = list(module.named_parameters(prefix=name, recurse=False))
            kind = kinds.pop(name, None) or ACTIVATION_KINDS.get(type(module).__name__)
            if not params and kind is None:
                continue
            self._layers[name or type(module).__name__] = _Layer(module, kind, kind is None, params)
        if kinds:
            raise ValueError(f"GradientMonitor: kinds names unknown layers {sorted(kinds)}; "
                             f"layers are {sorted(self._layers)}")
        for label, layer in self._layers.items():
            hook = partial(self._forward_hook, label)
            self._handles.append(layer.module.register_forward_hook(hook))
        self._params = list(model.named_parameters())
        self._snapshot()

    # ------------------------------------------------------------------ hooks
    @property
    def _active(self) -> bool:
        return self._step % self.every == 0 and GRAD_STATE.grad_enabled

    def _forward_hook(self, label: str, module: Module, inputs: tuple, output: Any) -> None:
        if not isinstance(output, Tensor) or not self._active:
            return
        layer = self._layers[label]
        flat = output.data.ravel(order="K")
        if flat.dtype.kind != "f" or flat.size == 0:
            return
        if layer.inferred:
            layer.kind = _infer_kind(flat, layer.kind)
        layer.count += flat.size
        layer.total += float(flat.sum())
        layer.total_sq += float(np.dot(flat, flat))
        if layer.kind == "relu":
            layer.n_dead += flat.size - _count_nonzero(flat)
        elif layer.kind == "tanh":
            layer.n_flat += int(np.count_nonzero(np.abs(flat) > 0.99))
        elif layer.kind == "sigmoid":
            layer.n_flat += int(np.count_nonzero((flat < 0.01) | (flat > 0.99)))
        if output.requires_grad:
            self._tensor_handles.append(output.register_hook(partial(self._grad_hook, layer)))

    @staticmethod
    def _grad_hook(layer: _Layer, grad: Tensor) -> None:
        with np.errstate(over="ignore"):
            layer.out_grad_sq = (layer.out_grad_sq or 0.0) + array_norm(grad.data) ** 2

    # ------------------------------------------------------------------ stepping
    def step(self, loss: float | None = None, lr: float | None = None) -> StepRecord | None:
        """Call once per training step, right *after* ``optimizer.step()``.

        On a recorded step it reads every ``.grad``, measures ||W_now - W_before|| / ||W_before||
        against the snapshot taken at the previous call, appends a StepRecord to
        ``history`` and returns it (None on skipped steps).

        ``lr``, the learning rate this step used, makes the "tiny updates" flag fair to a
        schedule: the threshold is ``TINY_UPDATE * lr / peak lr`` (the largest lr seen so far),
        so a scheduler decaying the lr towards 0 is not mistaken for a layer that cannot learn.
        """
        if lr is not None:
            self.peak_lr = max(self.peak_lr, float(lr))
            self.lr = float(lr)
        record = None
        if self._step % self.every == 0:
            with np.errstate(over="ignore"):
                record = self._collect(None if loss is None else float(loss))
            self.history.append(record)
            if self.writer is not None:
                self.log_step(self.writer, record)
        self._step += 1
        for handle in self._tensor_handles:
            handle.remove()
        self._tensor_handles.clear()
        for layer in self._layers.values():
            layer.reset()
        if self._step % self.every == 0:
            self._snapshot()
        return record

    def _snapshot(self) -> None:
        for _, p in self._params:
            snap = self._snapshots.get(id(p))
            if snap is None or snap.shape != p.data.shape or snap.dtype != p.data.dtype:
                self._snapshots[id(p)] = p.data.copy()
            else:
                np.copyto(snap, p.data)

    def _collect(self, loss: float | None) -> StepRecord:
        params: dict[str, ParamStats] = {}
        before_sq: dict[str, float] = {}
        delta_sq: dict[str, float] = {}
        for name, p in self._params:
            g2, b2, d2 = update_norms(p.data, self._snapshots[id(p)], None if p.grad is None else p.grad.data)
            norm = math.sqrt(b2)
            before_sq[name], delta_sq[name] = b2, d2
            params[name] = ParamStats(None if p.grad is None else math.sqrt(g2), norm,
                                      math.sqrt(d2) / norm if norm > 0 else None)
        layers = {label: self._layer_stats(layer, params, before_sq, delta_sq)
                  for label, layer in self._layers.items()}
        _flag(layers, self._lr_scale())
        total = math.sqrt(sum(s.grad_norm ** 2 for s in params.values() if s.grad_norm is not None))
        return StepRecord(self._step, total, loss, params, layers)

    def _lr_scale(self) -> float:
        """The current lr relative to the peak (1 when no lr was given)."""
        if self.lr is None or self.peak_lr <= 0:
            return 1.0
        return self.lr / self.peak_lr

    @staticmethod
    def _layer_stats(layer: _Layer, params: dict[str, ParamStats], before_sq: dict[str, float],
                     delta_sq: dict[str, float]) -> LayerStats:
        kind = layer.kind or "linear"
        stats = LayerStats(kind + ("?" if layer.inferred else ""))
        grads = [params[n].grad_norm for n, _ in layer.params if params[n].grad_norm is not None]
        if grads:
            stats.grad_norm = math.sqrt(sum(g * g for g in grads))
        if layer.params:
            before = sum(before_sq[n] for n, _ in layer.params)
            if before > 0:
                stats.update_ratio = math.sqrt(sum(delta_sq[n] for n, _ in layer.params) / before)
        if layer.out_grad_sq is not None:
            stats.out_grad_norm = math.sqrt(layer.out_grad_sq)
        if layer.count:
            mean = layer.total / layer.count
            stats.act_mean = mean
            stats.act_std = math.sqrt(max(layer.total_sq / layer.count - mean * mean, 0.0))
            if kind == "relu":
                stats.dead = layer.n_dead / layer.count
            elif kind in ("tanh", "sigmoid"):
                stats.saturated = layer.n_flat / layer.count
        return stats

    # ------------------------------------------------------------------ output
    @property
    def last(self) -> StepRecord:
        if not self.history:
            raise RuntimeError("GradientMonitor: nothing recorded yet; call monitor.step() after "
                               "each optimizer.step() (after loss.backward()).")
        return self.history[-1]

    def report(self) -> str:
        """A table of the last recorded step, one row per layer, with flags."""
        record = self.last
        head = ("layer", "kind", "grad norm", "out grad", "act mean", "act std", "sat/dead",
                "update", "flags")
        rows = [head]
        for label, s in record.layers.items():
            frac = s.saturated if s.saturated is not None else s.dead
            rows.append((label, s.kind, _fmt(s.grad_norm), _fmt(s.out_grad_norm), _fmt(s.act_mean),
                         _fmt(s.act_std), "-" if frac is None else f"{frac:.0%}",
                         _fmt(s.update_ratio), ", ".join(s.flags)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = [f"step {record.step}: global grad norm {_fmt(record.global_grad_norm)}"
                 + ("" if record.loss is None else f", loss {record.loss:.6g}")]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        return _Text("\n".join(lines))

    def plot(self, path: str | os.PathLike | None = None) -> Any:
        """Per-layer gradient norms and update ratios over steps (log scale); returns the
        matplotlib Figure and writes it to ``path`` (any format matplotlib knows) if given."""
        from matplotlib.figure import Figure

        from ..viz.plots import display_in_notebooks, save_figure

        display_in_notebooks()

        record = self.last
        fig = Figure(figsize=(10, 4), layout="constrained")
        grads_ax, update_ax = fig.subplots(1, 2)
        steps = [r.step for r in self.history]
        for label in record.layers:
            for ax, attr in ((grads_ax, "grad_norm"), (update_ax, "update_ratio")):
                values = [_nan(getattr(r.layers[label], attr)) for r in self.history]
                if any(math.isfinite(v) and v > 0 for v in values):
                    ax.plot(steps, values, label=label)
        for ax, title in ((grads_ax, "gradient norm per layer"),
                          (update_ax, "update / data ratio per layer")):
            ax.set_yscale("log")
            ax.set_xlabel("step")
            ax.set_title(title)
            if ax.lines:
                ax.legend(fontsize="small")
        update_ax.axhline(1e-3, color="grey", linestyle=":", linewidth=1)
        if path is not None:
            save_figure(fig, path)
        return fig

    def log_step(self, writer: Any, record: StepRecord) -> None:
        """Log one StepRecord at global step ``record.step``: scalars ``grad_norm/global``,
        ``grad_norm/<layer>`` and ``update_ratio/<layer>`` (||delta W|| / ||W||), and, with
        ``histograms``, ``weight/<param>`` and ``grad/<param>`` histograms (finite ones only)."""
        step = record.step
        writer.add_scalar("grad_norm/global", record.global_grad_norm, step)
        for label, s in record.layers.items():
            for tag, value in (("grad_norm", s.grad_norm), ("update_ratio", s.update_ratio)):
                if value is not None and math.isfinite(value):
                    writer.add_scalar(f"{tag}/{label}", value, step)
        if self.histograms:
            for name, p in self._params:
                for tag, arr in (("weight", p.data), ("grad", None if p.grad is None else p.grad.data)):
                    if arr is not None and arr.size and np.isfinite(arr).all():
                        writer.add_histogram(f"{tag}/{name}", arr, step)

    def remove(self) -> None:
        """Take every forward hook and tensor hook out again."""
        for handle in [*self._handles, *self._tensor_handles]:
            handle.remove()
        self._handles.clear()
        self._tensor_handles.clear()

    def __enter__(self) -> GradientMonitor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _count_nonzero(flat: np.ndarray) -> int:
    """``np.count_nonzero(flat)`` for a float array, counted on its bits (2.5x faster): shifting
    out the sign bit maps +0.0 and -0.0 to 0 and every other value (NaN included) to non-zero."""
    return int(np.count_nonzero(flat.view(f"i{flat.itemsize}") << 1))


def _infer_kind(flat: np.ndarray, current: str | None) -> str:
    """Guess relu/sigmoid/tanh/linear from the output range; never narrows a previous guess."""
    if current == "linear":
        return current
    lo, hi = float(flat.min()), float(flat.max())
    if lo == 0.0 and current in (None, "relu") and not flat.all():
        return "relu"
    if 0.0 <= lo and hi <= 1.0 and current in (None, "sigmoid"):
        return "sigmoid"
    if -1.0 <= lo and hi <= 1.0 and current in (None, "sigmoid", "tanh"):
        return "tanh"
    return "linear"


def _flag(layers: dict[str, LayerStats], lr_scale: float = 1.0) -> None:
    """Attach the warning flags described by the module constants; ``lr_scale`` (current lr
    over peak lr) scales the "tiny updates" threshold."""
    norms = [s.grad_norm for s in layers.values() if s.grad_norm is not None]
    finite = [n for n in norms if math.isfinite(n)]
    largest = max(finite, default=0.0)
    median = statistics.median(finite) if finite else 0.0
    for s in layers.values():
        g = s.grad_norm
        values = [v for v in (g, s.act_mean, s.act_std) if v is not None]
        if not all(math.isfinite(v) for v in values):
            s.flags.append("non-finite")
        elif g is not None:
            if g == 0.0:
                s.flags.append("zero grad")
            elif g < VANISHING_RATIO * largest:
                s.flags.append("vanishing")
            elif g > EXPLODING_NORM or len(finite) > 2 and g > EXPLODING_RATIO * median:
                s.flags.append("exploding")
        if s.dead is not None and s.dead > DEAD_FRACTION:
            s.flags.append("dead")
        if s.saturated is not None and s.saturated > SATURATED_FRACTION:
            s.flags.append("saturated")
        if s.update_ratio is not None:
            if s.update_ratio > LARGE_UPDATE:
                s.flags.append("large updates")
            elif s.update_ratio < TINY_UPDATE * lr_scale:
                s.flags.append("tiny updates")


class _Text(str):
    """A str that shows as itself (not quoted) at a REPL or in a notebook."""

    def __repr__(self) -> str:
        return str(self)


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


def _nan(x: float | None) -> float:
    return math.nan if x is None else x
