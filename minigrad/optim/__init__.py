"""Optimizers (SGD, Adam, AdamW, RMSprop, Adagrad) and learning-rate schedulers.

    opt = minigrad.optim.Adam(model.parameters(), lr=1e-3)
    sched = minigrad.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    for epoch in range(epochs):
        ...; loss.backward(); opt.step(); opt.zero_grad()
        sched.step()
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
