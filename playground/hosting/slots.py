"""Run slots: how many runs train at once per device, and the queue of those that wait."""

from __future__ import annotations

import threading
from collections.abc import Callable


class RunSlots:
    """At most `limit` runs train at once per device type; the rest wait in FIFO order."""

    def __init__(self, limits: dict[str, int] | None = None):
        self.limits = {"cpu": 1, "cuda": 1, **(limits or {})}
        self._cond = threading.Condition()
        self._running: dict[str, int] = {}
        self._queue: dict[str, list[int]] = {}
        self._holders: dict[str, list[int]] = {}  # tickets training now, for the expected wait

    def position(self, device: str, ticket: int) -> int:
        """1-based place in the queue, 0 when not waiting."""
        with self._cond:
            queue = self._queue.get(device, [])
            return queue.index(ticket) + 1 if ticket in queue else 0

    def training(self, device: str) -> int:
        """How many runs hold a slot on `device` now."""
        with self._cond:
            return self._running.get(device, 0)

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
            self._holders.setdefault(device, []).append(ticket)
            self._cond.notify_all()
            return True

    def ahead(self, device: str, ticket: int) -> tuple[list[int], list[int]]:
        """(tickets training now, tickets queued before `ticket`)."""
        with self._cond:
            queue = self._queue.get(device, [])
            before = queue[: queue.index(ticket)] if ticket in queue else []
            return list(self._holders.get(device, [])), before

    def release(self, device: str, ticket: int | None = None) -> None:
        with self._cond:
            self._running[device] -= 1
            if ticket in self._holders.get(device, []):
                self._holders[device].remove(ticket)
            self._cond.notify_all()
