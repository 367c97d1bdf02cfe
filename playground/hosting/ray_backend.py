"""Training runs on a Ray cluster (PLAYGROUND_BACKEND=ray): when a class outgrows one server.

Each run is one Ray generator task that trains through the same `run_messages` as a local
worker process and yields the same typed messages, so `BackgroundRun`, the live chart, Stop, the
results and the draw page do not know which backend trained a run. The task asks Ray for the CPU
threads (or the share of a GPU) it needs, so runs go where there is capacity.

- Stop: a small actor (no CPU of its own) holds the stopped runs; a task asks it at most every
  0.1 s without waiting for the answer, so a step never waits on the network.
- Data: a task reads MNIST from the app server's folder when the node shares its disk, else
  from its node's PLAYGROUND_DATA_DIR, else from the raw files the server put once in Ray's
  object store, written once to the node's temporary folder. The Ray worker process keeps the
  tensors resident (`load_mnist` caches them) for every later run it trains: MNIST is read once
  per worker, never per run.
- Faults: the task is never retried (a retry would train the run again from the start behind the
  visitor's back); a worker or node that dies raises `WorkerLost`, and the run keeps the model
  of its last epoch (runs.py).

`ray` is imported on first use only: the local backend never needs it installed.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from playground.core import data
from playground.hosting.messages import Ended, Placed, Reply, TrainRequest, Waiting, WorkerLost
from playground.hosting.worker import run_messages

STOP_CHECK_EVERY_S = 0.1  # how often a task asks whether its run was stopped
LOCAL_OBJECT_STORE_BYTES = 512 * 2**20
CONNECT_TIMEOUT_S = 5.0  # a cluster address that does not answer in this time is unreachable
PLAYGROUND_DIR = Path(__file__).resolve().parent.parent  # shipped to the cluster's workers


class Unreachable(RuntimeError):
    """The Ray cluster cannot be reached (or Ray is not installed)."""


# --- in the Ray worker process ----------------------------------------------------------------


class _AskedStop:
    """The run's stop flag as its task sees it: the stop board's answer, asked without waiting."""

    def __init__(self, board: Any, key: str):
        self._board, self._key = board, key
        self._set, self._pending, self._asked = False, None, 0.0

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        import ray

        if self._set:
            return True
        if self._pending is None and time.monotonic() - self._asked >= STOP_CHECK_EVERY_S:
            self._pending, self._asked = self._board.is_stopped.remote(self._key), time.monotonic()
        if self._pending is not None and ray.wait([self._pending], timeout=0)[0]:
            self._set, self._pending = bool(ray.get(self._pending)), None
        return self._set


def _node_data_root(server_root: str, shipped: list[Any]) -> str:
    """Where this node's MNIST is: the server's own folder where the node shares its disk (the
    very files the server's galleries and evaluations read), else the node's PLAYGROUND_DATA_DIR,
    else the raw files from the object store, written once to this node's temp folder."""
    import ray

    own = os.environ.get("PLAYGROUND_DATA_DIR")
    for root in (server_root, own):
        if root and data.is_available(root):
            return root
    if not shipped:
        return own or server_root  # nothing to fall back on: the loader says what is missing
    files: dict[str, bytes] = ray.get(shipped[0])
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + files[name])
    root = Path(tempfile.gettempdir()) / f"playground-mnist-{digest.hexdigest()[:16]}"
    raw = data.raw_dir(root)
    if not data.is_available(root):
        raw.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            partial = raw / f"{name}.{os.getpid()}.partial"  # two workers of a node may write at once
            partial.write_bytes(content)
            partial.replace(raw / name)
    return str(root)


def _train_task(request: TrainRequest, device_name: str, threads: int, board: Any, shipped: list) -> Iterator:
    """The Ray task of one run: where it landed, then the run's messages (`Ended` last)."""
    import ray

    torch.set_num_threads(threads)
    yield Placed(request.run_id, ray.get_runtime_context().get_node_id(), os.getpid(), time.time())
    root = _node_data_root(request.root, shipped)
    stop = _AskedStop(board, str(request.run_id))
    yield from run_messages(replace(request, root=root), torch.device(device_name), stop)


