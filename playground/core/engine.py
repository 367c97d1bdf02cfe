"""Training as an iterator of events that the caller pulls, and evaluation.

    trainer = Trainer(config, load_mnist(root, resolve_device(config.device)))
    for event in trainer:          # StepEvent… EpochEvent… DoneEvent
        ...                        # draw, print, or call trainer.stop()

The engine never prints or draws. The training loss stays on the device and is read back only
when an event is emitted, so there is no host–device sync per step. On CUDA the whole train step
(gather, forward, backward, optimizer) is captured once in a CUDA graph and replayed; the CPU,
and a last partial batch, take the eager path. With a mixed precision (config.precision), the
forward pass and the loss run under autocast; weights, optimizer state and evaluation stay fp32.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from playground.core import augment, precision
from playground.core.config import RunConfig
from playground.core.data import MnistTensors
from playground.core.model import MLP, build_model
from playground.core.schedule import lr_at, steps_per_epoch

GRAPH_WARMUP_STEPS = 3  # eager steps on a side stream before capture (lazy optimizer state)
EVAL_BATCH = 8192


class DeviceUnavailableError(RuntimeError):
    """The config asks for a device this machine does not have."""


def resolve_device(name: str) -> torch.device:
    """'auto' → CUDA when present, else the CPU. 'cuda' without a GPU raises with the reason."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailableError("device 'cuda' was asked for, but torch sees no CUDA GPU here")
    return torch.device(name)


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepEvent:
    epoch: int  # 1-based
    step: int  # steps done in this epoch
    global_step: int  # steps done in the run
    steps_per_epoch: int
    total_steps: int
    loss: float  # mean training loss over the steps since the previous event
    lr: float
    samples_per_s: float
    elapsed: float  # seconds since the run started


