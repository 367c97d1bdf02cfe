"""Each browser's runs, found again after a reload, and dropped when the browser is gone."""

from __future__ import annotations

import threading
import time

from playground.hosting.runs import RunHistory
from playground.hosting.settings import settings


class BrowserRegistry:
    """Each browser's RunHistory, by a random id the browser keeps in a cookie, so that a page
    reload (a new Streamlit session) finds its runs and the model of a run it left mid-training.
    A history not seen for `ttl` seconds is dropped, which stops its run and frees its models."""

    def __init__(self, ttl: float | None = None):
        self.ttl = settings().session_ttl_s if ttl is None else ttl
        self._histories: dict[str, RunHistory] = {}
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def history(self, browser_id: str) -> RunHistory:
        now = time.monotonic()
        with self._lock:
            for gone in [b for b, seen in self._seen.items() if now - seen > self.ttl and b != browser_id]:
                self._seen.pop(gone)
                self._histories.pop(gone).stop()
            self._seen[browser_id] = now
            return self._histories.setdefault(browser_id, RunHistory())

    def __len__(self) -> int:
        return len(self._histories)
