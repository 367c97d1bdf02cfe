"""The GPU page's "Time it" on a shared server: one visitor at a time, the server's thread count
never touched, a few seconds at most."""

import threading
import time

import pytest
import torch
from streamlit.testing.v1 import AppTest

from playground.hosting import shared
from playground.hosting.booth import Busy, TimingBooth
from playground.lessons import gpu_ops
from tests.harness import wait_until

GPU_PAGE = "pages/gpu.py"


def open_gpu_page(n=1024):
    at = AppTest.from_file("../app.py", default_timeout=60).switch_page(GPU_PAGE).run()
    at.select_slider(key="matmul_n").set_value(n).run()
    return at


def test_two_visitors_timing_at_once_leave_the_thread_count_alone(monkeypatch):
    inside, most_inside, lock = [0], [0], threading.Lock()
    real = gpu_ops.time_matmul

    def counted(*args, **kwargs):  # how many timings run at the same moment
        with lock:
            inside[0] += 1
            most_inside[0] = max(most_inside[0], inside[0])
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(gpu_ops, "time_matmul", counted)
    before = torch.get_num_threads()
    seen, stop = set(), threading.Event()

    def sample():  # the server's thread count, all along
        while not stop.is_set():
            seen.add(torch.get_num_threads())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    pages = [open_gpu_page(), open_gpu_page()]
    started = time.time()
    presses = [
        threading.Thread(target=lambda at=at: at.button(key="time_matmul").click().run()) for at in pages
    ]
    for press in presses:
        press.start()
    for press in presses:
        press.join(120)
    stop.set()
    sampler.join()
    assert seen == {before} and torch.get_num_threads() == before
    assert most_inside[0] == 1  # never two timings at once
    timed = [at for at in pages if "matmul_result" in at.session_state]
    told = [at for at in pages if "timing_busy" in at.session_state]
    assert len(timed) == 1 and len(told) == 1  # the second saw the first's timing instead
    assert "Another visitor is timing right now" in " ".join(p.proto.text for p in told[0].get("progress"))
    # Each timing stops itself at its 3 s budget; this only bounds a hang on a loaded machine.
    assert time.time() - started < 90 and not any(at.exception for at in pages)


def test_the_timing_runs_on_the_servers_threads_at_low_priority():
    import os

    booth, facts = TimingBooth(), {}

    def work(report):
        facts["threads"] = torch.get_num_threads()
        facts["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        facts["busy"] = booth.busy
        report(0.5, "half")
        return "done"

    heard = []
    assert booth.run(work, on_progress=lambda f, m: heard.append(m)) == "done"
    # A thread of its own, which torch gives one thread: it never sets the count for the process.
    assert facts == {"threads": 1, "nice": 19, "busy": True}
    assert not booth.busy and os.getpriority(os.PRIO_PROCESS, 0) < 19  # only that thread was lowered


def test_a_busy_booth_says_whose_progress():
    booth, entered, release = TimingBooth(), threading.Event(), threading.Event()

    def slow(report):
        report(0.25, "cpu: 256×256")
        entered.set()
        release.wait(30)

    first = threading.Thread(target=booth.run, args=(slow,))
    first.start()
    assert entered.wait(30)
    with pytest.raises(Busy) as busy:
        booth.run(lambda report: None)
    assert busy.value.progress == (0.25, "cpu: 256×256")
    release.set()
    first.join(30)
    assert booth.wait_until_free(5) and booth.run(lambda report: 7) == 7


def occupy(booth: TimingBooth):
    """A visitor inside `booth` until the returned event is set."""
    entered, release = threading.Event(), threading.Event()

    def work(report):
        report(0.5, "half way")
        entered.set()
        release.wait(60)

    threading.Thread(target=booth.run, args=(work,), daemon=True).start()
    assert entered.wait(30)
    return release


def test_waiters_get_in_in_the_order_they_came_and_a_presser_cannot_jump_the_line():
    """A lesson's visitor waits in line: one who came first gets in first, even though another
    keeps knocking (its Busy says so) and waits later; a caller that would not wait is told Busy
    while someone waits, not let in ahead."""
    booth = TimingBooth("teaching a model")
    release = occupy(booth)
    order, heard = [], []

    def waiter(name: str):
        def go():
            booth.run(lambda report: order.append(name), wait_s=60, on_wait=heard.append)

        thread = threading.Thread(target=go, daemon=True)
        thread.start()
        return thread

    first = waiter("first")
    wait_until(lambda: len(booth._queue) == 1, timeout=30, what="the first waiter in line")
    with pytest.raises(Busy, match="teaching a model"):
        booth.run(lambda report: order.append("no wait"))  # would jump the line: refused
    second = waiter("second")
    wait_until(lambda: len(booth._queue) == 2, timeout=30, what="the second waiter in line")
    release.set()
    first.join(30), second.join(30)
    assert order == ["first", "second"]
    assert (0.5, "half way") in heard  # the occupant's progress, heard while waiting
    assert not booth.busy and not booth._queue


def test_a_waiter_out_of_time_leaves_the_line_and_the_next_gets_in():
    booth = TimingBooth()
    release = occupy(booth)
    with pytest.raises(Busy):
        booth.run(lambda report: None, wait_s=0.3)  # gives up: its ticket must not block others
    assert not booth._queue
    release.set()
    assert booth.run(lambda report: "in", wait_s=30) == "in"


def test_a_caller_whose_page_stops_keeps_the_booth_until_its_work_has_ended():
    """Streamlit stops a script by raising in it at its next call (here: while drawing progress);
    the work in the booth's thread goes on, and nobody else may enter until it has ended."""
    booth, entered, release = TimingBooth(), threading.Event(), threading.Event()
    raised, returned = threading.Event(), threading.Event()

    def work(report):
        entered.set()
        release.wait(60)

    def on_progress(fraction, message):
        raised.set()
        raise RuntimeError("the page stopped")

    def caller():
        with pytest.raises(RuntimeError, match="the page stopped"):
            booth.run(work, on_progress)
        returned.set()

    threading.Thread(target=caller, daemon=True).start()
    assert entered.wait(30) and raised.wait(30)
    assert not returned.wait(0.5)  # held until the work ends (at once, before the fix)
    assert booth.busy
    with pytest.raises(Busy):
        booth.run(lambda report: None)
    release.set()
    assert returned.wait(30)
    assert not booth.busy and booth.run(lambda report: "next") == "next"


def test_the_sweep_stays_within_its_budget():
    started = time.perf_counter()
    timings, skipped = gpu_ops.compare(gpu_ops.MAX_N, ["cpu"])
    assert time.perf_counter() - started < gpu_ops.TOTAL_BUDGET_S + 2  # one product may overrun a little
    assert timings and timings[0].n == gpu_ops.MIN_N
    assert len(timings) + len(skipped) == len(gpu_ops.sweep_sizes(gpu_ops.MAX_N))


def test_the_page_uses_the_servers_booth():
    assert shared.timing_booth() is shared.timing_booth()
