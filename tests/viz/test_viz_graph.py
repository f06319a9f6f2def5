"""minigrad.viz.draw / to_text: DOT text compared byte for byte with checked-in files.

Regenerate the expected files (then READ them) with
``MINIGRAD_REGEN_VIZ=1 python -m pytest tests/test_viz_graph.py``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import viz
from minigrad.viz import render
from tests.viz_cases import mlp_step, nan_graph, reuse, scalar_expression

DATA = Path(__file__).parent.parent / "data" / "viz"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz `dot` is not installed (apt-get install graphviz)")


def check_golden(name: str, text: str) -> None:
    path = DATA / name
    if os.environ.get("MINIGRAD_REGEN_VIZ"):
        path.write_text(text)
    assert text == path.read_text(), f"DOT for {name} changed; compare with {path}"


def test_scalar_expression_dot_matches_file():
    check_golden("scalar.dot", viz.draw(scalar_expression()).source)


def test_reuse_has_two_edges_and_matches_file():
    out, _ = reuse()
    src = viz.draw(out).source
    check_golden("reuse.dot", src)
    assert src.count("t0 -> op0;") == 2


def test_mlp_with_named_params_matches_file():
    loss, model = mlp_step()
    src = viz.draw(loss, model).source
    check_golden("mlp.dot", src)
    for name in ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "loss"):
        assert f'label="{name}|' in src


def test_nan_path_matches_file():
    out = nan_graph()
    out.backward(retain_graph=True)  # keeps the intermediate values the NaN path is found in
    src = viz.draw(out).source
    check_golden("nan.dot", src)
    assert "(first NaN/Inf)" in src
    assert src.count('penwidth="3", color="#cc0000"') == 6


def test_values_freed_by_backward_are_drawn_as_freed():
    out = nan_graph()
    out.backward()
    src = viz.draw(out).source
    assert src.count("data: freed by backward") == 4  # x*3, log, *w, +w; leaves keep theirs
    assert 'label="x|(2,) float32|data: min -1 mean 0 max 1' in src


def test_gradient_view_matches_file():
    out = scalar_expression()
    viz.trace_grads(out)
    out.backward(retain_graph=True)
    src = viz.draw(out, view="gradient").source
    check_golden("gradient.dot", src)
    # dL/da = (b + 2) * (1 - tanh^2): both shares into ``a`` appear on its two edges.
    t = np.tanh(-2.0)
    assert f'label="{(1 - t * t) * -3:.4g}"' in src and f'label="{(1 - t * t) * 2:.4g}"' in src


def test_before_backward_says_grad_not_computed():
    src = viz.draw(scalar_expression()).source
    assert "grad: not computed yet (run backward)" in src
    assert "grad: 0|" not in src


def test_intermediate_grads_need_trace_grads():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    out = (a * a).sum()
    out.backward()
    assert "not kept (call viz.trace_grads(out) before backward)" in viz.draw(out).source
    b = mg.tensor([1.0, 2.0], requires_grad=True)
    out = viz.trace_grads((b * b).sum())
    out.backward()
    assert "not kept" not in viz.draw(out).source
    src = viz.draw(out).source
    inner = "intermediate %1|(2,) float32|data: min 1 mean 2.5 max 4|grad: norm 1.414, min 1 mean 1 max 1"
    assert inner in src
    assert "grad: norm 4.472, min 2 mean 3 max 4" in src  # d/db sum(b*b) = 2b = [2, 4]


def test_deterministic_in_one_process():
    """Two separately built graphs of the same program, with unrelated ops recorded in between
    (so the global creation counter and every id() differ), draw to the same text."""
    first = viz.draw(scalar_expression()).source
    unrelated = mg.tensor([1.0], requires_grad=True)
    for _ in range(3):
        unrelated = unrelated * 2.0
    second = viz.draw(scalar_expression()).source
    assert first == second
    loss1, m1 = mlp_step(record=True)
    loss2, m2 = mlp_step(record=True)
    assert viz.draw(loss1, model=m1).source == viz.draw(loss2, model=m2).source


def test_options_change_the_picture():
    loss, model = mlp_step(record=True)
    tb = viz.draw(loss, model, rankdir="TB").source
    assert "rankdir=TB" in tb and 'label="{fc1.weight|' in tb
    assert "legend" not in viz.draw(loss, model, show_legend=False).source
    clustered = viz.draw(loss, model=model).source
    assert 'label="fc1 (Lin)"' in clustered and 'label="fc2 (Lin)"' in clustered
    collapsed = viz.draw(loss, model=model, collapse_modules=True).source
    assert collapsed.count("box3d") == 2
    assert "fc1.weight" not in collapsed and "Permute" not in collapsed
    colored = viz.draw(loss, model, color_by_grad=True).source
    assert "gradient norm" in colored and 'fillcolor="#ffffbf"' in colored


def test_color_scale_marks_vanishing_and_exploding():
    from minigrad.viz.dot import grad_color

    assert grad_color(0.0)[0] == grad_color(1e-9)[0] == "#313695"
    assert grad_color(0.5)[0] == "#ffffbf"
    assert grad_color(1e6)[0] == "#a50026"


def test_show_saved_lists_what_the_op_saved_and_freed_is_true():
    import gc
    import weakref

    from minigrad.ops.linear import LinearAct

    x = mg.tensor(np.ones((2, 3), np.float32))
    w = mg.tensor(np.ones((4, 3), np.float32), requires_grad=True)
    out = LinearAct.apply(x, w, activation="relu").sum()
    node = out.grad_fn.next_functions[0][0]
    x2, _, mask = node.saved_tensors
    refs = [weakref.ref(a) for a in (x2, mask)]
    del x2, mask
    label = next(line for line in viz.draw(out, show_saved=True).source.splitlines()
                 if "LinearAct" in line and "label=" in line)
    assert "saved: array(2, 3) float32, array(4, 3) float32, array(2, 4) float32" in label
    out.backward()
    gc.collect()
    label = next(line for line in viz.draw(out, show_saved=True).source.splitlines()
                 if "LinearAct" in line and "label=" in line)
    assert "saved: freed by backward (retain_graph=True keeps it)" in label
    assert node.ctx is None and [r() for r in refs] == [None, None]  # the label tells the truth


def test_collapse_needs_recorded_model():
    loss, model = mlp_step()
    with pytest.raises(ValueError, match="record_modules"):
        viz.draw(loss, model=model, collapse_modules=True)
    with pytest.raises(ValueError, match="collapse_modules=True needs model"):
        viz.draw(loss, collapse_modules=True)


def test_bad_options_are_named():
    out = scalar_expression()
    with pytest.raises(ValueError, match="view must be"):
        viz.draw(out, view="sideways")
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw(out, rankdir="RL")
    with pytest.raises(TypeError, match="params must be"):
        viz.draw(out, params=[1, 2])


def test_max_nodes_guard():
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(30):
        y = y * 1.01  # x, 30 constants, 30 ops and their 30 outputs: 91 nodes
    with pytest.raises(ValueError, match=r"91 nodes, more than max_nodes=20.*collapse_modules=True"):
        viz.draw(y, max_nodes=20)
    assert viz.draw(y, max_nodes=91).source.count("shape=\"ellipse\"") == 30


def test_create_graph_backward_graph_can_be_drawn():
    x = mg.tensor(3.0, requires_grad=True)
    x.label = "x"
    (x ** 3).backward(create_graph=True)
    assert x.grad.grad_fn is not None
    src = viz.draw(x.grad).source
    text = viz.to_text(x.grad)
    assert "x|() float32|data: 3" in src and "Mul" in src
    assert text.splitlines()[-1].endswith("-> () float32  [output]")
    np.testing.assert_allclose(x.grad.item(), 27.0)


def test_to_text_lists_ops_with_shapes():
    loss, model = mlp_step()
    lines = viz.to_text(loss, model).splitlines()
    assert lines[0] == "%0: x (5, 3) float32  [input]"
    assert lines[1] == "%1: fc1.weight (4, 3) float32  [parameter]"
    assert ("%3 = LinearAct(%0: (5, 3), %1: (4, 3), %2: (4,)) activation='none' -> (5, 4) float32"
            in lines)
    assert lines[-1] == "%11 = Neg(%10: ()) -> () float32  (loss)  [output]"
    assert re.search(r"%9 = Gather\(%8: \(5, 2\)\) dim=1 index=array\(5, 1\) int64", "\n".join(lines))
    assert "# 2, grad -0.07065" in viz.to_text(_backward(scalar_expression()), values=True)


def _backward(out: mg.Tensor) -> mg.Tensor:
    out.backward()
    return out


@needs_dot
def test_svg_has_the_labels(tmp_path):
    loss, model = mlp_step()
    g = viz.draw(loss, model)
    svg = g.svg()
    assert svg.lstrip().startswith("<?xml") and "fc2.weight" in svg and "LogSoftmax" in svg
    assert g._repr_mimebundle_()["image/svg+xml"] == svg
    for fmt in ("svg", "png", "pdf", "dot"):
        path = g.save(tmp_path / f"g.{fmt}")
        assert path.stat().st_size > 100
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "g.dot").read_text() == g.source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot", "g.pdf", "g.png", "g.svg"]


def test_missing_dot_gives_one_clear_message(monkeypatch, tmp_path):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    g = viz.draw(scalar_expression())
    assert g.source.startswith("digraph minigrad {")
    bundle = g._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert bundle["text/plain"].count("apt-get install graphviz") == 1
    assert "https://graphviz.org/download/" in bundle["text/plain"] and g.source in bundle["text/plain"]
    with pytest.raises(viz.GraphvizNotFound, match="apt-get install graphviz"):
        g.svg()
    with pytest.raises(viz.GraphvizNotFound, match="graphviz.org/download"):
        g.save(tmp_path / "g.png")
    assert g.save(tmp_path / "g.dot").read_text() == g.source
    assert viz.to_text(scalar_expression()).count("\n") == 7
    assert not (tmp_path / "g.png").exists()


def test_record_modules_innermost_module_wins():
    from tests.viz_cases import Lin

    class Block(mg.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = Lin(3, 3, seed=3)

        def forward(self, x: mg.Tensor) -> mg.Tensor:
            return self.inner(x).tanh()

    class Net(mg.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block = Block()

        def forward(self, x: mg.Tensor) -> mg.Tensor:
            return self.block(x).sum()

    net = Net()
    with viz.record_modules(net):
        out = net(mg.ones(2, 3))
    assert not net.block._forward_hooks and not net.block.inner._forward_pre_hooks
    src = viz.draw(out, model=net).source
    assert 'label="block.inner (Lin)"' in src and 'label="block (Block)"' in src
    block = src.split('label="block (Block)"')[1].split("}")[0]
    assert "Tanh" in block and "MatMul" not in block
    collapsed = viz.draw(out, model=net, collapse_modules=True).source
    assert collapsed.count("box3d") == 1 and "Tanh" not in collapsed and "Sum" in collapsed
