"""Looking inside the network: first-layer weight pictures, which pixels made the answer
(autograd checked against finite differences), and the code panel beside the sliders."""

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from playground import export
from playground.core.config import TUTORIAL, RunConfig
from playground.core.first_layer import first_layer_weights, units_by_strength
from playground.core.model import build_model
from playground.digits import predict, preprocessing, saliency
from playground.figures.inside import saliency_figure, weights_figure, weights_grid
from tests.drawings import as_picture, draw_digit
from tests.harness import ROOT
from ui.code_panel import changed_lines

TINY = RunConfig(hidden=(8,), dropout=(0.0,), epochs=1)


def tiny_model_with_known_weights() -> torch.nn.Module:
    model = build_model(TINY).eval()
    with torch.no_grad():
        linear = model.hidden[0][0]
        linear.weight.copy_(torch.randn(8, 784, generator=torch.Generator().manual_seed(0)))
        linear.weight[1] *= -10  # unit 1: by far the largest norm
    return model


def test_each_tile_of_the_weights_picture_is_its_units_weights():
    model = tiny_model_with_known_weights()
    pictures = first_layer_weights(model)
    assert pictures.shape == (8, 28, 28)
    weight = model.hidden[0][0].weight.detach()
    norms = np.sqrt((weight.numpy() ** 2).sum(axis=1))
    assert units_by_strength(pictures) == sorted(range(8), key=lambda u: -norms[u])
    assert units_by_strength(pictures)[0] == 1
    grid, owner = weights_grid(pictures.numpy(), [1, 2, 0], columns=2)
    assert grid.shape == (28 + 1 + 28, 28 + 1 + 28)  # two rows of two tiles, one blank pixel apart
    np.testing.assert_array_equal(grid[:28, :28], weight[1].reshape(28, 28).numpy())  # row 0, col 0
    np.testing.assert_array_equal(grid[:28, 29:], weight[2].reshape(28, 28).numpy())  # row 0, col 1
    np.testing.assert_array_equal(grid[29:, :28], weight[0].reshape(28, 28).numpy())  # row 1, col 0
    assert np.isnan(grid[28]).all() and np.isnan(grid[29:, 29:]).all()  # gaps and the empty tile
    assert owner[0, 0] == 1 and owner[30, 30] == -1
    figure = weights_figure(pictures.numpy(), [1, 2, 0], "t", columns=2)
    heatmap = figure.data[0]
    np.testing.assert_array_equal(np.asarray(heatmap.z), grid)  # what the page draws, unchanged
    assert heatmap.zmid == 0 and heatmap.zmin == -heatmap.zmax  # centred on 0


def test_weights_are_read_from_the_model_not_copied_by_reference():
    model = tiny_model_with_known_weights()
    pictures = first_layer_weights(model)
    with torch.no_grad():
        model.hidden[0][0].weight.zero_()  # training goes on…
    assert pictures.abs().sum() > 0  # …the snapshot shown stays as it was


def finite_difference(score, x: torch.Tensor, pixel: int, eps: float = 1e-5) -> float:
    up, down = x.clone(), x.clone()
    up[pixel] += eps
    down[pixel] -= eps
    with torch.no_grad():
        return float((score(up[None]) - score(down[None])) / (2 * eps))


@pytest.mark.parametrize("target", ["logit", "log_probability"])
def test_saliency_equals_finite_differences_on_a_drawn_digit(target):
    """Computed two ways, micrograd-style: autograd's gradient and central differences of the
    model's own outputs (log_softmax undone by hand for the logit), in float64 so that the
    differences are exact enough to compare."""
    model, config = predict.load_default()[:2]
    model64 = build_model(config).double().eval()
    model64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    x = preprocessing.preprocess(as_picture(draw_digit(4), "transparent")).model_input.double()
    digit = 9  # not the answer: its log-probability is far from saturated

    def score(batch: torch.Tensor) -> torch.Tensor:
        log_p = model64(batch)[0]
        # log_softmax(z) = z − logsumexp(z); the logits are known up to a constant, so compare
        # differences of z_digit − z_0 for the logit (its gradient minus that of z_0).
        return log_p[digit] if target == "log_probability" else log_p[digit] - log_p[0]

    item = saliency.saliency(model64, x, digit, target)
    reference = saliency.saliency(model64, x, 0, target).gradient if target == "logit" else 0.0
    rng = np.random.default_rng(0)
    ink = np.flatnonzero(x.numpy() > x.numpy().min())
    for pixel in [*rng.choice(ink, 4, replace=False), *rng.choice(784, 4, replace=False)]:
        autograd_value = (item.gradient - reference).reshape(-1)[pixel]
        assert autograd_value == pytest.approx(finite_difference(score, x, int(pixel)), rel=1e-4, abs=1e-6)
    assert all(p.grad is None for p in model64.parameters())  # the shared model is not written to
    float_item = saliency.saliency(model, x.float(), digit, target)  # the page's float32 model agrees
    np.testing.assert_allclose(float_item.gradient, item.gradient, rtol=1e-3, atol=1e-4)


