"""Capture and replay: record a training step's array work once, replay it with no framework tax.

    step = mg.capture(train_step)
    loss = step(x, y)        # calls 1-2 run eagerly and record; later calls replay the plan
    print(step.plan)         # one line per call, with its buffers; step.plan.draw() pictures it

``record`` watches an eager step (the engine reports to it, ``minigrad.trace``), ``compare``
checks that two recordings took the same path, ``build`` lowers the events to calls and
plans their memory (``plan``), ``kernels`` holds the planned kernels of the hot ops, and
``step`` ties it together.
"""

from .plan import Buffer, Call, Plan
from .step import CapturedStep, CaptureError, capture

__all__ = ["Buffer", "Call", "CaptureError", "CapturedStep", "Plan", "capture"]
