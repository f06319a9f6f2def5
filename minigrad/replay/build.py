"""From a recording to a plan: buffers, calls (lowering), lifetimes and the arena.

Each event of the recording is *lowered* to a replay call. Ops with a planned kernel
(``replay.kernels``: the Linear layer, cross-entropy, Adam) write into buffers the plan
owns, with ``out=``, and allocate nothing. Every other event is replayed through the same
code the eager step ran, without Tensors or graph: the op's ``forward`` on arrays (with a
fresh ctx), its ``fast_backward`` (or its Tensor-op ``backward``), the optimizer's ``step``;
such a call allocates its result, as eager does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .plan import Buffer, Call, Plan, assign_offsets
from .record import CaptureError, Event, Recorder


def _nothing() -> None:
    """The ctx's weak reference to an output that a replay never made as a Tensor."""
    return None


class Builder:
    """Lowers the events of one recording into calls on ``env`` slots.

    ``source`` finds the buffer an event reads (an argument, a buffer made earlier, a
    parameter or a constant), ``made`` the buffer it writes; ``add`` appends a call and
    updates the lifetimes of the buffers it touches.
    """

    def __init__(
        self,
        recording: Recorder,
        inputs: list[np.ndarray],
        input_names: list[str],
        names: dict[int, str],
        shared: set[int],
        kernels: bool = True,
        fuse: bool = True,
    ) -> None:
        self.recording = recording
        self.kernels, self.fuse = kernels, fuse
        self.shared = shared  # ids of the arrays both recordings read from outside any op
        self.events = recording.events
        self.buffers: list[Buffer] = []
        self.env: list[Any] = []
        self.calls: list[Call] = []
        self.guards: list[Callable[[], str | None]] = []
        self.by_id: dict[int, Buffer] = {}
        self.names = names
        self.ctx_slot: dict[int, int] = {}
        self.forward_of: dict[int, int] = {}  # id(ctx) -> index of its forward event
        self.kernel_forwards: set[int] = set()  # forward events lowered to a planned kernel
        self.readers: dict[int, list[int]] = {}  # id(array) -> events reading it
        self.externals: list[tuple[Tensor, np.ndarray]] = []
        self.skip: set[int] = set()  # events a fused kernel already does
        self.fused_activation: dict[int, tuple[str, np.ndarray, int]] = {}  # see kernels.linear_forward
        for i, event in enumerate(self.events):
            for a in event.reads:
                self.readers.setdefault(id(a), []).append(i)
            if event.kind == "forward":
                self.forward_of[id(event.ctx)] = i
        self.inputs = [self._new(a, name, "input").index for a, name in zip(inputs, input_names)]
        self.event_index = 0

    # ------------------------------------------------------------------ buffers
    def _new(self, a: np.ndarray, name: str, kind: str, value: Any = None) -> Buffer:
        b = Buffer(len(self.env), name, tuple(a.shape), a.dtype, kind)
        self.env.append(value)
        self.buffers.append(b)
        self.by_id[id(a)] = b
        return b

    def slot(self) -> int:
        """A fresh env slot for something that is not an array (an op's ctx)."""
        self.env.append(None)
        return len(self.env) - 1

    def source(self, a: np.ndarray) -> Buffer:
        """The buffer of an array an event reads."""
        b = self.by_id.get(id(a))
        if b is not None:
            return b
        if id(a) in self.shared:
            owner = self.recording.owners.get(id(a))
            if owner is not None and owner.data is a:
                self.externals.append((owner, a))
                name = self.names.get(id(owner)) or owner.label or f"param{len(self.externals) - 1}"
            else:
                name = f"state{len(self.buffers)}"
            return self._new(a, name, "param", a)
        return self._new(a, f"const{len(self.buffers)}", "const", np.array(a, copy=True))

    def made(self, a: np.ndarray, name: str) -> Buffer:
        """The buffer of an array an event writes: an existing one (written in place, or
        handed back unchanged), or a new temp, noted as a view of the buffer it views."""
        b = self.by_id.get(id(a))
        if b is not None:
            return b
        b = self._new(a, name, "temp")
        base = a.base
        while base is not None:
            known = self.by_id.get(id(base))
            if known is not None:
                b.base = known
                break
            base = getattr(base, "base", None)
        return b

    def plan(self, b: Buffer) -> Buffer:
        """Mark ``b`` as written by a kernel into plan-owned memory of its own (not a view)."""
        b.planned, b.base = True, None
        return b

    def scratch(self, shape: tuple[int, ...], dtype: np.dtype, name: str) -> Buffer:
        """A planned buffer private to the call being lowered (e.g. dz in Linear's backward)."""
        b = Buffer(len(self.env), name, tuple(shape), np.dtype(dtype), "temp", planned=True)
        self.env.append(None)
        self.buffers.append(b)
        return b

    def read_later(self, a: np.ndarray) -> bool:
        """Whether an event after the current one reads ``a``."""
        return any(i > self.event_index for i in self.readers.get(id(a), ()))

    def add(self, call: Call) -> None:
        index = len(self.calls)
        for b in call.writes:
            if b.first == -1 and b.kind in ("temp", "grad"):
                b.first = index
            b.last = max(b.last, index)
        for b in call.reads:
            b.last = max(b.last, index)
        self.calls.append(call)

    # ------------------------------------------------------------------ the whole plan
    def build(self, signature: str, lower: Callable[[Builder, Event], None], output: Any) -> Plan:
        for i, event in enumerate(self.events):
            self.event_index = i
            if i not in self.skip:
                lower(self, event)
        outputs = self._outputs(output)
        self._finish_lifetimes()
        arena_bytes = assign_offsets(self.buffers)
        arena = np.empty(arena_bytes + 64, np.uint8)
        start = (-arena.ctypes.data) % 64
        for b in self.buffers:
            if not b.planned:
                continue
            if b.base is not None:
                continue
            if b.pinned:
                self.env[b.index] = np.empty(b.shape, b.dtype)
            else:
                at = start + b.offset
                self.env[b.index] = arena[at : at + b.nbytes].view(b.dtype).reshape(b.shape)
        for b in self.buffers:
            if b.planned and b.base is not None:
                self.env[b.index] = self.env[_root(b).index]
        externals = [(t, a, t.requires_grad) for t, a in self.externals]
        modes = [(m, m.training) for m in self.recording.modules.values()]

        def parameters_kept() -> str | None:
            """What changed since the recording in the Python state the plan baked in."""
            for t, a, requires_grad in externals:
                if t.data is not a:
                    return f"the data of a parameter of shape {t.shape} was replaced"
                if t.requires_grad != requires_grad:
                    return f"requires_grad of a parameter of shape {t.shape} changed"
                if t._hooks:
                    return f"a hook was registered on a tensor of shape {t.shape}"
            for m, training in modes:
                if m.training != training:
                    return f"{type(m).__name__} was switched to {'train' if m.training else 'eval'} mode"
                if m._forward_hooks or m._forward_pre_hooks:
                    return f"a forward hook was registered on {type(m).__name__}"
            return None

        return Plan(
            signature,
            self.calls,
            self.buffers,
            self.env,
            self.inputs,
            outputs,
            [parameters_kept, *self.guards],
            arena_bytes,
        )

    def _finish_lifetimes(self) -> None:
        """A view keeps its base alive; a pinned buffer lives to the end of the step."""
        end = len(self.calls)
        for b in self.buffers:
            if b.pinned:
                b.last = end
        for b in self.buffers:
            if b.base is not None:
                root = _root(b)
                root.last = max(root.last, b.last)
                root.pinned = root.pinned or b.pinned

    def _outputs(self, output: Any) -> Callable[[list[Any]], Any]:
        """Rebuild the step's return value from env: each Tensor becomes a Tensor made once,
        whose ``data`` is pointed at its buffer's array on every replay."""
        slots: list[tuple[Tensor, int]] = []

        def template(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, Tensor):
                b = self.by_id.get(id(value.data))
                if b is None:
                    raise CaptureError(
                        f"capture: the captured function returned a tensor of shape {value.shape} that no "
                        "op of the step made (computed in Python, or made before the call); a replay "
                        "would return its recorded value. Return tensors the step's ops compute"
                    )
                b.pinned = True
                t = Tensor.make(value.data)
                slots.append((t, b.index))
                return t
            if isinstance(value, tuple | list):
                return type(value)(template(v) for v in value)
            if isinstance(value, dict):
                return {k: template(v) for k, v in value.items()}
            raise CaptureError(
                f"capture: the captured function returned a {type(value).__name__}; it may return "
                "Tensors (alone, or in tuples, lists or dicts) or None. Return the tensor and read "
                "its value (.item()) after the call"
            )

        result = template(output)

        def outputs(env: list[Any]) -> Any:
            for t, slot in slots:
                t.data = env[slot]
            return result

        return outputs


