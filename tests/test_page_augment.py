"""AppTest: data augmentation on the train page (slider, URL, preset, the sample grid) and the
draw page's word on the augmented default model."""

import pytest
from streamlit.testing.v1 import AppTest

from playground.core.config import AUGMENTED
from tests.harness import ROOT

PAGE = "pages/train.py"


@pytest.fixture
def app(fake_mnist_dir, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(fake_mnist_dir))
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def open_train(at, **params):
    for key, value in params.items():
        at.query_params[key] = value
    return at.switch_page(PAGE).run()


def grid_url(at) -> str | None:
    """The page's sample grid, as the page sends it (a data: URL of its PNG, so a new grid has a
    new URL); None when the page shows no image."""
    images = at.get("image")
    return images[0].proto.imgs[0].url if images else None


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_the_url_sets_the_strength_and_the_grid_shows_it(app):
    at = open_train(app, augment="0.7")
    assert not at.exception and not at.warning
    assert at.slider(key="w_augment").value == 0.7
    assert at.session_state["train_config"].augment == 0.7
    assert "augmentation 0.7" in captions(at)
    augmented_grid = grid_url(at)
    assert augmented_grid is not None and augmented_grid.startswith("data:image/png;base64,")

    at.slider(key="w_augment").set_value(0.0).run()
    assert at.query_params["augment"] in ("0.0", ["0.0"])
    assert "augmentation off" in captions(at)
    assert grid_url(at) not in (None, augmented_grid)  # redrawn for the new strength


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
