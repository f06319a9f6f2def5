"""Task 4 mistake: Module.__setattr__ registers Parameters but not submodules, so a Sequential has none."""

TASK = 4
EXPECT = ["Sequential(Linear(3, 4), ReLU(), Linear(4, 2)).named_parameters()",
          "expected the names ['0.weight', '0.bias', '2.weight', '2.bias']", "got []", "self._modules"]


def patch(tt):
    def __setattr__(self, name, value):
        self._parameters.pop(name, None)
        if isinstance(value, tt.nn.Parameter):
            self._parameters[name] = value
        object.__setattr__(self, name, value)

    tt.nn.Module.__setattr__ = __setattr__
