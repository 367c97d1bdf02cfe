"""What crosses the process boundary between the server and a training worker, as types.

The server sends a worker `Preload`, `TrainRequest` or `Shutdown` on its request queue; the
worker answers each run on its event queue with `Downloading`…, `Progress`… (the engine's own
events), `Weights` or `Failed`, and always `Ended` last. Every message is a small frozen
dataclass that pickles as it is: no bare tuples whose meaning depends on their position.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from enum import StrEnum

import torch

from playground.core.engine import Event


class RunStatus(StrEnum):
    """Where a run is in its life. The value is what the page shows."""

    QUEUED = "queued"
    LOADING = "loading data"
    TRAINING = "training"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        return self in (RunStatus.QUEUED, RunStatus.LOADING, RunStatus.TRAINING)


# --- server → worker --------------------------------------------------------------------------


@dataclass(frozen=True)
class Preload:
    """Read MNIST from `root` now, while nobody waits for it (no answer)."""

    root: str


@dataclass(frozen=True)
class TrainRequest:
    run_id: int
    params: dict[str, str]  # RunConfig.to_params(): plain strings, validated again in the worker
    root: str


@dataclass(frozen=True)
class Shutdown:
    """Exit the worker's loop."""


Request = Preload | TrainRequest | Shutdown


# --- worker → server --------------------------------------------------------------------------


@dataclass(frozen=True)
class Downloading:
    run_id: int
    fraction: float  # 0..1
    message: str


@dataclass(frozen=True)
class Progress:
    run_id: int
    event: Event  # the engine's StepEvent, EpochEvent or DoneEvent


@dataclass(frozen=True)
class Weights:
    run_id: int
    state_dict: dict[str, torch.Tensor]  # on the CPU


@dataclass(frozen=True)
class EpochWeights:
    """The model as it was at the end of an epoch, while the run goes on: the draw page answers
    with it and the train page pictures its first layer. At most one a second (see worker.py)."""

    run_id: int
    epoch: int
    state_dict: dict[str, torch.Tensor]  # on the CPU


@dataclass(frozen=True)
class Placed:
    """Where a run trains, sent first by a Ray task: the cluster node and the worker process."""

    run_id: int
    node: str  # Ray's node id
    pid: int
    sent: float  # time.time() in the task: with the arrival time, the delay of Ray's stream


@dataclass(frozen=True)
class Failed:
    run_id: int
    message: str  # for the visitor: no traceback, no server paths


@dataclass(frozen=True)
class Ended:
    """The last message of every run, whatever happened."""

    run_id: int


@dataclass(frozen=True)
class Waiting:
    """Not sent by the worker: `TrainingWorker.train` yields it when nothing came for a while,
    so that its caller can look at its stop flag."""

    run_id: int


Reply = Downloading | Progress | EpochWeights | Weights | Failed | Ended | Waiting | Placed


def encode(reply: Reply) -> bytes:
    """A reply as bytes, pickled by the thread that calls this: the worker's training thread.

    Why not let the queue pickle it: `multiprocessing.Queue` pickles in its feeder thread, and for
    a tensor (the weights, the final evaluation) torch's reducers copy it into shared memory
    there. From the first such copy on, the worker's training slowed 2.3× (the *Tutorial* on
    2 cores: 6.3-7.0 s/epoch instead of 2.3-2.9 s, the same user CPU time, and 98,000 voluntary
    context switches per epoch instead of 200: its OpenMP threads slept and woke between
    parallel regions instead of spinning). Plain pickle copies tensors by value, in this thread."""
    return pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)


def decode(data: bytes) -> Reply:
    """The reply `encode` made (from our own worker process: nothing a visitor sends)."""
    return pickle.loads(data)


class WorkerLost(RuntimeError):
    """The process or the machine that trained a run went away in the middle of it (killed for
    memory, a cluster node that died). The message is for the visitor."""
