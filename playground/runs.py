"""Training runs that outlive a page's script run: a Trainer pulled in a background thread,
its events collected in a RunRecord that the page reads (and redraws from) as often as it likes.

Nothing here knows about Streamlit: the UI keeps a RunHistory per browser session and polls it.
A process-wide RunSlots limits how many runs train at once per device; the others queue.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from playground.config import RunConfig
from playground.data import MnistTensors
from playground.engine import DoneEvent, EpochEvent, Evaluation, StepEvent, Trainer, resolve_device
from playground.model import MLP

QUEUED, LOADING, TRAINING, FINISHED, STOPPED, FAILED = (
    "queued", "loading data", "training", "finished", "stopped", "failed",
)
ACTIVE = (QUEUED, LOADING, TRAINING)

DataLoaderFn = Callable[[torch.device, Callable[[float, str], None]], MnistTensors]


class RunSlots:
    """At most `limit` runs train at once per device type; the rest wait in FIFO order."""

    def __init__(self, limits: dict[str, int] | None = None):
        self.limits = {"cpu": 1, "cuda": 1, **(limits or {})}
        self._cond = threading.Condition()
        self._running: dict[str, int] = {}
        self._queue: dict[str, list[int]] = {}

    def position(self, device: str, ticket: int) -> int:
        """1-based place in the queue, 0 when not waiting."""
        with self._cond:
            queue = self._queue.get(device, [])
            return queue.index(ticket) + 1 if ticket in queue else 0

    def acquire(self, device: str, ticket: int, cancelled: Callable[[], bool]) -> bool:
        """Wait for a slot; False if `cancelled()` became true while waiting."""
        with self._cond:
            queue = self._queue.setdefault(device, [])
            queue.append(ticket)
            while not (queue[0] == ticket and self._running.get(device, 0) < self.limits.get(device, 1)):
                if cancelled():
                    queue.remove(ticket)
                    self._cond.notify_all()
                    return False
                self._cond.wait(timeout=0.2)
            queue.pop(0)
            self._running[device] = self._running.get(device, 0) + 1
            self._cond.notify_all()
            return True

    def release(self, device: str) -> None:
        with self._cond:
            self._running[device] -= 1
            self._cond.notify_all()


SLOTS = RunSlots()  # process-wide: shared by every browser session
_ids = itertools.count(1)


@dataclass
class RunRecord:
    """Everything the UI shows about one run. Written by the run's thread, read by the page."""

    config: RunConfig
    id: int = field(default_factory=lambda: next(_ids))
    name: str = ""
    status: str = QUEUED
    created: float = field(default_factory=time.time)
    queue_position: int = 0
    download: tuple[float, str] | None = None  # (fraction, message) while MNIST downloads
    steps: list[StepEvent] = field(default_factory=list)
    epochs: list[EpochEvent] = field(default_factory=list)
    done: DoneEvent | None = None
    model: MLP | None = None  # the trained (or partly trained) model, eval mode once ended
    device: str = ""
    error: str | None = None
    test_images: torch.Tensor | None = None  # (10000, 28, 28) uint8, shared with the dataset
    test_labels: torch.Tensor | None = None  # (10000,) int64 on the CPU

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def last_step(self) -> StepEvent | None:
        return self.steps[-1] if self.steps else None

    @property
    def evaluation(self) -> Evaluation | None:
        return self.done.evaluation if self.done else None

    @property
    def final_accuracy(self) -> float | None:
        return self.done.evaluation.accuracy if self.done else None

    @property
    def best_accuracy(self) -> float | None:
        values = [e.test_accuracy for e in self.epochs] + ([self.final_accuracy] if self.done else [])
        return max(values) if values else None

    @property
    def seconds_per_epoch(self) -> float | None:
        if not self.epochs:
            return None
        return sum(e.epoch_seconds for e in self.epochs) / len(self.epochs)