class _StopBoard:
    """Run keys stopped by the app server; asked by the running tasks."""

    def __init__(self) -> None:
        self._stopped: set[str] = set()

    def stop(self, key: str) -> None:
        self._stopped.add(key)

    def is_stopped(self, key: str) -> bool:
        return key in self._stopped

    def forget(self, key: str) -> None:
        self._stopped.discard(key)


# --- in the app server ------------------------------------------------------------------------


class _RunStop:
    """A run's stop flag on the server. `set()` tells the stop board once, as soon as the run
    has its key (BackgroundRun may set it before the run is submitted, and again at every
    message)."""

    def __init__(self, board: Any):
        self._board, self._event, self._told = board, threading.Event(), False
        self.key: str | None = None

    def set(self) -> None:
        self._event.set()
        self.tell()

    def tell(self) -> None:
        if self._event.is_set() and self.key is not None and not self._told:
            self._told = True
            _tell_board(self._board.stop, self.key)

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        return self._event.is_set()


class RayRun:
    """One run on the cluster, with the interface of a local `TrainingWorker`."""

    def __init__(self, pool: RayPool, device: str):
        self._pool, self.device = pool, device
        self.placed: Placed | None = None  # the node and process that train it, once known
        self.stop = _RunStop(pool.board)

    @property
    def alive(self) -> bool:
        return True  # Ray restarts worker processes itself; a lost one raises WorkerLost in train()

    def train(self, run_id: int, params: dict[str, str], root: str, poll: float = 0.25) -> Iterator[Reply]:
        """Submit the run and yield its messages until `Ended` (a `Waiting` whenever nothing came
        for `poll` seconds, also while Ray waits for free capacity). Raises WorkerLost when the
        Ray worker or its node dies."""
        import ray

        pool = self._pool
        options = {"num_cpus": pool.cpus_per_run} if self.device == "cpu" else {"num_gpus": pool.gpu_share}
        threads = pool.cpus_per_run if self.device == "cpu" else 1
        request = TrainRequest(run_id, params, str(root))
        stream = pool.task.options(**options).remote(
            request, self.device, threads, pool.board, pool.shipped_data(root)
        )
        self.stop.key = str(run_id)  # run ids are unique in this server, which has its own board
        self.stop.tell()
        try:
            while True:
                if not ray.wait([stream], timeout=poll)[0]:
                    yield Waiting(run_id)
                    continue
                try:
                    message = ray.get(next(stream))
                except StopIteration:
                    return
                if isinstance(message, Placed):
                    self.placed = message
                yield message
                if isinstance(message, Ended):
                    return
        except ray.exceptions.RayError as err:
            raise WorkerLost(_lost_reason(err)) from None
        finally:
            _tell_board(pool.board.forget, str(run_id))

    def close(self, timeout: float = 5.0) -> None:
        pass


def _tell_board(method: Any, key: str) -> None:
    """Call a stop-board method without waiting, and only while the app is in the cluster: at
    exit, a session's runs are stopped after the cluster (or Ray) may be gone, and a call then
    would make Ray join whichever cluster it finds on this machine."""
    import ray

    if not ray.is_initialized():
        return
    try:
        method.remote(key)
    except Exception:  # noqa: BLE001 - the board is gone with the cluster: nothing left to stop
        pass


def _lost_reason(err: BaseException) -> str:
    """What the visitor reads when Ray lost the run: which part went away, no internals."""
    import ray

    if isinstance(err, ray.exceptions.NodeDiedError):
        return "the machine training this run went away"
    if isinstance(err, (ray.exceptions.WorkerCrashedError, ray.exceptions.ActorDiedError)):
        return "the process training this run ended unexpectedly"
    return "the training cluster lost this run"


