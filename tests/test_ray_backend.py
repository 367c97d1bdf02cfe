"""The Ray backend (PLAYGROUND_BACKEND=ray) on a local Ray started by the test: a run trains
through a Ray task from the train page, Stop keeps its model, a killed Ray worker keeps the model
of the last epoch, an unreachable cluster falls back to local training and the Home page says so.
"""

import os
import signal
import tempfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from playground.core.config import RunConfig
from playground.hosting import settings, shared
from playground.hosting.messages import RunStatus
from playground.hosting.runs import BackgroundRun, RunRecord
from playground.hosting.slots import RunSlots
from tests.harness import wait_until

ray = pytest.importorskip("ray", reason="ray is installed by `bash run.sh test` (requirements-dev.txt)")

# About 0.5 s an epoch on the small MNIST: several epochs pass before a test stops or kills it.
LONG = RunConfig(hidden=(1024, 1024), dropout=(0.1, 0.1), batch_size=8, epochs=100, device="cpu")


@pytest.fixture(scope="module", autouse=True)
def shut_ray_down_after_the_module():
    yield
    ray.shutdown()


@pytest.fixture
def local_ray():
    """A local Ray, kept across the module's tests (it takes seconds to start): 2 CPUs, as on
    this machine."""
    from playground.hosting import ray_backend

    ray_backend.connect(None, cpus=2)  # joins the running one when there is one
    return ray


def reset_backend():
    settings.settings.cache_clear()
    for made in (shared.backend, shared.run_slots, shared.admission):
        made.cache_clear()


@pytest.fixture
def ray_server(local_ray, monkeypatch, fake_mnist_dir):
    """This process as an app server that trains on the local Ray."""
    monkeypatch.setenv("PLAYGROUND_BACKEND", "ray")
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(fake_mnist_dir))
    monkeypatch.setenv("PLAYGROUND_MAX_RUN_SECONDS", "86400")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    reset_backend()
    yield shared.backend()
    monkeypatch.undo()
    reset_backend()


def test_a_ray_backend_reports_the_cluster_and_sizes_the_slots_by_it(ray_server):
    assert ray_server.name == "ray" and ray_server.notice == "Runs train on a Ray cluster: 1 node, 2 CPUs."
    assert shared.run_slots().limits["cpu"] == 2  # 2 CPUs, 1 per run (PLAYGROUND_RAY_CPUS_PER_RUN)


def test_a_run_trains_on_ray_from_the_train_page_and_stop_keeps_its_model(ray_server):
    at = AppTest.from_file("../app.py", default_timeout=60)
    for key, value in LONG.to_params().items():
        at.query_params[key] = value
    at.switch_page("pages/train.py").run()
    next(b for b in at.button if b.label == "▶ Train").click().run()
    history = at.session_state["run_history"]
    record = history.active
    # A first task starts a Ray worker process, which imports torch: on a loaded machine, minutes.
    wait_until(lambda: len(record.steps) >= 3, timeout=600, what="steps streamed from the Ray task")
    assert record.placed is not None and record.placed.pid != os.getpid()  # a Ray worker trains it
    assert record.placed.node == ray.get_runtime_context().get_node_id()
    next(b for b in at.button if b.label == "■ Stop").click().run()
    history.wait(120)
    assert record.status == RunStatus.STOPPED and record.model is not None
    assert 3 <= record.done.steps_completed < 100 * 75  # stopped early, not trained to the end
    at.run()
    assert not at.exception and history.trained() == [record]


def test_a_short_ray_run_finishes_like_a_local_one(ray_server, fake_mnist_dir):
    config = RunConfig(hidden=(32,), dropout=(0.1,), batch_size=32, epochs=2, device="cpu")
    ray_record, local_record = RunRecord(config), RunRecord(config)
    BackgroundRun(ray_record, fake_mnist_dir, RunSlots()).start().join(120)
    from playground.hosting.worker import WorkerPool

    pool = WorkerPool(threads=1)
    BackgroundRun(local_record, fake_mnist_dir, RunSlots(), pool).start().join(120)
    pool.close()
    assert ray_record.status == local_record.status == RunStatus.FINISHED, ray_record.error
    # The same seed on the same data: both backends train the same model, step for step.
    assert [s.loss for s in ray_record.steps] == pytest.approx([s.loss for s in local_record.steps], rel=1e-4)
    assert ray_record.final_accuracy == pytest.approx(local_record.final_accuracy)


