"""Task 6 mistake: Adam without bias correction (m and v used as they are, not m / (1 - b1^t))."""

import numpy as np

TASK = 6
EXPECT = ["Adam(lr=0.01): parameter 0 after step 1", "element (0, 0) is wrong", "bias correction"]


def patch(tt):
    def step(self):
        b1, b2 = self.betas
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            p.data -= (self.lr * self.m[i] / (np.sqrt(self.v[i]) + self.eps)).astype(p.dtype)

    tt.optim.Adam.step = step
