"""The attacks of the hosting issue, made through the pages as a visitor would (AppTest), against
the small MNIST: paths, the compute budget, the per-address limit, the time cap."""

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from playground.core import data
from playground.hosting import budget, settings, shared
from playground.hosting.admission import duration
from playground.hosting.redact import HIDDEN, hide_paths
from tests.harness import wait_until
from ui import session

TRAIN = "pages/train.py"
HOG = {"hidden": "1024,1024,1024,1024", "dropout": "0.2,0.2,0.2,0.2", "batch_size": "8", "epochs": "100"}
# 7,500 steps of 1024×1024 at batch 8 on the small MNIST: about 50 s, long enough to queue behind
# or to meet a 3 s cap on a quiet machine (a 64-unit layer's run ends in about 3 s there).
LONG = {"hidden": "1024,1024", "dropout": "0.1,0.1", "batch_size": "8", "epochs": "100"}


@pytest.fixture
def limits(monkeypatch, fake_mnist_dir):
    """Set hosting variables for one test; the process-wide objects that read them are made
    again, before and after."""

    def apply(**env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings.settings.cache_clear()
        shared.admission.cache_clear()

    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(fake_mnist_dir))
    apply()
    yield apply
    monkeypatch.undo()
    settings.settings.cache_clear()
    shared.admission.cache_clear()


