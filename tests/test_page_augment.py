"""AppTest: data augmentation on the train page (slider, URL, preset, the sample grid) and the
draw page's word on the augmented default model."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from playground.core.config import AUGMENTED
from tests.conftest import ROOT

PAGE = "pages/train.py"


@pytest.fixture
def app(fake_mnist_dir, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(fake_mnist_dir))
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def open_train(at, **params):
    for key, value in params.items():
        at.query_params[key] = value
    return at.switch_page(PAGE).run()


def grid_rows(at) -> int | None:
    """How many rows of digits the sample grid shows (None: no grid on the page)."""
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if spec["data"][0].get("type") == "heatmap":
            z = spec["data"][0]["z"]  # a list of rows, or plotly's typed array with its shape
            height = int(z["shape"].split(",")[0]) if isinstance(z, dict) else len(z)
            return (height + 2) // 30  # 28 px digits, 2 px apart
    return None


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_the_url_sets_the_strength_and_the_grid_shows_it(app):
    at = open_train(app, augment="0.7")
    assert not at.exception and not at.warning
    assert at.slider(key="w_augment").value == 0.7
    assert at.session_state["train_config"].augment == 0.7
    assert "augmentation 0.7" in captions(at)
    assert grid_rows(at) == 4  # MNIST's digits, then three augmented batches

    at.slider(key="w_augment").set_value(0.0).run()
    assert at.query_params["augment"] in ("0.0", ["0.0"])
    assert "augmentation off" in captions(at)
    assert grid_rows(at) == 1  # only the digits as they are


def test_the_augmented_preset(app):
    at = open_train(app)
    assert at.session_state["train_config"].augment == 0.0  # the tutorial: off
    next(b for b in at.button if b.label == "🌀 Augmented").click().run()
    assert at.session_state["train_config"] == AUGMENTED.replace(
        device=at.session_state["train_config"].device
    )
    assert at.query_params["augment"] in ("0.7", ["0.7"])


@pytest.mark.parametrize("bad", ["5", "-1", "lots", "nan"])
def test_a_bad_strength_in_the_url_is_named_and_ignored(app, bad):
    at = open_train(app, augment=bad)
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "Ignored URL parameter augment" in warnings and "from 0 (off) to 1" in warnings
    assert at.session_state["train_config"].augment == 0.0


def test_the_draw_page_says_the_default_model_is_augmented(app):
    app.run()
    at = app.switch_page("pages/draw.py").run()
    assert not at.exception
    assert "trained with data augmentation" in captions(at)
