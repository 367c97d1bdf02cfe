"""Hosting settings, from environment variables, so that a shared server can bound its work.

| variable | default | meaning |
|---|---|---|
| PLAYGROUND_MAX_RUNS_CPU | 1 | runs training at once on the CPU (the rest queue) |
| PLAYGROUND_MAX_RUNS_GPU | 1 | runs training at once on the GPU |
| PLAYGROUND_MAX_EPOCHS | 100 | most epochs (passes over the 60,000 training images) one run may ask for |
| PLAYGROUND_MAX_RUNS_KEPT | 20 | finished runs (and their models) kept per browser session |
| PLAYGROUND_SESSION_TTL | 600 | seconds after a browser's last visit before its runs are stopped and freed |
| PLAYGROUND_MAX_RUN_SECONDS | 600 | most seconds of training one run may take: longer estimates are refused |
| PLAYGROUND_MAX_RUNS_PER_CLIENT | 2 | queued-or-running runs per client address (one per browser as well) |
| PLAYGROUND_RAY_CPUS_PER_RUN | 1 | with the Ray backend: CPUs (torch threads) one run asks the cluster for |

Four more are read where they are used, not cached: PLAYGROUND_DATA_DIR (where MNIST is: the
operator's choice, never a visitor's, see `data_dir`), PLAYGROUND_LOCAL (`is_local`),
PLAYGROUND_BACKEND (`backend_name`: `local` worker processes or a `ray` cluster) and
PLAYGROUND_STATE_DIR (where the measured training speeds are kept: `speed_record.state_dir`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from playground.core import data
from playground.core.config import MAX_EPOCHS
from playground.core.system import usable_cores


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class HostSettings:
    max_runs_cpu: int = 1
    max_runs_gpu: int = 1
    max_epochs: int = MAX_EPOCHS
    max_runs_kept: int = 20
    session_ttl_s: int = 600
    max_run_seconds: int = 600
    max_runs_per_client: int = 2
    ray_cpus_per_run: int = 1

    @property
    def worker_threads(self) -> int:
        """torch threads per CPU worker: the cores shared among the runs that train at once, so
        that concurrent sessions don't oversubscribe the machine."""
        return max(1, usable_cores() // self.max_runs_cpu)


_LIMITS = {
    "PLAYGROUND_MAX_RUNS_CPU": ("max_runs_cpu", 1, 64),
    "PLAYGROUND_MAX_RUNS_GPU": ("max_runs_gpu", 1, 64),
    "PLAYGROUND_MAX_EPOCHS": ("max_epochs", 1, MAX_EPOCHS),
    "PLAYGROUND_MAX_RUNS_KEPT": ("max_runs_kept", 1, 1000),
    "PLAYGROUND_SESSION_TTL": ("session_ttl_s", 10, 7 * 24 * 3600),
    "PLAYGROUND_MAX_RUN_SECONDS": ("max_run_seconds", 1, 24 * 3600),
    "PLAYGROUND_MAX_RUNS_PER_CLIENT": ("max_runs_per_client", 1, 1000),
    "PLAYGROUND_RAY_CPUS_PER_RUN": ("ray_cpus_per_run", 1, 256),
}


def from_env(env: Mapping[str, str] | None = None) -> HostSettings:
    """Read the settings; a bad value raises SettingsError naming the variable and its range."""
    env = os.environ if env is None else env
    values = {}
    for variable, (field, low, high) in _LIMITS.items():
        if variable not in env:
            continue
        text = env[variable]
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise SettingsError(f"{variable}={text!r}: must be an integer from {low} to {high}")
        values[field] = value
    return HostSettings(**values)


@functools.cache
def settings() -> HostSettings:
    """This server's settings, read from the environment on first use (not at import: a tool
    that imports playground must not fail on a bad hosting variable it never uses)."""
    return from_env()


def data_dir() -> Path:
    """Where MNIST is: PLAYGROUND_DATA_DIR, else the default cache folder. Only the operator
    chooses it; nothing a visitor sends names, creates or probes a path on the server."""
    return data.default_data_dir()


def is_local() -> bool:
    """PLAYGROUND_LOCAL=1: the app runs for the person at this machine, who may see server paths
    (where MNIST is). Off by default, so that a shared link never shows them."""
    return os.environ.get("PLAYGROUND_LOCAL", "") == "1"


BACKENDS = ("local", "ray")


def backend_name() -> str:
    """PLAYGROUND_BACKEND: `local` (worker processes of this server, the default) or `ray` (a
    Ray cluster: RAY_ADDRESS, else a local Ray started by the server)."""
    name = os.environ.get("PLAYGROUND_BACKEND", "local").strip().lower() or "local"
    if name not in BACKENDS:
        raise SettingsError(f"PLAYGROUND_BACKEND={name!r}: must be one of {', '.join(BACKENDS)}")
    return name
