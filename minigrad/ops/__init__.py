"""Differentiable primitives, one Function per op, grouped by family.

Read any file here to see the chain rule at work: each class has its forward (numpy)
and its backward (Tensor ops) side by side, with the derivative in the docstring.
"""

from .. import tensor
from . import activation, composite, dims, discrete, elementwise, indexing, linalg, reduce, shape

tensor.bind_ops(act=activation, comp=composite, disc=discrete, dims=dims, ew=elementwise, idx=indexing,
                linalg=linalg, red=reduce, shape=shape)
