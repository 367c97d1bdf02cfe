"""What the tests and the measurement scripts share: waiting for an event with a deadline, and
the app under `streamlit run` on a free loopback port with Debian's Chromium to open it.
No pytest here, so that `scripts/` can use it outside a test run."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float = 120.0, what: str = "the condition") -> T:
    """Poll `condition` until it returns something truthy and return that. The deadline is
    generous on purpose: it only bounds a hang, it never measures speed (the suite runs on
    a loaded 2-core machine)."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)
    return result


_CLAIMED_PORTS: list = []  # lock files held while this process lives (closed, they unlock)
_PORT_CLAIMS = Path(tempfile.gettempdir()) / "playground-test-ports"


def _free_port() -> int:
    """A loopback port free now and claimed by no other process of the suite. The suite runs in
    two processes, each starting servers: the port the kernel hands one of them is free again
    until its server binds it, seconds later, and the other could be handed it meanwhile."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if claim_port(port):
            return port


def claim_port(port: int) -> bool:
    """Claim `port` for this process with a lock on a file named after it, held as long as the
    process lives; False when another living process holds it."""
    _PORT_CLAIMS.mkdir(exist_ok=True)
    claim = open(_PORT_CLAIMS / f"{port}.lock", "w")  # noqa: SIM115 (held until the process ends)
    try:
        fcntl.flock(claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        claim.close()
        return False
    _CLAIMED_PORTS.append(claim)
    return True


def start_app(
    data_dir: Path, extra_env: dict[str, str] | None = None, prefix: list[str] | None = None
) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run app.py` on a free loopback port; wait for /_stcore/health. `prefix`
    goes before the command (`taskset -c 0`, say)."""
    port = _free_port()
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(data_dir), **(extra_env or {})}
    command = [
        *(prefix or []),
        *(sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"),
        *("--server.port", str(port), "--server.address", "127.0.0.1"),
        *("--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"),
    ]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    raise RuntimeError(f"streamlit did not come up on {url}:\n{output[-3000:]}")


class OutputWatch(threading.Thread):
    """Drains the server's stdout (an unread pipe would block the server once full) and keeps
    every Python traceback it prints."""

    def __init__(self, proc: subprocess.Popen):
        super().__init__(name="server-output", daemon=True)
        self.proc = proc
        self.lines: list[str] = []

    def run(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip())

    def traceback_texts(self) -> list[str]:
        """Each traceback with the lines that follow it (up to the next blank line)."""
        texts, current = [], None
        for line in self.lines:
            if line.startswith("Traceback"):
                current = [line]
                texts.append(current)
            elif current is not None:
                if not line.strip():
                    current = None
                else:
                    current.append(line)
        return ["\n".join(t[-4:]) for t in texts]


@contextmanager
def served_app(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """The app under `streamlit run` for a `with` block, its output drained meanwhile. A block
    that ends well fails if the server printed a traceback: an error on the server that no page
    showed (a download's file gone before the click's request came, say)."""
    proc, url = start_app(data_dir, extra_env)
    output = OutputWatch(proc)
    output.start()
    try:
        yield url
    finally:
        stop_app(proc)
        output.join(10)
    tracebacks = output.traceback_texts()
    assert not tracebacks, "the app's server printed tracebacks:\n\n" + "\n\n".join(tracebacks)


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_for_app(page, timeout: float = 120_000) -> None:
    """Wait until the script run has finished: Streamlit marks the app 'notRunning'."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)


def assert_no_exception(page) -> None:
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()
