"""A booth for short visitor-triggered work, one visitor at a time for the whole server: the GPU
page's matrix-product timing, and the Draw page's lessons on a visitor's handwriting.

Timing on a shared server must not disturb its other visitors. So it runs one at a time (a
second visitor sees the first's progress instead of doubling the load), never changes torch's
thread count (that setting is the whole process's: it would change the server's other work
too), and runs in a thread of its own at the lowest CPU priority, so that training workers and
page scripts get the cores first whenever both want them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
Progress = Callable[[float, str], None]


class Busy(RuntimeError):
    """Another visitor's work is in the booth; `progress` is theirs."""

    def __init__(self, progress: tuple[float, str], activity: str = "timing"):
        super().__init__(f"another visitor is {activity} right now")
        self.progress = progress


class TimingBooth:
    """One visitor's work at a time. A caller may wait its turn (`wait_s`): waiters get in in the
    order they came, so a visitor who presses again and again cannot keep another out."""

    def __init__(self, activity: str = "timing") -> None:
        self.activity = activity  # what a visitor is doing in it, for the Busy message
        self._turns = threading.Condition()
        self._inside = False
        self._queue: list[object] = []  # the waiting callers' tickets, first come first
        self._progress: tuple[float, str] = (0.0, "")

    @property
    def busy(self) -> bool:
        return self._inside

    @property
    def progress(self) -> tuple[float, str]:
        """(fraction, message) of the timing in the booth now."""
        return self._progress

    def run(
        self,
        work: Callable[[Progress], T],
        on_progress: Progress | None = None,
        wait_s: float = 0.0,
        on_wait: Callable[[tuple[float, str]], None] | None = None,
    ) -> T:
        """Run `work(report)` in a low-priority thread, and wait for it; `on_progress` hears each
        report from this caller's thread. When the booth is taken: Busy at once, or, with wait_s,
        after waiting that long for this caller's turn, `on_wait` hearing the occupant's progress."""
        if not self._enter(wait_s, on_wait):
            raise Busy(self._progress, self.activity)
        worker = None
        try:
            self._progress = (0.0, "starting")
            result: list[T] = []
            errors: list[BaseException] = []

            def report(fraction: float, message: str) -> None:
                self._progress = (fraction, message)

            def main() -> None:
                lower_this_threads_priority()
                try:
                    result.append(work(report))
                except BaseException as err:  # noqa: BLE001 - raised again in the caller's thread
                    errors.append(err)

            worker = threading.Thread(target=main, name=f"playground-{self.activity}", daemon=True)
            worker.start()
            while worker.is_alive():
                worker.join(0.1)
                if on_progress:
                    on_progress(*self._progress)
            if errors:
                raise errors[0]
            return result[0]
        finally:
            if worker is not None:  # the caller's page stopped mid-way: the work still ends first,
                worker.join()  # so that two never run at once (it is bounded: seconds)
            self._progress = (1.0, "done")
            with self._turns:
                self._inside = False
                self._turns.notify_all()

    def _enter(self, wait_s: float, on_wait) -> bool:
        """Take the booth, now or (wait_s > 0) in this caller's turn; False when not in time."""
        with self._turns:
            if not self._inside and not self._queue:
                self._inside = True
                return True
            if wait_s <= 0:
                return False
            ticket = object()
            self._queue.append(ticket)
        deadline = time.monotonic() + wait_s
        try:
            while True:
                if on_wait:  # outside the lock: it draws on the caller's page
                    on_wait(self._progress)
                with self._turns:
                    if not self._inside and self._queue[0] is ticket:
                        self._queue.pop(0)
                        self._inside = True
                        return True
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._turns.wait(min(left, 0.25))
        finally:  # in time, too late, or the caller's script stopped: the line moves on
            with self._turns:
                if ticket in self._queue:
                    self._queue.remove(ticket)
                    self._turns.notify_all()

    def wait_until_free(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self.busy


def lower_this_threads_priority() -> None:
    """Nice 19 for the calling thread only (Linux schedules threads one by one; elsewhere this
    does nothing). Only for a thread that ends soon: an unprivileged process cannot raise it back."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass
