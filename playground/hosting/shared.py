"""The server's process-wide hosting objects, each made on first use (never at import): the run
slots, the pool of training workers and the registry of browsers. Importing any of `playground`
starts no process and reads no hosting variable; the first page that trains does.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from playground.core.engine import resolve_device
from playground.hosting.settings import settings
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


def prewarm_worker(device: str, data_root: Path) -> None:
    """Have a worker process ready for `device` ("auto", "cpu", "cuda"), with the MNIST of
    `data_root` read, before the first run: a first press of Train then starts training at once
    instead of after seconds of imports."""
    try:
        workers().prewarm(resolve_device(device).type, str(data_root))
    except RuntimeError:
        pass  # no such device here: the run itself says so when it is started