def _root(b: Buffer) -> Buffer:
    while b.base is not None:
        b = b.base
    return b


# ---------------------------------------------------------------------- generic lowering
def lower_forward_op(b: Builder, event: Event) -> None:
    """Replay an op through its own ``forward`` on arrays, with a fresh ctx (kept in an env
    slot when a backward will read it)."""
    op, params, old = event.op, event.params, event.ctx
    reads = [b.source(a) for a in event.reads]
    out = b.made(event.writes[0], f"t{len(b.buffers)}")
    needs = old.needs_input_grad
    wrappers = tuple(Tensor.make(a) for a in event.reads)
    for w, t in zip(wrappers, old.inputs):
        w.requires_grad = t.requires_grad
    ctx_slot = b.ctx_slot[id(old)] = b.slot() if needs else -1
    in_slots = [r.index for r in reads]
    out_slot = out.index

    def run(env: list[Any]) -> None:
        ctx = op.__new__(op)
        ctx.saved_tensors = ()
        ctx.needs_input_grad = needs
        arrays = [env[k] for k in in_slots]
        for w, a in zip(wrappers, arrays):
            w.data = a
        ctx.inputs = wrappers
        data = op.forward(ctx, *arrays, **params)
        if type(data) is not np.ndarray:  # a numpy scalar, as Tensor.make wraps it
            data = np.asarray(data)
        ctx.out_data = data
        ctx._out_ref = _nothing
        env[out_slot] = data
        if ctx_slot >= 0:
            env[ctx_slot] = ctx

    b.add(Call(f"{event.name}.forward", reads, [out], run, "op's own forward: allocates its result", "own"))


