"""Training plots with matplotlib: loss curves, gradient health, confusion matrix, digits.

Each function returns the matplotlib ``Figure``; pass ``path=`` to also save it (written
atomically). matplotlib is imported only when a plot is made, so ``import minigrad`` stays
light, and figures are built with ``matplotlib.figure.Figure`` rather than pyplot: no GUI
backend or display is needed (headless servers, CI), and notebooks still show them.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write


def display_in_notebooks() -> None:
    """Let IPython show matplotlib Figures made without pyplot, as PNG.

    Figures built directly (``Figure()``, not ``plt.figure()``) have no display hook of their
    own; registering a PNG formatter makes a returned figure appear as a picture in Jupyter.
    Does nothing outside IPython.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    from matplotlib.figure import Figure

    formatter = shell.display_formatter.formatters["image/png"]
    if Figure not in formatter.type_printers:
        formatter.for_type(Figure, _png)


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (6.0, 4.0)) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    display_in_notebooks()

    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Save ``fig`` atomically; the format comes from the extension (png, svg, pdf)."""
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    return atomic_write(path, buf.getvalue())


def _done(fig: Any, path: str | os.PathLike | None) -> Any:
    if path is not None:
        save_figure(fig, path)
    return fig


def _series(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d sequence of numbers, got shape {arr.shape}")
    return arr


def training_curves(train_loss: Sequence[float], val_loss: Sequence[float] | None = None,
                    train_acc: Sequence[float] | None = None, val_acc: Sequence[float] | None = None,
                    *, xlabel: str = "epoch", path: str | os.PathLike | None = None) -> Any:
    """Loss (left) and, if given, accuracy (right) for training and validation."""
    has_acc = train_acc is not None or val_acc is not None
    fig, axes = _figure(1, 2 if has_acc else 1, (10.0 if has_acc else 6.0, 4.0))
    panels = [(axes[0, 0], "loss", train_loss, val_loss)]
    if has_acc:
        panels.append((axes[0, 1], "accuracy", train_acc, val_acc))
    for ax, what, train, val in panels:
        for label, values in (("train", train), ("val", val)):
            if values is not None:
                y = _series(f"training_curves: {label} {what}", values)
                ax.plot(np.arange(1, len(y) + 1), y, marker="o" if len(y) < 30 else None, label=label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(what)
        ax.grid(alpha=0.3)
        ax.legend()
    return _done(fig, path)


def grad_norms(history: Mapping[str, Sequence[float]], *, path: str | os.PathLike | None = None) -> Any:
    """Per-layer gradient norm over steps, log scale: vanishing layers sink, exploding ones soar."""
    fig, axes = _figure()
    ax = axes[0, 0]
    for name, values in history.items():
        ax.plot(_series(f"grad_norms: {name}", values), label=name)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("gradient norm")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _done(fig, path)


def update_ratios(history: Mapping[str, Sequence[float]], *, target: float = 1e-3,
                  path: str | os.PathLike | None = None) -> Any:
    """Per-layer ``|lr * update| / |data|`` over steps, log scale, with the 1e-3 rule of thumb:
    far below it a layer barely learns, far above it training is unstable."""
    fig, axes = _figure()
    ax = axes[0, 0]
    for name, values in history.items():
        ax.plot(_series(f"update_ratios: {name}", values), label=name)
    ax.axhline(target, color="black", linestyle="--", linewidth=1, label=f"{target:g}")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("update / data")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _done(fig, path)


def histograms(values: Mapping[str, Any], *, title: str = "activations", bins: int = 50,
               path: str | os.PathLike | None = None) -> Any:
    """One histogram per layer (activations or gradients), with mean, std and the fraction of
    exact zeros (dead ReLUs) in each panel's title."""
    if not values:
        raise ValueError("histograms: got no layers to plot")
    n = len(values)
    fig, axes = _figure(1, n, (3.0 * n, 3.0))
    for ax, (name, v) in zip(axes[0], values.items()):
        arr = np.asarray(getattr(v, "data", v), dtype=np.float64).ravel()
        ax.hist(arr[np.isfinite(arr)], bins=bins, color="#4575b4")
        zeros = float(np.mean(arr == 0)) if arr.size else 0.0
        ax.set_title(f"{name}\nmean {arr.mean():.3g} std {arr.std():.3g} zeros {zeros:.0%}", fontsize=8)
    fig.suptitle(title)
    return _done(fig, path)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None, *,
                     class_names: Sequence[str] | None = None,
                     path: str | os.PathLike | None = None) -> Any:
    """Counts of (true class, predicted class); the diagonal is what the model gets right.
    ``class_names`` label the axes (e.g. Fashion-MNIST's "T-shirt/top", ...) instead of 0..k-1."""
    t = np.asarray(getattr(y_true, "data", y_true)).astype(np.int64).ravel()
    p = np.asarray(getattr(y_pred, "data", y_pred)).astype(np.int64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"confusion_matrix: y_true has {t.size} labels but y_pred has {p.size}")
    k = num_classes or (len(class_names) if class_names else int(max(t.max(initial=0), p.max(initial=0)) + 1))
    if class_names is not None and len(class_names) != k:
        raise ValueError(f"confusion_matrix: {len(class_names)} class_names for {k} classes; give one name "
                         "per class")
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (t, p), 1)
    fig, axes = _figure(size=(5.0, 4.5))
    ax = axes[0, 0]
    im = ax.imshow(counts, cmap="Blues")
    fig.colorbar(im, ax=ax)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if counts[i, j] > counts.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if class_names is None:
        ax.set_xticks(range(k))
        ax.set_yticks(range(k))
    else:
        ax.set_xticks(range(k), labels=class_names, rotation=45, ha="right")
        ax.set_yticks(range(k), labels=class_names)
    fig.counts = counts
    return _done(fig, path)


