"""Anomaly mode: the error names the op, the user's line and the inputs; off means free."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import anomaly
from minigrad.debug import AnomalyError, detect_anomaly, is_anomaly_enabled, set_detect_anomaly

HERE = os.path.basename(__file__)


def next_line() -> int:
    return sys._getframe(1).f_lineno + 1


def test_log_of_zero_names_op_line_and_inputs():
    p = mg.tensor([1.0, 2.0, 0.0, 3.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        line = next_line()
        loss = -p.log().mean()  # noqa: F841
    msg = str(info.value)
    assert msg.startswith("Log produced -inf (1 of 4 values, first at index (2,)) in forward at ")
    assert f"{HERE}:{line} (loss = -p.log().mean()" in msg
    assert "input 0: shape (4,) float32, min 0 max 3" in msg
    assert "log_softmax" in msg  # the hint
    assert not is_anomaly_enabled()


def test_backward_nan_names_the_node_and_where_it_was_made():
    x = mg.tensor([4.0, 0.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info, detect_anomaly(), np.errstate(divide="ignore"):
        line = next_line()
        y = x.sqrt().sum()
        y.backward()
    msg = str(info.value)
    assert msg.startswith("SqrtBackward produced inf (1 of 2 values, first at index (1,)) "
                          "in the gradient of input 0")
    assert f"{HERE}:{line}" in msg
    assert "input 0: shape (2,) float32, min 0 max 4" in msg
    assert x.grad is None


def test_nan_already_in_the_input_is_blamed_on_the_data():
    x = mg.tensor([1.0, np.nan])
    with pytest.raises(AnomalyError, match="already non-finite") as info, detect_anomaly():
        x * 2
    assert "Mul produced nan" in str(info.value)
    assert "1 non-finite (nan)" in str(info.value)


def test_off_means_no_error_and_no_trace():
    assert not is_anomaly_enabled()
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        y = x.log()
    assert np.isneginf(y.data[0])
    assert y.grad_fn.trace is None
    with detect_anomaly():
        z = (x + 1).log()
    assert f"{HERE}:" in z.grad_fn.trace


def test_decorator_nesting_and_global_switch():
    @detect_anomaly()
    def inner():
        return is_anomaly_enabled()

    assert inner() is True and inner.__name__ == "inner"
    assert not is_anomaly_enabled()
    ctx = detect_anomaly()
    with ctx:
        with ctx:
            assert is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    with set_detect_anomaly(True):
        assert is_anomaly_enabled()
        with set_detect_anomaly(False):
            assert not is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    set_detect_anomaly(True)
    try:
        with pytest.raises(AnomalyError):
            mg.tensor([-1.0]).sqrt()
    finally:
        set_detect_anomaly(False)
    assert not is_anomaly_enabled()


def test_check_nan_false_records_traces_without_raising():
    x = mg.tensor([0.0], requires_grad=True)
    with detect_anomaly(check_nan=False), np.errstate(divide="ignore"):
        y = x.log()
    assert np.isneginf(y.data[0])
    assert f"{HERE}:" in y.grad_fn.trace
    assert anomaly.STATE.check_nan is True


def test_exp_overflow_hint():
    x = mg.tensor([10.0, 100.0], requires_grad=True)
    with pytest.raises(AnomalyError, match=r"Exp produced inf .*subtract the max"), \
            detect_anomaly(), np.errstate(over="ignore"):
        x.exp()
