"""Training runs that outlive a page's script run: each is trained by a worker process and
followed by a daemon thread that files its events into a RunRecord, which the page reads (and
redraws from) as often as it likes.

Nothing here knows about Streamlit: the UI keeps a RunHistory per browser (see browsers.py) and
polls it. The process-wide run slots and worker pool (shared.py) are made on first use.
"""

from __future__ import annotations

import itertools
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from playground.core.config import RunConfig
from playground.core.data import load_test_images, normalize
from playground.core.engine import (
    DoneEvent,
    EpochEvent,
    Evaluation,
    Event,
    StepEvent,
    evaluate,
    resolve_device,
)
from playground.core.model import MLP, build_model
from playground.hosting import shared
from playground.hosting.admission import duration
from playground.hosting.messages import (
    Downloading,
    EpochWeights,
    Failed,
    Placed,
    Progress,
    RunStatus,
    Weights,
    WorkerLost,
)
from playground.hosting.redact import hide_paths
from playground.hosting.settings import settings
from playground.hosting.slots import RunSlots
from playground.hosting.worker import TrainingWorker, WorkerPool

if TYPE_CHECKING:
    from playground.hosting.ray_backend import RayPool, RayRun

_ids = itertools.count(1)


@dataclass
class RunRecord:
    """Everything the UI shows about one run. Written by the run's thread, read by the page."""

    config: RunConfig
    id: int = field(default_factory=lambda: next(_ids))
    name: str = ""
    status: RunStatus = RunStatus.QUEUED
    created: float = field(default_factory=time.time)
    queue_position: int = 0
    download: tuple[float, str] | None = None  # (fraction, message) while MNIST downloads
    steps: list[StepEvent] = field(default_factory=list)
    epochs: list[EpochEvent] = field(default_factory=list)
    done: DoneEvent | None = None
    model: MLP | None = None  # the trained (or partly trained) model, eval mode once ended
    device: str = ""
    error: str | None = None  # for the visitor: no server paths (redact.py)
    estimate_s: float | None = None  # the run's expected time on this server, from budget.py
    expected_wait_s: float | None = None  # while queued: the estimates of the runs ahead
    stop_reason: str | None = None  # why the server stopped it (the time cap), if it did
    test_images: torch.Tensor | None = None  # (10000, 28, 28) uint8, shared with the dataset
    test_labels: torch.Tensor | None = None  # (10000,) int64 on the CPU
    # While it trains: the model at the end of its latest finished epoch (epoch number, model).
    epoch_model: tuple[int, MLP] | None = None
    placed: Placed | None = None  # on the Ray backend: the node and process that train it

    @property
    def active(self) -> bool:
        return self.status.active

    @property
    def stopped_early(self) -> bool:
        return self.status == RunStatus.STOPPED

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
        return (
            (last.global_step - first.global_step) * self.config.batch_size / (last.elapsed - first.elapsed)
        )

    def progress(self) -> tuple[float, str]:
        """(fraction done, a one-line read-out): epoch, step, samples/s and time left, from the
        run's own events; while MNIST loads, the download's."""
        step = self.last_step
        if self.status == RunStatus.LOADING:
            fraction, message = self.download or (0.0, "Loading MNIST")
            return fraction, f"{self.name}: {message}…"
        if step is None:
            if self.status == RunStatus.QUEUED and self.queue_position:
                wait = f", about {duration(self.expected_wait_s)} to wait" if self.expected_wait_s else ""
                return 0.0, (
                    f"{self.name} is waiting for a free training slot: place {self.queue_position} "
                    f"in the queue{wait}. It starts by itself."
                )
            return 0.0, f"{self.name}: starting…"  # also queued with nobody ahead, for a moment
        left = step.elapsed / max(step.global_step, 1) * (step.total_steps - step.global_step)
        state = f"{left:.0f} s left" if self.active else "finished"
        if self.status == RunStatus.STOPPED:
            state = f"stopped: {self.stop_reason}" if self.stop_reason else "stopped"
            if "is kept" not in state:
                state += " (the model trained so far is kept)"
        elif self.status == RunStatus.FAILED:
            state = "failed"
        return min(step.global_step / step.total_steps, 1.0), (
            f"{self.name} · epoch {step.epoch}/{self.config.epochs} · "
            f"step {step.step}/{step.steps_per_epoch} · "
            f"{self.recent_samples_per_s():,.0f} samples/s · {state}"
        )

    @property
    def seconds_per_epoch(self) -> float | None:
        if not self.epochs:
            return None
        return sum(e.epoch_seconds for e in self.epochs) / len(self.epochs)


