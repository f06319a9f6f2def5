"""Task 3 mistake: _accumulate stores the output-shaped gradient without undoing broadcasting."""

TASK = 3
EXPECT = ["Tensor.__add__ ((3, 4) + (4,)) backward: b.grad", "wrong shape: expected (4,), got (3, 4)",
          "unbroadcast(grad, self.shape)"]


def patch(tt):
    def _accumulate(self, grad):
        grad = grad.astype(self.dtype)
        self.grad = grad.copy() if self.grad is None else self.grad + grad

    tt.tensor.Tensor._accumulate = _accumulate
