"""Train a small MLP classifier on MNIST: the loop behind ``minigrad train``.

One epoch is the classic loop: for each batch, forward, loss, ``zero_grad``, ``backward``,
optional gradient clipping, ``optimizer.step()``, scheduler step. By default that step runs
through ``mg.capture`` (``minigrad.replay``): its first calls per batch shape run eagerly and
are recorded, later ones replay the recorded plan with the same numbers and none of the
Python work of building a graph. ``--amp`` and ``--debug`` run eagerly (autocast and the
gradient monitor's hooks cannot be replayed), as does ``--no-capture``; ``metrics.json``
says which mode ran and why (``"capture"``). After each epoch the
model is evaluated on the validation split and a checkpoint is written atomically. At the
end the test split gives the final accuracy, and the run folder receives metrics (JSON,
CSV), plots (curves, confusion matrix, misclassified images) and the graph of one training
step.

The pieces are separate so each can be used (and tested) alone: ``validate_config``,
``load_data``, ``build_mlp`` / ``build_optimizer`` / ``build_scheduler``,
``prepare_output``, ``Trainer.resume``, ``Trainer.train_epoch``, ``Trainer.run_epochs``,
``Trainer.test`` and ``Trainer.write_outputs``; ``Trainer.fit`` calls them in order.

Resuming (``--resume CKPT``): ``--epochs`` is the new *total*. The learning-rate schedule
is laid over that total and continues from the position where the checkpoint stopped; with
the same ``--epochs`` it is the very schedule of the first run, so a run interrupted with
Ctrl-C and resumed from ``interrupted.npz`` gives the same numbers as one never interrupted.
Ctrl-C during the epochs takes effect at the end of the current step.

Divergence (a NaN/Inf loss) stops the run: the last good ``checkpoint.npz`` is kept, the
loss curve's diagnosis (``minigrad.debug.diagnose``) is printed, and ``TrainingDiverged``
is raised.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.amp import GradScaler, autocast
from minigrad.atomic import atomic_write
from minigrad.debug import NonFiniteError, check_finite, global_grad_norm
from minigrad.nn import functional as F

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
               "leaky_relu": nn.LeakyReLU, "elu": nn.ELU}
OUTPUT_NAMES = ("checkpoint.npz", "interrupted.npz", "metrics.json", "metrics.csv", "curves.png",
                "confusion.png", "misclassified.png", "monitor.txt", "monitor.png", "graph.svg")
CHECKPOINT_KEYS = ("model", "optimizer", "scheduler", "schedule_length", "epoch", "steps", "history",
                   "progress", "config", "generator")
RESUME_MUST_MATCH = ("arch", "activation", "optimizer", "scheduler", "loss", "batch_size", "dataset",
                     "limit", "normalize")


class TrainingDiverged(RuntimeError):
    """The loss became NaN/Inf; ``diagnosis`` holds ``minigrad.debug.diagnose``'s verdict."""

    def __init__(self, message: str, diagnosis: Any) -> None:
        super().__init__(message)
        self.diagnosis = diagnosis


@dataclass
class TrainConfig:
    """Everything a run needs; the defaults reach >= 97.5% test accuracy on MNIST."""

    arch: str = "784-128-10"
    activation: str = "relu"
    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    loss: str = "cross_entropy"
    scheduler: str = "cosine"
    clip_grad_norm: float | None = None
    seed: int = 0
    dataset: str = "mnist"
    data_dir: str | None = None
    out: str = "runs/mnist"
    overwrite: bool = False
    resume: str | None = None
    limit: int | None = None
    normalize: bool = True
    debug: bool = False
    progress: bool = True
    graph: bool = True
    amp: bool = False
    tensorboard: str | None = None
    capture: bool = True


