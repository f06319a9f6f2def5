"""Task 8 mistake: the cross-entropy gradient softmax - onehot, without the 1/N of the mean."""

import numpy as np

TASK = 8
EXPECT = ["cross_entropy_backward (logits of scale 1)", "element (0, 0) is wrong", "/ N"]


def patch(tt):
    def cross_entropy_backward(logits, target):
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        grad = e / e.sum(axis=1, keepdims=True)
        grad[np.arange(logits.shape[0]), target] -= 1.0
        return grad

    tt.by_hand.cross_entropy_backward = cross_entropy_backward
