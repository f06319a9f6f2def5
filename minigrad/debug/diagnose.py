"""diagnose: read a training-loss curve the way a practitioner would, and say what to try.

The curve is first smoothed with a rolling median (window ``w = max(5, n // 25)``, made
odd; a curve shorter than the window is used as is), which follows the trend but ignores
single bad steps, and with a rolling mean of the same window (the centre of a zigzag).
Noise and spikes are measured on the *logarithm* of the loss: minibatch noise is roughly
multiplicative (late in training one hard sample with loss 8 adds 8/64 = 0.125 to a batch
of 64 whose loss is otherwise 0.03), so a run near a perfect fit swings by 50% or more
around its trend while being perfectly healthy. (A loss that reaches 0 or goes negative is
read on the linear scale instead, relative to its level.) From the smoothed curves come the
evidence numbers, all relative so that they do not depend on the loss's scale:

- ``relative_decrease``: (head - tail) / |head|, head and tail the means of the first and
  last 10% of the smoothed curve;
- ``trend_slope``: least-squares slope of loss / |head| against time scaled to [0, 1];
- ``oscillation``: std of the detrended log-loss (log loss - its rolling mean), about the
  relative size of the swings, and ``sign_changes``: the fraction of consecutive
  differences that change sign (white noise gives about 2/3, a steady descent 0, a
  step-by-step zigzag 1);
- ``progress_to_noise``: how far the log-loss came (smoothed, first window to the last
  10%) in units of ``oscillation``. A healthy minibatch run can be noisy, but its trend
  outruns its swings: the default ``minigrad train`` run and the capstone score 4-6, a loss
  that bounces around without getting anywhere 1-3;
- ``spike_count``: steps where the loss went up from the step before and its log-residual
  above the rolling median exceeds both ``SPIKE_K`` (6) *local* robust standard deviations
  (1.4826 * MAD over ``4w + 1`` steps around it: late in training the noise is wider than
  early, and one global scale flags the normal late noise) and log(1 + ``SPIKE_MIN``) (50%
  above the rolling median);
- ``late_improvement``: how much the smoothed loss still fell in the second half,
  relative to its level at the midpoint: (mid - tail) / |mid|;
- with ``val_loss``: ``val_rise`` (last over best validation loss, relative), the train
  loss's further decrease after the best validation point, and ``generalization_gap``.

The first rule that matches, in this order, gives the status:

======================  ================================================================
diverged                a NaN/Inf loss or gradient norm, the loss grew to over
                        ``DIVERGE_FACTOR`` x its start, or the gradient norm grew 1000x
overfitting             validation rose ``VAL_RISE`` (5%) above its best while train fell
spiking                 at least ``MIN_SPIKES`` (2) spikes
oscillating             oscillation > ``OSCILLATION`` (0.15), and either a zigzag (sign
                        changes > ``ZIGZAG``, 0.8) or swings that hide the progress
                        (``progress_to_noise`` < ``MIN_PROGRESS_TO_NOISE``, 3.5)
not_decreasing          relative decrease < ``MIN_DECREASE`` (5%)
plateaued               late improvement < ``PLATEAU`` (5%): flat for the second half
healthy                 none of the above
======================  ================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DIVERGE_FACTOR = 2.0
GRAD_EXPLODE_FACTOR = 1e3
VAL_RISE = 0.05
SPIKE_K = 6.0
SPIKE_MIN = 0.5
MIN_SPIKES = 2
OSCILLATION = 0.15
ZIGZAG = 0.8
MIN_PROGRESS_TO_NOISE = 3.5
MIN_DECREASE = 0.05
PLATEAU = 0.05

REMEDIES = {
    "healthy": ["keep going; watch the validation loss for overfitting"],
    "diverged": [
        "lower the learning rate (try 10x smaller)",
        "clip gradients (clip_grad_norm_, max_norm about 1)",
        "find the op that made the NaN with minigrad.debug.detect_anomaly()",
        "use numerically stable ops: log_softmax / cross_entropy instead of softmax().log()",
        "check the initialisation (weights too large) and the input scale (normalise inputs)",
        "add a learning-rate warmup",
    ],
    "overfitting": [
        "stop early at the best validation loss (early stopping)",
        "add weight decay / regularisation, or dropout",
        "get more data or use data augmentation",
        "use a smaller model",
    ],
    "spiking": [
        "lower the learning rate, or decay it with a scheduler",
        "clip gradients to cap single bad batches",
        "use a larger batch",
        "look for bad samples in the batches where the spikes happen",
    ],
    "oscillating": [
        "lower the learning rate (steps overshoot the minimum)",
        "use a larger batch (noisy gradient estimates)",
        "use momentum or Adam, and a scheduler that decays the learning rate",
    ],
    "not_decreasing": [
        "raise the learning rate if updates are tiny (update:data ratio far below 1e-3)",
        "check that gradients reach every layer: minigrad.debug.check_gradients(model)",
        "fix vanishing gradients: change the initialisation, use ReLU instead of "
        "sigmoid/tanh, add normalisation",
        "check the data and labels: can the model overfit a single batch?",
    ],
    "plateaued": [
        "decay the learning rate with a scheduler (or raise it to escape a flat region)",
        "try Adam or momentum",
        "add capacity if the training loss is still too high; if it is low enough, "
        "the run has converged and can stop earlier",
    ],
}


@dataclass
class Diagnosis:
    """What the loss curve says: ``status``, the numbers behind it, and what to try."""

    status: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    remedies: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"diagnosis: {self.status} ({self.reason})", "evidence:"]
        lines += [f"  {k}: {_fmt(v)}" for k, v in self.evidence.items()]
        lines.append("remedies:")
        lines += [f"  - {r}" for r in self.remedies]
        return "\n".join(lines)


def diagnose(history: Any) -> Diagnosis:
    """Classify a run from its per-step training loss.

    ``history`` is a list or array of losses, a dict with ``'loss'`` and optionally
    ``'val_loss'`` (per epoch or per step), ``'grad_norm'`` and ``'lr'`` (per step), or a
    GradientMonitor's ``history`` (steps recorded with ``monitor.step(loss=...)``).
    """
    series = _series(history)
    loss = series["loss"]
    ev: dict[str, Any] = {"steps": len(loss)}
    status, reason = _diverged(series, ev)
    if status is None:
        status, reason = _shape(series, ev)
    return Diagnosis(status, reason, ev, list(REMEDIES[status]))


def _series(history: Any) -> dict[str, np.ndarray]:
    if isinstance(history, dict):
        if "loss" not in history:
            raise ValueError(f"diagnose: the dict needs a 'loss' entry; got keys {sorted(history)}")
        raw = {k: history[k] for k in ("loss", "val_loss", "grad_norm", "lr") if history.get(k) is not None}
    elif isinstance(history, list) and history and hasattr(history[0], "global_grad_norm"):
        if any(r.loss is None for r in history):
            raise ValueError("diagnose: monitor steps without a loss; call monitor.step(loss=...)")
        raw = {"loss": [r.loss for r in history], "grad_norm": [r.global_grad_norm for r in history]}
    else:
        raw = {"loss": history}
    series = {}
    for key, values in raw.items():
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
        if arr.size == 0:
            raise ValueError(f"diagnose: {key!r} is empty; pass at least one value")
        series[key] = arr
    return series


def _diverged(series: dict[str, np.ndarray], ev: dict[str, Any]) -> tuple[str | None, str]:
    loss = series["loss"]
    bad = np.flatnonzero(~np.isfinite(loss))
    if bad.size:
        step = int(bad[0])
        ev["nan_step"] = step
        ev["loss_before_nan"] = float(loss[step - 1]) if step else None
        if "lr" in series:
            ev["lr_at_nan"] = float(series["lr"][min(step, series["lr"].size - 1)])
        return "diverged", f"the loss became {loss[step]} at step {step}"
    grads = series.get("grad_norm")
    if grads is not None:
        gbad = np.flatnonzero(~np.isfinite(grads))
        if gbad.size:
            ev["grad_nan_step"] = int(gbad[0])
            return "diverged", f"the gradient norm became {grads[gbad[0]]} at step {gbad[0]}"
        start = float(np.median(grads[: max(1, grads.size // 10)]))
        ev["grad_norm_growth"] = float(grads.max() / start) if start > 0 else None
        if start > 0 and grads.max() > GRAD_EXPLODE_FACTOR * start:
            return "diverged", f"the gradient norm grew {grads.max() / start:.3g}x"
    return None, ""


def _shape(series: dict[str, np.ndarray], ev: dict[str, Any]) -> tuple[str, str]:
    loss = series["loss"]
    n = loss.size
    w = _window(n)
    smooth = _rolling_median(loss, w)
    k = max(1, n // 10)
    head, tail = float(smooth[:k].mean()), float(smooth[-k:].mean())
    scale = abs(head) or 1.0
    log_loss = np.log(loss) if (loss > 0).all() else None
    if log_loss is not None:
        swings = log_loss - _rolling_mean(log_loss, w)
        log_smooth = _rolling_median(log_loss, w)
        log_drop = float(log_smooth[: min(w, n)].mean() - log_smooth[-k:].mean())
        residual = log_loss - log_smooth
        threshold = np.maximum(SPIKE_K * _rolling_robust_std(residual, 4 * w + 1), math.log1p(SPIKE_MIN))
    else:  # a loss that can be 0 or negative: the same measures, relative to the level
        trend = _rolling_mean(loss, w)
        swings = (loss - trend) / np.maximum(np.abs(trend), 1e-12)
        log_drop = (head - tail) / scale
        residual = (loss - smooth) / np.maximum(np.abs(smooth), 1e-12)
        threshold = np.maximum(SPIKE_K * _rolling_robust_std(residual, 4 * w + 1), SPIKE_MIN)
    diffs = np.diff(loss)
    diffs = diffs[diffs != 0]
    rose = np.concatenate([[False], np.diff(loss) > 0])
    spikes = np.flatnonzero(rose & (residual > threshold))
    oscillation = float(swings.std())
    drop = head - tail
    mid = smooth[int(0.4 * n): max(int(0.5 * n), int(0.4 * n) + 1)]
    ev.update(
        relative_decrease=drop / scale,
        trend_slope=float(np.polyfit(np.linspace(0, 1, n), loss / scale, 1)[0]) if n > 1 else 0.0,
        oscillation=oscillation,
        sign_changes=float(np.mean(np.sign(diffs[1:]) != np.sign(diffs[:-1]))) if diffs.size > 1 else 0.0,
        progress_to_noise=log_drop / oscillation if oscillation > 0 else math.inf,
        spike_count=int(spikes.size),
        spike_steps=[int(s) for s in spikes[:10]],
        late_improvement=float((mid.mean() - tail) / (abs(mid.mean()) or 1.0)),
        start_loss=head, final_loss=tail,
    )
    if "lr" in series:
        ev["final_lr"] = float(series["lr"][-1])
    if head > 0 and tail > DIVERGE_FACTOR * head:
        return "diverged", f"the loss grew from {head:.4g} to {tail:.4g}"
    overfit = _overfitting(series, smooth, ev)
    if overfit:
        return "overfitting", overfit
    if spikes.size >= MIN_SPIKES:
        return "spiking", f"{spikes.size} spikes, at steps {ev['spike_steps']}"
    if oscillation > OSCILLATION and ev["sign_changes"] > ZIGZAG:
        return "oscillating", (f"the loss zigzags: it swings {oscillation:.0%} around its trend and "
                               f"changes direction on {ev['sign_changes']:.0%} of steps")
    if oscillation > OSCILLATION and ev["progress_to_noise"] < MIN_PROGRESS_TO_NOISE:
        return "oscillating", (f"the loss swings {oscillation:.0%} around its trend, and the trend "
                               f"fell only {ev['progress_to_noise']:.1f} times that swing")
    if ev["relative_decrease"] < MIN_DECREASE:
        return "not_decreasing", f"the loss fell by only {ev['relative_decrease']:.1%}"
    if ev["late_improvement"] < PLATEAU:
        return "plateaued", (f"the loss fell only {ev['late_improvement']:.1%} in the second "
                             f"half of the run")
    return "healthy", f"the loss fell by {ev['relative_decrease']:.0%} and is still falling"


def _overfitting(series: dict[str, np.ndarray], smooth: np.ndarray, ev: dict[str, Any]) -> str:
    val = series.get("val_loss")
    if val is None or val.size < 3 or not np.isfinite(val).all():
        return ""
    val_s = _rolling_median(val, _window(val.size)) if val.size > 20 else val
    best = int(np.argmin(val_s))
    n = smooth.size
    at_best = smooth[round(best / (val_s.size - 1) * (n - 1))]
    tail = float(smooth[-max(1, n // 10):].mean())
    ev.update(
        val_best_index=best,
        val_rise=float((val_s[-1] - val_s[best]) / (abs(val_s[best]) or 1.0)),
        train_decrease_after_best=float((at_best - tail) / (abs(at_best) or 1.0)),
        generalization_gap=float(val_s[-1] - tail),
    )
    if ev["val_rise"] > VAL_RISE and ev["train_decrease_after_best"] > 0.01:
        return (f"validation loss rose {ev['val_rise']:.0%} above its best (index {best}) while "
                f"the training loss kept falling")
    return ""


def _window(n: int) -> int:
    return max(5, n // 25) | 1


def _rolling_median(x: np.ndarray, w: int) -> np.ndarray:
    """Centred rolling median of odd window ``w``; the series is mirrored at both ends.
    A series shorter than the window is returned as is: mirroring [1, 0.5, 0.3] gives
    medians [0.5, 0.5, 0.5], which would erase the whole trend."""
    if x.size < w:
        return x.copy()
    half = w // 2
    padded = np.pad(x, half, mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return np.median(windows, axis=1)


def _rolling_robust_std(x: np.ndarray, w: int) -> np.ndarray:
    """1.4826 * the median absolute deviation in a centred window of ``w`` (odd) steps: the
    local noise scale, robust to the spikes it is used to find. A series shorter than the
    window gets one global value."""
    if x.size <= w:
        return np.full(x.size, 1.4826 * float(np.median(np.abs(x - np.median(x)))))
    half = w // 2
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, half, mode="reflect"), w)
    centre = np.median(windows, axis=1, keepdims=True)
    return 1.4826 * np.median(np.abs(windows - centre), axis=1)


def _rolling_mean(x: np.ndarray, w: int) -> np.ndarray:
    """Centred rolling mean of odd window ``w``; near the ends the window shrinks
    symmetrically (to 1 at the first and last step). Unlike the median, it puts a zigzag's
    trend in the middle of the zigzag; and a straight line is its own rolling mean, so a
    steady trend (even a short one) leaves no residual that could pass for a swing."""
    idx = np.arange(x.size)
    half = np.minimum(np.minimum(idx, x.size - 1 - idx), w // 2)
    cumulative = np.concatenate([[0.0], np.cumsum(x)])
    return (cumulative[idx + half + 1] - cumulative[idx - half]) / (2 * half + 1)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else str(v)
    return str(v)
