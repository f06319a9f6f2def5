"""Planned kernels: the training step's hot ops, replayed into buffers the plan owns.

Each lowering here takes a recorded event and, when its conditions hold (JIT on, float32 or
float64, the layouts the kernel needs), adds a call that runs the *same* kernels as the eager
op, in the same order, but writes into planned buffers with ``out=`` instead of allocating,
so a replay gives the eager step's numbers bit for bit (with ReLU; a tanh or sigmoid fused
into the Linear kernel uses Numba's ``tanh``/``exp`` where the eager op used numpy's, and
agrees to float32 rounding):

    LinearAct forward    z = x W^T (BLAS, into z), then bias + activation in place on z
    LinearAct backward   dz = g act'(y) and db in one pass, dx = dz W, dW = dz^T x (BLAS)
    CrossEntropy         loss and d loss/d logits in one fused pass (forward), then the
                         backward is that gradient times g: nothing to do when g is the
                         seed 1 of ``backward()``, so its buffer *is* the logits' gradient
    Adam / AdamW         one fused pass per parameter, its options read at every replay
                         (a scheduler's new lr is used), its state read from the optimizer

A lowering returns False when its conditions do not hold; the event is then replayed
through the op's own code (``replay.build``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..kernels import cross_entropy as ce_kernels
from ..kernels import linear as linear_kernels
from ..kernels import optim as optim_kernels
from ..kernels._common import contiguous, empty_like_dtype
from ..kernels.config import jit_enabled, use_kernel
from ..kernels.stats import all_finite
from ..nn.losses.cross_entropy import CrossEntropy, _index_target
from ..ops.activation import Relu, Sigmoid, Tanh
from ..ops.linear import LinearAct
from ..optim.adam import Adam
from ..optim.optimizer import Optimizer, _advance_step
from .build import Builder
from .plan import Call
from .record import Event


def _contiguous_all(*arrays: np.ndarray | None) -> bool:
    return all(a is None or a.flags.c_contiguous for a in arrays)


# ---------------------------------------------------------------------- Linear
FUSABLE = {Relu: "relu", Tanh: "tanh", Sigmoid: "sigmoid"}


def _fusable_activation(b: Builder, index: int) -> tuple[str, int, int] | None:
    """(activation, its forward event, its backward event or -1) when the Linear forward at
    ``index`` is followed by an activation op that alone reads its output, and whose gradient
    only that Linear's backward reads: the two then run as one Linear with that activation."""
    readers = b.readers.get(id(b.events[index].writes[0]), [])
    if len(readers) != 1:
        return None
    j = readers[0]
    act = b.events[j]
    if act.kind != "forward" or act.op not in FUSABLE or len(act.reads) != 1 or act.params:
        return None
    backward = next((k for k, e in enumerate(b.events) if e.kind == "backward" and e.ctx is act.ctx), -1)
    if backward >= 0:
        grad = b.events[backward].writes[0]
        users = b.readers.get(id(grad), []) if grad is not None else []
        if len(users) != 1 or b.events[users[0]].ctx is not b.events[index].ctx:
            return None
    return FUSABLE[act.op], j, backward


def linear_forward(b: Builder, event: Event) -> bool:
    x, w, *bias = event.reads
    act = event.params.get("activation", "none")
    dtype = x.dtype
    if (
        act == "gelu"
        or x.ndim != 2
        or not use_kernel(dtype)
        or any(a.dtype != dtype for a in event.reads)
        or not _contiguous_all(x, w, *bias)
    ):
        return False
    reads = [b.source(a) for a in event.reads]
    out = event.writes[0]
    fused = _fusable_activation(b, b.event_index) if act == "none" and b.fuse else None
    if fused is not None:
        act, j, backward = fused
        b.skip.add(j)
        out = b.events[j].writes[0]
        if backward >= 0:
            b.skip.add(backward)
        b.fused_activation[b.event_index] = (act, out, backward)
    y = b.plan(b.made(out, f"t{len(b.buffers)}"))
    xs, ws, ys = reads[0].index, reads[1].index, y.index
    bs = reads[2].index if bias else -1
    code = linear_kernels.ACTIVATIONS.index(act)
    empty = empty_like_dtype(dtype)
    bias_act = linear_kernels._bias_act_kernel

    def run(env: list[Any]) -> None:
        z = env[ys]
        np.matmul(env[xs], env[ws].T, out=z)
        if code or bs >= 0:
            bias_act(z, env[bs] if bs >= 0 else empty, code, z)

    note = (
        f"bias + {act} fused into the GEMM's output" if act != "none" else "bias fused into the GEMM's output"
    )
    b.add(Call(f"Linear.forward[{act}]" if act != "none" else "Linear.forward", reads, [y], run, note))
    return True