def image_grid(images: Any, labels: Sequence[Any] | None = None, preds: Sequence[Any] | None = None,
               *, ncols: int = 8, class_names: Sequence[str] | None = None,
               path: str | os.PathLike | None = None) -> Any:
    """A grid of grey images (N, H, W) or flat MNIST rows (N, 784), titled ``label`` or
    ``true→pred`` (red where they differ: the misclassified digits); with ``preds`` a legend
    above the grid says which is which. ``class_names`` replace the class numbers."""
    arr = np.asarray(getattr(images, "data", images), dtype=np.float64)
    if arr.ndim == 2:
        side = int(round(np.sqrt(arr.shape[1])))
        if side * side != arr.shape[1]:
            raise ValueError(f"image_grid: rows of length {arr.shape[1]} are not square images; "
                             f"pass images of shape (N, H, W)")
        arr = arr.reshape(-1, side, side)
    if arr.ndim != 3 or len(arr) == 0:
        raise ValueError(f"image_grid: expected images of shape (N, H, W) with N > 0, got {arr.shape}")
    n = len(arr)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    def name(c: Any) -> str:
        return str(class_names[int(c)]) if class_names is not None else str(int(c))

    width = 2.0 if class_names is not None else 1.3
    fig, axes = _figure(nrows, ncols, (width * ncols, 1.5 * nrows + (0.4 if preds is not None else 0)))
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k >= n:
            continue
        ax.imshow(arr[k], cmap="gray_r")
        if labels is not None:
            title, color = name(labels[k]), "black"
            if preds is not None:
                title += f"→{name(preds[k])}"
                color = "red" if int(preds[k]) != int(labels[k]) else "black"
            ax.set_title(title, fontsize=9 if class_names is None else 7, color=color)
    if labels is not None and preds is not None:
        fig.suptitle("title: true label → predicted label (red: wrong)", fontsize=10)
    return _done(fig, path)
