"""Change its mind (digits/adversarial.py): the pixels move until the network reads the digit asked
for. Each result is read again by the page's own prediction, not by the search's figures; the
model that many visitors share is never written to; every request is bounded."""

import copy
import json

import numpy as np
import pytest
import torch

from playground.core import data
from playground.digits import adversarial, predict, preprocessing
from tests.drawings import draw_digit


@pytest.fixture(scope="module")
def model():
    return predict.load_default()[0]


def centred(digit: int) -> np.ndarray:
    """`digit` drawn as the tests draw it, then preprocessed as the Draw page does: (28, 28) ink."""
    return preprocessing.preprocess(draw_digit(digit)).centred


def read(model, pixels: np.ndarray) -> np.ndarray:
    """The page's own reading of 28×28 ink: the probabilities of `predict.predict`."""
    return predict.predict(model, data.normalize(torch.from_numpy(pixels.reshape(-1)))).probabilities


@pytest.mark.parametrize(("drawn", "asked"), [(7, 3), (7, 1), (4, 9), (1, 7), (4, 2)])
def test_the_changed_digit_is_read_as_the_digit_asked_for(model, drawn, asked):
    pixels = centred(drawn)
    assert read(model, pixels).argmax() == drawn
    changed = adversarial.change_mind(model, pixels, asked)
    assert changed.reached and 0 < changed.steps < adversarial.MAX_STEPS
    again = read(model, changed.after)
    assert again.argmax() == asked and again[asked] >= adversarial.SURE
    np.testing.assert_allclose(again, changed.probabilities, atol=1e-5)
    assert changed.after.min() >= 0 and changed.after.max() <= 1  # ink stays between none and full
    np.testing.assert_array_equal(changed.before, pixels)
    # A small change: each step is 0.1 long, and the change is no longer than the steps taken.
    assert changed.size <= adversarial.STEP * changed.steps + 1e-4
    assert changed.share_of_digit < 0.5, changed.share_of_digit


@pytest.mark.parametrize(("drawn", "asked"), [(7, 3), (4, 2)])
def test_the_path_stops_at_the_first_step_that_is_sure_enough(model, drawn, asked):
    pixels = centred(drawn)
    changed = adversarial.change_mind(model, pixels, asked)
    path = changed.path
    assert path.shape == (changed.steps + 1, 10)
    np.testing.assert_allclose(path[0], read(model, pixels), atol=1e-5)  # where it started
    np.testing.assert_allclose(path[-1], changed.probabilities, atol=1e-5)  # where it ended
    assert (path[:-1, asked] < adversarial.SURE).all() and path[-1, asked] >= adversarial.SURE
    assert path[-1, drawn] < path[0, drawn]  # the digit it read lost what the one asked for won


@pytest.mark.parametrize(("drawn", "asked"), [(7, 3), (4, 9), (1, 7)])
def test_noise_of_the_same_size_leaves_the_answer_alone(model, drawn, asked):
    changed = adversarial.change_mind(model, centred(drawn), asked)
    noise = changed.noisy - changed.before
    assert np.linalg.norm(noise) == pytest.approx(changed.size, rel=0.05)
    # Another direction than the change's (random directions in 784 dimensions are all but
    # at right angles to any one): what matters is where, not how much.
    cosine = float((noise * changed.change).sum()) / (np.linalg.norm(noise) * changed.size)
    assert abs(cosine) < 0.3, cosine
    assert read(model, changed.noisy).argmax() == drawn
    np.testing.assert_allclose(read(model, changed.noisy), changed.noisy_probabilities, atol=1e-5)
    again = adversarial.change_mind(model, centred(drawn), asked)  # the same seed: the same noise
    np.testing.assert_array_equal(again.noisy, changed.noisy)
    np.testing.assert_array_equal(again.after, changed.after)


def test_the_digit_it_reads_already_takes_no_step(model):
    pixels = centred(7)
    changed = adversarial.change_mind(model, pixels, 7)
    assert changed.reached and changed.steps == 0 and changed.size == 0
    np.testing.assert_array_equal(changed.after, pixels)


def test_each_digit_of_a_batch_moves_as_it_would_alone(model):
    pixels = [centred(7), centred(4)]
    ink = torch.from_numpy(np.stack(pixels).reshape(2, -1))
    search = adversarial.change_minds(model, ink, torch.tensor([3, 9]))
    after, steps, reached = search.after, search.steps, search.reached
    for i, asked in enumerate((3, 9)):
        alone = adversarial.change_mind(model, pixels[i], asked)
        assert int(steps[i]) == alone.steps and bool(reached[i])
        np.testing.assert_allclose(after[i].reshape(28, 28).numpy(), alone.after, atol=1e-5)
    assert int(steps[0]) != int(steps[1])  # they stopped apart: a done digit waits for the other


