"""Worker processes never outlive the server that started them."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARENT = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from playground.worker import TrainingWorker
worker = TrainingWorker("cpu")
print(worker.process.pid, flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    """Running: not gone, and not a zombie waiting for whoever adopted it to reap it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def test_a_worker_exits_when_its_server_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    worker_pid = int(parent.stdout.readline())
    time.sleep(2)
    assert alive(worker_pid)
    os.kill(parent.pid, signal.SIGKILL)  # no atexit, no clean shutdown
    parent.wait(5)
    deadline = time.time() + 15
    while alive(worker_pid) and time.time() < deadline:
        time.sleep(0.2)
    if alive(worker_pid):
        os.kill(worker_pid, signal.SIGKILL)
        raise AssertionError("the worker outlived its server")