class BackgroundRun:
    """One run in a daemon thread: wait for a slot, load data, train, keep the model."""

    def __init__(self, record: RunRecord, load_data: DataLoaderFn, slots: RunSlots = SLOTS):
        self.record = record
        self._load_data = load_data
        self._slots = slots
        self._stop = threading.Event()
        self._trainer: Trainer | None = None
        self._thread = threading.Thread(target=self._main, name=f"run-{record.id}", daemon=True)

    def start(self) -> "BackgroundRun":
        self._thread.start()
        return self

    def stop(self) -> None:
        """End the run at its next step; the partly trained model is kept."""
        self._stop.set()
        if self._trainer is not None:
            self._trainer.stop()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _main(self) -> None:
        record = self.record
        try:
            device = resolve_device(record.config.device)
        except RuntimeError as err:
            record.status, record.error = FAILED, str(err)
            return
        record.device = device.type
        ticket = record.id
        waiting = threading.Thread(target=self._track_queue, args=(device.type, ticket), daemon=True)
        waiting.start()
        if not self._slots.acquire(device.type, ticket, self._stop.is_set):
            record.status, record.queue_position = STOPPED, 0
            return
        record.queue_position = 0
        try:
            self._train(device)
        except torch.cuda.OutOfMemoryError:
            record.status = FAILED
            record.error = ("The GPU ran out of memory. Try a smaller batch size or fewer units, "
                            "or train on the CPU.")
        except Exception as err:  # noqa: BLE001 - the page shows the reason; the app keeps going
            record.status, record.error = FAILED, f"{type(err).__name__}: {err}"
        finally:
            self._slots.release(device.type)
            if record.model is not None:
                record.model.eval()

    def _track_queue(self, device: str, ticket: int) -> None:
        while self.record.status == QUEUED and not self._stop.is_set():
            self.record.queue_position = self._slots.position(device, ticket)
            time.sleep(0.2)

    def _train(self, device: torch.device) -> None:
        record = self.record
        record.status = LOADING
        data = self._load_data(device, lambda fraction, message: setattr(record, "download", (fraction, message)))
        record.download = None
        record.test_images, record.test_labels = data.test_images, data.test_y.cpu()
        self._trainer = trainer = Trainer(record.config, data)
        record.model = trainer.model
        if self._stop.is_set():
            trainer.stop()
        record.status = TRAINING
        for event in trainer:
            if isinstance(event, StepEvent):
                record.steps.append(event)
            elif isinstance(event, EpochEvent):
                record.epochs.append(event)
            elif isinstance(event, DoneEvent):
                record.model.eval()
                record.done = event
                record.status = STOPPED if event.stopped else FINISHED


class RunHistory:
    """One browser session's runs, oldest first, with its one active run at most."""

    def __init__(self, max_kept: int = 20):
        self.max_kept = max_kept
        self.records: list[RunRecord] = []
        self._runs: dict[int, BackgroundRun] = {}

    def start(self, config: RunConfig, load_data: DataLoaderFn, slots: RunSlots = SLOTS) -> RunRecord:
        if self.active is not None:
            raise RuntimeError("a run is already training in this session; stop it first")
        record = RunRecord(config)
        record.name = f"Run {self._next_number()}"
        self.records.append(record)
        self._runs[record.id] = BackgroundRun(record, load_data, slots).start()
        self._trim()
        return record

    def _next_number(self) -> int:
        numbers = [int(r.name.split()[-1]) for r in self.records if r.name.split()[-1].isdigit()]
        return max(numbers, default=0) + 1

    @property
    def active(self) -> RunRecord | None:
        return next((r for r in self.records if r.active), None)

    def stop(self) -> None:
        for run in self._runs.values():
            run.stop()

    def wait(self, timeout: float | None = None) -> None:
        for run in list(self._runs.values()):
            run.join(timeout)

    def get(self, run_id: int) -> RunRecord | None:
        return next((r for r in self.records if r.id == run_id), None)

    def delete(self, run_id: int) -> None:
        record = self.get(run_id)
        if record is None:
            return
        if record.active:
            self._runs[run_id].stop()
        self.records.remove(record)
        self._runs.pop(run_id, None)

    def trained(self) -> list[RunRecord]:
        """Runs with a model that can be used: finished or stopped, newest first."""
        return [r for r in reversed(self.records) if r.status in (FINISHED, STOPPED) and r.model is not None]

    def _trim(self) -> None:
        ended = [r for r in self.records if not r.active]
        while len(self.records) > self.max_kept and ended:
            self.delete(ended.pop(0).id)
