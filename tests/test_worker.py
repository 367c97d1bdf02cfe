"""Worker processes never outlive the server that started them."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.harness import wait_until

ROOT = Path(__file__).resolve().parent.parent
PARENT = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from playground.core.config import RunConfig
from playground.hosting.worker import TrainingWorker
worker = TrainingWorker("cpu")
config = RunConfig(hidden=(8,), dropout=(0.0,), batch_size=200, epochs=1, device="cpu")
replies = list(worker.train(1, config.to_params(), sys.argv[1]))  # the worker is up and serving
print(worker.process.pid, type(replies[-1]).__name__, flush=True)
time.sleep(600)  # until the test kills this process
"""


def alive(pid: int) -> bool:
    """Running: not gone, and not a zombie waiting for whoever adopted it to reap it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def test_a_worker_exits_when_its_server_is_killed(fake_mnist_dir):
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(fake_mnist_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    pid, last_reply = parent.stdout.readline().split()  # after a whole run: waiting for the next
    worker_pid = int(pid)
    assert last_reply == "Ended" and alive(worker_pid)
    os.kill(parent.pid, signal.SIGKILL)  # no atexit, no clean shutdown
    parent.wait(60)
    try:  # the worker notices within a second or so; the deadline only bounds a hang
        wait_until(lambda: not alive(worker_pid), timeout=120, what="the orphaned worker to exit")
    finally:
        if alive(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)


APP_AS_MAIN = f"""
import sys, types
sys.path.insert(0, {str(ROOT)!r})
# What `streamlit run` does: the app script runs as the module __main__, with its file.
app = types.ModuleType("__main__")
app.__file__ = sys.argv[1]
sys.modules["__main__"] = app
from playground.hosting.worker import TrainingWorker
worker = TrainingWorker("cpu")
worker.close(timeout=120)  # a clean exit, however long the imports take on a loaded machine
print("closed", worker.process.exitcode, flush=True)
"""


def test_a_worker_does_not_run_the_app_script_that_started_it(tmp_path):
    marker = tmp_path / "ran"
    script = tmp_path / "app.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('the worker ran the app')\n")
    done = subprocess.run(
        [sys.executable, "-c", APP_AS_MAIN, str(script)], capture_output=True, text=True, timeout=300
    )  # more than the child's own 120 s for the worker's close, and two torch imports
    assert "closed 0" in done.stdout, done.stderr[-2000:]
    assert not marker.exists(), "the spawned worker executed the parent's __main__ script"


def _voluntary_switches(pid: int) -> int:
    """Voluntary context switches of all the live threads of process `pid`."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except FileNotFoundError:  # a thread that just ended
            continue
        total += int(status.split("voluntary_ctxt_switches:")[1].split()[0])
    return total


def test_a_workers_replies_cross_as_bytes_and_its_training_keeps_its_speed(fake_mnist_dir, monkeypatch):
    # OpenMP's default waiting, as a server runs it (conftest.py shortens it for the suite):
    # the slowdown below is the worker falling back to the short spin on its own.
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    from playground.core.config import TUTORIAL
    from playground.core.engine import DoneEvent
    from playground.hosting.messages import Ended, Progress, TrainRequest, Weights, decode
    from playground.hosting.worker import TrainingWorker

    worker = TrainingWorker("cpu", threads=2)
    config = TUTORIAL.replace(epochs=1, device="cpu")  # 600 digits: 10 steps of batch 64
    try:
        raw = []
        worker.requests.put(TrainRequest(1, config.to_params(), str(fake_mnist_dir)))
        while not raw or not isinstance(decode(raw[-1]), Ended):
            raw.append(worker.events.get(timeout=300))
        # Pickled by the worker's training thread; the queue's own thread only moves bytes.
        assert all(isinstance(item, bytes) for item in raw)
        replies = [decode(item) for item in raw]
        weights = next(r for r in replies if isinstance(r, Weights)).state_dict
        assert weights["hidden.0.0.weight"].shape == (548, 784)
        done = [r.event for r in replies if isinstance(r, Progress) and isinstance(r.event, DoneEvent)]
        assert done[0].evaluation.confusion.sum() == 200

        # Tensors crossed above. When the queue's thread pickled them, every later OpenMP region of
        # the training woke its threads from sleep: 112 voluntary context switches per step of this
        # run, against 4-6 (its events and evaluations) when the training thread pickles.
        before = _voluntary_switches(worker.process.pid)
        replies = list(worker.train(2, config.replace(epochs=10).to_params(), str(fake_mnist_dir)))
        done = [r.event for r in replies if isinstance(r, Progress) and isinstance(r.event, DoneEvent)]
        per_step = (_voluntary_switches(worker.process.pid) - before) / done[0].steps_completed
        assert per_step < 25, f"{per_step:.0f} voluntary context switches per training step"
    finally:
        worker.close()
