"""Linear (y = x W^T + b), and the two shape helpers that sit around it: Identity, Flatten."""

from __future__ import annotations

import math

import numpy as np

from ...ops.linear import linear
from ...tensor import Tensor
from .. import init
from ..module import Module
from ..parameter import Parameter
from ._factory import param_dtype


class Linear(Module):
    """y = x W^T + b with W of shape (out_features, in_features).

    Initialised as in PyTorch: W ~ kaiming_uniform_(a=sqrt(5)), which is
    U(-1/sqrt(in_features), 1/sqrt(in_features)), and b ~ the same uniform.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: object = None, dtype: object = None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        dtype = param_dtype(type(self).__name__, device, dtype)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        """y = x W^T + b; the derivative is ``LinearAct.backward`` in ``minigrad/ops/linear.py``."""
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.bias is not None}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to switch a layer off)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Flatten(Module):
    """Merge dimensions start_dim..end_dim into one: (N, 1, 28, 28) -> (N, 784)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
