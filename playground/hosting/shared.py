"""The server's process-wide hosting objects, each made on first use (never at import): the run
backend (local worker processes or a Ray cluster), the run slots, the registry of browsers, the
cost model of each device and the admission of runs, and the booth where the GPU page times a
matrix product. Importing any of `playground` starts no process and reads no hosting variable;
the first page that trains does.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from playground.core.config import RunConfig
from playground.core.engine import resolve_device
from playground.hosting import speed_record
from playground.hosting.admission import Admission
from playground.hosting.booth import TimingBooth
from playground.hosting.budget import CostModel, calibrate_in_child, train_size
from playground.hosting.settings import backend_name, data_dir, settings
from playground.hosting.slots import RunSlots
from playground.hosting.worker import WorkerPool

if TYPE_CHECKING:
    from playground.hosting.browsers import BrowserRegistry
    from playground.hosting.ray_backend import RayPool

T = TypeVar("T")
_making = threading.RLock()


def made_once(make: Callable[..., T]) -> Callable[..., T]:
    """functools.cache under a lock: the first pages of a busy server ask for these objects from
    several script threads at once, and two run queues (or ten calibrations) must never be made."""
    cached = functools.cache(make)

    @functools.wraps(make)
    def get(*args: object) -> T:
        with _making:
            return cached(*args)

    get.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    get.is_made = lambda: cached.cache_info().currsize > 0  # type: ignore[attr-defined]
    return get


@dataclass(frozen=True)
class Backend:
    """Who trains this server's runs: `local` worker processes or a `ray` cluster."""

    name: str
    pool: WorkerPool | RayPool
    notice: str | None = None  # for the Home page: where runs train, or why not where asked


@made_once
def backend() -> Backend:
    """The run backend the operator chose (PLAYGROUND_BACKEND); a Ray cluster that cannot be
    reached falls back to local training instead of failing the Train button."""
    # Always an explicit thread count: a worker spawned by the Streamlit server otherwise starts
    # with one torch thread (measured: 1.8 instead of 1.1 s/epoch for the fast preset on 2 cores).
    local = Backend("local", WorkerPool(threads=settings().worker_threads))
    if backend_name() != "ray":
        return local
    from playground.core.system import usable_cores
    from playground.hosting import ray_backend

    try:
        ray_backend.connect(os.environ.get("RAY_ADDRESS"), usable_cores())
        pool = ray_backend.RayPool(settings().ray_cpus_per_run, 1 / settings().max_runs_gpu)
    except ray_backend.Unreachable:
        return replace(
            local,
            notice="This server is set up to train on a Ray cluster, which cannot be reached now: "
            "runs train on this server instead.",
        )
    return Backend("ray", pool, f"Runs train on a Ray cluster: {pool.describe()}.")


def workers() -> WorkerPool | RayPool:
    return backend().pool


@made_once
def run_slots() -> RunSlots:
    """How many runs train at once per device, shared by every browser session of this server:
    the settings' on this server, the cluster's capacity on Ray (read when the backend starts)."""
    chosen = backend()
    if isinstance(chosen.pool, WorkerPool):
        return RunSlots({"cpu": settings().max_runs_cpu, "cuda": settings().max_runs_gpu})
    limits = {"cpu": chosen.pool.capacity("cpu"), "cuda": chosen.pool.capacity("cuda")}
    # Replicas that share a cluster each take the share their operator gives them.
    shares = {"cpu": ("PLAYGROUND_MAX_RUNS_CPU", settings().max_runs_cpu)}
    shares["cuda"] = ("PLAYGROUND_MAX_RUNS_GPU", settings().max_runs_gpu)
    for device, (variable, share) in shares.items():
        if variable in os.environ:
            limits[device] = min(limits[device], share)
    return RunSlots(limits)


@made_once
def browsers() -> BrowserRegistry:
    from playground.hosting.browsers import BrowserRegistry  # it needs runs.py, which needs us

    return BrowserRegistry()


@made_once
def cost_model(device: str) -> CostModel:
    """Seconds per step on `device` ("cpu", "cuda"): a prior and what earlier servers measured
    on this machine (its speed record) at once, this server's own timings a few seconds later
    (calibrated in a child process with a training worker's threads, while no run trains on the
    device). With Ray the runs train on the cluster's machines, which no record describes."""
    threads = settings().worker_threads if device == "cpu" else None
    record = None
    if backend_name() == "local":
        record = speed_record.for_device(device, threads, train_size(data_dir()))
    model = CostModel(device, record)
    calibrate_in_child(model, threads, lambda: _training(device))
    return model


def _training(device: str) -> bool:
    """True while a run trains on `device` here (no run has, before the run slots are made)."""
    return run_slots.is_made() and run_slots().training(device) > 0  # type: ignore[attr-defined]


def estimate_seconds(config: RunConfig, device: str | None = None, data_root: Path | None = None) -> float:
    """How long `config` would train on this server, on `device` (default: the one it asks for),
    on the MNIST in `data_root` (default: the operator's)."""
    device = device or device_type(config.device)
    return cost_model(device).estimate_seconds(config, train_size(data_root or data_dir()))


def estimate_range(config: RunConfig, device: str | None = None) -> tuple[float, float] | None:
    """How long `config` would train here at the faster and at the slower of the speeds its shape
    trained at (their quartiles), when this server's speed has varied; None otherwise."""
    device = device or device_type(config.device)
    return cost_model(device).estimate_range(config, train_size(data_dir()))


def device_type(name: str) -> str:
    """ "cpu" or "cuda": where a run asking for device `name` ("auto", …) trains here."""
    try:
        return resolve_device(name).type
    except RuntimeError:
        return "cpu"  # no such device here: the run fails with the reason when it starts


@made_once
def admission() -> Admission:
    return Admission(settings(), estimate_seconds)


@made_once
def timing_booth() -> TimingBooth:
    """The GPU page's timing: one visitor at a time for the whole server."""
    return TimingBooth()


@made_once
def teaching_booth() -> TimingBooth:
    """The Draw page's lessons on a visitor's handwriting: one at a time for the whole server."""
    return TimingBooth("teaching a model")


def prewarm_worker(device: str, data_root: Path) -> None:
    """Have a worker process ready for `device` ("auto", "cpu", "cuda"), with the MNIST of
    `data_root` read, before the first run: a first press of Train then starts training at once
    instead of after seconds of imports."""
    try:
        workers().prewarm(resolve_device(device).type, str(data_root))
    except RuntimeError:
        pass  # no such device here: the run itself says so when it is started
