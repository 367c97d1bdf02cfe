"""AppTest: the train page's logic on the small MNIST (controls, a short run, the URL)."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from playground.core.config import FAST, TUTORIAL, RunConfig
from tests.harness import wait_until

PAGE = "pages/train.py"


@pytest.fixture
def app(fake_mnist_dir, monkeypatch, no_time_cap):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(fake_mnist_dir))
    at = AppTest.from_file("../app.py", default_timeout=60)
    return at


def open_train(at, **params):
    for key, value in params.items():
        at.query_params[key] = value
    return at.switch_page(PAGE).run()


def button(at, label):
    return next(b for b in at.button if b.label == label)


def live_read_out(at) -> dict:
    """What the page hands the live read-out (ui/live_run.py): figure, fraction and label."""
    [live] = [c for c in at.get("component_instance") if c.proto.component_name.endswith("live_run")]
    return json.loads(live.proto.json_args)


def train_until_done(at, timeout=120):
    button(at, "▶ Train").click().run()
    history = at.session_state["run_history"]
    wait_until(lambda: history.active is None, timeout, what="the run to end")
    return at.run(), history.records[-1]


def test_defaults_are_the_tutorial_and_go_into_the_url(app):
    at = open_train(app)
    assert not at.exception
    assert at.session_state["train_config"] == TUTORIAL
    assert "Press Train" in live_read_out(at)["label"]  # the empty chart is there before any run
    assert at.slider(key="w_units_0").value == 548 and at.slider(key="w_dropout_1").value == 0.2
    assert at.select_slider(key="w_lr").value == 0.001 and at.select_slider(key="w_batch_size").value == 64
    assert {
        k: at.query_params[k][0] if isinstance(at.query_params[k], list) else at.query_params[k]
        for k in TUTORIAL.to_params()
    } == TUTORIAL.to_params()


def test_opening_the_page_readies_a_training_worker(app):
    from playground.hosting.shared import workers

    pool = workers()
    wait_until(lambda: not pool._busy.get("cpu"), what="earlier tests' runs to end")
    pool.close()  # so that no earlier test's idle worker can answer for this page
    assert not pool._idle.get("cpu")
    open_train(app)
    assert [w for w in pool._idle.get("cpu", []) if w.alive], "no worker process waiting for the first run"


def test_url_config_is_used_and_round_trips(app):
    wanted = RunConfig(
        hidden=(100, 50, 25),
        dropout=(0.3, 0.2, 0.1),
        batchnorm=False,
        optimizer="sgd",
        lr=0.05,
        schedule="onecycle",
        batch_size=256,
        epochs=3,
        seed=7,
        activation="tanh",
    )
    at = open_train(app, **wanted.to_params())
    assert not at.exception and not at.warning
    assert at.session_state["train_config"] == wanted
    assert at.slider(key="w_layers").value == 3 and at.slider(key="w_units_2").value == 25
    assert at.toggle(key="w_batchnorm").value is False
    link = [c.value for c in at.code if "hidden=100%2C50%2C25" in c.value]
    assert link and "optimizer=sgd" in link[0]


def test_bad_url_values_warn_and_fall_back_to_defaults(app):
    at = open_train(app, epochs="500", lr="fast", batch_size="64", hidden="3000", device="tpu")
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    for name in ("epochs", "lr", "hidden", "device"):
        assert f"URL parameter {name}" in warnings
    assert at.session_state["train_config"] == TUTORIAL


def test_changing_a_control_changes_the_config_and_url(app):
    at = open_train(app)
    at.slider(key="w_layers").set_value(1).run()
    at.slider(key="w_epochs").set_value(4).run()
    config = at.session_state["train_config"]
    assert config.hidden == (548,) and config.dropout == (0.5,) and config.epochs == 4
    assert at.query_params["hidden"] in ("548", ["548"])


def test_fast_preset(app):
    at = open_train(app)
    button(at, "⚡ Fast").click().run()
    config = at.session_state["train_config"]
    assert (config.batch_size, config.schedule, config.lr, config.epochs) == (
        FAST.batch_size,
        "onecycle",
        FAST.lr,
        FAST.epochs,
    )
    button(at, "📜 Tutorial").click().run()
    assert at.session_state["train_config"] == TUTORIAL


def stale_train_click(at, before: RunConfig):
    """Train pressed before the browser has drawn a preset's values: the click carries the
    controls' values from before the preset (what a quick visitor, or a slow server, sends)."""
    at.select_slider(key="w_batch_size").set_value(before.batch_size)
    at.select_slider(key="w_lr").set_value(before.lr)
    at.selectbox(key="w_schedule").set_value(before.schedule)
    at.slider(key="w_epochs").set_value(before.epochs)
    button(at, "▶ Train").click().run()
    history = at.session_state["run_history"]
    record = history.records[-1]
    history.stop()
    wait_until(lambda: history.active is None, 120, what="the stopped run to end")
    return record


def test_train_pressed_right_after_a_preset_trains_the_preset(app):
    at = open_train(app)
    button(at, "⚡ Fast").click().run()
    record = stale_train_click(at, TUTORIAL)
    assert not at.exception
    assert record.config == FAST.replace(epochs=record.config.epochs) and record.config.epochs == FAST.epochs
    assert at.session_state["train_config"] == record.config  # and the controls show it
    assert at.select_slider(key="w_batch_size").value == FAST.batch_size


def test_a_control_moved_back_after_a_preset_is_the_visitors_choice(app):
    at = open_train(app)
    button(at, "⚡ Fast").click().run()
    at.select_slider(key="w_batch_size").set_value(64).run()  # seen, then moved back by hand
    button(at, "▶ Train").click().run()
    history = at.session_state["run_history"]
    record = history.records[-1]
    history.stop()
    wait_until(lambda: history.active is None, 120, what="the stopped run to end")
    assert record.config == FAST.replace(batch_size=64)


