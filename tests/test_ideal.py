"""What a network thinks each digit looks like (digits/ideal.py): the pictures are read as their
digits by the model itself, the search leaves a shared model as it was, is repeatable and done
once per model, and on the real MNIST a trained network's pictures look like the digits."""

import gc

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from playground.core import data
from playground.core.config import TUTORIAL
from playground.core.model import build_model
from playground.digits import ideal
from playground.digits.predict import load_default


@pytest.fixture(scope="module")
def default_model():
    return load_default()[0]


@pytest.fixture(scope="module")
def found(default_model):
    return ideal.search(default_model)


def test_each_picture_is_read_as_its_digit_by_the_model(default_model, found):
    assert found.pixels.shape == (10, 28, 28) and found.pixels.min() >= 0 and found.pixels.max() <= 1
    with torch.no_grad():  # the model asked directly, the way the draw page asks it
        log_p = default_model(data.normalize(torch.from_numpy(found.pixels)).reshape(10, 784))
    probabilities = log_p.exp().numpy()
    assert (probabilities.argmax(axis=1) == np.arange(10)).all()
    assert probabilities.diagonal().min() > 0.9, probabilities.diagonal()
    np.testing.assert_allclose(found.probabilities, probabilities, atol=1e-5)
    assert found.confidence(3) == pytest.approx(probabilities[3, 3], abs=1e-5)


def test_the_pictures_are_drawings_not_blank_nor_full(found):
    ink = found.pixels.reshape(10, -1).mean(axis=1)
    assert (ink > 0.01).sum() >= 8 and (ink < 0.5).all(), ink  # a 1 may be all but blank


def test_the_search_leaves_a_shared_model_as_it_was(default_model, found):
    before = {name: value.clone() for name, value in default_model.state_dict().items()}
    again = ideal.search(default_model)
    np.testing.assert_array_equal(again.pixels, found.pixels)  # same seed, same pictures
    assert not default_model.training
    assert all(p.grad is None for p in default_model.parameters())
    assert all(torch.equal(value, before[name]) for name, value in default_model.state_dict().items())
    assert not np.array_equal(ideal.search(default_model, seed=1).pixels, found.pixels)


def test_a_model_in_training_mode_is_refused():
    with pytest.raises(ValueError, match="eval mode"):
        ideal.search(build_model(TUTORIAL))  # its BatchNorm statistics would move


def test_found_once_per_model_and_let_go_with_it():
    torch.manual_seed(0)
    model = build_model(TUTORIAL.replace(hidden=(32,), dropout=(0.1,))).eval()
    heard = []
    assert ideal.known(model) is None
    first = ideal.ideal_digits(model, progress=heard.append)
    assert heard == sorted(heard) and heard[-1] == 1.0 and len(heard) >= 10
    assert ideal.known(model) is first
    assert ideal.ideal_digits(model, progress=heard.append) is first and heard[-1] == 1.0
    assert len(heard) == ideal.STEPS // 10  # asked again: no second search
    gc.collect()  # models other tests left behind go first: only this one may leave below
    kept = len(ideal._found)
    del model, first
    gc.collect()
    assert len(ideal._found) == kept - 1  # a deleted run's pictures go with its model


def test_average_digits_are_each_digits_mean_picture():
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 256, (50, 28, 28), dtype=np.uint8))
    labels = torch.from_numpy(rng.integers(0, 9, 50))  # no 9 among them
    averages = ideal.average_digits(images, labels)
    for digit in range(9):
        chosen = images[labels == digit].numpy()
        np.testing.assert_allclose(averages[digit], chosen.mean(axis=0) / 255, atol=1e-6)
    assert not averages[9].any()  # a digit without images is blank


def test_resemblance_is_the_cosine_of_the_ink():
    pictures = np.zeros((10, 28, 28), np.float32)
    pictures[:, :14] = 1  # every picture: ink in the top half
    averages = np.zeros((10, 28, 28), np.float32)
    averages[0, :14] = 0.3  # the same place, fainter
    averages[1, 14:] = 1  # the other half
    averages[2] = 1  # everywhere
    similarity = ideal.resemblance(pictures, averages)
    assert similarity[:, 0] == pytest.approx(1.0) and similarity[:, 1] == pytest.approx(0.0)
    direct = F.cosine_similarity(torch.from_numpy(pictures[0]).flatten(), torch.ones(784), dim=0)
    assert similarity[0, 2] == pytest.approx(float(direct))  # 1/√2
    assert ideal.own_digits(pictures, averages) == [0]  # only picture 0 is nearest its own (0)
    pictures[0] = 0
    assert ideal.own_digits(pictures, averages) == []  # a blank picture is like no digit


@pytest.mark.slow
def test_a_trained_networks_pictures_look_like_its_digits(real_mnist_dir, found):
    """The default model's pictures are nearest their own digit's average test digit (8 of 10
    measured, three seeds: 7–8); an untrained network's stay blank, and it is sure of none."""
    images, labels = data.load_test_images(real_mnist_dir)
    averages = ideal.average_digits(images, labels)
    assert len(ideal.own_digits(found.pixels, averages)) >= 6
    torch.manual_seed(0)
    untrained = ideal.search(build_model(TUTORIAL).eval())
    assert untrained.pixels.max() < 0.01 and ideal.own_digits(untrained.pixels, averages) == []
    assert untrained.probabilities.diagonal().max() < 0.3


def test_shown_with_the_brightest_pixel_white_but_a_trace_stays_faint():
    from playground.figures.inside import digits_strip, ink_picture

    stroke = np.zeros((28, 28), np.float32)
    stroke[10:18, 12] = 0.5
    assert ink_picture(stroke).max() == 255 and ink_picture(stroke)[0, 0] == 0
    trace = stroke / 10  # 0.05: not blown up into a picture
    assert 125 <= ink_picture(trace).max() <= 128  # half grey, as 0.05 of the 0.1 floor
    strip = digits_strip(np.stack([stroke, trace, np.zeros((28, 28))]), scale=2)
    assert strip.shape == (2 * 28, 2 * (3 * 29 - 1)) and (strip[:, 2 * 28 : 2 * 29] == 235).all()
