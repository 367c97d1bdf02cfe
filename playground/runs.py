"""Training runs that outlive a page's script run: each is trained by a worker process and
followed by a daemon thread that files its events into a RunRecord, which the page reads (and
redraws from) as often as it likes.

Nothing here knows about Streamlit: the UI keeps a RunHistory per browser (BrowserRegistry) and
polls it. A process-wide RunSlots limits how many runs train at once per device; the others queue.
"""

from __future__ import annotations

import itertools
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from playground.config import RunConfig
from playground.data import load_test_images
from playground.engine import DoneEvent, EpochEvent, Evaluation, Event, StepEvent, resolve_device
from playground.model import MLP, build_model
from playground.settings import SETTINGS
from playground.worker import TrainingWorker, WorkerPool

QUEUED, LOADING, TRAINING, FINISHED, STOPPED, FAILED = (
    "queued", "loading data", "training", "finished", "stopped", "failed",
)
ACTIVE = (QUEUED, LOADING, TRAINING)


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


# Process-wide: shared by every browser session of this server.
SLOTS = RunSlots({"cpu": SETTINGS.max_runs_cpu, "cuda": SETTINGS.max_runs_gpu})
# Always an explicit thread count: a worker spawned by the Streamlit server otherwise starts with
# one torch thread (measured: 1.8 instead of 1.1 s/epoch for the fast preset on 2 cores).
WORKERS = WorkerPool(threads=SETTINGS.worker_threads)
_ids = itertools.count(1)


def prewarm_worker(device: str, data_root: Path) -> None:
    """Have a worker process ready for `device` ("auto", "cpu", "cuda"), with the MNIST of
    `data_root` read, before the first run: a first press of Train then starts training at once
    instead of after seconds of imports."""
    try:
        WORKERS.prewarm(resolve_device(device).type, str(data_root))
    except RuntimeError:
        pass  # no such device here: the run itself says so when it is started


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

    def recent_samples_per_s(self, window_s: float = 2.0) -> float:
        """Training speed over the last `window_s` seconds of step events: steadier than one
        event's own figure, which may cover a single small step."""
        if not self.steps:
            return 0.0
        last = self.steps[-1]
        first = next((s for s in reversed(self.steps) if last.elapsed - s.elapsed >= window_s), self.steps[0])
        if first is last:
            return last.samples_per_s
        return (last.global_step - first.global_step) * self.config.batch_size / (last.elapsed - first.elapsed)

    def progress(self) -> tuple[float, str]:
        """(fraction done, a one-line read-out): epoch, step, samples/s and time left, from the
        run's own events; while MNIST loads, the download's."""
        step = self.last_step
        if self.status == LOADING:
            fraction, message = self.download or (0.0, "Loading MNIST")
            return fraction, f"{self.name}: {message}…"
        if step is None:
            if self.status == QUEUED and self.queue_position:
                return 0.0, (f"{self.name} is waiting for a free training slot: place {self.queue_position} "
                             "in the queue. It starts by itself.")
            return 0.0, f"{self.name}: starting…"  # also queued with nobody ahead, for a moment
        left = step.elapsed / max(step.global_step, 1) * (step.total_steps - step.global_step)
        state = f"{left:.0f} s left" if self.active else "finished"
        if self.status == STOPPED:
            state = "stopped (the model trained so far is kept)"
        elif self.status == FAILED:
            state = "failed"
        return min(step.global_step / step.total_steps, 1.0), (
            f"{self.name} · epoch {step.epoch}/{self.config.epochs} · step {step.step}/{step.steps_per_epoch} · "
            f"{self.recent_samples_per_s():,.0f} samples/s · {state}")

    @property
    def seconds_per_epoch(self) -> float | None:
        if not self.epochs:
            return None
        return sum(e.epoch_seconds for e in self.epochs) / len(self.epochs)


