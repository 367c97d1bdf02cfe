"""backward() on the tutorial network (playground.lessons.backprop and the Autograd page's section):
the gradient it shows is the network's own, the output layer's formula agrees with finite
differences, the digits' pulls, pushes and optimizer steps are what they say, and nothing shared
is changed."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest
from torch import nn

from playground.core import data
from playground.core.config import RunConfig
from playground.digits import predict
from playground.lessons import backprop

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def batch(fake_mnist_dir):
    images, labels = data.load_test_images(fake_mnist_dir)
    return data.normalize(images[:64].reshape(64, -1)), labels[:64]


def _reference_gradients(model, inputs, labels):
    """The step's gradient found independently: a copy in training mode, dropout off."""
    net = copy.deepcopy(model)
    net.train()
    for module in net.modules():
        if isinstance(module, nn.Dropout):
            module.eval()
    F.nll_loss(net(inputs), labels).backward()
    return net


def test_an_untrained_network_is_initialised_as_nn_linear_does_and_leaves_the_global_stream_alone():
    state = torch.random.get_rng_state()
    a, b, c = backprop.untrained(seed=0), backprop.untrained(seed=0), backprop.untrained(seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)  # other threads' random numbers unchanged
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.hidden[0][0].weight, c.hidden[0][0].weight)
    # nn.Linear's own initialisation: uniform within ±1/√fan_in, weights and biases alike
    reference = nn.Linear(784, 548)
    weight = a.hidden[0][0].weight
    assert weight.abs().max() <= 1 / math.sqrt(784)
    assert weight.std().item() == pytest.approx(reference.weight.std().item(), rel=0.02)
    assert a.output.bias.abs().max() <= 1 / math.sqrt(252)
    assert not a.training


def test_the_output_layers_formula_agrees_with_finite_differences():
    """Checked in float64 against the loss itself, not against autograd."""
    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(6, 5, dtype=torch.float64, generator=generator)
    weight = torch.randn(10, 5, dtype=torch.float64, generator=generator)
    bias = torch.randn(10, dtype=torch.float64, generator=generator)
    labels = torch.tensor([3, 1, 4, 1, 5, 9])

    def loss(w, b):
        return F.nll_loss(torch.log_softmax(hidden @ w.T + b, dim=1), labels).item()

    log_probs = torch.log_softmax(hidden @ weight.T + bias, dim=1)
    by_hand_w, by_hand_b = backprop.output_gradient_by_hand(log_probs, labels, hidden)
    h = 1e-6
    for i, j in [(0, 0), (3, 2), (9, 4), (1, 3)]:
        up, down = weight.clone(), weight.clone()
        up[i, j] += h
        down[i, j] -= h
        slope = (loss(up, bias) - loss(down, bias)) / (2 * h)
        assert by_hand_w[i, j].item() == pytest.approx(slope, abs=1e-8)
    for i in (0, 4, 9):
        up, down = bias.clone(), bias.clone()
        up[i] += h
        down[i] -= h
        slope = (loss(weight, up) - loss(weight, down)) / (2 * h)
        assert by_hand_b[i].item() == pytest.approx(slope, abs=1e-8)


def test_a_step_shows_the_networks_own_gradient_and_changes_nothing_shared(batch):
    inputs, labels = batch
    model = predict.default_source().model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    step = backprop.one_step(model, inputs, labels)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())  # BatchNorm's too
    assert all(p.grad is None for p in model.parameters()) and not model.training

    reference = _reference_gradients(model, inputs, labels)
    first = reference.hidden[0][0].weight.grad
    assert step.pushed_units == first.norm(dim=1).argsort(descending=True)[:8].tolist()
    assert torch.allclose(step.pushes, -first[step.pushed_units].reshape(-1, 28, 28))
    layers = [block[0] for block in reference.hidden] + [reference.output]
    assert [layer.weights for layer in step.layers] == [layer.weight.numel() for layer in layers]
    for shown, layer in zip(step.layers, layers):
        assert shown.gradient_size == pytest.approx(layer.weight.grad.pow(2).mean().sqrt().item(), rel=1e-5)
    assert step.by_hand_difference < 1e-6
    with torch.no_grad():
        reads = reference(inputs).argmax(dim=1)
    assert step.right == int((reads == labels).sum()) and step.batch == 64


def test_the_same_batch_gives_the_same_step(batch):
    inputs, labels = batch
    model = backprop.untrained()
    state = torch.random.get_rng_state()
    a, b = backprop.one_step(model, inputs, labels), backprop.one_step(model, inputs, labels)
    assert a.loss == b.loss and a.steps == b.steps and torch.equal(a.pushes, b.pushes)
    assert torch.equal(torch.random.get_rng_state(), state)  # dropout off: no random numbers drawn


def test_digits_read_wrong_pull_harder_than_digits_read_surely_right(batch):
    inputs, labels = batch
    step = backprop.one_step(predict.default_source().model, inputs, labels)
    shares = [p.share for p in step.pulls]
    assert sum(shares) == pytest.approx(1.0) and shares == sorted(shares, reverse=True)
    assert sorted(p.index for p in step.pulls) == list(range(64))
    worst = min(step.pulls, key=lambda p: p.probability)
    best = max(step.pulls, key=lambda p: p.probability)
    # ‖softmax − one-hot‖ lies between 1 − p and √2·(1 − p), p the label's probability
    assert 1 - worst.probability > math.sqrt(2) * (1 - best.probability)
    assert worst.share > best.share


