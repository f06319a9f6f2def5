"""Hypothesis strategies that draw inputs for an OpSpec: shapes with broadcasting, size-1
and empty dimensions, and non-contiguous (transposed) arrays."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import minigrad as mg
from tests.op_registry import OpSpec, sample

NO_EMPTY = {"amax", "amax_dim", "amin_dim", "max", "min", "max_dim", "min_dim_keep", "norm_inf",
            "norm_minus_inf", "logsumexp", "getitem_mask"}
TWO_OR_MORE = {"var", "std", "std_keepdim"}  # n - 1 = 0 gives NaN, as in PyTorch: nothing to check


@st.composite
def op_arrays(draw: st.DrawFn, spec: OpSpec) -> list[np.ndarray]:
    """float64 arrays for ``spec``'s inputs, some of them non-contiguous views."""
    if spec.fixed_shapes is not None:
        shapes = list(spec.fixed_shapes)
    elif spec.broadcast:
        shapes = list(draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
                      .input_shapes)
    else:
        min_side = 2 if spec.name in TWO_OR_MORE else 1 if spec.name in NO_EMPTY else 0
        shapes = [draw(array_shapes(min_dims=max(spec.min_ndim, 0), max_dims=3, min_side=min_side,
                                    max_side=3))]
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        if len(shape) >= 2 and draw(st.booleans()):
            arr = sample(rng, shape[::-1], spec.domain, spec.kinks).T
        else:
            arr = sample(rng, shape, spec.domain, spec.kinks)
        arrays.append(arr)
    if spec.name in ("maximum", "minimum", "where") and arrays[0].size and arrays[1].size:
        b = np.broadcast_arrays(*arrays)
        if np.min(np.abs(b[0] - b[1])) < 1e-2:
            arrays[1] = arrays[1] + 0.5
    return arrays


def leaves(arrays: list[np.ndarray]) -> list[mg.Tensor]:
    """Wrap arrays (keeping their strides) as float64 leaves that require grad."""
    out = []
    for arr in arrays:
        t = mg.from_numpy(arr)
        t.requires_grad_(True)
        out.append(t)
    return out