def test_the_steps_are_bounded_and_a_digit_out_of_reach_says_so(model):
    ink = torch.from_numpy(centred(7).reshape(1, -1))
    search = adversarial.change_minds(model, ink, torch.tensor([3]), step=0.001, max_steps=3)
    assert int(search.steps[0]) == 3 and not bool(search.reached[0])
    assert read(model, search.after[0].numpy().reshape(28, 28)).argmax() == 7


def test_a_digit_not_reached_in_the_steps_allowed_says_so_and_keeps_its_path(model):
    changed = adversarial.change_mind(model, centred(7), 3, max_steps=2)
    assert not changed.reached and changed.steps == 2 and changed.path.shape == (3, 10)
    assert changed.probabilities.argmax() == 7 and changed.path[-1, 3] < adversarial.SURE
    frozen = copy.deepcopy(model)
    with torch.no_grad():  # the input no longer matters: no step can reach any digit
        frozen.hidden[0][0].weight.zero_()
    other = (int(read(frozen, centred(7)).argmax()) + 1) % 10  # a digit it does not read
    asked_too_much = adversarial.change_mind(frozen, centred(7), other, max_steps=10**6)
    assert not asked_too_much.reached and asked_too_much.steps == adversarial.MAX_STEPS  # the bound holds


def test_the_model_that_visitors_share_is_not_written_to(model):
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    adversarial.change_mind(model, centred(4), 9)
    assert not model.training
    assert all(parameter.grad is None for parameter in model.parameters())
    for name, tensor in model.state_dict().items():  # BatchNorm's running statistics too
        assert torch.equal(tensor, before[name]), name


def test_a_model_in_training_mode_is_refused(model):
    training = copy.deepcopy(model).train()  # BatchNorm would mix the digits and learn from them
    with pytest.raises(ValueError, match="eval mode"):
        adversarial.change_mind(training, centred(7), 3)


@pytest.mark.parametrize(
    ("pixels", "digit", "message"),
    [
        (np.zeros((28, 28)), 10, "0 to 9"),
        (np.zeros((28, 28)), -1, "0 to 9"),
        (np.zeros((28, 28)), "3", "0 to 9"),
        (np.zeros((28, 28)), True, "0 to 9"),
        (np.zeros((27, 28)), 3, "28×28"),
        (np.full((28, 28), np.nan), 3, "28×28"),
    ],
)
def test_a_bad_request_is_refused_with_a_message(model, pixels, digit, message):
    with pytest.raises(ValueError, match=message):
        adversarial.change_mind(model, pixels, digit)


def test_the_command_measures_a_models_test_digits(fake_mnist_dir, capsys):
    assert adversarial.main(["--data-dir", str(fake_mnist_dir), "--limit", "60", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0 < report["digits"] <= 60
    assert report["reached"] == 1.0 and 0 < report["median_size"] < 5
    changed = report["noise_changed"]
    assert list(changed) == ["1", "2", "4", "8"] and changed["1"] <= changed["8"]


def test_on_mnist_noise_needs_to_be_far_larger_than_the_change(real_mnist_dir):
    from torchvision.datasets import MNIST

    test = MNIST(root=str(real_mnist_dir), train=False, download=False)
    model = predict.load_default()[0]
    report = adversarial.measure(model, test.data[:200], test.targets[:200])
    assert report.digits >= 195 and report.reached == 1.0
    assert 0.5 < report.median_size < 3  # the default model: about 1.3 (0.13–0.2 of the digit's own)
    assert report.noise_changed[1] <= 0.02 and report.noise_changed[8] >= 0.3


def test_the_step_by_step_chart_draws_the_two_digits_of_the_path(model):
    from playground.figures.drawing import mind_change_figure

    changed = adversarial.change_mind(model, centred(7), 3)
    figure = mind_change_figure(changed.path, 7, 3)
    read_it, asked = figure.data
    np.testing.assert_allclose(read_it.y, changed.path[:, 7])
    np.testing.assert_allclose(asked.y, changed.path[:, 3])
    assert list(asked.x) == list(range(changed.steps + 1))
    assert read_it.name == "7 (it read)" and asked.name == "3 (asked for)"
    assert figure.layout.shapes[0].y0 == adversarial.SURE  # the line where the steps stop


def test_a_model_that_cannot_be_moved_in_the_steps_allowed_is_measured_as_such(model, fake_mnist_dir):
    from torchvision.datasets import MNIST

    test = MNIST(root=str(fake_mnist_dir), train=False, download=False)
    frozen = copy.deepcopy(model)
    with torch.no_grad():  # every weight of the first layer 0: the input no longer matters
        frozen.hidden[0][0].weight.zero_()
    right = int(
        (
            frozen(data.normalize(test.data[:50].reshape(50, -1).float() / 255)).argmax(1)
            == test.targets[:50]
        ).sum()
    )
    report = adversarial.measure(frozen, test.data[:50], test.targets[:50])
    assert report.digits == right and report.reached == 0.0
    assert np.isnan(report.median_size) and all(share == 0.0 for share in report.noise_changed.values())