def test_sgd_moves_each_weight_by_its_gradient_and_adams_first_step_by_the_learning_rate(batch):
    inputs, labels = batch
    model = backprop.untrained()
    step = backprop.one_step(model, inputs, labels)
    sgd, adam = step.steps
    reference = _reference_gradients(model, inputs, labels)
    gradients = torch.cat([p.grad.flatten() for p in reference.parameters()])
    assert sgd.largest_change == pytest.approx(backprop.SGD_LR * gradients.abs().max().item(), rel=1e-4)
    assert sgd.median_change == pytest.approx(backprop.SGD_LR * gradients.abs().median().item(), rel=1e-3)
    assert adam.largest_change <= backprop.ADAM_LR * 1.0001
    assert adam.median_change == pytest.approx(backprop.ADAM_LR, rel=0.01)
    assert sgd.loss_after < step.loss and adam.loss_after < step.loss  # a step downhill


def test_a_gradient_vanishes_through_sigmoid_layers_without_batchnorm(batch):
    """Measured, not assumed: four untrained sigmoid layers without BatchNorm pass back a first-layer
    gradient far smaller than the last hidden layer's; with ReLU, or with BatchNorm, they do not."""
    inputs, labels = batch

    def shrink(**changes) -> float:
        config = RunConfig(hidden=(256,) * 4, dropout=(0.0,) * 4, **changes)
        return backprop.vanishing(backprop.one_step(backprop.untrained(config), inputs, labels).layers)

    assert shrink(activation="sigmoid", batchnorm=False) > 20
    assert shrink(activation="sigmoid", batchnorm=True) < 3
    assert shrink(activation="relu", batchnorm=False) < 3
    one_layer = backprop.one_step(backprop.untrained(RunConfig(hidden=(64,), dropout=(0.0,))), inputs, labels)
    assert backprop.vanishing(one_layer.layers) is None


# --- the page ---------------------------------------------------------------------------------


def _autograd_page(monkeypatch, data_dir) -> AppTest:
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/autograd.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_the_page_shows_a_step_of_the_network_picked(monkeypatch, fake_mnist_dir, batch):
    at = _autograd_page(monkeypatch, fake_mnist_dir)
    inputs, labels = batch
    shipped = backprop.one_step(predict.default_source().model, inputs, labels)
    assert _metric(at, "loss of this batch") == f"{shipped.loss:.3g}"
    assert _metric(at, "read right") == f"{shipped.right} of 64"
    assert float(_metric(at, "max |by hand − autograd|")) < 1e-6
    assert len(at.get("plotly_chart")) >= 2  # the example's chart and the layers'

    at.selectbox(key="bp_model").set_value("untrained").run()
    fresh = backprop.one_step(backprop.untrained(), inputs, labels)
    assert _metric(at, "loss of this batch") == f"{fresh.loss:.3g}"
    table = next(t.value for t in at.table if "optimizer" in t.value.columns)
    assert list(table["optimizer"]) == ["SGD", "Adam"]
    assert list(table["loss after"]) == [f"{s.loss_after:.3g}" for s in fresh.steps]

    assert any("Pick *Untrained: 4 layers of 256, Sigmoid" in c.value for c in at.caption)
    at.selectbox(key="bp_model").set_value("untrained_sigmoid").run()
    assert any("Here it vanishes towards the input" in c.value for c in at.caption)
    at.selectbox(key="bp_model").set_value("untrained").run()

    at.slider(key="bp_batch").set_value(2).run()  # the next 64 test digits
    images, all_labels = data.load_test_images(fake_mnist_dir)
    second = backprop.one_step(
        backprop.untrained(), data.normalize(images[64:128].reshape(64, -1)), all_labels[64:128]
    )
    assert _metric(at, "loss of this batch") == f"{second.loss:.3g}"
    assert not at.exception


def test_a_batch_number_outside_the_slider_is_not_taken(monkeypatch, fake_mnist_dir):
    """A stranger's browser can send any number for the slider: the server keeps to its range."""
    at = _autograd_page(monkeypatch, fake_mnist_dir)
    first = _metric(at, "loss of this batch")
    for number in (10**9, 0, -5):
        at.slider(key="bp_batch").set_value(number).run()
        assert not at.exception and _metric(at, "loss of this batch") == first


def test_a_runs_results_open_a_step_of_that_run(monkeypatch, fake_mnist_dir, no_time_cap, batch):
    """Train, then *One training step of it* under the results of the first of two runs: the Autograd
    page opens with that run picked, not the latest."""
    from tests.test_page_train import button, open_train, train_until_done

    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(fake_mnist_dir))
    at = open_train(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60), epochs="1", hidden="32")
    at, first = train_until_done(at)
    at, _ = train_until_done(at)
    at.selectbox(key="results_run").set_value(first.id).run()
    at.session_state["results_tab"] = "Architecture"
    button(at, "One training step of it, seen through autograd").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="bp_model").value == f"run:{first.id}"
    inputs, labels = batch
    assert _metric(at, "loss of this batch") == f"{backprop.one_step(first.model, inputs, labels).loss:.3g}"


def test_the_page_says_so_when_mnist_is_not_on_the_server(monkeypatch, tmp_path):
    at = _autograd_page(monkeypatch, tmp_path / "empty")
    assert any("no batch to show" in c.value for c in at.caption)
    assert not any(m.label == "loss of this batch" for m in at.metric)
