"""Task 5 mistake: softmax as exp(z) / sum(exp(z)) without subtracting the maximum: overflows at 1000."""

import numpy as np

TASK = 5
EXPECT = ["on logits of +-1000", "not finite", "subtract each row's maximum"]


def patch(tt):
    def log_softmax(logits):
        e = np.exp(logits)
        return np.log(e / e.sum(axis=-1, keepdims=True))

    tt.losses.log_softmax = log_softmax
