"""Mixed precision: ``autocast`` runs matmul-class ops on float16 values, ``GradScaler``
scales the loss so that small float16 gradients do not underflow to zero.

    from minigrad.amp import GradScaler, autocast
    scaler = GradScaler()
    for x, y in loader:
        optimizer.zero_grad()
        with autocast():
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)      # unscales, skips the step if a gradient is inf/NaN
        scaler.update()             # halves the scale after a skip, doubles it after 2000 good steps

See docs/amp.md.
"""

from .autocast import autocast, autocast_call, is_autocast_enabled
from .grad_scaler import GradScaler, OptState

__all__ = ["GradScaler", "OptState", "autocast", "autocast_call", "is_autocast_enabled"]