@dataclass(frozen=True)
class Evaluation:
    accuracy: float  # fraction 0..1
    loss: float
    confusion: torch.Tensor  # (10, 10) int64, rows = true digit, columns = predicted
    predictions: torch.Tensor  # (N,) int64
    confidences: torch.Tensor  # (N,) float32, probability of the predicted digit
    misclassified: torch.Tensor  # (K,) int64 indices into the test set

    def most_confused(self, count: int = 3) -> list[tuple[int, int, int]]:
        """The `count` commonest mistakes as (true digit, predicted digit, times), commonest
        first (ties: the lower digits first); only mistakes that happened."""
        mistakes = self.confusion.clone()
        mistakes.fill_diagonal_(0)
        flat = mistakes.flatten()
        order = sorted(range(100), key=lambda cell: (-int(flat[cell]), cell))[:count]
        return [(cell // 10, cell % 10, int(flat[cell])) for cell in order if flat[cell] > 0]


@dataclass(frozen=True)
class EpochEvent:
    epoch: int
    epochs: int
    train_loss: float
    test_loss: float
    test_accuracy: float
    samples_per_s: float
    epoch_seconds: float  # training time of this epoch (evaluation excluded)
    elapsed: float


@dataclass(frozen=True)
class DoneEvent:
    stopped: bool  # True when stop() ended the run early
    epochs_completed: int
    steps_completed: int
    train_seconds: float  # training time, evaluation excluded
    elapsed: float
    evaluation: Evaluation  # of the final (possibly partly trained) model


Event = StepEvent | EpochEvent | DoneEvent


# --- evaluation -------------------------------------------------------------------------------


@torch.no_grad()
def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> Evaluation:
    """Accuracy, mean loss, confusion matrix and misclassified indices of `model` (eval mode)
    on x (N, 784) normalised, y (N,). Restores the model's train/eval mode afterwards."""
    was_training = model.training
    model.eval()
    log_probs = torch.cat([model(x[i : i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)])
    model.train(was_training)
    loss = F.nll_loss(log_probs, y).item()
    best_log_prob, predictions = log_probs.max(dim=1)
    y_cpu, predictions = y.cpu(), predictions.cpu()
    confusion = torch.bincount(y_cpu * 10 + predictions, minlength=100).reshape(10, 10)
    wrong = (predictions != y_cpu).nonzero().flatten()
    return Evaluation(
        accuracy=1.0 - len(wrong) / len(y_cpu),
        loss=loss,
        confusion=confusion,
        predictions=predictions,
        confidences=best_log_prob.exp().float().cpu(),
        misclassified=wrong,
    )


# --- optimizer ---------------------------------------------------------------------------------


def make_optimizer(config: RunConfig, model: torch.nn.Module, device: torch.device) -> torch.optim.Optimizer:
    """Adam/AdamW are fused on both CPU and CUDA (one kernel for all parameters); on CUDA they
    are capturable, with the learning rate a device tensor that a CUDA graph reads each replay."""
    params = model.parameters()
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=0.9)
    cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
    if device.type == "cuda":
        lr = torch.tensor(config.lr, device=device)
        return cls(params, lr=lr, fused=True, capturable=True)
    return cls(params, lr=config.lr, fused=True)


# --- training ---------------------------------------------------------------------------------


class Trainer:
    """One training run. Iterate it to train; call stop() (from any thread) to end it between
    steps. `model` holds the weights trained so far, stopped or not."""

    def __init__(
        self,
        config: RunConfig,
        data: MnistTensors,
        log_every: int | None = None,
        use_cuda_graph: bool = True,
        stop_event: threading.Event | None = None,
    ):
        self.config = config
        self.data = data
        self.device = data.device
        self.steps_per_epoch = steps_per_epoch(len(data.train_x), config.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.log_every = log_every or max(1, self.steps_per_epoch // 50)

        precision.check(config.precision, self.device)
        self._scaler = precision.grad_scaler(config.precision, self.device)  # fp16 only
        torch.manual_seed(config.seed)  # weights and dropout masks
        self.model: MLP = build_model(config).to(self.device)
        self.optimizer = make_optimizer(config, self.model, self.device)
        self._shuffle = torch.Generator(device=self.device).manual_seed(config.seed)
        self._augment = augment.make_generator(config.seed, self.device)
        self._loss_sum = torch.zeros((), device=self.device)  # summed on device, read per event
        # Any object with set()/is_set(): a multiprocessing.Event lets another process stop us.
        self._stop = stop_event if stop_event is not None else threading.Event()
        self._graph = None  # _GraphStep once captured (CUDA only)
        self._warmup_left = GRAPH_WARMUP_STEPS
        self.graph_enabled = (
            use_cuda_graph
            and self.device.type == "cuda"
            and (
                config.optimizer != "sgd" or config.schedule == "constant"  # SGD's lr is baked in
            )
        )
        self.graph_error: str | None = None  # why the CUDA graph is not used (eager fallback)
        if self.graph_enabled and self._scaler is not None:
            # GradScaler decides on the host whether to skip a step and how to change the scale;
            # a graph would replay its first decision forever. Untried in a graph: say so.
            self.graph_enabled = False
            self.graph_error = "fp16 loss scaling runs outside CUDA graphs, so this run trains eagerly"

    def stop(self) -> None:
        self._stop.set()

    @property
    def uses_cuda_graph(self) -> bool:
        """Whether the train step has been captured and runs as a CUDA graph."""
        return self._graph is not None

    def __iter__(self) -> Iterator[Event]:
        return self._run()

    def _run(self) -> Iterator[Event]:
        config, data = self.config, self.data
        n, batch = len(data.train_x), config.batch_size
        start = time.perf_counter()
        train_seconds = 0.0
        global_step = epochs_done = 0
        self.model.train()
        for epoch in range(1, config.epochs + 1):
            epoch_start = time.perf_counter()
            order = torch.randperm(n, device=self.device, generator=self._shuffle)
            epoch_loss, epoch_steps = 0.0, 0
            last_event_time, last_event_step = epoch_start, 0
            for step in range(1, self.steps_per_epoch + 1):
                if self._stop.is_set():
                    break
                self._set_lr(lr_at(global_step, self.total_steps, config.lr, config.schedule))
                self._train_step(order[(step - 1) * batch : step * batch])
                global_step += 1
                if step % self.log_every and step != self.steps_per_epoch:
                    continue
                steps = step - last_event_step
                loss = self._loss_sum.item() / steps  # the only host–device sync
                self._loss_sum.zero_()
                now = time.perf_counter()
                epoch_loss, epoch_steps = epoch_loss + loss * steps, epoch_steps + steps
                yield StepEvent(
                    epoch=epoch,
                    step=step,
                    global_step=global_step,
                    steps_per_epoch=self.steps_per_epoch,
                    total_steps=self.total_steps,
                    loss=loss,
                    lr=lr_at(global_step - 1, self.total_steps, config.lr, config.schedule),
                    samples_per_s=min(steps * batch, n) / max(now - last_event_time, 1e-9),
                    elapsed=now - start,
                )
                last_event_time, last_event_step = time.perf_counter(), step
            epoch_seconds = time.perf_counter() - epoch_start
            train_seconds += epoch_seconds
            if self._stop.is_set():
                break
            epochs_done = epoch
            evaluation = evaluate(self.model, data.test_x, data.test_y)
            yield EpochEvent(
                epoch=epoch,
                epochs=config.epochs,
                train_loss=epoch_loss / max(epoch_steps, 1),
                test_loss=evaluation.loss,
                test_accuracy=evaluation.accuracy,
                samples_per_s=epoch_steps * batch / max(epoch_seconds, 1e-9),
                epoch_seconds=epoch_seconds,
                elapsed=time.perf_counter() - start,
            )
        self._loss_sum.zero_()  # drop the loss of steps after the last event of a stopped run
        yield DoneEvent(
            stopped=self._stop.is_set(),
            epochs_completed=epochs_done,
            steps_completed=global_step,
            train_seconds=train_seconds,
            elapsed=time.perf_counter() - start,
            evaluation=evaluate(self.model, data.test_x, data.test_y),
        )

    def _set_lr(self, lr: float) -> None:
        group = self.optimizer.param_groups[0]
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(lr)  # a device-side write: no sync, and the CUDA graph sees it
        else:
            group["lr"] = lr

    def _train_step(self, indices: torch.Tensor) -> None:
        """One optimizer step on the training samples at `indices` (B,) on the device."""
        full = len(indices) == self.config.batch_size
        if self._graph is not None and full:
            self._graph.replay(indices)
            return
        if self.graph_enabled and full and self._graph is None and self.graph_error is None:
            if self._warmup_left > 0:
                self._warmup_left -= 1
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    self._eager_step(indices)
                torch.cuda.current_stream().wait_stream(side)
                return
            try:
                self._graph = _GraphStep(self, indices)
            except RuntimeError as err:  # keep training eagerly, and say why
                self.graph_error = str(err)
                self._graph = None
            else:
                self._graph.replay(indices)
                return
        self._eager_step(indices)

    def batch_inputs(self, indices: torch.Tensor) -> torch.Tensor:
        """The (B, 784) training inputs at `indices`, augmented when the config asks for it (on
        the device, capturable: the CUDA graph replays it with fresh random numbers)."""
        x = self.data.train_x.index_select(0, indices)
        return augment.augment_batch(x, self.config.augment, self._augment)

    def _eager_step(self, indices: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        # index_select, not train_x[indices]: the same gather at less than half the cost on the CPU
        x, y = self.batch_inputs(indices), self.data.train_y.index_select(0, indices)
        # Autocast covers the forward pass and the loss only: backward follows the forward's
        # dtypes, and the optimizer updates the float32 weights.
        with precision.autocast(self.config.precision, self.device):
            loss = F.nll_loss(self.model(x), y)
        if self._scaler is None:
            loss.backward()
            self.optimizer.step()
        else:
            self._scaler.scale(loss).backward()
            self._scaler.step(self.optimizer)  # skipped when a gradient overflowed
            self._scaler.update()
        self._loss_sum += loss.detach()


class _GraphStep:
    """The whole train step captured once as a CUDA graph, replayed with new batch indices."""

    def __init__(self, trainer: Trainer, indices: torch.Tensor):
        self.indices = indices.clone()  # static input buffer the graph reads
        model, optimizer, data = trainer.model, trainer.optimizer, trainer.data
        optimizer.zero_grad(set_to_none=True)  # grads get allocated inside the graph's pool
        self.graph = torch.cuda.CUDAGraph()
        if trainer.config.augment > 0:  # its generator advances on each replay only if registered
            self.graph.register_generator_state(trainer._augment)
        with torch.cuda.graph(self.graph):
            x = trainer.batch_inputs(self.indices)
            y = data.train_y.index_select(0, self.indices)
            with precision.autocast(trainer.config.precision, trainer.device, cache_enabled=False):
                loss = F.nll_loss(model(x), y)
            loss.backward()
            optimizer.step()
            trainer._loss_sum.add_(loss.detach())

    def replay(self, indices: torch.Tensor) -> None:
        self.indices.copy_(indices)
        self.graph.replay()