class BackgroundRun:
    """One run, followed by a daemon thread of this process: it waits for a slot, hands the run
    to a worker process (see worker.py) and files the worker's events into the record."""

    def __init__(
        self,
        record: RunRecord,
        data_root: Path,
        slots: RunSlots | None = None,
        pool: WorkerPool | RayPool | None = None,
        max_seconds: float | None = None,
    ):
        self.record = record
        self._root = Path(data_root)
        self._slots = slots or shared.run_slots()
        self._pool = pool or shared.workers()
        self._max_seconds = settings().max_run_seconds if max_seconds is None else max_seconds
        self._stop = threading.Event()
        self._worker: TrainingWorker | RayRun | None = None
        self._thread = threading.Thread(target=self._main, name=f"run-{record.id}", daemon=True)

    def start(self) -> BackgroundRun:
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
            record.status, record.error = RunStatus.FAILED, hide_paths(str(err))
            return
        record.device = device.type
        threading.Thread(target=self._track_queue, args=(device.type, record.id), daemon=True).start()
        if not self._slots.acquire(device.type, record.id, self._stop.is_set):
            record.status, record.queue_position = RunStatus.STOPPED, 0
            return
        record.queue_position = 0
        record.status = RunStatus.LOADING
        try:
            self._worker = self._pool.acquire(device.type)
            self._follow(self._worker)
        except WorkerLost as err:
            self._keep_last_epoch(str(err))
        except Exception as err:  # noqa: BLE001 - the page shows the reason; the app keeps going
            record.status, record.error = RunStatus.FAILED, hide_paths(f"{type(err).__name__}: {err}")
        finally:
            if self._worker is not None:
                self._pool.release(self._worker)
            self._slots.release(device.type, record.id)

    def _track_queue(self, device: str, ticket: int) -> None:
        while self.record.status == RunStatus.QUEUED and not self._stop.is_set():
            self.record.queue_position = self._slots.position(device, ticket)
            self.record.expected_wait_s = self._expected_wait(device, ticket)
            time.sleep(0.2)

    def _expected_wait(self, device: str, ticket: int) -> float | None:
        """What is left of the runs training now plus the estimates of those queued ahead,
        shared among the device's slots (None when some run's estimate is unknown)."""
        running, ahead = self._slots.ahead(device, ticket)
        records = [_records.get(t) for t in running + ahead]
        if any(r is None or r.estimate_s is None for r in records):
            return None
        left = [max(r.estimate_s - (r.last_step.elapsed if r.last_step else 0.0), 0.0) for r in records]
        return sum(left) / max(self._slots.limits.get(device, 1), 1)

    def _follow(self, worker: TrainingWorker | RayRun) -> None:
        record, done, started = self.record, None, None
        if self._stop.is_set():
            worker.stop.set()
        for message in worker.train(record.id, record.config.to_params(), str(self._root)):
            if (
                started is not None
                and time.monotonic() - started > self._max_seconds
                and not self._stop.is_set()
            ):
                record.stop_reason = f"this server stops runs after {duration(self._max_seconds)} of training"
                self.stop()
            if self._stop.is_set():
                worker.stop.set()  # the worker checks it at every step
            if isinstance(message, Downloading):
                record.download = (message.fraction, message.message)
            elif isinstance(message, Progress):
                started = started or time.monotonic()  # the cap counts training, not the queue or MNIST
                done = self._file(message.event) or done
            elif isinstance(message, EpochWeights):
                record.epoch_model = (message.epoch, self._model(message.state_dict))
            elif isinstance(message, Weights):
                record.model = self._model(message.state_dict)
                record.epoch_model = None
            elif isinstance(message, Failed):
                record.error = hide_paths(message.message)
            elif isinstance(message, Placed):
                record.placed = message
        if record.error or done is None or record.model is None:
            record.status = RunStatus.FAILED
            record.error = record.error or "the run ended without a model"
            return
        record.test_images, record.test_labels = load_test_images(self._root)
        record.done = done  # last: a finished record always has its model and images
        record.status = RunStatus.STOPPED if done.stopped else RunStatus.FINISHED

    def _keep_last_epoch(self, reason: str) -> None:
        """The process (or machine) that trained the run went away: keep the model of its last
        finished epoch that reached us, as a stopped run that the results and the draw page use
        like any other; without one, the run failed."""
        record = self.record
        if record.epoch_model is None or record.last_step is None:
            record.status = RunStatus.FAILED
            record.error = f"{reason[0].upper()}{reason[1:]} before an epoch ended. Press Train to try again."
            return
        epoch, model = record.epoch_model
        images, labels = load_test_images(self._root)
        evaluation = evaluate(model, normalize(images).reshape(len(images), -1), labels)
        epochs = record.epochs[:epoch]
        record.model, record.epoch_model = model, None
        record.test_images, record.test_labels = images, labels
        record.stop_reason = f"{reason}; the model of epoch {epoch}, the last to reach the server, is kept"
        record.done = DoneEvent(
            stopped=True,
            epochs_completed=epoch,
            steps_completed=epoch * record.last_step.steps_per_epoch,
            train_seconds=sum(e.epoch_seconds for e in epochs),
            elapsed=epochs[-1].elapsed if epochs else 0.0,
            evaluation=evaluation,
        )
        record.status = RunStatus.STOPPED

    def _model(self, state_dict: dict[str, torch.Tensor]) -> MLP:
        model = build_model(self.record.config)
        model.load_state_dict(state_dict)
        return model.eval()

    def _file(self, event: Event) -> DoneEvent | None:
        record = self.record
        record.status, record.download = RunStatus.TRAINING, None
        if isinstance(event, StepEvent):
            record.steps.append(event)
        elif isinstance(event, EpochEvent):
            self._observe(event)
            record.epochs.append(event)
        elif isinstance(event, DoneEvent):
            return event
        return None

    def _observe(self, event: EpochEvent) -> None:
        """Teach this server's cost model the epoch's measured time. The first epoch of a run
        with more is left out: it starts while the page redraws and runs slower than the rest."""
        record = self.record
        if (event.epoch == 1 and event.epochs > 1) or record.last_step is None:
            return
        previous = record.epochs[-1].elapsed if record.epochs else 0.0
        evaluation = event.elapsed - previous - event.epoch_seconds if record.epochs else None
        shared.cost_model(record.device).observe_epoch(
            record.config, event.epoch_seconds / record.last_step.steps_per_epoch, evaluation
        )


