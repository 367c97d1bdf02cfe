"""Background runs: a worker process trains, stop keeps the model, slots queue runs, sessions
are separate."""

import re

import pytest

from playground.core.config import RunConfig
from playground.hosting.messages import RunStatus
from playground.hosting.runs import RunHistory
from playground.hosting.slots import RunSlots
from tests.harness import wait_until

pytestmark = pytest.mark.usefixtures("no_time_cap")

CONFIG = RunConfig(hidden=(32,), dropout=(0.1,), batch_size=32, epochs=2, device="cpu")
# A run that outlasts any test that stops it: 7,500 steps of 1024×1024 at batch 8 on the small
# MNIST, about 50 s on one quiet core. CONFIG at 100 epochs ends in about 1 s on a quiet machine,
# before a stop or a second run could meet it.
LONG = CONFIG.replace(hidden=(1024, 1024), dropout=(0.1, 0.1), batch_size=8, epochs=100)


def test_a_run_trains_in_the_background_and_keeps_its_model(fake_mnist_dir):
    history = RunHistory()
    record = history.start(CONFIG, fake_mnist_dir, RunSlots())
    assert history.active is record and record.name == "Run 1"
    with pytest.raises(RuntimeError, match="already training"):
        history.start(CONFIG, fake_mnist_dir, RunSlots())
    history.wait(60)
    assert record.status == RunStatus.FINISHED and history.active is None
    assert len(record.epochs) == 2 and record.steps[-1].global_step == 2 * 19
    assert record.final_accuracy is not None and not record.model.training
    assert record.test_images.shape == (200, 28, 28) and record.test_labels.shape == (200,)
    assert history.trained() == [record]
    fraction, label = record.progress()  # the live read-out of the ended run
    assert (
        fraction == 1.0
        and label.startswith("Run 1 · epoch 2/2 · step 19/19 · ")
        and label.endswith(" · finished")
    )


def test_stop_keeps_the_partly_trained_model(fake_mnist_dir):
    history = RunHistory()
    record = history.start(LONG, fake_mnist_dir, RunSlots())
    wait_until(lambda: len(record.steps) >= 3)
    history.stop()
    history.wait(120)
    assert record.status == RunStatus.STOPPED and record.done.stopped
    # The worker may run ahead of the stop by a few steps on a loaded machine, never to the end.
    assert 3 <= record.done.steps_completed < 100 * 75 and record.model is not None
    fraction, label = record.progress()
    assert 0 < fraction < 1 and label.endswith("stopped (the model trained so far is kept)")
    assert history.trained() == [record]


def test_missing_data_fails_the_run_with_instructions(tmp_path):
    history = RunHistory()
    record = history.start(CONFIG, tmp_path, RunSlots())
    history.wait(60)
    assert record.status == RunStatus.FAILED and "MNIST/raw" in record.error
    assert history.trained() == []


def test_a_new_run_says_it_is_starting_not_that_it_queues():
    from playground.hosting.runs import RunRecord

    assert RunRecord(CONFIG, name="Run 1").progress() == (0.0, "Run 1: starting…")  # nobody ahead of it


def test_slots_queue_runs_beyond_the_limit(fake_mnist_dir):
    slots = RunSlots({"cpu": 1})
    first, second = RunHistory(), RunHistory()  # two browser sessions
    a = first.start(LONG, fake_mnist_dir, slots)
    wait_until(lambda: len(a.steps) >= 1)
    b = second.start(CONFIG, fake_mnist_dir, slots)
    wait_until(lambda: b.queue_position == 1)
    assert b.status == RunStatus.QUEUED and not b.steps
    fraction, label = b.progress()
    assert fraction == 0.0 and re.fullmatch(
        r"Run 1 is waiting for a free training slot: place 1 in the queue, "
        r"about \d+ (s|min|h)( \d+ min)? to wait\. "
        r"It starts by itself\.",
        label,
    ), label
    fraction, label = a.progress()
    assert 0 < fraction < 1 and "samples/s" in label and label.endswith(" s left")
    first.stop()
    second.wait(60)
    assert b.status == RunStatus.FINISHED
    assert first.records == [a] and second.records == [b]  # sessions see only their own runs


