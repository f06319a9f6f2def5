"""Debugging training: find the op that made the NaN, watch gradients layer by layer,
check which parameters got no gradient, and diagnose a loss curve.

    with minigrad.debug.detect_anomaly():         # which op made the NaN, and where?
        loss.backward()
    monitor = minigrad.debug.GradientMonitor(model)  # call monitor.step() after each update
    print(minigrad.debug.check_gradients(model))  # unused / dead / non-finite gradients
    print(minigrad.debug.diagnose(losses))        # healthy, diverged, oscillating, ...
    loss = minigrad.debug.check_finite(loss, "loss")  # stop a step at NaN/Inf (captured too)

See docs/debug.md for the symptom -> cause -> tool -> remedy table.
"""

from ..autograd.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .checks import GradientFinding, GradientFindings, check_gradients
from .diagnose import Diagnosis, diagnose
from .finite import NonFiniteError, check_finite
from .monitor import GradientMonitor, LayerStats, ParamStats, StepRecord
from .norms import global_grad_norm

__all__ = [
    "AnomalyError", "Diagnosis", "GradientFinding", "GradientFindings", "GradientMonitor",
    "LayerStats", "NonFiniteError", "ParamStats", "StepRecord", "check_finite", "check_gradients",
    "detect_anomaly", "diagnose", "global_grad_norm", "is_anomaly_enabled", "set_detect_anomaly",
]