def open_page(page=TRAIN, **params):
    at = AppTest.from_file("../app.py", default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    return at.switch_page(page).run()


def press_train(at):
    return next(b for b in at.button if b.label == "▶ Train").click().run()


# --- paths ------------------------------------------------------------------------------------


def test_no_visitor_input_names_a_server_path(limits, tmp_path, fake_mnist_dir):
    target = tmp_path / "made-by-a-visitor"
    limits(PLAYGROUND_MAX_RUN_SECONDS="86400")  # not about the cap: a loaded machine's estimate may pass it
    at = open_page(**LONG, data_dir=str(target), root=str(target))  # what a visitor could try
    assert not at.text_input  # the sidebar's data directory box is gone: no field takes a path
    assert not at.exception
    at.session_state["data_dir"] = str(target)  # even a session value would not be read
    at = press_train(at.run())
    record = at.session_state["run_history"].records[-1]
    wait_until(lambda: record.steps)
    at.session_state["run_history"].stop()
    at.session_state["run_history"].wait(30)
    assert not target.exists() and record.error is None
    assert session.data_dir() == fake_mnist_dir  # the operator's folder, from the environment


def test_server_paths_are_shown_only_in_local_use(limits, fake_mnist_dir):
    shown = lambda at: " ".join(e.value for e in [*at.success, *at.info, *at.caption, *at.markdown])  # noqa: E731
    at = open_page("pages/home.py")
    assert "Found on this server" in shown(at) and str(fake_mnist_dir) not in shown(at)
    limits(PLAYGROUND_LOCAL="1")
    at = open_page("pages/home.py")
    assert str(data.raw_dir(fake_mnist_dir)) in shown(at)


def test_errors_shown_to_a_visitor_name_no_server_path(limits, tmp_path):
    limits(PLAYGROUND_DATA_DIR=str(tmp_path / "empty"), PLAYGROUND_OFFLINE="1")
    at = press_train(open_page(epochs="1", hidden="64", dropout="0.1"))
    record = at.session_state["run_history"].records[-1]
    wait_until(lambda: not record.active)
    at.run()
    errors = " ".join(e.value for e in at.error)
    assert "Put the four uncompressed MNIST files" in errors and HIDDEN in errors
    assert str(tmp_path) not in errors and str(tmp_path) not in record.error
    assert "on this server yet" in " ".join(i.value for i in at.info)


def test_hide_paths_keeps_urls_and_plain_text():
    text = "No file '/srv/app/data/MNIST/raw/x' or C:\\data\\x; see https://example.org/mnist/ (1/2)"
    assert hide_paths(text) == f"No file '{HIDDEN}' or {HIDDEN}; see https://example.org/mnist/ (1/2)"


def test_one_resident_mnist_per_device(fake_mnist_dir, tmp_path):
    other = shutil.copytree(fake_mnist_dir, tmp_path / "copy")
    first = data.load_mnist(fake_mnist_dir, "cpu", download=False)
    assert data.load_mnist(fake_mnist_dir, "cpu", download=False) is first
    second = data.load_mnist(other, "cpu", download=False)
    assert second is not first and list(data._cache) == ["cpu"]  # replaced, not added
    assert data.load_mnist(fake_mnist_dir, "cpu", download=False).root == fake_mnist_dir


# --- compute budget ---------------------------------------------------------------------------


def test_an_over_budget_config_is_refused_with_its_estimate(limits):
    limits(PLAYGROUND_MAX_RUN_SECONDS="30")
    at = open_page(**HOG)
    estimate = shared.estimate_seconds(at.session_state["train_config"])
    assert estimate > 30
    assert any("over its limit of 30 s per run" in w.value for w in at.warning)  # before the click
    at = press_train(at)
    [refusal] = [e.value for e in at.error]
    assert "This run would take about" in refusal and "allows 30 s per run" in refusal
    # "fewer epochs (N fit)" only when one epoch fits: on a loaded machine even one may not.
    assert "a larger batch size" in refusal and "smaller hidden layers" in refusal
    assert at.session_state["run_history"].records == []  # nothing started, nothing queued


def test_the_estimate_gives_a_range_once_this_servers_speed_has_varied(limits):
    limits(PLAYGROUND_MAX_RUN_SECONDS="86400")
    swinging = {"hidden": "77", "dropout": "0.1", "batch_size": "100", "epochs": "2"}  # a shape of its own
    at = open_page(**swinging)
    caption = lambda: next(c.value for c in at.caption if c.value.startswith("**Time:**"))  # noqa: E731
    assert "as its speed varies" not in caption()
    config = at.session_state["train_config"]
    for seconds in [1.0, 2.0] * 3:  # earlier runs' epochs, at two speeds (2× apart)
        shared.cost_model(shared.device_type(config.device)).observe_epoch(config, seconds, eval_seconds=0.5)
    at.run()
    low, high = shared.estimate_range(config)
    assert duration(low) != duration(high)
    assert f"{duration(low)} to {duration(high)} as its speed varies" in caption()


def test_a_range_that_reads_the_same_at_both_ends_is_left_out(limits):
    """Speeds 26% apart over a run of about two minutes: "2 min to 2 min" says nothing (seen on
    the page with the Augmented preset)."""
    limits(PLAYGROUND_MAX_RUN_SECONDS="86400")
    at = open_page(hidden="79", dropout="0.1", batch_size="100", epochs="2")  # a shape of its own
    config = at.session_state["train_config"]
    steps = budget.steps_per_epoch(budget.train_size(shared.data_dir()), 100) * 2
    slow = 118 / steps  # about 2 min of steps at the slower speed, 1.6 at the faster
    for seconds in [slow / 1.26, slow] * 3:
        shared.cost_model(shared.device_type(config.device)).observe_epoch(config, seconds, eval_seconds=0.5)
    at.run()
    low, high = shared.estimate_range(config)
    assert duration(low) == duration(high) == "2 min"
    caption = next(c.value for c in at.caption if c.value.startswith("**Time:**"))
    assert "about 2 min on this server's CPU" in caption and "as its speed varies" not in caption


def test_a_run_at_the_cap_stops_and_keeps_its_model(limits, monkeypatch):
    # The operator's estimate was too low (a busier machine, say): the cap still holds.
    monkeypatch.setattr(shared, "estimate_seconds", lambda config, device=None, data_root=None: 1.0)
    limits(PLAYGROUND_MAX_RUN_SECONDS="3")
    at = press_train(open_page(**LONG))
    history = at.session_state["run_history"]
    record = history.records[-1]
    wait_until(lambda: not record.active)
    assert record.status == "stopped" and record.model is not None and record.done is not None
    assert record.done.steps_completed < 7500
    assert record.stop_reason == "this server stops runs after 3 s of training"
    assert "stops runs after 3 s of training (the model trained so far is kept)" in record.progress()[1]
    at.run()
    assert not at.exception and history.trained() == [record]


def test_a_third_run_from_one_client_address_is_refused(limits, monkeypatch):
    monkeypatch.setattr(session, "client_address", lambda: "203.0.113.7")
    limits(PLAYGROUND_MAX_RUN_SECONDS="86400")  # not about the cap: a loaded machine's estimate may pass it
    pages = [open_page(**LONG) for _ in range(3)]  # three private windows: three sessions
    try:
        for at in pages[:2]:
            assert not press_train(at).error
        at = press_train(pages[2])
        assert any("already has 2 runs queued or training" in e.value for e in at.error)
        assert at.session_state["run_history"].records == []
        queued = pages[1].session_state["run_history"].records[-1]
        wait_until(lambda: "to wait" in queued.progress()[1])  # the queue says how long
        assert queued.status == "queued" and queued.expected_wait_s > 0
    finally:
        for at in pages:
            at.session_state["run_history"].stop()
        for at in pages:
            at.session_state["run_history"].wait(30)
