"""TensorBoard logging: ``SummaryWriter(log_dir)`` writes real TensorBoard event files.

    from minigrad.utils.tensorboard import SummaryWriter
    with SummaryWriter("runs/exp1") as writer:
        writer.add_scalar("loss/train", loss.item(), step)
        writer.add_histogram("grad/fc1.weight", model.fc1.weight.grad, step)
    # then: tensorboard --logdir runs

The event-file format (protobuf records with CRCs) is written by tensorboardX, a
well-kept library made for this, installed with the ``tensorboard`` extra
(``pip install "minigrad-edu[tensorboard]"``, which also installs TensorBoard itself to
view the logs). This module only turns minigrad Tensors, Parameters' gradients and
matplotlib figures into what tensorboardX takes. The names and arguments are PyTorch's
``torch.utils.tensorboard.SummaryWriter``'s.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..tensor import Tensor

EXTRA_HINT = ('minigrad.utils.tensorboard needs the optional "tensorboard" extra: '
              'pip install "minigrad-edu[tensorboard]" (or: pip install tensorboardX tensorboard)')


def import_tensorboardx() -> Any:
    """The tensorboardX module, or ImportError naming the extra to install."""
    try:
        import tensorboardX
    except ImportError as e:
        raise ImportError(f"{EXTRA_HINT}; importing tensorboardX failed: {e}") from None
    return tensorboardX


def _values(name: str, tag: str, values: Any) -> np.ndarray:
    """A numpy array from a Tensor, a Parameter, an array or a list (never a graph)."""
    if isinstance(values, Tensor):
        return values.data
    if values is None:
        raise ValueError(f"SummaryWriter.{name}({tag!r}): got None; a parameter's .grad is None before "
                         f"the first backward() (or when the parameter was not used)")
    return np.asarray(values)


def _scalar(tag: str, value: Any) -> float:
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"SummaryWriter.add_scalar({tag!r}): expected one number, got a tensor of "
                             f"shape {value.shape}")
        return float(value.item())
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"SummaryWriter.add_scalar({tag!r}): expected a number, got "
                         f"{type(value).__name__}") from None


def figure_to_array(figure: Any) -> np.ndarray:
    """Render a matplotlib Figure (pyplot's or a plain ``matplotlib.figure.Figure``) to an
    RGB uint8 array of shape (H, W, 3), without pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


class SummaryWriter:
    """Write scalars, histograms, images, figures and text to a TensorBoard log folder.

    ``SummaryWriter(log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
    filename_suffix="")``: ``log_dir`` defaults to ``runs/<date>_<host><comment>`` as in
    PyTorch. Events are buffered; ``flush()`` writes them out, ``close()`` (or leaving a
    ``with`` block) flushes and closes the file. ``global_step`` is the x axis in TensorBoard.
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        self._tbx = import_tensorboardx()
        self._options = {"max_queue": max_queue, "flush_secs": flush_secs, "filename_suffix": filename_suffix}
        self._writer = self._tbx.SummaryWriter(logdir=None if log_dir is None else os.fspath(log_dir),
                                               comment=comment, purge_step=purge_step, **self._options)
        self.log_dir: str = self._writer.logdir
        self._children: dict[str, Any] = {}

    def get_logdir(self) -> str:
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None) -> None:
        """One point of the curve ``tag`` (a number or a one-element Tensor)."""
        self._writer.add_scalar(tag, _scalar(tag, scalar_value), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, Any], global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Several curves drawn on one chart (e.g. {'train': ..., 'val': ...}); as in PyTorch,
        each is stored under tag ``main_tag`` in its own run ``<log_dir>/<main_tag>_<key>``
        ('/' in main_tag becomes '_')."""
        values = {k: _scalar(f"{main_tag}/{k}", v) for k, v in tag_scalar_dict.items()}
        for key, value in values.items():
            run = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + key)
            child = self._children.get(run)
            if child is None:
                child = self._children[run] = self._tbx.SummaryWriter(logdir=run, **self._options)
            child.add_scalar(main_tag, value, global_step, walltime)

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None,
                      bins: str | int | np.ndarray = "tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        """The distribution of ``values``: a Tensor, a Parameter (its values), ``p.grad``, or an
        array. Non-finite values are refused (TensorBoard cannot bin them), naming the tag."""
        arr = _values("add_histogram", tag, values).astype(np.float64, copy=False).reshape(-1)
        if arr.size == 0:
            raise ValueError(f"SummaryWriter.add_histogram({tag!r}): no values to histogram")
        if not np.isfinite(arr).all():
            raise ValueError(f"SummaryWriter.add_histogram({tag!r}): {int((~np.isfinite(arr)).sum())} of "
                             f"{arr.size} values are NaN/inf; log a finite tensor (check the gradients "
                             f"with minigrad.debug.check_gradients)")
        self._writer.add_histogram(tag, arr, global_step, bins=bins, walltime=walltime, max_bins=max_bins)

    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """An image: floats in [0, 1] or uint8 in [0, 255], laid out as ``dataformats``
        ('CHW', 'HWC', 'HW', ...); an MNIST digit is ``x.reshape(28, 28)`` with 'HW'."""
        arr = _values("add_image", tag, img_tensor)
        if arr.ndim != len(dataformats):
            raise ValueError(f"SummaryWriter.add_image({tag!r}): an array of shape {arr.shape} does not "
                             f"match dataformats={dataformats!r}")
        self._writer.add_image(tag, arr, global_step, walltime, dataformats=dataformats)

    def add_figure(self, tag: str, figure: Any, global_step: int | None = None, close: bool = True,
                   walltime: float | None = None) -> None:
        """A matplotlib figure, rendered to an image."""
        image = figure_to_array(figure)
        self._writer.add_image(tag, image, global_step, walltime, dataformats="HWC")
        if close:
            import matplotlib.pyplot as plt

            plt.close(figure)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """A note (markdown) shown in TensorBoard's Text tab."""
        self._writer.add_text(tag, str(text_string), global_step, walltime)

    def flush(self) -> None:
        """Write every pending event to disk."""
        for w in (self._writer, *self._children.values()):
            w.flush()

    def close(self) -> None:
        """Flush and close the event files; the writer cannot be used afterwards."""
        for w in (self._writer, *self._children.values()):
            w.close()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