def test_stopping_a_queued_run_leaves_the_queue(fake_mnist_dir):
    slots = RunSlots({"cpu": 1})
    first, second = RunHistory(), RunHistory()
    a = first.start(LONG, fake_mnist_dir, slots)
    wait_until(lambda: a.steps, what="the first run to hold the slot")  # else b could take it first
    b = second.start(CONFIG, fake_mnist_dir, slots)
    wait_until(lambda: b.queue_position == 1)
    second.stop()
    second.wait(60)
    assert b.status == RunStatus.STOPPED and b.model is None and slots.position("cpu", b.id) == 0
    assert a.status == RunStatus.TRAINING  # the running run is not touched by the other's stop
    first.stop()
    first.wait(60)


def test_delete_and_trim(fake_mnist_dir):
    history = RunHistory(max_kept=2)
    for _ in range(3):
        history.start(CONFIG.replace(epochs=1), fake_mnist_dir, RunSlots())
        history.wait(60)
    assert [r.name for r in history.records] == ["Run 2", "Run 3"]
    history.delete(history.records[0].id)
    assert [r.name for r in history.records] == ["Run 3"]
    history.start(CONFIG.replace(epochs=1), fake_mnist_dir, RunSlots())
    history.wait(60)
    assert history.records[-1].name == "Run 4"


def test_a_worker_that_dies_before_an_epoch_ends_fails_its_run_with_a_message(fake_mnist_dir):
    from playground.hosting.runs import BackgroundRun, RunRecord
    from playground.hosting.worker import WorkerPool

    # One epoch only: its model comes as the final Weights, never as an epoch's snapshot.
    record, pool = RunRecord(LONG.replace(epochs=1)), WorkerPool()
    run = BackgroundRun(record, fake_mnist_dir, RunSlots(), pool).start()
    wait_until(lambda: len(record.steps) >= 2)
    run._worker.process.kill()  # as the kernel's OOM killer would
    run.join(60)
    assert record.status == RunStatus.FAILED and record.model is None
    assert record.error == (
        "The training process ended unexpectedly (out of memory?) before an epoch ended. "
        "Press Train to try again."
    )
    fresh = pool.acquire("cpu")  # the next run gets a fresh worker
    assert fresh.alive and fresh is not run._worker
    fresh.close()


def test_a_worker_that_dies_later_leaves_the_model_of_its_last_epoch(fake_mnist_dir):
    from playground.hosting.runs import BackgroundRun, RunRecord
    from playground.hosting.worker import WorkerPool

    record, pool = RunRecord(LONG), WorkerPool()
    run = BackgroundRun(record, fake_mnist_dir, RunSlots(), pool).start()
    epoch, model = wait_until(lambda: record.epoch_model, what="an epoch's model")
    run._worker.process.kill()
    run.join(60)
    pool.close()
    assert record.status == RunStatus.STOPPED and record.done.stopped
    kept = record.done.epochs_completed
    assert kept >= epoch and record.model is not None and record.epoch_model is None
    assert record.stop_reason == (
        f"the training process ended unexpectedly (out of memory?); the model of epoch {kept}, "
        "the last to reach the server, is kept"
    )
    # The kept model is that epoch's: the server's evaluation of it equals the worker's.
    assert record.done.evaluation.accuracy == pytest.approx(record.epochs[kept - 1].test_accuracy, abs=1e-6)
    assert record.test_images is not None  # galleries and the draw page work as for any run


def test_a_session_that_ends_stops_its_run(fake_mnist_dir):
    import gc

    history = RunHistory()
    record = history.start(LONG, fake_mnist_dir, RunSlots())
    wait_until(lambda: len(record.steps) >= 2)
    run = history._runs[record.id]
    del history  # Streamlit drops a session's state when the session ends
    gc.collect()
    run.join(60)
    assert record.status == RunStatus.STOPPED


