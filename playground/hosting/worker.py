"""Training worker processes: each trains one run at a time in its own main thread.

Why a process and not a thread of the web server: torch's CPU kernels use OpenMP, and an
OpenMP parallel region started from a non-main thread costs about 90 µs instead of 15 µs here
(libgomp), which made the tutorial recipe train 2.2× slower inside the app than headless. A
worker process also keeps the training's threads off the server's cores budget, loads MNIST once
and keeps it resident for every run it trains, and survives nothing it should not: it is a
daemon of the server process.

Protocol: the typed messages of `messages.py` on two queues (requests to the worker, replies
from it). Setting `stop` ends the current run at its next step.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from playground.hosting.messages import (
    Downloading,
    Ended,
    EpochWeights,
    Failed,
    Preload,
    Progress,
    Reply,
    Request,
    Shutdown,
    TrainRequest,
    Waiting,
    Weights,
    WorkerLost,
    decode,
    encode,
)

# A running run's weights go to the page at the end of an epoch, but not more often than this:
# on a GPU an epoch of a small batch-1024 run takes 20 ms, and each snapshot is a copy to the CPU.
EPOCH_WEIGHTS_EVERY_S = 1.0

OOM_MESSAGE = "The GPU ran out of memory. Try a smaller batch size or fewer units, or train on the CPU."


def describe_failure(err: BaseException) -> str:
    """What the page says when a run fails: our own errors speak for themselves, GPU memory
    gets advice, anything else its type and message."""
    if isinstance(err, torch.cuda.OutOfMemoryError):
        return OOM_MESSAGE
    if type(err).__module__.startswith("playground"):
        return str(err)
    return f"{type(err).__name__}: {err}"


def _worker_main(device_name: str, requests: Any, events: Any, stop: Any, threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)
    device = torch.device(device_name)
    parent = mp.parent_process()
    while isinstance(request := _next_request(requests, parent), (Preload, TrainRequest)):
        if isinstance(request, Preload):
            _preload(request.root, device)
            continue
        for message in run_messages(request, device, stop, abandoned=lambda: not parent.is_alive()):
            events.put(encode(message))  # pickled here, not in the queue's thread


def run_messages(
    request: TrainRequest, device: torch.device, stop: Any, abandoned: Callable[[], bool] = lambda: False
) -> Iterator[Reply]:
    """Train one run and say how it goes, as typed messages: `Downloading`…, `Progress`…,
    `EpochWeights`… now and then, `Weights` or `Failed`, and always `Ended` last. `stop` is any
    object with set()/is_set(); `abandoned()` true means nobody will read on (the run stops).
    The local worker processes and the Ray tasks (ray_backend.py) both train through this."""
    from playground.core.config import RunConfig
    from playground.core.engine import EpochEvent, Trainer

    run_id = request.run_id
    try:
        data = yield from _load_reporting(request, device)
        config = RunConfig.from_params(request.params)
        trainer = Trainer(config, data, stop_event=stop)
        last_snapshot = time.monotonic()
        for event in trainer:
            yield Progress(run_id, event)
            if (
                isinstance(event, EpochEvent)
                and event.epoch < config.epochs  # the last epoch's weights come as Weights
                and time.monotonic() - last_snapshot >= EPOCH_WEIGHTS_EVERY_S
            ):
                yield EpochWeights(run_id, event.epoch, _cpu_state(trainer.model))
                last_snapshot = time.monotonic()
            if abandoned():
                trainer.stop()
        yield Weights(run_id, _cpu_state(trainer.model))
    except Exception as err:  # noqa: BLE001 - reported to the page; the worker keeps serving
        yield Failed(run_id, describe_failure(err))
    finally:
        if device.type == "cuda":
            torch.cuda.empty_cache()  # give the memory of this run's graph back
    yield Ended(run_id)


def _load_reporting(request: TrainRequest, device: torch.device) -> Iterator[Downloading]:
    """MNIST for the run, resident on `device`; while a first download runs (in a thread), its
    progress as `Downloading` messages. Returns the tensors (or raises what the loader raised)."""
    from playground.core.data import load_mnist

    said: queue.SimpleQueue[Downloading | None] = queue.SimpleQueue()
    loaded: dict[str, Any] = {}

    def load() -> None:
        try:
            loaded["data"] = load_mnist(
                request.root, device, progress=lambda f, m: said.put(Downloading(request.run_id, f, m))
            )
        except BaseException as err:  # noqa: BLE001 - raised again in the generator
            loaded["error"] = err
        finally:
            said.put(None)

    threading.Thread(target=load, name=f"load-{request.run_id}", daemon=True).start()
    while (message := said.get()) is not None:
        yield message
    if "error" in loaded:
        raise loaded["error"]
    return loaded["data"]


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _preload(root: str, device: torch.device) -> None:
    from playground.core.data import load_mnist

    try:
        load_mnist(root, device, download=False)
    except Exception:  # noqa: BLE001 - not there (yet): the run itself downloads it or says why not
        pass


def _next_request(requests: Any, parent: Any) -> Request:
    """The next request; Shutdown when told to, or when the server process has died without
    telling us (killed, say), so that no orphan keeps MNIST in memory."""
    while parent.is_alive():
        try:
            return requests.get(timeout=1.0)
        except queue.Empty:
            continue
    return Shutdown()


_main_swap = threading.Lock()


@contextmanager
def bare_main_module() -> Iterator[None]:
    """A spawned child first runs the parent's `__main__` file. Under `streamlit run`, `__main__`
    is the app script itself (Streamlit installs each script run as `__main__`), so every worker
    ran app.py in bare mode: seconds of imports and a flood of "missing ScriptRunContext"
    warnings. An empty `__main__` for the moment of the start gives the child nothing to run."""
    with _main_swap:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


class TrainingWorker:
    """One worker process for one device."""

    def __init__(self, device: str, threads: int | None = None):
        context = mp.get_context("spawn")  # fork is unsafe with CUDA and with a threaded server
        self.device = device
        self.requests, self.events, self.stop = context.Queue(), context.Queue(), context.Event()
        self.process = context.Process(
            target=_worker_main,
            name=f"playground-worker-{device}",
            args=(device, self.requests, self.events, self.stop, threads),
            daemon=True,
        )
        with bare_main_module():
            self.process.start()

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def preload(self, root: str) -> None:
        """Have the worker read MNIST from `root` now, while nobody waits for it."""
        self.requests.put(Preload(str(root)))

    def train(self, run_id: int, params: dict[str, str], root: str, poll: float = 0.25) -> Iterator[Reply]:
        """Send a run and yield the worker's replies until its `Ended` (a `Waiting` whenever
        nothing came for `poll` seconds). Raises RuntimeError if the process dies meanwhile
        (killed for memory, say)."""
        self.stop.clear()
        self.requests.put(TrainRequest(run_id, params, str(root)))
        while True:
            try:
                message = decode(self.events.get(timeout=poll))
            except queue.Empty:
                if not self.alive:
                    raise WorkerLost("the training process ended unexpectedly (out of memory?)") from None
                yield Waiting(run_id)  # lets the caller look at its stop flag
                continue
            yield message
            if isinstance(message, Ended):
                return

    def close(self, timeout: float = 5.0) -> None:
        """Ask the worker to exit (it may still be importing torch); kill it after `timeout`."""
        if self.alive:
            self.requests.put(Shutdown())
            self.process.join(timeout)
        if self.alive:
            self.process.kill()
            self.process.join(5)


class WorkerPool:
    """Idle workers by device, reused across runs (and so across browser sessions): each keeps
    its MNIST resident. Run slots bound how many are busy at once."""

    def __init__(self, threads: int | None = None):
        self.threads = threads
        self._idle: dict[str, list[TrainingWorker]] = {}
        self._busy: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, device: str) -> TrainingWorker:
        with self._lock:
            self._busy[device] = self._busy.get(device, 0) + 1
            idle = self._idle.setdefault(device, [])
            while idle:
                worker = idle.pop()
                if worker.alive:
                    return worker
        try:
            return TrainingWorker(device, self.threads)
        except BaseException:
            with self._lock:
                self._busy[device] -= 1
            raise

    def release(self, worker: TrainingWorker) -> None:
        with self._lock:
            self._busy[worker.device] -= 1
            if worker.alive:
                self._idle.setdefault(worker.device, []).append(worker)

    def prewarm(self, device: str, data_root: str | None = None) -> bool:
        """Start a worker for `device` ahead of its first run, unless one is idle or busy there
        already: a new process takes seconds to import torch (and then to read MNIST from
        `data_root`), which the first press of Train would otherwise wait for. Returns at once
        (the process starts in the background); True when it started one."""
        with self._lock:
            idle = self._idle.setdefault(device, [])
            idle[:] = [w for w in idle if w.alive]
            if idle or self._busy.get(device, 0):
                return False
            worker = TrainingWorker(device, self.threads)
            if data_root is not None:
                worker.preload(data_root)
            idle.append(worker)
            return True

    def close(self) -> None:
        with self._lock:
            workers = [w for ws in self._idle.values() for w in ws]
            self._idle.clear()
        for worker in workers:
            worker.close()