def linear_backward(b: Builder, event: Event, forward: Event) -> None:
    x, w = b.source(forward.reads[0]), b.source(forward.reads[1])
    act, out, backward = b.fused_activation.get(
        b.forward_of[id(event.ctx)], (forward.params.get("activation", "none"), forward.writes[0], -1)
    )
    y = b.source(out)
    code = linear_kernels.ACTIVATIONS.index(act)
    grad = b.events[backward].reads[0] if backward >= 0 else event.reads[0]
    g = b.source(grad)
    dx, dw, *db = (None if a is None else b.plan(b.made(a, f"d{len(b.buffers)}")) for a in event.writes)
    db = db[0] if db else None
    dz = b.scratch(g.shape, g.dtype, f"dz{len(b.buffers)}") if code else g
    empty = empty_like_dtype(x.dtype)
    act_grad = linear_kernels._act_grad_kernel
    gs, ys, xs, ws, dzs = g.index, y.index, x.index, w.index, dz.index
    dxs, dws, dbs = (-1 if o is None else o.index for o in (dx, dw, db))

    def run(env: list[Any]) -> None:
        if code:
            act_grad(env[gs], env[ys], code, env[dzs], env[dbs] if dbs >= 0 else empty)
        elif dbs >= 0:
            np.sum(env[gs], axis=0, out=env[dbs])
        d = env[dzs]
        if dxs >= 0:
            np.matmul(d, env[ws], out=env[dxs])
        if dws >= 0:
            np.matmul(d.T, env[xs], out=env[dws])

    writes = [o for o in (dz if code else None, dx, dw, db) if o is not None]
    note = f"{act}' and the bias sum in one pass, then 2 GEMMs" if code else "bias sum, then GEMMs"
    b.add(Call(f"Linear.backward[{act}]" if code else "Linear.backward", [g, y, x, w], writes, run, note))


# ---------------------------------------------------------------------- cross-entropy
def cross_entropy_forward(b: Builder, event: Event) -> bool:
    x, target = event.reads
    ctx: Function = event.ctx
    p = event.params
    fused = ctx.saved_tensors and ctx.saved_tensors[1] is None  # the eager op took its fused kernel
    if (
        not fused
        or not use_kernel(x.dtype)
        or p["reduction"] == "none"
        or x.shape[0] == 0
        or target.dtype != np.int64
        or not _contiguous_all(x, target)
    ):
        return False
    xb, tb = b.source(x), b.source(target)
    loss = b.plan(b.made(event.writes[0], "loss"))
    grad = b.plan(b.made(ctx.saved_tensors[0], "dlogits"))
    n, c = x.shape
    weight = np.ones(c, x.dtype) if p["weight"] is None else np.ascontiguousarray(p["weight"], x.dtype)
    ignore, smoothing, mean = int(p["ignore_index"]), float(p["smoothing"]), p["reduction"] == "mean"
    rows = empty_like_dtype(np.float64)
    kernel = ce_kernels._cross_entropy_kernel
    xs, ts, ls, gs = xb.index, tb.index, loss.index, grad.index

    def run(env: list[Any]) -> None:
        t = contiguous(env[ts], np.int64)  # a copy only if read-only, as the eager op makes
        if t.min() < 0 or t.max() >= c:
            _index_target("cross_entropy", env[xs], t, p["weight"], ignore)  # raises on a bad index
        total, denominator = kernel(env[xs], t, weight, ignore, smoothing, mean, rows, env[gs])
        env[ls][()] = (total / denominator if denominator != 0 else math.nan) if mean else total

    b.add(
        Call("CrossEntropy.forward", [xb, tb], [loss, grad], run, "loss and its gradient in one fused pass")
    )
    return True