def test_a_short_run_shows_chart_metrics_comparison_and_downloads(app):
    at = open_train(app, epochs="2", hidden="64,32", batch_size="32")
    at, record = train_until_done(at)
    assert not at.exception
    assert record.status == "finished" and len(record.epochs) == 2
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Final test accuracy"] == f"{record.final_accuracy:.2%}"
    assert metrics["Epochs done"] == "2/2"
    charts = [json.loads(c.proto.spec)["layout"] for c in at.get("plotly_chart")]
    titles = [chart.get("title", {}).get("text") for chart in charts]
    assert len(charts) == 4, titles  # confusion matrix, first-layer weights, the comparison's two
    assert titles[-2:] == ["training loss (smoothed)", "test accuracy (%)"]
    true, guess, times = record.evaluation.most_confused()[0]  # the small MNIST: mistakes enough
    commonest = f"Most often confused: {true} read as {guess} ({times}×)"
    assert any(c.value.startswith(commonest) for c in at.caption)
    live = live_read_out(at)  # the live curve keeps the ended run
    assert [trace["name"] for trace in live["figure"]["data"]] == [
        "train loss",
        "train loss (smoothed)",
        "test loss",
        "test accuracy (%)",
    ]
    assert live["figure"]["data"][3]["y"] == [100 * e.test_accuracy for e in record.epochs]
    assert live["fraction"] == 1.0 and live["label"].endswith("finished")
    assert at.dataframe  # the runs table
    assert not any("blank canvas" in c.value for c in at.caption)  # "Each digit": closed, not searched
    at.session_state["results_tab"] = "Each digit"  # what choosing the tab does
    at.run()
    captions = [[img.caption for img in image.proto.imgs] for image in at.get("image")]
    network = next(c for c in captions if c[0].startswith("its 0 ("))
    assert [c.split(" (")[0] for c in network] == [f"its {d}" for d in range(10)]
    assert [f"average {d}" for d in range(10)] in captions
    assert any(
        " of its 10 pictures are most like the average of their own digit" in c.value for c in at.caption
    )
    labels = [d.proto.label for d in at.get("download_button")]
    assert any("PyTorch code" in label for label in labels) and any(
        "Model of Run 1" in label for label in labels
    )
    # a second run; then delete the first
    at, second = train_until_done(at)
    history = at.session_state["run_history"]
    assert [r.name for r in history.records] == ["Run 1", "Run 2"]
    assert at.multiselect(key="compare_runs").value == [
        r.id for r in history.records
    ]  # new runs join the overlay
    assert not [i for i in at.get("image") if i.proto.imgs[0].caption.startswith("Run ")]  # closed
    at.session_state["compare_digits"] = True  # opening "What each run thinks each digit looks like"
    at.run()
    rows = [image.proto.imgs[0].caption for image in at.get("image")]
    rows = [row for row in rows if row.startswith("Run ")]
    assert [row.split(":")[0] for row in rows] == ["Run 1", "Run 2"], rows
    assert all("64 → 32, not augmented" in row for row in rows), rows
    at.selectbox(key="delete_run").set_value(history.records[0].id).run()
    button(at, "🗑 Delete").click().run()
    assert [r.name for r in at.session_state["run_history"].records] == ["Run 2"]


def test_the_server_caps_epochs(app, monkeypatch):
    from playground.hosting.settings import HostSettings
    from ui import train_controls

    monkeypatch.setattr(train_controls, "settings", lambda: HostSettings(max_epochs=5))
    at = open_train(app, epochs="50")
    assert "caps a run at 5 epochs" in " ".join(w.value for w in at.warning)
    assert at.session_state["train_config"].epochs == 5 and at.slider(key="w_epochs").max == 5


def test_missing_mnist_is_explained_and_other_pages_keep_working(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PLAYGROUND_OFFLINE", "1")
    at = open_train(AppTest.from_file("../app.py", default_timeout=60), epochs="1")
    assert any("the first run downloads it" in i.value for i in at.info)
    at, record = train_until_done(at)
    assert record.status == "failed" and "Put the four uncompressed MNIST files" in record.error
    assert any("Put the four uncompressed MNIST files" in e.value for e in at.error)
    for page in ("pages/autograd.py", "pages/tensors.py", "pages/home.py"):
        at.switch_page(page).run()
        assert not at.exception


def test_a_run_keeps_going_across_pages_and_control_changes(app):
    # About 50 s of training on the small MNIST: still training when the test comes back to it.
    at = open_train(app, epochs="100", hidden="1024,1024", dropout="0.1,0.1", batch_size="8")
    button(at, "▶ Train").click().run()
    history = at.session_state["run_history"]
    record = history.active
    wait_until(lambda: len(record.steps) >= 3, what="the run's first steps")
    at.slider(key="w_epochs").set_value(7).run()  # applies to the next run only
    at.switch_page("pages/autograd.py").run()
    seen = len(record.steps)
    wait_until(lambda: len(record.steps) > seen, what="the run to train on while its page is closed")
    at.switch_page(PAGE).run()
    assert history.active is record and record.config.epochs == 100 and len(record.steps) > seen
    assert at.session_state["train_config"].epochs == 7
    live = live_read_out(at)  # the live chart picks the run up again
    assert len(live["figure"]["data"][0]["x"]) > 0 and "s left" in live["label"]
    button(at, "■ Stop").click().run()
    history.wait(120)
    assert record.status == "stopped"
