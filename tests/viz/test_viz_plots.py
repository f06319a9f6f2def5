"""minigrad.viz.plots: each plot returns a Figure and saves it atomically."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from minigrad.viz import plots


def test_import_minigrad_does_not_import_matplotlib():
    code = "import sys, minigrad, minigrad.viz; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_training_curves(tmp_path):
    fig = plots.training_curves([2.0, 1.0, 0.5], [2.1, 1.2, 0.7], [0.5, 0.8, 0.9], [0.4, 0.7, 0.85],
                                path=tmp_path / "curves.png")
    assert len(fig.axes) == 2
    assert [line.get_label() for line in fig.axes[0].lines] == ["train", "val"]
    np.testing.assert_array_equal(fig.axes[1].lines[1].get_ydata(), [0.4, 0.7, 0.85])
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert len(plots.training_curves([1.0, 0.5]).axes) == 1
    with pytest.raises(ValueError, match="training_curves: train loss"):
        plots.training_curves([[1.0, 2.0]])


def test_grad_norms_and_update_ratios(tmp_path):
    history = {"fc1.weight": [1.0, 0.1, 0.01], "fc2.weight": [2.0, 20.0, 200.0]}
    fig = plots.grad_norms(history, path=tmp_path / "g.svg")
    assert fig.axes[0].get_yscale() == "log" and len(fig.axes[0].lines) == 2
    assert "<svg" in (tmp_path / "g.svg").read_text()
    fig = plots.update_ratios({"fc1.weight": [1e-4, 1e-3]})
    assert len(fig.axes[0].lines) == 2  # the series and the 1e-3 reference line


def test_histograms():
    acts = {"relu1": np.array([0.0, 0.0, 1.0, 3.0]), "relu2": np.ones(10)}
    fig = plots.histograms(acts, title="activations")
    assert len(fig.axes) == 2 and "zeros 50%" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="no layers"):
        plots.histograms({})


def test_confusion_matrix(tmp_path):
    fig = plots.confusion_matrix([0, 1, 2, 2, 1], [0, 2, 2, 2, 1], num_classes=3, path=tmp_path / "cm.pdf")
    np.testing.assert_array_equal(fig.counts, [[1, 0, 0], [0, 1, 1], [0, 0, 2]])
    assert (tmp_path / "cm.pdf").read_bytes()[:4] == b"%PDF"
    with pytest.raises(ValueError, match="5 labels but y_pred has 4"):
        plots.confusion_matrix([0, 1, 2, 2, 1], [0, 1, 2, 2])


def test_image_grid_marks_misclassified():
    images = np.random.default_rng(0).random((3, 784))
    fig = plots.image_grid(images, labels=[7, 2, 1], preds=[7, 3, 1], ncols=2)
    titles = [(ax.get_title(), ax.title.get_color()) for ax in fig.axes if ax.get_title()]
    assert titles == [("7→7", "black"), ("2→3", "red"), ("1→1", "black")]
    with pytest.raises(ValueError, match="not square"):
        plots.image_grid(np.zeros((2, 10)))


def test_figures_display_as_png_in_ipython():
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        fig = plots.training_curves([3.0, 2.0, 1.0])
        data, _ = shell.display_formatter.format(fig)
        assert data["image/png"].startswith(b"\x89PNG")
    finally:
        InteractiveShell.clear_instance()
