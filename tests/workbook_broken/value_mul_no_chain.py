"""Task 1 mistake: Value.__mul__'s backward forgets the chain-rule factor out.grad."""

TASK = 1
EXPECT = ["Value.__mul__ (a * b) backward: a.grad", "inputs: a = ", "expected", "got",
          "hint: local derivative"]


def patch(tt):
    Value, lift = tt.value.Value, tt.value._lift

    def __mul__(self, other):
        other = lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data
            other.grad += self.data

        out._backward = _backward
        return out

    Value.__mul__ = __mul__