@dataclass
class History:
    """Per-epoch metrics (and per-step training loss) of a run."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)


def build_mlp(arch: str, activation: str = "relu") -> nn.Sequential:
    """``"784-128-10"`` -> Linear(784,128), activation, Linear(128,10)."""
    try:
        sizes = [int(s) for s in arch.split("-")]
    except ValueError:
        raise ValueError(f"--arch {arch!r}: expected sizes joined by '-', like 784-128-10") from None
    if len(sizes) < 2 or min(sizes) <= 0:
        raise ValueError(f"--arch {arch!r}: need at least an input and an output size, all > 0")
    if activation not in ACTIVATIONS:
        raise ValueError(f"--activation {activation!r}: choose one of {sorted(ACTIVATIONS)}")
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class ProbsVsOneHot:
    """A regression loss between softmax probabilities and one-hot targets.

    Called with labels it makes the one-hot target itself (``target``); called with a float
    target it uses it as is. A captured step is given the target: one made from the labels
    inside the step would be a constant of the recording, and capture refuses it.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    @staticmethod
    def target(y: np.ndarray, n_classes: int, dtype: np.dtype) -> np.ndarray:
        return np.eye(n_classes, dtype=dtype)[y]

    def __call__(self, logits: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
        if y.dtype.kind != "f":
            y = mg.from_numpy(self.target(y.data, logits.shape[1], logits.dtype))
        return getattr(F, self.name)(logits.softmax(1), y)


LOSSES: dict[str, Callable[[mg.Tensor, mg.Tensor], mg.Tensor]] = {
    "cross_entropy": lambda logits, y: F.cross_entropy(logits, y),
    "mse": ProbsVsOneHot("mse_loss"),
    "l1": ProbsVsOneHot("l1_loss"),
    "focal": lambda logits, y: F.focal_loss(logits, y),
    "hinge": lambda logits, y: F.multi_margin_loss(logits, y),
}
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")


def validate_config(cfg: TrainConfig) -> None:
    """Reject values that cannot give a meaningful run, naming the option and what to do.

    Hyperparameters must be finite: ``--lr inf`` would turn every weight into NaN in one
    step and still "finish" the run.
    """
    if cfg.loss not in LOSSES:
        raise ValueError(f"--loss {cfg.loss!r}: choose one of {sorted(LOSSES)}")
    if cfg.optimizer not in OPTIMIZERS:
        raise ValueError(f"--optimizer {cfg.optimizer!r}: choose one of {sorted(OPTIMIZERS)}")
    if cfg.scheduler not in SCHEDULES:
        raise ValueError(f"--scheduler {cfg.scheduler!r}: choose one of {sorted(SCHEDULES)}")
    if cfg.epochs < 1:
        raise ValueError(f"--epochs {cfg.epochs}: the number of epochs must be >= 1 (with --resume it "
                         "is the new total, more than the checkpoint's epochs)")
    if cfg.batch_size <= 0:
        raise ValueError(f"--batch-size {cfg.batch_size}: the batch size must be > 0")
    if cfg.limit is not None and cfg.limit <= 0:
        raise ValueError(f"--limit {cfg.limit}: the number of training images must be > 0")
    if not (math.isfinite(cfg.lr) and cfg.lr > 0):
        raise ValueError(f"--lr {cfg.lr}: the learning rate must be a finite number > 0, e.g. 1e-3")
    if not (math.isfinite(cfg.weight_decay) and cfg.weight_decay >= 0):
        raise ValueError(f"--weight-decay {cfg.weight_decay}: must be a finite number >= 0")
    if cfg.clip_grad_norm is not None and not (math.isfinite(cfg.clip_grad_norm) and cfg.clip_grad_norm > 0):
        raise ValueError(f"--clip-grad-norm {cfg.clip_grad_norm}: the maximum norm must be a finite number "
                         "> 0 (leave the option out to train without clipping)")
    build_mlp(cfg.arch, cfg.activation)


def build_optimizer(name: str, params: Any, lr: float, weight_decay: float) -> mg.optim.Optimizer:
    from minigrad import optim

    kinds = {"sgd": lambda: optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay),
             "adam": lambda: optim.Adam(params, lr=lr, weight_decay=weight_decay),
             "adamw": lambda: optim.AdamW(params, lr=lr, weight_decay=weight_decay),
             "rmsprop": lambda: optim.RMSprop(params, lr=lr, weight_decay=weight_decay),
             "adagrad": lambda: optim.Adagrad(params, lr=lr, weight_decay=weight_decay)}
    if name not in kinds:
        raise ValueError(f"--optimizer {name!r}: choose one of {sorted(kinds)}")
    return kinds[name]()


@dataclass
class Schedule:
    """A learning-rate scheduler and when it steps: ``"step"`` (after every batch),
    ``"epoch"`` (after every epoch) or ``"val_loss"`` (after every epoch, given the
    validation loss). ``length`` is the number of its steps the run spans (0: unbounded)."""

    scheduler: Any
    cadence: str
    length: int

    def position(self, steps: int, epochs: int) -> int:
        """How many times this scheduler has stepped after ``steps`` batches / ``epochs`` epochs."""
        return steps if self.cadence == "step" else epochs


def _cosine(optimizer: Any, lr: float, epochs: int, steps: int) -> Schedule:
    from minigrad.optim import lr_scheduler as S

    total = max(epochs * steps, 1)
    return Schedule(S.CosineAnnealingLR(optimizer, T_max=total), "step", total)


def _onecycle(optimizer: Any, lr: float, epochs: int, steps: int) -> Schedule:
    from minigrad.optim import lr_scheduler as S

    total = max(epochs * steps, 1)
    return Schedule(S.OneCycleLR(optimizer, max_lr=lr, total_steps=total), "step", total)


def _step(optimizer: Any, lr: float, epochs: int, steps: int) -> Schedule:
    from minigrad.optim import lr_scheduler as S

    return Schedule(S.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1), "epoch", epochs)


def _plateau(optimizer: Any, lr: float, epochs: int, steps: int) -> Schedule:
    from minigrad.optim import lr_scheduler as S

    return Schedule(S.ReduceLROnPlateau(optimizer, factor=0.5, patience=1), "val_loss", 0)


SCHEDULES: dict[str, Callable[[Any, float, int, int], Schedule] | None] = {
    "none": None, "cosine": _cosine, "onecycle": _onecycle, "step": _step, "plateau": _plateau}


def build_scheduler(name: str, optimizer: Any, epochs: int, steps_per_epoch: int,
                    lr: float | None = None) -> Schedule | None:
    """The ``Schedule`` for ``--scheduler name`` over ``epochs`` epochs (None for ``none``).

    ``lr`` is the configured peak learning rate (onecycle's ``max_lr``); by default the
    optimizer's current one.
    """
    if name not in SCHEDULES:
        raise ValueError(f"--scheduler {name!r}: choose one of {sorted(SCHEDULES)}")
    factory = SCHEDULES[name]
    if factory is None:
        return None
    peak = optimizer.param_groups[0]["lr"] if lr is None else lr
    return factory(optimizer, peak, epochs, steps_per_epoch)