class RayPool:
    """The `WorkerPool` of the Ray backend: every acquire is a new `RayRun`; Ray itself keeps
    the worker processes (and their resident MNIST) between runs."""

    def __init__(self, cpus_per_run: int, gpu_share: float):
        import ray

        self.cpus_per_run, self.gpu_share = cpus_per_run, gpu_share
        self.task = ray.remote(num_returns="streaming", max_retries=0)(_train_task)
        self.board = ray.remote(num_cpus=0)(_StopBoard).remote()
        self._shipped: dict[str, Any] = {}
        self._lock = threading.Lock()

    def shipped_data(self, root: str) -> list[Any]:
        """The raw MNIST files of the server's `root`, put in Ray's object store once, for nodes
        without their own (an empty list when the server has none either)."""
        import ray

        with self._lock:
            if root not in self._shipped:
                raw = data.raw_dir(root)
                files = {p.name: p.read_bytes() for p in sorted(raw.glob("*-ubyte*"))} if raw.is_dir() else {}
                self._shipped[root] = [ray.put(files)] if files and data.is_available(root) else []
            return self._shipped[root]

    def acquire(self, device: str) -> RayRun:
        return RayRun(self, device)

    def release(self, run: RayRun) -> None:
        pass

    def prewarm(self, device: str, data_root: str | None = None) -> bool:
        return False  # Ray's worker processes are started (and kept) by Ray

    def close(self) -> None:
        pass

    def describe(self) -> str:
        """The cluster in a few words for the Home page (no addresses)."""
        import ray

        nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        return f"{nodes} node{'s' * (nodes != 1)}, {int(resources.get('CPU', 0))} CPUs" + (
            f", {gpus} GPU{'s' * (gpus != 1)}" if gpus else ""
        )

    def capacity(self, device: str) -> int:
        """How many runs fit on the cluster at once now, for the run slots: its CPUs (or GPUs)
        over what one run asks for; at least one."""
        import ray

        resources = ray.cluster_resources()
        if device == "cpu":
            return max(1, int(resources.get("CPU", 0) // self.cpus_per_run))
        return max(1, int(resources.get("GPU", 0) / self.gpu_share)) if resources.get("GPU") else 1


def connect(address: str | None, cpus: int) -> None:
    """Join the cluster at `address` (host:port, "auto", or ray://…), or start a local Ray with
    `cpus` CPUs when there is none. Raises Unreachable instead of hanging on a dead address."""
    try:
        import ray
    except ImportError as err:
        raise Unreachable("Ray is not installed (pip install -r requirements-ray.txt)") from err
    if ray.is_initialized():
        return
    if address and ":" in address and not address.startswith("ray://"):
        host, port = address.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
        except (OSError, ValueError) as err:
            raise Unreachable(f"no Ray cluster answers at {address}") from err
    runtime_env = {"py_modules": [str(PLAYGROUND_DIR)]} if address else None  # remote nodes get our code
    options = dict(
        # "local": a Ray of our own, even where a `ray start` cluster runs on this machine
        # (ray.init() alone would join that one).
        address=address or "local",
        num_cpus=None if address else cpus,
        # A Ray of our own needs little shared memory (MNIST once, a run's weights now and then);
        # Ray's default takes 30% of the machine's memory.
        object_store_memory=None if address else LOCAL_OBJECT_STORE_BYTES,
        runtime_env=runtime_env,
        include_dashboard=False,
        logging_level="WARNING",
        log_to_driver=False,
    )
    started: dict[str, BaseException | None] = {}
    ready = threading.Event()
    # A local Ray's processes die with the *thread* that started them (Ray sets the Linux
    # parent-death signal, which follows the creating thread): a Streamlit script thread ends
    # after each page run and took the whole cluster, then the server, with it. So Ray is
    # started by a thread that lives as long as the process.
    threading.Thread(target=_start_and_hold, args=(options, started, ready), name="ray", daemon=True).start()
    ready.wait()
    if started["error"] is not None:
        raise Unreachable(f"Ray could not connect ({type(started['error']).__name__})") from started["error"]


_forever = threading.Event()  # never set: the thread that started Ray waits on it


def _start_and_hold(options: dict, started: dict, ready: threading.Event) -> None:
    import ray

    try:
        ray.init(**options)
        started["error"] = None
    except Exception as err:  # noqa: BLE001 - any failure to join means: train locally
        started["error"] = err
    finally:
        ready.set()
    if started["error"] is None:
        _forever.wait()
