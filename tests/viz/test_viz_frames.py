"""minigrad.viz.backward_frames: one picture per backward step, on one fixed layout."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

import minigrad as mg
from minigrad import viz
from minigrad.autograd.engine import topological_order
from tests.viz_cases import scalar_expression

pytestmark = pytest.mark.skipif(shutil.which("dot") is None,
                                reason="Graphviz `dot` is not installed (apt-get install graphviz)")


def node_line(source: str, node: str) -> str:
    return next(line for line in source.splitlines() if line.startswith(f"  {node} ["))


def test_one_frame_per_node_walked():
    out = scalar_expression()
    frames = viz.backward_frames(out)
    assert len(frames) == len(topological_order([out.grad_fn])) == 4
    assert frames.captions[0].startswith("step 1: Tanh.backward")
    for k, src in enumerate(frames.sources):
        current = [line for line in src.splitlines() if 'fillcolor="#ffd966", penwidth="3"' in line]
        assert len(current) == 1, f"frame {k} should highlight exactly one op"


def test_reused_value_gradient_grows_across_frames():
    out = scalar_expression()  # L = tanh(a*b + 2a): a is used by two Mul nodes
    grads = [re.search(r"grad: ([^\"|]+)\"", node_line(s, "t0")).group(1)
             for s in viz.backward_frames(out).sources]
    d = 1 - np.tanh(-2.0) ** 2
    assert grads[:2] == ["pending", "pending"]
    assert grads[2] == f"{2 * d:.4g}"  # the share through 2*a arrives first
    assert grads[3] == f"{(2 - 3) * d:.4g}"  # then b * dL/dc is added: (b + 2) dL/dd


def test_layout_is_fixed_across_frames():
    frames = viz.backward_frames(scalar_expression())
    positions = {re.search(r'  t0 \[.*pos="([^"]+)"', s).group(1) for s in frames.sources}
    assert len(positions) == 1
    edges = {tuple(re.findall(r'id="e\d+", pos="([^"]+)"', s)) for s in frames.sources}
    assert len(edges) == 1 and len(next(iter(edges))) == 11


def test_user_graph_and_grads_untouched():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    a.grad = mg.tensor([5.0, 5.0])
    out = (a * a + a).sum()
    frames = viz.backward_frames(out)
    assert len(frames) == 3
    np.testing.assert_array_equal(a.grad.data, [5.0, 5.0])
    assert not any(fn.freed for fn in topological_order([out.grad_fn]))
    out.backward()  # still possible: nothing was freed
    np.testing.assert_array_equal(a.grad.data, [5.0 + 3.0, 5.0 + 5.0])  # + (2a + 1)


def test_freed_graph_is_explained():
    out = scalar_expression()
    out.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.backward_frames(out)
    with pytest.raises(ValueError, match="must be a scalar"):
        viz.backward_frames(mg.tensor([1.0, 2.0], requires_grad=True) * 2)


def test_saving_frames(tmp_path):
    from PIL import Image

    frames = viz.backward_frames(scalar_expression())
    paths = frames.save_svgs(tmp_path / "svgs")
    assert [p.name for p in paths] == [f"frame_{k:03d}.svg" for k in range(4)]
    assert all("Tanh" in p.read_text() for p in paths)
    page = frames.save_html(tmp_path / "f.html").read_text()
    assert page.count("<svg") == 4 and 'type="range"' in page and "step 4: Mul.backward" in page
    assert "<svg" in frames._repr_html_()
    gif = Image.open(frames.save_gif(tmp_path / "f.gif"))
    assert gif.n_frames == 4


def test_frames_step_is_the_engines_node_step_hooks_and_dtype():
    """The frames run the engine's node_step: a hook on an intermediate changes what the
    frames show exactly as it changes the engine's gradient, and each share has its input's
    dtype (the old copy of the step skipped both)."""
    from minigrad.viz.frames import _walk
    from minigrad.viz.graph import build

    x = mg.tensor([1.0, 2.0], dtype=mg.float32, requires_grad=True)
    h = x * 3.0
    h.register_hook(lambda g: -g)
    out = (h * mg.tensor([1.0, 1.0], dtype=mg.float64)).sum()
    graph = build(out)
    *_, (_, grads, _, _) = _walk(graph, out)
    out.backward()
    leaf = next(t.index for t in graph.tensors if t.tensor is x)
    assert grads[leaf].dtype == np.float32
    np.testing.assert_array_equal(grads[leaf], x.grad.data)
    np.testing.assert_array_equal(x.grad.data, [-3.0, -3.0])
