"""Pictures of backprop: computation graphs, backward animations and training plots.

    from minigrad import viz
    loss = viz.trace_grads(model_loss)      # optional: keep intermediate gradients
    loss.backward()
    viz.draw(loss, params=model)             # record boxes for tensors, ellipses for ops
    print(viz.to_text(loss))                 # the same graph as text, no Graphviz needed
    viz.backward_frames(loss2).save_html("backprop.html")
    viz.draw_plan(step.plan, "plan.png")    # a captured step's calls, buffer lifetimes, arena

Rendering needs Graphviz's ``dot`` program; matplotlib is imported only when
``plots`` or ``draw_plan`` makes a figure.
"""

from . import plots
from .draw import draw
from .frames import Frames, backward_frames
from .plan import draw_plan
from .record import record_modules, trace_grads
from .render import INSTALL_HINT, Graph, GraphvizNotFound
from .text import to_text

__all__ = [
    "INSTALL_HINT", "Frames", "Graph", "GraphvizNotFound", "backward_frames", "draw", "draw_plan", "plots",
    "record_modules", "to_text", "trace_grads",
]
