"""Which runs this server accepts, decided where runs are started (RunHistory.start), not in the
page: a URL or a script that skips the page's controls meets the same limits.

A run is refused when it asks for more epochs than the server allows, when its client address
already has `max_runs_per_client` runs queued or training, or when its estimated time (see
budget.py) is over `max_run_seconds`. The refusal says why and what to change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from playground.core.config import RunConfig
from playground.hosting.settings import HostSettings

if TYPE_CHECKING:
    from playground.hosting.runs import RunRecord

Estimate = Callable[[RunConfig], float]  # seconds the run would take on this server


class RunRefused(ValueError):
    """A run this server will not start; the message is for the visitor."""


def duration(seconds: float) -> str:
    """'40 s', '3 min', '2 h 10 min': how long, as a person says it."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min" if minutes % 60 else f"{minutes // 60} h"


def advice(config: RunConfig, estimate: Estimate, cap_s: float) -> str:
    """What to change so that a run fits the cap: the epochs that fit, else the rest."""
    fitting = [e for e in range(config.epochs - 1, 0, -1) if estimate(config.replace(epochs=e)) <= cap_s]
    hints = [f"fewer epochs ({fitting[0]} fit)"] if fitting else []
    hints.append("a larger batch size" if config.batch_size < 512 else "")
    hints.append("fewer or smaller hidden layers")
    return "Try " + ", ".join(h for h in hints if h) + "."


class Admission:
    """Checks each new run against the limits and keeps the runs it admitted, by client
    address, to count those still queued or training."""

    def __init__(self, limits: HostSettings, estimate: Callable[[RunConfig, str, Path | None], float]):
        self.limits = limits
        self._estimate = estimate  # (config, device type, MNIST folder) → seconds
        self._by_client: dict[str, list[RunRecord]] = {}
        self._lock = threading.Lock()

    def check(
        self, config: RunConfig, device: str, client: str | None, data_root: Path | None = None
    ) -> float:
        """The run's estimated seconds; RunRefused if it may not start."""
        limits = self.limits
        if config.epochs > limits.max_epochs:
            raise RunRefused(
                f"This server allows at most {limits.max_epochs} epochs per run; "
                f"this run asks for {config.epochs}."
            )
        if client is not None and self.active_runs(client) >= limits.max_runs_per_client:
            raise RunRefused(
                f"Your network address already has {limits.max_runs_per_client} runs queued or "
                "training on this server, its limit: wait for one to finish (or stop one), then try again."
            )
        seconds = self._estimate(config, device, data_root)
        if seconds > limits.max_run_seconds:
            where = "GPU" if device == "cuda" else "CPU"
            raise RunRefused(
                f"This run would take about {duration(seconds)} on this server's {where}; it allows "
                f"{duration(limits.max_run_seconds)} per run. "
                + advice(config, lambda c: self._estimate(c, device, data_root), limits.max_run_seconds)
            )
        return seconds

    def admit(
        self, record: RunRecord, device: str, client: str | None, data_root: Path | None = None
    ) -> float:
        """Check the run and count it for its client, in one step (two clicks at once from one
        address cannot both pass). Returns its estimate; raises RunRefused."""
        with self._lock:
            seconds = self.check(record.config, device, client, data_root)
            if client is not None:
                runs = self._by_client.setdefault(client, [])
                runs[:] = [r for r in runs if r.active]  # the ended ones no longer count
                runs.append(record)
            return seconds

    def active_runs(self, client: str) -> int:
        return sum(r.active for r in self._by_client.get(client, []))