class BackgroundRun:
    """One run, followed by a daemon thread of this process: it waits for a slot, hands the run
    to a worker process (see worker.py) and files the worker's events into the record."""

    def __init__(self, record: RunRecord, data_root: Path, slots: RunSlots = SLOTS, pool: WorkerPool | None = None):
        self.record = record
        self._root = Path(data_root)
        self._slots = slots
        self._pool = pool or WORKERS
        self._stop = threading.Event()
        self._worker: TrainingWorker | None = None
        self._thread = threading.Thread(target=self._main, name=f"run-{record.id}", daemon=True)

    def start(self) -> "BackgroundRun":
        self._thread.start()
        return self

    def stop(self) -> None:
        """End the run at its next step; the partly trained model is kept."""
        self._stop.set()
        if self._worker is not None:
            self._worker.stop.set()

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
        threading.Thread(target=self._track_queue, args=(device.type, record.id), daemon=True).start()
        if not self._slots.acquire(device.type, record.id, self._stop.is_set):
            record.status, record.queue_position = STOPPED, 0
            return
        record.queue_position = 0
        record.status = LOADING
        try:
            self._worker = self._pool.acquire(device.type)
            self._follow(self._worker)
        except Exception as err:  # noqa: BLE001 - the page shows the reason; the app keeps going
            record.status, record.error = FAILED, f"{type(err).__name__}: {err}"
        finally:
            if self._worker is not None:
                self._pool.release(self._worker)
            self._slots.release(device.type)

    def _track_queue(self, device: str, ticket: int) -> None:
        while self.record.status == QUEUED and not self._stop.is_set():
            self.record.queue_position = self._slots.position(device, ticket)
            time.sleep(0.2)

    def _follow(self, worker: TrainingWorker) -> None:
        record, done = self.record, None
        if self._stop.is_set():
            worker.stop.set()
        for kind, _, *payload in worker.train(record.id, record.config.to_params(), str(self._root)):
            if self._stop.is_set():
                worker.stop.set()  # the worker checks it at every step
            if kind == "download":
                record.download = tuple(payload)
            elif kind == "event":
                done = self._file(payload[0]) or done
            elif kind == "model":
                model = build_model(record.config)
                model.load_state_dict(payload[0])
                record.model = model.eval()
            elif kind == "error":
                record.error = payload[0]
        if record.error or done is None or record.model is None:
            record.status = FAILED
            record.error = record.error or "the run ended without a model"
            return
        record.test_images, record.test_labels = load_test_images(self._root)
        record.done = done  # last: a finished record always has its model and images
        record.status = STOPPED if done.stopped else FINISHED

    def _file(self, event: Event) -> DoneEvent | None:
        record = self.record
        record.status, record.download = TRAINING, None
        if isinstance(event, StepEvent):
            record.steps.append(event)
        elif isinstance(event, EpochEvent):
            record.epochs.append(event)
        elif isinstance(event, DoneEvent):
            return event
        return None


def _stop_all(runs: dict[int, BackgroundRun]) -> None:
    for run in runs.values():
        run.stop()


class RunHistory:
    """One browser session's runs, oldest first, with its one active run at most."""

    def __init__(self, max_kept: int = SETTINGS.max_runs_kept):
        self.max_kept = max_kept
        self.records: list[RunRecord] = []
        self._runs: dict[int, BackgroundRun] = {}
        # When the session ends, Streamlit drops its state and this history with it: stop its
        # run then, so that nobody trains (or holds a slot) for a visitor who left.
        weakref.finalize(self, _stop_all, self._runs)

    def start(self, config: RunConfig, data_root: Path | str, slots: RunSlots = SLOTS) -> RunRecord:
        if self.active is not None:
            raise RuntimeError("a run is already training in this session; stop it first")
        record = RunRecord(config)
        record.name = f"Run {self._next_number()}"
        self.records.append(record)
        self._runs[record.id] = BackgroundRun(record, Path(data_root), slots).start()
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


class BrowserRegistry:
    """Each browser's RunHistory, by a random id the browser keeps in a cookie, so that a page
    reload (a new Streamlit session) finds its runs and the model of a run it left mid-training.
    A history not seen for `ttl` seconds is dropped, which stops its run and frees its models."""

    def __init__(self, ttl: float = SETTINGS.session_ttl_s):
        self.ttl = ttl
        self._histories: dict[str, RunHistory] = {}
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def history(self, browser_id: str) -> RunHistory:
        now = time.monotonic()
        with self._lock:
            for gone in [b for b, seen in self._seen.items() if now - seen > self.ttl and b != browser_id]:
                self._seen.pop(gone)
                self._histories.pop(gone).stop()
            self._seen[browser_id] = now
            return self._histories.setdefault(browser_id, RunHistory())

    def __len__(self) -> int:
        return len(self._histories)


BROWSERS = BrowserRegistry()
