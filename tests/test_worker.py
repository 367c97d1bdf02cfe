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
from playground.hosting.worker import TrainingWorker
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
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
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


APP_AS_MAIN = f"""
import sys, types
sys.path.insert(0, {str(ROOT)!r})
# What `streamlit run` does: the app script runs as the module __main__, with its file.
app = types.ModuleType("__main__")
app.__file__ = sys.argv[1]
sys.modules["__main__"] = app
from playground.hosting.worker import TrainingWorker
worker = TrainingWorker("cpu")
worker.close()
print("closed", worker.process.exitcode, flush=True)
"""


def test_a_worker_does_not_run_the_app_script_that_started_it(tmp_path):
    marker = tmp_path / "ran"
    script = tmp_path / "app.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('the worker ran the app')\n")
    done = subprocess.run(
        [sys.executable, "-c", APP_AS_MAIN, str(script)], capture_output=True, text=True, timeout=60
    )
    assert "closed 0" in done.stdout, done.stderr[-2000:]
    assert not marker.exists(), "the spawned worker executed the parent's __main__ script"