@dataclass
class Data:
    """The train/val/test arrays (float32 ``(N, pixels)``, int64 labels), where they came
    from, the class names and the seconds loading took."""

    splits: dict[str, tuple[np.ndarray, np.ndarray]]
    source: str
    classes: list[str]
    seconds: float = 0.0

    @property
    def n_features(self) -> int:
        return self.splits["train"][0].shape[1]

    def steps_per_epoch(self, batch_size: int) -> int:
        return -(-len(self.splits["train"][0]) // batch_size)


DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def load_data(config: TrainConfig) -> Data:
    """Train / val / test arrays for ``config.dataset``, ``limit`` applied to train.

    With ``--data-dir`` the IDX files must be in that folder (or its ``mnist/`` or
    ``fashion-mnist/`` subfolder): a mistyped folder is an error, never a silent fallback
    to another source. With ``normalize`` the pixels are standardised with the training
    set's mean and standard deviation: inputs centred around 0 with unit spread make the
    first layer learn faster.
    """
    from minigrad import data

    if config.dataset not in DATASETS:
        raise ValueError(f"--dataset {config.dataset!r}: choose one of {sorted(DATASETS)}")
    kind = getattr(data, DATASETS[config.dataset])
    start = time.perf_counter()
    if config.data_dir is not None:
        root = Path(config.data_dir).expanduser()
        if not root.is_dir():
            raise ValueError(f"--data-dir {config.data_dir}: no such folder; give the folder holding the "
                             f"IDX files ({', '.join(kind.idx_names())})")
        if kind.find_idx_dir(root) is None:
            raise ValueError(f"--data-dir {config.data_dir}: no {kind.name} IDX files there (looked for "
                             f"{', '.join(kind.idx_names())} in {root} and {root / kind.dirname})")
    splits = {}
    try:
        for split in ("train", "val", "test"):
            ds = kind(root=config.data_dir, split=split, normalize=config.normalize)
            x, y = np.asarray(ds.data, dtype=np.float32), np.asarray(ds.targets, dtype=np.int64)
            splits[split] = (x.reshape(len(x), -1), y)
    except data.DatasetNotFoundError as err:
        raise data.DatasetNotFoundError(kind.cli_not_found_message()) from err
    if config.limit is not None:
        x, y = splits["train"]
        splits["train"] = (x[: config.limit], y[: config.limit])
    return Data(splits, ds.source, list(kind.classes), time.perf_counter() - start)


def prepare_output(config: TrainConfig) -> Path:
    """Create ``--out`` and prove it writable before any training time is spent.

    A folder already holding a run's outputs is refused unless ``--overwrite`` is given or
    the run continues from a checkpoint inside it (``--resume OUT/checkpoint.npz``).
    """
    out = Path(config.out).expanduser()
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {config.out}: this is a file; give a folder for the run's outputs")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ValueError(f"--out {config.out}: cannot write there ({err.strerror or err}); choose a folder "
                         "you can write to") from None
    previous = [name for name in OUTPUT_NAMES if (out / name).exists()]
    continuing = (config.resume is not None
                  and Path(config.resume).expanduser().resolve().parent == out.resolve())
    if previous and not (config.overwrite or continuing):
        raise ValueError(f"--out {config.out} already holds a run ({', '.join(previous)}); pass --overwrite "
                         "to replace it, or --out NEW_FOLDER to keep it")
    return out