# Every run of this process by id, while its record lives: the queue's expected wait reads the
# estimates of the runs ahead, which belong to other browsers' histories.
_records: weakref.WeakValueDictionary[int, RunRecord] = weakref.WeakValueDictionary()


def _stop_all(runs: dict[int, BackgroundRun]) -> None:
    for run in runs.values():
        run.stop()


class RunHistory:
    """One browser session's runs, oldest first, with its one active run at most."""

    def __init__(self, max_kept: int | None = None):
        self.max_kept = settings().max_runs_kept if max_kept is None else max_kept
        self.records: list[RunRecord] = []
        self._runs: dict[int, BackgroundRun] = {}
        # When the session ends, Streamlit drops its state and this history with it: stop its
        # run then, so that nobody trains (or holds a slot) for a visitor who left.
        weakref.finalize(self, _stop_all, self._runs)

    def start(
        self,
        config: RunConfig,
        data_root: Path | str,
        slots: RunSlots | None = None,
        client: str | None = None,
    ) -> RunRecord:
        """Start a run, if this server admits it: RunRefused (admission.py) says why not.
        `client` is the visitor's network address (None: not known, no per-address limit)."""
        if self.active is not None:
            raise RuntimeError("a run is already training in this session; stop it first")
        record = RunRecord(config)
        device = shared.device_type(config.device)
        record.estimate_s = shared.admission().admit(record, device, client, Path(data_root))
        record.name = f"Run {self._next_number()}"
        _records[record.id] = record
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
        return [
            r
            for r in reversed(self.records)
            if r.status in (RunStatus.FINISHED, RunStatus.STOPPED) and r.model is not None
        ]

    def _trim(self) -> None:
        ended = [r for r in self.records if not r.active]
        while len(self.records) > self.max_kept and ended:
            self.delete(ended.pop(0).id)
