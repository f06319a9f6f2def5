"""Forward values and gradients of every op agree with PyTorch in float64."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.op_inputs import leaves, op_arrays
from tests.op_registry import ALL


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning")  # torch, empty input
@pytest.mark.parametrize("spec", [s for s in ALL if s.torch_fn is not None], ids=lambda s: s.name)
@settings(max_examples=5)
@given(data=st.data())
def test_matches_torch(torch, spec, data):
    arrays = data.draw(op_arrays(spec))
    ours = leaves(arrays)
    theirs = [torch.tensor(np.array(a, order="C"), requires_grad=True) for a in arrays]
    out = spec.fn(*ours)
    ref = spec.torch_fn(*theirs)
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    if out.data.size == 0:
        return
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    for mine, other in zip(ours, theirs):
        expected = np.zeros(mine.shape) if other.grad is None else other.grad.numpy()
        got = np.zeros(mine.shape) if mine.grad is None else mine.grad.data
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
