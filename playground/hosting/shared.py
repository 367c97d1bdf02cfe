"""The server's process-wide hosting objects, each made on first use (never at import): the run
slots, the pool of training workers, the registry of browsers, the cost model of each device and
the admission of runs, and the booth where the GPU page times a matrix product. Importing any of `playground`
starts no process and reads no hosting variable; the first page that trains does.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from playground.core.config import RunConfig
from playground.core.engine import resolve_device
from playground.hosting.admission import Admission
from playground.hosting.booth import TimingBooth
from playground.hosting.budget import CostModel, calibrate_in_child, train_size
from playground.hosting.settings import data_dir, settings
from playground.hosting.slots import RunSlots
from playground.hosting.worker import WorkerPool

if TYPE_CHECKING:
    from playground.hosting.browsers import BrowserRegistry


@functools.cache
def run_slots() -> RunSlots:
    """How many runs train at once per device, shared by every browser session of this server."""
    return RunSlots({"cpu": settings().max_runs_cpu, "cuda": settings().max_runs_gpu})


@functools.cache
def workers() -> WorkerPool:
    # Always an explicit thread count: a worker spawned by the Streamlit server otherwise starts
    # with one torch thread (measured: 1.8 instead of 1.1 s/epoch for the fast preset on 2 cores).
    return WorkerPool(threads=settings().worker_threads)


@functools.cache
def browsers() -> BrowserRegistry:
    from playground.hosting.browsers import BrowserRegistry  # it needs runs.py, which needs us

    return BrowserRegistry()


@functools.cache
def cost_model(device: str) -> CostModel:
    """Seconds per step on `device` ("cpu", "cuda"): a prior at once, this server's own timings
    a few seconds later (calibrated in a child process with a training worker's threads)."""
    model = CostModel(device)
    calibrate_in_child(model, settings().worker_threads if device == "cpu" else None)
    return model


def estimate_seconds(config: RunConfig, device: str | None = None, data_root: Path | None = None) -> float:
    """How long `config` would train on this server, on `device` (default: the one it asks for),
    on the MNIST in `data_root` (default: the operator's)."""
    device = device or device_type(config.device)
    return cost_model(device).estimate_seconds(config, train_size(data_root or data_dir()))


def device_type(name: str) -> str:
    """ "cpu" or "cuda": where a run asking for device `name` ("auto", …) trains here."""
    try:
        return resolve_device(name).type
    except RuntimeError:
        return "cpu"  # no such device here: the run fails with the reason when it starts


@functools.cache
def admission() -> Admission:
    return Admission(settings(), estimate_seconds)


@functools.cache
def timing_booth() -> TimingBooth:
    """The GPU page's timing: one visitor at a time for the whole server."""
    return TimingBooth()


def prewarm_worker(device: str, data_root: Path) -> None:
    """Have a worker process ready for `device` ("auto", "cpu", "cuda"), with the MNIST of
    `data_root` read, before the first run: a first press of Train then starts training at once
    instead of after seconds of imports."""
    try:
        workers().prewarm(resolve_device(device).type, str(data_root))
    except RuntimeError:
        pass  # no such device here: the run itself says so when it is started
