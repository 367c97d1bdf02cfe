"""AppTest: precision on the train page (control, URL, slow-CPU warning, compare table) and the
dtype page's "Training in bfloat16" section."""

import json

import pytest
import torch
from streamlit.testing.v1 import AppTest

from playground.core import precision
from tests.harness import wait_until

TRAIN, TENSORS = "pages/train.py", "pages/tensors.py"


@pytest.fixture
def app(fake_mnist_dir, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(fake_mnist_dir))
    return AppTest.from_file("../app.py", default_timeout=60)


@pytest.fixture
def bf16_fast(monkeypatch):
    """The probe's answer on a CPU with fast bf16 (the real probe is tested in test_precision)."""
    monkeypatch.setattr(precision, "_probe", precision.SpeedProbe(10.0, 7.0, native_bf16=True))


def open_page(at, page=TRAIN, **params):
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def url_param(at, key):
    value = at.query_params[key]
    return value[0] if isinstance(value, list) else value


def warnings(at):
    return [w.value for w in at.warning]


def test_the_control_sets_the_precision_and_the_url(app, bf16_fast):
    at = open_page(app)
    control = at.radio(key="w_precision")
    assert control.value == "fp32" and url_param(at, "precision") == "fp32"
    expected = ["fp32", "bf16", "fp16"] if torch.cuda.is_available() else ["fp32", "bf16"]
    assert control.options == [
        {"fp32": "fp32", "bf16": "bf16 mixed", "fp16": "fp16 mixed"}[o] for o in expected
    ]
    control.set_value("bf16").run()
    assert at.session_state["train_config"].precision == "bf16"
    assert url_param(at, "precision") == "bf16"
    assert not any("slow" in w for w in warnings(at))
    links = [link for link in at.get("page_link") if "Tensors & dtypes" in link.proto.label]
    assert links and links[0].proto.page.endswith("tensors")


def test_a_url_precision_survives_a_preset_and_another_page(app, bf16_fast):
    at = open_page(app, precision="bf16")
    next(b for b in at.button if b.label == "⚡ Fast").click().run()
    assert at.session_state["train_config"].precision == "bf16"
    at.switch_page(TENSORS).run()
    at.switch_page(TRAIN).run()
    assert at.radio(key="w_precision").value == "bf16"


def test_slow_bf16_is_selectable_with_a_warning_that_says_why(app, monkeypatch):
    monkeypatch.setattr(precision, "_probe", precision.SpeedProbe(10.0, 25.0, native_bf16=False))
    at = open_page(app)
    assert not any("slow" in w for w in warnings(at))  # fp32: nothing to say
    at.radio(key="w_precision").set_value("bf16").run()
    [slow] = [w for w in warnings(at) if "slow" in w]
    assert "no native bfloat16" in slow and "0.40×" in slow
    assert at.session_state["train_config"].precision == "bf16"


@pytest.mark.parametrize(
    "value, message",
    [
        ("fp8", "Ignored URL parameter precision: must be one of fp32, bf16, fp16"),
        ("fp16", "Ignored URL parameter precision: fp16 trains on a CUDA GPU only"),
    ],
)
def test_a_bad_url_precision_is_explained(app, value, message):
    if value == "fp16" and torch.cuda.is_available():
        pytest.skip("fp16 is valid with a GPU")
    at = open_page(app, precision=value, device="cpu")
    assert any(w.startswith(message) for w in warnings(at)), warnings(at)
    assert at.session_state["train_config"].precision == "fp32"
    assert url_param(at, "precision") == "fp32"


def test_fp32_and_bf16_runs_side_by_side(app, bf16_fast):
    at = open_page(app, hidden="32", dropout="0.1", epochs="2", batch_size="64", device="cpu")
    for name in ("fp32", "bf16"):
        at.radio(key="w_precision").set_value(name).run()
        next(b for b in at.button if b.label == "▶ Train").click().run()
        history = at.session_state["run_history"]
        wait_until(lambda h=history: h.active is None, what="the run to finish")
        at.run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "precision" in d.value.columns)
    assert list(table["precision"]) == ["fp32", "bf16"]
    assert (table["s/epoch"] > 0).all()
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    names = {trace.get("name", "") for spec in specs for trace in spec["data"]}
    assert {n.split(" · ")[1] for n in names if n.endswith(" s/epoch")} == {"fp32", "bf16"}


def test_tensors_page_shows_training_in_bf16_from_the_model():
    at = open_page(AppTest.from_file("../app.py", default_timeout=60), TENSORS)
    assert "Training in bfloat16" in [h.value for h in at.subheader]
    tables = [t.value for t in at.table]
    layers = next(t for t in tables if "gradients" in t.columns)
    linear = layers[layers["layer"].str.contains("Linear")]
    assert set(linear["output"]) == {"bfloat16"} and set(linear["weights"]) == {"float32"}
    assert set(layers["gradients"]) <= {"float32", "–"}
    kept = next(t for t in tables if list(t.columns) == ["tensor", "dtype"])
    assert kept.set_index("tensor").loc["the loss (nll_loss)", "dtype"] == "float32"
    samples = next(t for t in tables if "bfloat16" in t.columns)
    assert (samples["float32"] != samples["bfloat16"]).any()