def json_safe(value: Any) -> Any:
    """``value`` with every NaN/Inf float replaced by None (``null``): JSON has no NaN."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


@mg.no_grad()
def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, loss_fn: Callable,
             batch_size: int = 1000) -> tuple[float, float, np.ndarray]:
    """Mean loss, accuracy and predictions over a whole split, in eval mode."""
    was_training = model.training
    model.eval()
    total, preds = 0.0, []
    for start in range(0, len(x), batch_size):
        logits = model(mg.from_numpy(x[start:start + batch_size]))
        yb = mg.from_numpy(y[start:start + batch_size])
        total += loss_fn(logits, yb).item() * len(yb)
        preds.append(logits.data.argmax(1))
    model.train(was_training)
    pred = np.concatenate(preds) if preds else np.zeros(0, np.int64)
    return total / max(len(x), 1), float((pred == y).mean()) if len(y) else float("nan"), pred


class _DeferredCtrlC:
    """While active, Ctrl-C (SIGINT) only sets ``pressed``; the loop checks it between steps,
    so an interruption never leaves the model updated and the optimizer or schedule not.
    A second Ctrl-C interrupts at once. Only the main thread can own signal handlers."""

    def __init__(self) -> None:
        self.pressed = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True

    def __enter__(self) -> _DeferredCtrlC:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


@dataclass
class _EpochProgress:
    """Where the current epoch stands: the generator state its shuffle was drawn from, the
    batches done and the running sums, so an interrupted epoch can continue exactly."""

    order_state: str
    steps_done: int = 0
    total_loss: float = 0.0
    correct: int = 0
    seen: int = 0
    seconds: float = 0.0


def eager_reason(config: TrainConfig) -> str | None:
    """Why this run's training step runs eagerly instead of through ``mg.capture`` (None: it
    is captured). Autocast and the gradient monitor's hooks do Python work at every step,
    which a replay would skip, so capture refuses them."""
    if not config.capture:
        return "--no-capture"
    if config.amp:
        return "--amp: amp.autocast cannot be captured"
    if config.debug:
        return "--debug: the gradient monitor reads every step's values through hooks"
    return None


class TrainStep:
    """The step ``mg.capture`` records and replays: ``zero_grad``, forward, loss, ``backward``,
    gradient clipping (``clip_grad_norm``), ``optimizer.step()``; returns ``(loss, logits)``.

    The loop reads ``loss.item()`` and the accuracy after the call: ``.item()`` inside would
    hand a value to Python, which a replay cannot repeat. A non-finite loss stops the step at
    ``check_finite`` (an op, so replays keep it), before ``backward`` and the optimizer change
    anything, as the eager loop's check does. ``last`` keeps the result of an eager call,
    which ``capture`` does not return when it refuses the step afterwards.
    """

    __name__ = "train_step"

    def __init__(self, model: nn.Module, optimizer: Any, loss_fn: Callable,
                 clip_grad_norm: float | None) -> None:
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.clip_grad_norm = clip_grad_norm
        self.params = list(model.parameters())
        self.last: tuple[mg.Tensor, mg.Tensor] | None = None

    def __call__(self, x: mg.Tensor, y: mg.Tensor) -> tuple[mg.Tensor, mg.Tensor]:
        self.optimizer.zero_grad()
        logits = self.model(x)
        loss = check_finite(self.loss_fn(logits, y), "the training loss")
        loss.backward()
        if self.clip_grad_norm:
            nn.utils.clip_grad_norm_(self.params, self.clip_grad_norm)
        self.optimizer.step()
        self.last = (loss, logits)
        return loss, logits


class Trainer:
    """Holds the model, optimizer, schedule and history of one run."""

    def __init__(self, config: TrainConfig, log: Callable[[str], None] = print) -> None:
        validate_config(config)
        self.config = config
        self.log = log
        mg.manual_seed(config.seed)
        self.loss_fn = LOSSES[config.loss]
        self.model = build_mlp(config.arch, config.activation)
        self.optimizer = build_optimizer(config.optimizer, self.model.parameters(), config.lr,
                                         config.weight_decay)
        self.generator = mg.Generator(config.seed)
        self.history = History()
        self.epoch = 0
        self.steps = 0
        self.out = Path(config.out).expanduser()
        self.schedule: Schedule | None = None
        self.steps_per_epoch = 0
        self.monitor: Any = None
        self.progress: _EpochProgress | None = None
        self.written: list[str] = []
        self._ctrl_c = _DeferredCtrlC()
        if config.tensorboard:
            from minigrad.utils.tensorboard import import_tensorboardx

            import_tensorboardx()  # fail before training when the extra is missing
        self.scaler = GradScaler(enabled=config.amp)
        self.amp_skipped = 0
        self.writer: Any = None
        self._grad_norms: list[float] = []
        self._consistent = True  # state() is exact here (between steps, or after an epoch's bookkeeping)
        self.eager_reason = eager_reason(config)
        self._capture: Any = None  # the CapturedStep, built by captured_step()
        self._capture_owners: tuple[Any, ...] = ()
        self.capture_stats = {"recordings": 0, "replays": 0, "plans_built": 0, "recaptures": 0,
                              "capture_seconds": 0.0}

    @property
    def scheduler(self) -> Any:
        return None if self.schedule is None else self.schedule.scheduler

    def set_schedule(self, steps_per_epoch: int) -> None:
        """Lay the learning-rate schedule over ``config.epochs`` epochs of ``steps_per_epoch``."""
        self.steps_per_epoch = steps_per_epoch
        self.schedule = build_scheduler(self.config.scheduler, self.optimizer, self.config.epochs,
                                        steps_per_epoch, self.config.lr)

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict[str, Any]:
        """Everything ``resume`` needs; ``progress`` is set when saved inside an epoch."""
        progress = None if self.progress is None or self.progress.steps_done == 0 else asdict(self.progress)
        generator = (self.generator.get_state() if self.progress is None
                     else json.loads(self.progress.order_state))
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
                "schedule_length": self.schedule.length if self.schedule else 0,
                "epoch": self.epoch, "steps": self.steps,
                "history": json.dumps(json_safe(asdict(self.history))),
                "progress": json.dumps(progress), "config": asdict(self.config),
                "generator": json.dumps(generator),
                "scaler": json.dumps({"state": self.scaler.state_dict(), "skipped": self.amp_skipped})}

    def save_checkpoint(self, name: str = "checkpoint.npz") -> Path:
        path = self.out / name
        mg.save(self.state(), path)
        self._wrote(name)
        return path

    def _wrote(self, name: str) -> None:
        if name not in self.written:
            self.written.append(name)

    def resume(self, path: str | os.PathLike) -> None:
        """Continue from a checkpoint: load and check everything first, then assign, so a
        bad file leaves this trainer exactly as it was.

        ``config.epochs`` is the new total; the schedule (built by ``set_schedule``, which
        must come first) continues from the checkpoint's position. Over the same number of
        epochs it is restored exactly; over a different number it is rebuilt for the new
        length and moved to that position.
        """
        if self.steps_per_epoch == 0:
            raise RuntimeError("Trainer.resume: call set_schedule(steps_per_epoch) first, so the schedule "
                               "can be continued over --epochs")
        cfg = self.config
        state = mg.load(path)
        missing = [k for k in CHECKPOINT_KEYS if k not in state] if isinstance(state, dict) else ["all"]
        if missing:
            raise ValueError(f"--resume {path}: not a checkpoint of this version of minigrad train (it "
                             f"lacks {', '.join(missing)}); start a new run, or resume with the version that "
                             "wrote it")
        saved = state.get("config", {})
        for key in RESUME_MUST_MATCH:
            if key in saved and saved[key] != getattr(cfg, key):
                option = "--" + key.replace("_", "-")
                raise ValueError(f"--resume {path}: the checkpoint was trained with {option} {saved[key]} "
                                 f"but this run asks for {getattr(cfg, key)}; use the same value")
        epoch, steps = int(state["epoch"]), int(state["steps"])
        progress = json.loads(state["progress"])
        if epoch >= cfg.epochs:
            raise ValueError(f"--resume {path}: the checkpoint has already trained {epoch} epochs and "
                             f"--epochs {cfg.epochs} is the total; pass --epochs {epoch + 5} for 5 more")
        model = copy.deepcopy(self.model)
        model.load_state_dict(state["model"])
        optimizer = build_optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay)
        schedule = build_scheduler(cfg.scheduler, optimizer, cfg.epochs, self.steps_per_epoch, cfg.lr)
        same_length = schedule is None or schedule.length == int(state["schedule_length"])
        optimizer.load_state_dict(state["optimizer"])  # after the scheduler wrote its initial lr
        if schedule is not None:
            if state["scheduler"] is None:
                raise ValueError(f"--resume {path}: the checkpoint has no learning-rate schedule state")
            if same_length:
                schedule.scheduler.load_state_dict(state["scheduler"])
            else:
                schedule = build_scheduler(cfg.scheduler, optimizer, cfg.epochs, self.steps_per_epoch, cfg.lr)
                schedule.scheduler._update_lr(schedule.position(steps, epoch))
        history = History(**{k: [math.nan if v is None else v for v in values]
                             for k, values in json.loads(state["history"]).items()})
        generator = mg.Generator(cfg.seed)
        generator.set_state(json.loads(state["generator"]))
        scaler = json.loads(state["scaler"]) if "scaler" in state else {"state": {}, "skipped": 0}
        if cfg.amp and scaler["state"]:
            self.scaler.load_state_dict(scaler["state"])
            self.amp_skipped = int(scaler["skipped"])
        self.model, self.optimizer, self.schedule, self.history, self.generator = (
            model, optimizer, schedule, history, generator)
        self.epoch, self.steps = epoch, steps
        self.progress = None if progress is None else _EpochProgress(**progress)
        where = f"after epoch {epoch}" if progress is None else \
            f"in epoch {epoch + 1} after {progress['steps_done']} steps"
        self.log(f"resumed from {path} {where}; training to epoch {cfg.epochs}")

    def check_arch_fits(self, n_pixels: int, n_classes: int) -> None:
        """The first layer must take every pixel and the last must score every class."""
        sizes = [int(s) for s in self.config.arch.split("-")]
        if sizes[0] != n_pixels or sizes[-1] < n_classes:
            raise ValueError(f"--arch {self.config.arch}: the images have {n_pixels} pixels and "
                             f"{n_classes} classes, so the sizes must start with {n_pixels} and end "
                             f"with at least {n_classes}, e.g. {n_pixels}-128-{n_classes}")

    # ------------------------------------------------------------------ training
    def warm_kernels(self, x: np.ndarray, y: np.ndarray) -> tuple[int, int]:
        """Compile (or load from the disk cache) the Numba kernels this run uses, with a
        message first: compiling takes seconds and would otherwise look like a hang at 0/N.

        One step on copies of the model and optimizer makes exactly the calls training
        makes, without touching the real ones or any random state; with capture, three
        (two recordings and a replay, whose planned kernels are the replay's own; a step
        that capture refuses has run its eager calls by then, and the training loop will
        meet the refusal itself). Returns the number of kernel signatures (compiled, loaded
        from the cache).
        """
        from minigrad import kernels
        from minigrad.replay import CaptureError

        if not kernels.jit_enabled():
            return 0, 0
        start = time.perf_counter()
        before = kernels.cache_counts()
        with kernels.notify_compiles(lambda name: self.log("compiling kernels (once, cached on disk) ...")):
            model = copy.deepcopy(self.model)
            optimizer = build_optimizer(self.config.optimizer, model.parameters(), self.config.lr,
                                        self.config.weight_decay)
            step = TrainStep(model, optimizer, self.loss_fn, self.config.clip_grad_norm)
            if self.eager_reason is None:
                step = mg.capture(step)
            xb, yb = mg.from_numpy(x[:2].copy()), mg.from_numpy(y[:2].copy())  # as training's x[idx]
            target = yb if self.eager_reason is not None else self._target(yb)
            try:
                for _ in range(3 if self.eager_reason is None else 1):
                    step(xb, target)
            except (CaptureError, NonFiniteError):  # training meets these itself
                pass
            if self.config.debug:
                from minigrad.debug import GradientMonitor

                with GradientMonitor(model) as monitor:
                    monitor.step()
        after = kernels.cache_counts()
        compiled, loaded = after[0] - before[0], after[1] - before[1]
        if compiled or loaded:
            self.log(f"kernels: {compiled} compiled, {loaded} loaded from cache "
                     f"in {time.perf_counter() - start:.2f} s")
        return compiled, loaded

    def train_epoch(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
        """One pass over the training data; returns (mean loss, accuracy, seconds).

        Continues a partly done epoch (``self.progress`` from an interrupted checkpoint)
        with the same shuffle. Raises ``KeyboardInterrupt`` at a step boundary after Ctrl-C
        and ``TrainingDiverged`` when the loss is not finite (before counting that step,
        with the model and optimizer as that step found them).
        """
        cfg, model, opt, sched = self.config, self.model, self.optimizer, self.schedule
        model.train()
        if self.progress is None:
            self.progress = _EpochProgress(json.dumps(self.generator.get_state()))
        p = self.progress
        self.generator.set_state(json.loads(p.order_state))
        order = self.generator.rng.permutation(len(x))
        steps = range(p.steps_done * cfg.batch_size, len(x), cfg.batch_size)
        bar = _progress(steps, f"epoch {self.epoch + 1}/{cfg.epochs}", cfg.progress)
        start = time.perf_counter() - p.seconds
        per_step = sched is not None and sched.cadence == "step"
        for step_start in bar:
            self._consistent = False
            idx = order[step_start:step_start + cfg.batch_size]
            xb, yb = mg.from_numpy(x[idx]), mg.from_numpy(y[idx])
            value, logits = self.step(xb, yb)
            if self.writer is not None:
                self._grad_norms.append(global_grad_norm(model.parameters()))
            if self.monitor is not None:
                self.monitor.step(loss=value, lr=opt.param_groups[0]["lr"])
            if per_step:
                sched.scheduler.step()
            self.history.step_loss.append(value)
            self.steps += 1
            p.steps_done += 1
            p.total_loss += value * len(idx)
            p.correct += int((logits.data.argmax(1) == y[idx]).sum())
            p.seen += len(idx)
            p.seconds = time.perf_counter() - start
            self._consistent = True
            if cfg.progress and p.steps_done % 20 == 1:
                bar.set_postfix(self._postfix(p))
            if self._ctrl_c.pressed:
                raise KeyboardInterrupt
        self.progress = None
        self._consistent = False  # until run_epochs has recorded the epoch
        return p.total_loss / max(p.seen, 1), p.correct / max(p.seen, 1), p.seconds

    def step(self, xb: mg.Tensor, yb: mg.Tensor) -> tuple[float, mg.Tensor]:
        """One training step on a batch, replayed by ``mg.capture`` or eager (``eager_reason``):
        returns the loss value and the logits; raises ``TrainingDiverged`` on a non-finite loss."""
        captured = self.captured_step()
        return self._eager_step(xb, yb) if captured is None else self._replayed_step(captured, xb, yb)

    def _eager_step(self, xb: mg.Tensor, yb: mg.Tensor) -> tuple[float, mg.Tensor]:
        """One step, op by op, under ``--amp``'s autocast and GradScaler when asked. The loss
        is checked before ``backward``: a non-finite one raises with nothing updated."""
        cfg, model, opt = self.config, self.model, self.optimizer
        with autocast(enabled=cfg.amp):
            logits = model(xb)
            loss = self.loss_fn(logits, yb)
        value = loss.item()
        if not math.isfinite(value):
            raise self._diverged_at(value)
        opt.zero_grad()
        self.scaler.scale(loss).backward()
        if cfg.clip_grad_norm:
            self.scaler.unscale_(opt)
            nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad_norm)
        self.scaler.step(opt)
        self.amp_skipped += self.scaler.found_inf(opt)
        self.scaler.update()
        return value, logits

    def _replayed_step(self, step: Any, xb: mg.Tensor, yb: mg.Tensor) -> tuple[float, mg.Tensor]:
        """One step through ``mg.capture``. A non-finite loss stops it at ``check_finite``
        (``NonFiniteError``) before anything is updated, leaving the model as the eager loop
        leaves it. A one-hot loss is given its target made here (``ProbsVsOneHot``). A step
        capture refuses (``CaptureError``, raised after its eager call completed) switches the
        rest of the run to the eager loop."""
        from minigrad.replay import CaptureError

        train_step = step.fn
        train_step.last = None
        try:
            loss, logits = step(xb, self._target(yb))
        except NonFiniteError as err:
            raise self._diverged_at(err.value) from None
        except CaptureError as err:
            self.eager_reason = f"capture refused the step ({err})"
            self._retire_capture()
            self.log(f"capture: off from step {self.steps + 1}: {err}")
            if train_step.last is None:  # refused before running it
                return self._eager_step(xb, yb)
            loss, logits = train_step.last
        return loss.item(), logits

    def _target(self, yb: mg.Tensor) -> mg.Tensor:
        """What a captured step is given to compare the logits with: the labels, or the one-hot
        target of a ``ProbsVsOneHot`` loss."""
        if not isinstance(self.loss_fn, ProbsVsOneHot):
            return yb
        last = self.model[-1]
        return mg.from_numpy(self.loss_fn.target(yb.data, last.out_features, last.weight.dtype))

    def _diverged_at(self, value: float) -> TrainingDiverged:
        self.history.step_loss.append(value)
        return self._diverged(f"the training loss became {value} at step {self.steps + 1} "
                              f"(epoch {self.epoch + 1})")

    def captured_step(self) -> Any:
        """The ``mg.capture`` of this run's ``TrainStep``, or None when the step runs eagerly
        (``eager_reason`` says why). Built once, so its plans (one per batch shape: the last
        batch of an epoch is smaller) serve every epoch; built again if the model, optimizer
        or loss function was replaced (``resume``), since a plan keeps reading the objects
        it was recorded with."""
        if self.eager_reason is not None:
            return None
        owners = (self.model, self.optimizer, self.loss_fn)
        if self._capture is None or any(a is not b for a, b in zip(owners, self._capture_owners)):
            self._retire_capture()
            self._capture = mg.capture(TrainStep(*owners, self.config.clip_grad_norm), model=self.model)
            self._capture_owners = owners
        return self._capture

    def _retire_capture(self) -> None:
        """Add the statistics of the current captured step to the run's totals."""
        if self._capture is not None:
            for key in self.capture_stats:
                self.capture_stats[key] += self._capture.stats[key]
            self._capture = None

    def capture_summary(self) -> dict[str, Any]:
        """For ``metrics.json`` and the log: ``used`` (steps ran through ``mg.capture``),
        ``reason`` (why the run, or its rest, ran eagerly; None if it did not) and the counts
        of ``CapturedStep.stats`` (eager recordings, replays, plans built, re-captures)."""
        stats = dict(self.capture_stats)
        if self._capture is not None:
            for key in stats:
                stats[key] += self._capture.stats[key]
        return {"used": self.eager_reason is None or stats["replays"] > 0, "reason": self.eager_reason,
                **stats}

    def _postfix(self, p: _EpochProgress) -> dict[str, str]:
        postfix = {"loss": f"{p.total_loss / p.seen:.4f}", "img/s": f"{p.seen / max(p.seconds, 1e-9):,.0f}"}
        if self.config.debug:
            from minigrad.debug import global_grad_norm

            postfix["|grad|"] = f"{global_grad_norm(self.model.parameters()):.3g}"
        return postfix

    def _diverged(self, what: str) -> TrainingDiverged:
        from minigrad.debug import diagnose

        verdict = diagnose({"loss": np.asarray(self.history.step_loss, dtype=np.float64)})
        if "checkpoint.npz" in self.written:
            kept = f"the last good checkpoint ({self.out / 'checkpoint.npz'}, epoch {self.epoch}) is kept"
        elif self.config.resume:
            kept = f"this run wrote no checkpoint; the one it resumed from is {self.config.resume}"
        else:
            kept = "no checkpoint was written (it diverged in the first epoch)"
        return TrainingDiverged(f"training diverged: {what}; stopped, {kept}.\n{verdict}", verdict)

    def run_epochs(self, data: Data) -> None:
        """Train until ``config.epochs``: after each epoch validate, step an epoch-wise
        schedule, record the history and write ``checkpoint.npz``. Ctrl-C writes
        ``interrupted.npz`` (the state at the end of the last complete step) and exits 130."""
        cfg = self.config
        x_train, y_train = data.splits["train"]
        with self._ctrl_c:
            try:
                while self.epoch < cfg.epochs:
                    self._one_epoch(x_train, y_train, data.splits["val"])
                    if self._ctrl_c.pressed:
                        raise KeyboardInterrupt
            except KeyboardInterrupt:
                self._interrupted()

    def _one_epoch(self, x: np.ndarray, y: np.ndarray, val: tuple[np.ndarray, np.ndarray]) -> None:
        loss, acc, seconds = self.train_epoch(x, y)
        val_loss, val_acc, _ = evaluate(self.model, *val, self.loss_fn)
        if not math.isfinite(val_loss):
            raise self._diverged(f"the validation loss became {val_loss} after epoch {self.epoch + 1}")
        self.epoch += 1
        if self.schedule is not None and self.schedule.cadence == "val_loss":
            self.schedule.scheduler.step(val_loss)
        elif self.schedule is not None and self.schedule.cadence == "epoch":
            self.schedule.scheduler.step()
        h = self.history
        for series, value in ((h.train_loss, loss), (h.train_acc, acc), (h.val_loss, val_loss),
                              (h.val_acc, val_acc), (h.lr, float(self.optimizer.param_groups[0]["lr"])),
                              (h.epoch_seconds, seconds)):
            series.append(value)
        self._consistent = True
        if self.writer is not None:
            self._log_epoch()
        self.log(f"epoch {self.epoch:2d}: train loss {loss:.4f} acc {acc:.4f} | "
                 f"val loss {val_loss:.4f} acc {val_acc:.4f} | {seconds:.2f} s "
                 f"({seconds / max(self.steps_per_epoch, 1) * 1e3:.2f} ms/step)")
        self.save_checkpoint()

    def _log_epoch(self) -> None:
        """TensorBoard, at global step = epoch: loss and accuracy (train, val), lr, the mean
        global gradient norm over the epoch's steps (finite ones), the loss scale and skipped
        steps with --amp, and each parameter's weight and gradient histograms (last step)."""
        w, h, step = self.writer, self.history, self.epoch
        w.add_scalars("loss", {"train": h.train_loss[-1], "val": h.val_loss[-1]}, step)
        w.add_scalars("accuracy", {"train": h.train_acc[-1], "val": h.val_acc[-1]}, step)
        w.add_scalar("lr", h.lr[-1], step)
        norms = [n for n in self._grad_norms if math.isfinite(n)]
        if norms:
            w.add_scalar("grad_norm", float(np.mean(norms)), step)
        self._grad_norms.clear()
        if self.config.amp:
            w.add_scalar("amp/scale", self.scaler.get_scale(), step)
            w.add_scalar("amp/skipped_steps", self.amp_skipped, step)
        for name, p in self.model.named_parameters():
            w.add_histogram(f"weight/{name}", p, step)
            if p.grad is not None and np.isfinite(p.grad.data).all():
                w.add_histogram(f"grad/{name}", p.grad, step)
        w.flush()

    def _interrupted(self) -> None:
        if not self._consistent:
            last = (f"the last complete checkpoint is {self.out / 'checkpoint.npz'} (epoch {self.epoch})"
                    if self.epoch else "no checkpoint was written yet")
            self.log(f"\ninterrupted in the middle of a step, so its state was not saved; {last}")
            raise SystemExit(130)
        path = self.save_checkpoint("interrupted.npz")
        where = (f"in epoch {self.epoch + 1} after {self.progress.steps_done} steps"
                 if self.progress is not None and self.progress.steps_done else f"after epoch {self.epoch}")
        self.log(f"\ninterrupted {where}: checkpoint saved to {path}; continue with --resume {path} "
                 f"--epochs {self.config.epochs}")
        raise SystemExit(130)

    def test(self, data: Data) -> tuple[dict[str, Any], np.ndarray]:
        """Test loss and accuracy (and the predictions) of the trained model."""
        test_loss, test_acc, pred = evaluate(self.model, *data.splits["test"], self.loss_fn)
        self.log(f"test loss {test_loss:.4f}, test accuracy {test_acc:.4f}")
        return {"test_loss": test_loss, "test_acc": test_acc, "data_seconds": data.seconds,
                "history": asdict(self.history), "config": asdict(self.config)}, pred

    def fit(self) -> dict[str, Any]:
        """The whole run: output folder, data, schedule, resume, kernels, epochs, test, outputs."""
        cfg = self.config
        self.out = prepare_output(cfg)
        data = load_data(cfg)
        x_train, y_train = data.splits["train"]
        self.check_arch_fits(data.n_features, len(data.classes))
        self.set_schedule(data.steps_per_epoch(cfg.batch_size))
        if cfg.resume:
            self.resume(cfg.resume)
        self.log(f"minigrad train: {cfg.arch} {cfg.activation}, {cfg.loss}, {cfg.optimizer} lr={cfg.lr}, "
                 f"{len(x_train)} training images from {data.source} (loaded in {data.seconds:.2f} s)")
        self.warm_kernels(x_train, y_train)
        if cfg.debug:
            from minigrad.debug import GradientMonitor

            self.monitor = GradientMonitor(self.model)
        if cfg.tensorboard:
            from minigrad.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(cfg.tensorboard)
            self.log(f"tensorboard: logging each epoch to {self.writer.log_dir} (view: tensorboard --logdir "
                     f"{self.writer.log_dir})")
        self.log("capture: on (the first calls per batch shape record, later ones replay)"
                 if self.eager_reason is None else f"capture: off ({self.eager_reason})")
        try:
            self.run_epochs(data)
        except TrainingDiverged:
            self.write_metrics({"status": "diverged", "history": asdict(self.history), "config": asdict(cfg),
                                "capture": self.capture_summary()})
            raise
        finally:
            if self.monitor is not None:
                self.monitor.remove()
            if self.writer is not None:
                self.writer.close()
        result, pred = self.test(data)
        result["capture"] = summary = self.capture_summary()
        if summary["used"]:
            replays, recordings, plans = summary["replays"], summary["recordings"], summary["plans_built"]
            self.log(f"capture: {replays} steps replayed, {recordings} run eagerly while recording "
                     f"({plans} plan{'s' * (plans != 1)} built, {summary['capture_seconds']:.2f} s)")
        if cfg.amp:
            result["amp"] = {"skipped_steps": self.amp_skipped, "steps": self.steps,
                             "final_scale": self.scaler.get_scale()}
            self.log(f"amp: {self.amp_skipped} of {self.steps} steps skipped (inf/NaN gradients), "
                     f"final loss scale {self.scaler.get_scale():g}")
        self.write_outputs(result, data, pred)
        return result

    # ------------------------------------------------------------------ outputs
    def write_metrics(self, result: dict[str, Any]) -> None:
        """``metrics.json`` (NaN/Inf written as null, so it stays valid JSON) and ``metrics.csv``."""
        h = self.history
        atomic_write(self.out / "metrics.json", json.dumps(json_safe(result), indent=2, allow_nan=False))
        self._wrote("metrics.json")
        rows = [["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"]]
        rows += [[i + 1, h.train_loss[i], h.train_acc[i], h.val_loss[i], h.val_acc[i], h.lr[i],
                  h.epoch_seconds[i]] for i in range(len(h.train_loss))]
        atomic_write(self.out / "metrics.csv", _csv(rows))
        self._wrote("metrics.csv")

    def write_outputs(self, result: dict[str, Any], data: Data, pred: np.ndarray) -> None:
        """Metrics, plots, the monitor's report and the graph; each file is written atomically,
        and with ``--overwrite`` the previous run's files that this run did not write are removed."""
        from minigrad.viz import plots

        out, h = self.out, self.history
        self.write_metrics(result)
        if h.train_loss:
            plots.training_curves(h.train_loss, h.val_loss, h.train_acc, h.val_acc, path=out / "curves.png")
            self._wrote("curves.png")
        x_test, y_test = data.splits["test"]
        plots.confusion_matrix(y_test, pred, len(data.classes), class_names=data.classes,
                               path=out / "confusion.png")
        self._wrote("confusion.png")
        wrong = np.flatnonzero(pred != y_test)[:32]
        if len(wrong):
            plots.image_grid(x_test[wrong], y_test[wrong], pred[wrong], class_names=data.classes,
                             path=out / "misclassified.png")
            self._wrote("misclassified.png")
        if self.monitor is not None:
            atomic_write(out / "monitor.txt", self.monitor.report())
            self._wrote("monitor.txt")
            self.monitor.plot(out / "monitor.png")
            self._wrote("monitor.png")
        if self.config.graph and self.draw_step(x_test[:8], y_test[:8], out / "graph.svg"):
            self._wrote("graph.svg")
        if self.config.overwrite:
            for name in OUTPUT_NAMES:
                if name not in self.written and name != "interrupted.npz":
                    (out / name).unlink(missing_ok=True)
        self.log(f"wrote {', '.join(self.written)} to {out}/")

    def draw_step(self, x: np.ndarray, y: np.ndarray, path: Path) -> bool:
        """Render one (non-updating) training step top to bottom, each layer a cluster, with
        the gradient of every tensor (kept for this one step). False if Graphviz is missing."""
        from minigrad import viz

        with viz.record_modules(self.model):
            loss = viz.trace_grads(self.loss_fn(self.model(mg.from_numpy(x)), mg.from_numpy(y)))
        loss.backward()
        try:
            viz.draw(loss, model=self.model, rankdir="TB").save(path)
            return True
        except viz.GraphvizNotFound as err:
            self.log(f"graph not rendered: {err}")
            return False
        finally:
            self.model.zero_grad()


def _progress(steps: range, desc: str, enabled: bool) -> Any:
    if not enabled:
        return _Quiet(steps)
    from tqdm import tqdm

    return tqdm(steps, desc=desc, unit="batch", leave=False, dynamic_ncols=True)


class _Quiet:
    def __init__(self, steps: range) -> None:
        self.steps = steps

    def __iter__(self):
        return iter(self.steps)

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        pass


def _csv(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()