def test_browser_registry_keeps_histories_across_sessions_until_unseen(fake_mnist_dir):
    from playground.hosting.browsers import BrowserRegistry

    registry = BrowserRegistry(ttl=0.5)
    mine = registry.history("browser-a")
    assert registry.history("browser-a") is mine  # a reload: same browser, same runs
    assert registry.history("browser-b") is not mine  # another browser: its own
    record = mine.start(LONG, fake_mnist_dir, RunSlots())
    wait_until(lambda: len(record.steps) >= 2)
    # A visit prunes browsers unseen for longer than the ttl: visit until browser-a's has passed.
    wait_until(lambda: registry.history("browser-b") and len(registry) == 1, what="browser-a pruned")
    mine.wait(60)
    assert record.status == RunStatus.STOPPED and record.model is not None


def test_a_prewarmed_worker_trains_the_first_run(fake_mnist_dir):
    from playground.hosting.runs import BackgroundRun, RunRecord
    from playground.hosting.worker import WorkerPool

    pool = WorkerPool()
    assert pool.prewarm("cpu") is True
    assert pool.prewarm("cpu") is False  # one is enough: it is idle, waiting
    warm = pool._idle["cpu"][0]
    assert warm.alive
    record = RunRecord(LONG)
    run = BackgroundRun(record, fake_mnist_dir, RunSlots(), pool).start()
    wait_until(lambda: len(record.steps) >= 1)
    assert run._worker is warm  # the run did not start a process of its own
    assert pool.prewarm("cpu") is False  # busy training: no second worker
    run.stop()
    run.join(60)
    assert pool._idle["cpu"] == [warm]  # back in the pool for the next run
    warm.process.kill()
    warm.process.join(60)
    assert pool.prewarm("cpu") is True  # a dead worker does not count
    pool.close()


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_a_prewarmed_worker_reads_mnist_before_the_first_run(real_mnist_dir):
    from playground.hosting.worker import WorkerPool

    bare, preloaded = WorkerPool(), WorkerPool()
    bare.prewarm("cpu")
    preloaded.prewarm("cpu", str(real_mnist_dir))
    pids = bare._idle["cpu"][0].process.pid, preloaded._idle["cpu"][0].process.pid
    # MNIST resident as float32: (60000 + 10000) × 784 × 4 bytes ≈ 220 MB more than torch alone.
    wait_until(lambda: _rss_mb(pids[1]) - _rss_mb(pids[0]) >= 150, what="MNIST in the preloaded worker")
    bare.close()
    preloaded.close()


def test_preloading_a_folder_without_mnist_leaves_the_worker_serving(fake_mnist_dir, tmp_path):
    from playground.hosting.runs import BackgroundRun, RunRecord
    from playground.hosting.worker import WorkerPool

    pool = WorkerPool()
    pool.prewarm("cpu", str(tmp_path / "no-mnist-here"))
    record = RunRecord(CONFIG.replace(epochs=1))
    BackgroundRun(record, fake_mnist_dir, RunSlots(), pool).start().join(60)
    assert record.status == RunStatus.FINISHED, record.error
    pool.close()


def test_a_training_run_hands_over_each_epochs_model(fake_mnist_dir):
    """Seconds per epoch (1024×1024 at batch 8), so that the once-a-second snapshots come."""
    from playground.hosting.runs import BackgroundRun, RunRecord
    from playground.hosting.worker import WorkerPool

    record, pool = RunRecord(LONG), WorkerPool()
    run = BackgroundRun(record, fake_mnist_dir, RunSlots(), pool).start()  # no time cap here
    epoch, model = wait_until(lambda: record.epoch_model, what="a finished epoch's model")
    assert record.active and epoch >= 1 and not model.training
    assert [e.epoch for e in record.epochs][:epoch] == list(range(1, epoch + 1))
    run.stop()
    run.join(120)
    pool.close()
    assert record.status == RunStatus.STOPPED and record.model is not None
    assert record.epoch_model is None  # the final model took over