def cross_entropy_backward(b: Builder, event: Event, forward: Event) -> None:
    g = b.source(event.reads[0])
    fused = b.by_id[id(forward.ctx.saved_tensors[0])]
    x = b.source(forward.reads[0])
    seed = g.kind == "const" and b.env[g.index] == 1
    out = b.made(event.writes[0], f"d{len(b.buffers)}")
    if seed:
        out.planned, out.base = True, fused
    else:
        b.plan(out)
    gs, fs, os_, xs = g.index, fused.index, out.index, x.index
    nan_rows = _nan_rows

    def run(env: list[Any]) -> None:
        if not seed:
            np.multiply(env[fs], env[gs], out=env[os_])
        if not all_finite(env[xs]):
            nan_rows(env[xs], env[os_])

    note = "the fused gradient itself (g is backward's seed 1)" if seed else "the fused gradient times g"
    b.add(Call("CrossEntropy.backward", [g, fused, x], [out], run, note))


def _nan_rows(x: np.ndarray, grad: np.ndarray) -> None:
    """Rows whose softmax is NaN get a NaN gradient, as the eager op gives (PyTorch's rule)."""
    from ..nn.losses.cross_entropy import _nan_softmax_rows

    rows = _nan_softmax_rows(x)
    if rows is not None:
        grad[rows] = np.nan


# ---------------------------------------------------------------------- Adam
def adam_step(b: Builder, event: Event) -> bool:
    opt: Adam = event.target
    params = event.params["params"]
    if not jit_enabled() or not isinstance(opt, Adam) or type(opt).step is not Optimizer.step:
        return False
    grads = {id(p): g for p, g in zip(params, event.reads)}
    entries = []
    for group in opt.param_groups:
        for p in group["params"]:
            if id(p) not in grads:
                continue
            state = opt.state.get(p, {})
            arrays = [p.data, state.get("exp_avg"), state.get("exp_avg_sq")]
            if group["amsgrad"]:
                arrays.append(state.get("max_exp_avg_sq"))
            if any(
                a is None or a.dtype != p.dtype or not a.flags.c_contiguous or not a.flags.writeable
                for a in arrays
            ) or p.dtype not in (np.float32, np.float64):
                return False
            entries.append((p, group, b.source(grads[id(p)]).index, np.empty(8, p.dtype)))
    if len(entries) != len(params):
        return False
    layout = [(id(g), len(g["params"]), g["amsgrad"]) for g in opt.param_groups]
    kernel = optim_kernels._adam_kernel
    hyper = optim_kernels.adam_hyper
    empty = {dt: empty_like_dtype(dt) for dt in (np.dtype(np.float32), np.dtype(np.float64))}

    def unchanged() -> str | None:
        now = [(id(g), len(g["params"]), g["amsgrad"]) for g in opt.param_groups]
        if now != layout:
            return f"{type(opt).__name__}'s parameter groups (or amsgrad) changed"
        return None

    def run(env: list[Any]) -> None:
        steps = [_advance_step(opt.state[p]) for p, *_ in entries]
        for (p, group, gs, h), t in zip(entries, steps):
            state = opt.state[p]
            beta1, beta2 = group["betas"]
            hyper(
                h,
                step=t,
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                maximize=group["maximize"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
            )
            g = env[gs]
            if not g.flags.c_contiguous:
                g = np.ascontiguousarray(g)
            amsgrad = group["amsgrad"]
            v_max = state["max_exp_avg_sq"].reshape(-1) if amsgrad else empty[p.dtype]
            kernel(
                p.data.reshape(-1),
                g.reshape(-1),
                state["exp_avg"].reshape(-1),
                state["exp_avg_sq"].reshape(-1),
                v_max,
                h,
                amsgrad,
            )

    b.guards.append(unchanged)
    b.add(
        Call(
            f"{type(opt).__name__}.step",
            [b.source(g) for g in event.reads],
            [b.source(p.data) for p in params],
            run,
            f"one fused pass per parameter ({len(params)}), options read at each replay",
        )
    )
    return True


FORWARD = {LinearAct: linear_forward, CrossEntropy: cross_entropy_forward}
BACKWARD = {LinearAct: linear_backward, CrossEntropy: cross_entropy_backward}
OPTIMIZER = [adam_step]
