"""Task 3 mistake: Tensor.__matmul__'s backward uses ones instead of the upstream gradient out.grad."""

import numpy as np

TASK = 3
EXPECT = ["Tensor.__matmul__ ((3, 4) @ (4, 5)) backward: a.grad", "element (0, 0) is wrong", "expected",
          "inputs: a: shape (3, 4) float32", "hint: dA = out.grad @ B^T"]


def patch(tt):
    Tensor = tt.tensor.Tensor

    def __matmul__(self, other):
        other = self._lift(other)
        out = Tensor(self.data @ other.data, _children=(self, other), _op="matmul")

        def _backward():
            ones = np.ones_like(out.grad)
            self._accumulate(ones @ other.data.T)
            other._accumulate(self.data.T @ ones)

        out._backward = _backward
        return out

    Tensor.__matmul__ = __matmul__