def lower_backward_op(b: Builder, event: Event) -> None:
    """Replay a backward through the op's fast path (or its Tensor-op backward, as a whole)."""
    op = event.op
    ctx_slot = b.ctx_slot[id(event.ctx)]
    forward = b.events[b.forward_of[id(event.ctx)]]
    grad = b.source(event.reads[0])
    outs = [None if a is None else b.made(a, f"d{len(b.buffers)}") for a in event.writes]
    out_slots = [-1 if o is None else o.index for o in outs]
    fast = op.fast_backward is not None

    def run(env: list[Any]) -> None:
        ctx = env[ctx_slot]
        if fast:
            grads = op.fast_backward(ctx, env[grad.index])
            grads = grads if type(grads) is tuple else (grads,)
        else:
            with no_grad():
                grads = op.backward(ctx, Tensor.make(env[grad.index]))
            grads = tuple(
                g.data if isinstance(g, Tensor) else g for g in (grads if type(grads) is tuple else (grads,))
            )
        for slot, g in zip(out_slots, grads):
            if slot >= 0:
                env[slot] = g if type(g) is np.ndarray else np.asarray(g)

    # the forward's ctx saved its inputs and output: they must live until this call
    saved = [b.by_id[id(a)] for a in forward.reads + forward.writes if id(a) in b.by_id]
    note = "op's own fast_backward" if fast else "op's own backward (Tensor ops)"
    b.add(
        Call(f"{event.name}.backward", [grad, *saved], [o for o in outs if o is not None], run, note, "own")
    )


def lower_grad(b: Builder, event: Event) -> None:
    """A gradient reaching a leaf: the leaf's ``.grad`` becomes the gradient's buffer itself
    (or a copy, when that buffer is read again or is already another leaf's), and a second
    contribution is added into it in place."""
    leaf: Tensor = event.target
    holder = Tensor.make(event.writes[0])
    if event.params["shared"]:
        total, g = b.source(event.reads[0]), b.source(event.reads[1])

        def add(env: list[Any]) -> None:
            np.add(env[total.index], env[g.index], out=env[total.index])

        b.add(Call("grad.accumulate", [total, g], [total], add, "adds into the leaf's gradient", "glue"))
        return
    src = b.source(event.reads[0])
    if src.kind == "temp" and not b.read_later(event.reads[0]) and src.base is None:
        dst = src
        dst.kind, dst.pinned = "grad", True
        b.by_id[id(event.writes[0])] = dst
        src_slot = dst.index

        def bind(env: list[Any]) -> None:
            holder.data = env[src_slot]
            leaf._grad = holder

        dst.name = f"{b.names.get(id(leaf)) or leaf.label or dst.name}.grad"
        b.add(Call("grad.bind", [dst], [dst], bind, "the leaf's .grad is this buffer", "glue"))
        return
    dst = b.plan(b.made(event.writes[0], f"{b.names.get(id(leaf)) or leaf.label or 'leaf'}.grad"))
    dst.kind, dst.pinned = "grad", True

    def copy(env: list[Any]) -> None:
        np.copyto(env[dst.index], env[src.index])
        holder.data = env[dst.index]
        leaf._grad = holder

    b.add(Call("grad.copy", [src], [dst], copy, "a private copy, as eager makes", "glue"))


def lower_optimizer_step(b: Builder, event: Event) -> None:
    """Replay the optimizer's step as it ran (reading the gradients the replay bound)."""
    grads = [b.source(a) for a in event.reads]
    params = [b.source(p.data) for p in event.params["params"]]
    step = event.ctx

    def run(env: list[Any]) -> None:
        step(None)

    b.add(Call(f"{event.name}.step", grads, params, run, "the optimizer's own step", "own"))


def lower_call(b: Builder, event: Event) -> None:
    """Replay a function recorded whole (``clip_grad_norm_``) with the same arguments."""
    fn, args, kwargs = event.target, event.params["args"], event.params["kwargs"]
    grads = [b.source(a) for a in event.reads]
    result = None if event.writes[-1] is None else b.made(event.writes[-1], f"{event.name}.result")
    slot = -1 if result is None else result.index

    def run(env: list[Any]) -> None:
        value = fn(*args, **kwargs)
        if slot >= 0:
            env[slot] = value.data

    b.add(
        Call(
            event.name,
            grads,
            grads + ([result] if result is not None else []),
            run,
            "called again as recorded",
            "own",
        )
    )