def test_a_killed_ray_worker_keeps_the_model_of_the_last_epoch(ray_server, fake_mnist_dir):
    record = RunRecord(LONG)
    run = BackgroundRun(record, fake_mnist_dir, RunSlots()).start()
    wait_until(lambda: record.epoch_model is not None, timeout=600, what="an epoch's model from the Ray task")
    os.kill(record.placed.pid, signal.SIGKILL)  # as the kernel's OOM killer, or a node going away
    run.join(120)
    assert record.status == RunStatus.STOPPED and record.model is not None
    epoch = record.done.epochs_completed
    assert epoch >= 1 and f"the model of epoch {epoch}" in record.stop_reason
    assert "ended unexpectedly" in record.stop_reason
    assert record.done.evaluation.accuracy == pytest.approx(record.epochs[epoch - 1].test_accuracy, abs=1e-6)
    assert record.progress()[1].endswith("is kept")


def test_an_unreachable_cluster_trains_locally_and_the_home_page_says_so(monkeypatch, fake_mnist_dir):
    ray.shutdown()  # this process as a fresh server, not yet in any cluster
    with socket_that_refuses() as address:
        monkeypatch.setenv("PLAYGROUND_BACKEND", "ray")
        monkeypatch.setenv("RAY_ADDRESS", address)
        monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(fake_mnist_dir))
        reset_backend()
        try:
            assert shared.backend().name == "local"
            at = AppTest.from_file("../app.py", default_timeout=60).run()
            said = " ".join(e.value for e in [*at.warning, *at.info])
            assert "Ray cluster, which cannot be reached now" in said and address not in said
            assert not at.exception
        finally:
            monkeypatch.undo()
            reset_backend()


def test_a_bad_backend_name_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_BACKEND", "slurm")
    with pytest.raises(settings.SettingsError, match="must be one of local, ray"):
        settings.backend_name()


class socket_that_refuses:
    """A local address where nothing listens (a port bound, then closed)."""

    def __enter__(self) -> str:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return f"127.0.0.1:{sock.getsockname()[1]}"

    def __exit__(self, *exc) -> None:
        pass


def test_a_node_without_mnist_reads_the_files_the_server_shipped_once(
    local_ray, fake_mnist_dir, tmp_path, monkeypatch
):
    from playground.core import data
    from playground.hosting.ray_backend import RayPool, _node_data_root

    pool = RayPool(cpus_per_run=1, gpu_share=1.0)
    shipped = pool.shipped_data(str(fake_mnist_dir))
    assert len(shipped) == 1 and pool.shipped_data(str(fake_mnist_dir)) is shipped  # put once
    assert pool.shipped_data(str(tmp_path / "no-mnist")) == []  # nothing to ship
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "not-on-this-node"))
    root = _node_data_root(str(tmp_path / "nor-the-servers-folder"), shipped)
    assert data.is_available(root) and Path(root).parent == Path(tempfile.gettempdir())
    for name in data.missing_files(tmp_path):  # every raw file, byte for byte the server's
        assert (data.raw_dir(root) / name).read_bytes() == (data.raw_dir(fake_mnist_dir) / name).read_bytes()
    assert _node_data_root(str(tmp_path / "elsewhere"), shipped) == root  # written once per node


@pytest.mark.parametrize(("env", "slots"), [({}, 2), ({"PLAYGROUND_MAX_RUNS_CPU": "1"}, 1)])
def test_a_replica_takes_the_share_of_the_cluster_it_is_given(ray_server, monkeypatch, env, slots):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings.settings.cache_clear()
    shared.run_slots.cache_clear()
    assert shared.run_slots().limits["cpu"] == slots  # the cluster has 2 CPUs


STARTED_BY_A_THREAD_THAT_ENDS = """
import threading
import ray
from playground.hosting import ray_backend
from playground.hosting.messages import Ended, Progress
from playground.hosting.worker import run_messages

starter = threading.Thread(target=ray_backend.connect, args=(None, 1))
starter.start()
starter.join()  # like a Streamlit script thread after its page run
pool = ray_backend.RayPool(cpus_per_run=1, gpu_share=1.0)
run = pool.acquire("cpu")
messages = list(run.train(1, {"hidden": "8", "dropout": "0", "epochs": "1"}, ROOT))
assert isinstance(messages[-1], Ended) and any(isinstance(m, Progress) for m in messages), messages
print("trained", sum(isinstance(m, Progress) for m in messages))
"""


def test_a_local_ray_started_from_a_short_lived_thread_outlives_it(fake_mnist_dir):
    """A Streamlit page run is a thread that ends: the local Ray it starts must not end with it
    (Ray's processes get the parent-death signal of the thread that started them)."""
    import subprocess
    import sys

    code = STARTED_BY_A_THREAD_THAT_ENDS.replace("ROOT", repr(str(fake_mnist_dir)))
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "trained" in done.stdout, done.stderr[-3000:]
