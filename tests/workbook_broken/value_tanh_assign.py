"""Task 1 mistake: Value.tanh's backward assigns (=) the input's gradient instead of adding to it (+=)."""

import math

TASK = 1
EXPECT = ["Value.tanh backward: a.grad", "a.grad before = 0.25", "add with +="]


def patch(tt):
    Value = tt.value.Value

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad = (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    Value.tanh = tanh
