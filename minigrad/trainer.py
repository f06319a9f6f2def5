"""Train a small MLP classifier on MNIST: the loop behind ``minigrad train``.

One epoch is the classic loop: for each batch, forward, loss, ``zero_grad``, ``backward``,
optional gradient clipping, ``optimizer.step()``, scheduler step. After each epoch the
model is evaluated on the validation split and a checkpoint is written atomically, so a
run can be resumed (``--resume``) or interrupted (Ctrl-C saves and exits cleanly). At the
end the test split gives the final accuracy, and the run directory receives metrics
(JSON, CSV), plots (curves, confusion matrix, misclassified digits) and the graph of one
training step.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.atomic import atomic_write
from minigrad.nn import functional as F

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
               "leaky_relu": nn.LeakyReLU, "elu": nn.ELU}


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
    resume: str | None = None
    limit: int | None = None
    normalize: bool = True
    debug: bool = False
    progress: bool = True
    graph: bool = True


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


def _probs_vs_onehot(name: str) -> Callable:
    """A regression loss between softmax probabilities and one-hot targets."""

    def fn(logits: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
        target = mg.from_numpy(np.eye(logits.shape[1], dtype=logits.dtype)[y.data])
        return getattr(F, name)(logits.softmax(1), target)

    return fn


LOSSES: dict[str, Callable[[mg.Tensor, mg.Tensor], mg.Tensor]] = {
    "cross_entropy": lambda logits, y: F.cross_entropy(logits, y),
    "mse": _probs_vs_onehot("mse_loss"),
    "l1": _probs_vs_onehot("l1_loss"),
    "focal": lambda logits, y: F.focal_loss(logits, y),
    "hinge": lambda logits, y: F.multi_margin_loss(logits, y),
}


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


def build_scheduler(name: str, optimizer: Any, epochs: int, steps_per_epoch: int) -> Any:
    """A per-step schedule (cosine, onecycle), a per-epoch one (step, plateau), or None."""
    from minigrad.optim import lr_scheduler as S

    total = max(epochs * steps_per_epoch, 1)
    kinds = {"none": lambda: None,
             "cosine": lambda: S.CosineAnnealingLR(optimizer, T_max=total),
             "onecycle": lambda: S.OneCycleLR(optimizer, max_lr=optimizer.param_groups[0]["lr"],
                                              total_steps=total),
             "step": lambda: S.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1),
             "plateau": lambda: S.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)}
    if name not in kinds:
        raise ValueError(f"--scheduler {name!r}: choose one of {sorted(kinds)}")
    return kinds[name]()


def load_splits(config: TrainConfig) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str]:
    """Train / val / test arrays (float32 images, int64 labels), ``limit`` applied to train,
    and where they came from (the dataset's ``source``).

    With ``normalize`` the pixels are standardised with the training set's mean and standard
    deviation: inputs centred around 0 with unit spread make the first layer learn faster.
    """
    from minigrad import data

    kind = {"mnist": data.MNIST, "fashion-mnist": data.FashionMNIST}.get(config.dataset)
    if kind is None:
        raise ValueError(f"--dataset {config.dataset!r}: choose mnist or fashion-mnist")
    splits = {}
    for split in ("train", "val", "test"):
        ds = kind(root=config.data_dir, split=split, normalize=config.normalize)
        x, y = np.asarray(ds.data, dtype=np.float32), np.asarray(ds.targets, dtype=np.int64)
        splits[split] = (x.reshape(len(x), -1), y)
    if config.limit is not None:
        x, y = splits["train"]
        splits["train"] = (x[: config.limit], y[: config.limit])
    return splits, ds.source


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


class Trainer:
    """Holds the model, optimizer, scheduler and history of one run."""

    def __init__(self, config: TrainConfig, log: Callable[[str], None] = print) -> None:
        self.config = config
        self.log = log
        if config.loss not in LOSSES:
            raise ValueError(f"--loss {config.loss!r}: choose one of {sorted(LOSSES)}")
        if config.epochs < 0 or config.batch_size <= 0:
            raise ValueError("--epochs must be >= 0 and --batch-size > 0")
        if config.limit is not None and config.limit <= 0:
            raise ValueError(f"--limit {config.limit}: the number of training images must be > 0")
        if config.clip_grad_norm is not None and not config.clip_grad_norm > 0:
            raise ValueError(f"--clip-grad-norm {config.clip_grad_norm}: the maximum norm must be > 0 "
                             "(leave the option out to train without clipping)")
        if Path(config.out).exists() and not Path(config.out).is_dir():
            raise ValueError(f"--out {config.out!r} is a file; give a folder for the run's outputs")
        mg.manual_seed(config.seed)
        self.loss_fn = LOSSES[config.loss]
        self.model = build_mlp(config.arch, config.activation)
        self.optimizer = build_optimizer(config.optimizer, self.model.parameters(), config.lr,
                                         config.weight_decay)
        self.generator = mg.Generator(config.seed)
        self.history = History()
        self.epoch = 0
        self.out = Path(config.out)
        self.scheduler: Any = None
        self.monitor: Any = None

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler else None,
                "epoch": self.epoch, "history": asdict(self.history),
                "config": asdict(self.config), "generator": json.dumps(self.generator.get_state())}

    def save_checkpoint(self, path: Path | None = None) -> Path:
        path = path or self.out / "checkpoint.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        mg.save(self.state(), path)
        return path

    def resume(self, path: str | os.PathLike) -> None:
        state = mg.load(path)
        saved = state.get("config", {})
        for key in ("arch", "activation", "optimizer", "scheduler"):
            if key in saved and saved[key] != getattr(self.config, key):
                raise ValueError(f"--resume {path}: the checkpoint was trained with --{key} {saved[key]} but "
                                 f"this run asks for --{key} {getattr(self.config, key)}; use the same value")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.epoch = int(state["epoch"])
        self.history = History(**{k: list(v) for k, v in state["history"].items()})
        self.generator.set_state(json.loads(state["generator"]))
        self.log(f"resumed from {path} after epoch {self.epoch}")

    def check_arch_fits(self, n_pixels: int, n_classes: int) -> None:
        """The first layer must take every pixel and the last must score every class."""
        sizes = [int(s) for s in self.config.arch.split("-")]
        if sizes[0] != n_pixels or sizes[-1] < n_classes:
            raise ValueError(f"--arch {self.config.arch}: the images have {n_pixels} pixels and "
                             f"{n_classes} classes, so the sizes must start with {n_pixels} and end "
                             f"with at least {n_classes}, e.g. {n_pixels}-128-{n_classes}")

    # ------------------------------------------------------------------ training
    def train_epoch(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
        """One pass over the training data; returns (mean loss, accuracy, seconds)."""
        cfg, model, opt = self.config, self.model, self.optimizer
        model.train()
        order = self.generator.rng.permutation(len(x))
        steps = range(0, len(x), cfg.batch_size)
        bar = _progress(steps, f"epoch {self.epoch + 1}/{cfg.epochs}", cfg.progress)
        total_loss, correct, seen = 0.0, 0, 0
        per_step = self.scheduler is not None and not _is_plateau(self.scheduler) and not _is_epochwise(
            self.scheduler)
        start = time.perf_counter()
        for step_start in bar:
            idx = order[step_start:step_start + cfg.batch_size]
            xb, yb = mg.from_numpy(x[idx]), mg.from_numpy(y[idx])
            logits = model(xb)
            loss = self.loss_fn(logits, yb)
            opt.zero_grad()
            loss.backward()
            if cfg.clip_grad_norm:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad_norm)
            opt.step()
            if self.monitor is not None:
                self.monitor.step()
            if per_step:
                self.scheduler.step()
            value = loss.item()
            self.history.step_loss.append(value)
            total_loss += value * len(idx)
            correct += int((logits.data.argmax(1) == y[idx]).sum())
            seen += len(idx)
            if cfg.progress and (step_start // cfg.batch_size) % 20 == 0:
                rate = seen / max(time.perf_counter() - start, 1e-9)
                postfix = {"loss": f"{total_loss / seen:.4f}", "img/s": f"{rate:,.0f}"}
                if cfg.debug:
                    from minigrad.debug import global_grad_norm

                    postfix["|grad|"] = f"{global_grad_norm(model.parameters()):.3g}"
                bar.set_postfix(postfix)
        seconds = time.perf_counter() - start
        return total_loss / max(seen, 1), correct / max(seen, 1), seconds

    def fit(self) -> dict[str, Any]:
        cfg = self.config
        t0 = time.perf_counter()
        splits, source = load_splits(cfg)
        load_seconds = time.perf_counter() - t0
        x_train, y_train = splits["train"]
        self.check_arch_fits(x_train.shape[1], int(max(y.max(initial=0) for _, y in splits.values())) + 1)
        steps_per_epoch = -(-len(x_train) // cfg.batch_size)
        self.scheduler = build_scheduler(cfg.scheduler, self.optimizer, cfg.epochs, steps_per_epoch)
        if cfg.resume:
            self.resume(cfg.resume)
        self.out.mkdir(parents=True, exist_ok=True)
        self.log(f"minigrad train: {cfg.arch} {cfg.activation}, {cfg.loss}, {cfg.optimizer} lr={cfg.lr}, "
                 f"{len(x_train)} training images from {source} (loaded in {load_seconds:.2f} s)")
        if cfg.debug:
            from minigrad.debug import GradientMonitor

            self.monitor = GradientMonitor(self.model)
        try:
            while self.epoch < cfg.epochs:
                loss, acc, seconds = self.train_epoch(x_train, y_train)
                val_loss, val_acc, _ = evaluate(self.model, *splits["val"], self.loss_fn)
                self.epoch += 1
                if self.scheduler is not None and _is_plateau(self.scheduler):
                    self.scheduler.step(val_loss)
                elif self.scheduler is not None and _is_epochwise(self.scheduler):
                    self.scheduler.step()
                h = self.history
                h.train_loss.append(loss)
                h.train_acc.append(acc)
                h.val_loss.append(val_loss)
                h.val_acc.append(val_acc)
                h.lr.append(float(self.optimizer.param_groups[0]["lr"]))
                h.epoch_seconds.append(seconds)
                self.log(f"epoch {self.epoch:2d}: train loss {loss:.4f} acc {acc:.4f} | "
                         f"val loss {val_loss:.4f} acc {val_acc:.4f} | {seconds:.2f} s "
                         f"({seconds / steps_per_epoch * 1e3:.2f} ms/step)")
                self.save_checkpoint()
        except KeyboardInterrupt:
            path = self.save_checkpoint(self.out / "interrupted.npz")
            self.log(f"\ninterrupted: checkpoint saved to {path}; resume with --resume {path}")
            raise SystemExit(130) from None
        finally:
            if self.monitor is not None:
                self.monitor.remove()
        test_loss, test_acc, pred = evaluate(self.model, *splits["test"], self.loss_fn)
        self.log(f"test loss {test_loss:.4f}, test accuracy {test_acc:.4f}")
        result = {"test_loss": test_loss, "test_acc": test_acc, "data_seconds": load_seconds,
                  "history": asdict(self.history), "config": asdict(cfg)}
        self.write_outputs(result, splits["test"], pred)
        return result

    # ------------------------------------------------------------------ outputs
    def write_outputs(self, result: dict[str, Any], test: tuple[np.ndarray, np.ndarray],
                      pred: np.ndarray) -> None:
        from minigrad.viz import plots

        out, h = self.out, self.history
        atomic_write(out / "metrics.json", json.dumps(result, indent=2))
        rows = [["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"]]
        rows += [[i + 1, h.train_loss[i], h.train_acc[i], h.val_loss[i], h.val_acc[i], h.lr[i],
                  h.epoch_seconds[i]] for i in range(len(h.train_loss))]
        atomic_write(out / "metrics.csv", _csv(rows))
        if h.train_loss:
            plots.training_curves(h.train_loss, h.val_loss, h.train_acc, h.val_acc,
                                  path=out / "curves.png")
        x_test, y_test = test
        plots.confusion_matrix(y_test, pred, 10, path=out / "confusion.png")
        wrong = np.flatnonzero(pred != y_test)[:32]
        if len(wrong):
            plots.image_grid(x_test[wrong], y_test[wrong], pred[wrong], path=out / "misclassified.png")
        if self.monitor is not None:
            atomic_write(out / "monitor.txt", self.monitor.report())
            self.monitor.plot(out / "monitor.png")
        if self.config.graph:
            self.draw_step(x_test[:8], y_test[:8], out / "graph.svg")
        self.log(f"wrote {', '.join(sorted(p.name for p in out.iterdir()))} to {out}/")

    def draw_step(self, x: np.ndarray, y: np.ndarray, path: Path) -> None:
        """Render the graph of one (non-updating) training step, modules collapsed."""
        from minigrad import viz

        with viz.record_modules(self.model):
            loss = self.loss_fn(self.model(mg.from_numpy(x)), mg.from_numpy(y))
        loss.backward()
        try:
            viz.draw(loss, params=self.model, model=self.model, collapse_modules=True).save(path)
        except viz.GraphvizNotFound as err:
            self.log(f"graph not rendered: {err}")
        self.model.zero_grad()


def _is_plateau(scheduler: Any) -> bool:
    return type(scheduler).__name__ == "ReduceLROnPlateau"


def _is_epochwise(scheduler: Any) -> bool:
    return type(scheduler).__name__ == "StepLR"


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
    import io

    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()
