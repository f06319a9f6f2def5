"""Task 2 mistake: Value.__add__'s backward assigns (=) instead of accumulating (+=), so a + a gives 1."""

TASK = 2
EXPECT = ["Value.__add__, a value used twice: a.grad", "expected 2 (minigrad), got 1", "+="]


def patch(tt):
    Value, lift = tt.value.Value, tt.value._lift

    def __add__(self, other):
        other = lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad = out.grad
            other.grad = out.grad

        out._backward = _backward
        return out

    Value.__add__ = __add__
