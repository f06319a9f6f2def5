"""Differentiable primitives, one Function per op, grouped by family, and the composites.

Read any family file here to see the chain rule at work: each class has its forward (numpy)
and its backward (Tensor ops) side by side, with the derivative in the docstring.
``composite.py`` holds the ops written with other ops (``flatten``, ``stack``, ``rsqrt``...).
Each public op has one home here; Tensor methods and ``minigrad.functional`` delegate to it.
"""

from .. import tensor
from . import activation, composite, discrete, elementwise, indexing, linalg, reduce, shape

tensor.bind_ops(act=activation, comp=composite, disc=discrete, ew=elementwise, idx=indexing,
                linalg=linalg, red=reduce, shape=shape)