def test_a_confident_answers_log_probability_has_almost_no_gradient():
    """Why the page shows the logit by default: log p saturates at 0 for a sure answer."""
    model = predict.load_default()[0]
    x = preprocessing.preprocess(as_picture(draw_digit(7), "transparent")).model_input
    assert predict.predict(model, x).probabilities[7] > 0.999
    logit = saliency.saliency(model, x, 7, "logit")
    log_p = saliency.saliency(model, x, 7, "log_probability")
    assert np.abs(log_p.gradient).max() < 0.01 * np.abs(logit.gradient).max()


def test_top_two_explains_the_answer_and_the_runner_up():
    model = predict.load_default()[0]
    x = preprocessing.preprocess(as_picture(draw_digit(7), "transparent")).model_input
    answer = predict.predict(model, x)
    first, second = saliency.top_two(model, x, answer.probabilities)
    ranked = np.argsort(answer.probabilities)[::-1]
    assert (first.digit, second.digit) == (7, int(ranked[1]))
    log_p = saliency.saliency(model, x, 7, "log_probability").value
    assert log_p == pytest.approx(float(np.log(answer.probabilities[7])), abs=1e-5)
    figure = saliency_figure(first, float(answer.probabilities[7]))
    assert figure.layout.title.text.startswith("Why 7") and figure.data[0].zmid == 0


def test_changed_lines_are_the_lines_a_control_touched():
    before = export.training_script(TUTORIAL)
    after = export.training_script(TUTORIAL.replace(lr=0.003))
    touched = changed_lines(before, after)
    assert touched and all(line[0] in "+-" for line in touched)
    assert any(line.startswith("-") and "0.001" in line for line in touched)
    assert any(line.startswith("+") and "0.003" in line for line in touched)
    assert changed_lines(before, before) == []


@pytest.fixture
def train_page(fake_mnist_dir, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(fake_mnist_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    return at.switch_page("pages/train.py").run()


def test_the_code_panel_shows_the_export_and_marks_the_last_change(train_page):
    at = train_page

    def shown_scripts() -> list[str]:  # st.code drops the final newline
        return [c.value.rstrip("\n") for c in at.code if c.language == "python"]

    config = at.session_state["train_config"]
    assert shown_scripts() == [export.training_script(config).rstrip("\n")]  # the download's text
    at.slider(key="w_epochs").set_value(4).run()
    config = at.session_state["train_config"]
    assert config.epochs == 4 and shown_scripts() == [export.training_script(config).rstrip("\n")]
    [diff] = [c.value.splitlines() for c in at.code if c.language == "diff"]
    assert diff == changed_lines(export.training_script(TUTORIAL), export.training_script(config))
    assert any(line.startswith("-") and "15" in line for line in diff)
    assert any(line.startswith("+") and "4" in line for line in diff)


def test_the_live_picture_colours_each_weight_by_sign_and_size():
    from playground.figures.inside import weights_image

    pictures = np.zeros((2, 28, 28), np.float32)
    pictures[0, 0, 0], pictures[0, 0, 1], pictures[1, 5, 5] = 2.0, -2.0, 1.0
    image = weights_image(pictures, [0, 1], columns=2, scale=1)
    assert image.shape == (28, 28 + 1 + 28, 3) and image.dtype == np.uint8
    assert image[0, 0].tolist() == [178, 24, 43]  # the largest positive weight: full red
    assert image[0, 1].tolist() == [33, 102, 172]  # the largest negative: full blue
    assert image[3, 3].tolist() == [255, 255, 255]  # zero: white
    red_half = image[5, 29 + 5].astype(int)  # unit 1's weight 1.0 is half the scale's 2.0
    assert red_half.tolist() == [round((255 + 178) / 2), round((255 + 24) / 2), round((255 + 43) / 2)]
    assert image[0, 28].tolist() == [235, 235, 235]  # the gap between tiles


def test_the_train_page_pictures_the_first_layer_of_a_run_while_it_trains(train_page):
    from playground.hosting.messages import RunStatus
    from playground.hosting.runs import RunRecord

    at = train_page
    history = at.session_state["run_history"]
    config = RunConfig(hidden=(16,), dropout=(0.0,), epochs=5)
    record = RunRecord(config, name="Run 1", status=RunStatus.TRAINING)
    record.epoch_model = (2, build_model(config).eval())
    history.records.append(record)
    at.run()
    assert not at.exception
    assert any(c.value.startswith("First layer after epoch 2: units 1–16") for c in at.caption)
    assert any("data:image/jpeg;base64," in m.value for m in at.markdown)
    record.status = RunStatus.STOPPED  # so that the fixture's session ends quietly
