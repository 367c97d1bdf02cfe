"""The test digits most like a drawing (digits/alike.py), by the network and by pixels: checked
against a direct computation, on the small MNIST, and on pen-drawn real MNIST digits."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchvision.datasets import MNIST

from playground.core.config import RunConfig
from playground.core.data import load_test_images, normalize
from playground.core.model import build_model
from playground.digits import alike, pen, predict, preprocessing, robustness


@pytest.fixture(scope="module")
def default_model():
    return predict.load_default()[0]


@pytest.fixture
def test_split(fake_mnist_dir):
    return load_test_images(fake_mnist_dir)


def test_a_test_digit_is_its_own_nearest_both_ways(default_model, test_split):
    images, labels = test_split
    for index in (0, 17, 123):
        found = alike.most_alike(default_model, normalize(images[index]).reshape(-1), images, labels)
        for row in (found.by_network, found.by_pixels):
            assert len(row) == alike.SHOWN
            # itself, or a copy of it (the small MNIST draws some digits twice)
            assert torch.equal(images[row[0].index], images[index]) and row[0].label == int(labels[index])
            assert row[0].similarity == pytest.approx(1.0, abs=1e-5)
            assert [a.similarity for a in row] == sorted((a.similarity for a in row), reverse=True)


def test_the_network_view_is_the_cosine_of_its_last_hidden_layer(default_model, test_split):
    images, labels = test_split
    drawing = normalize(images[5].flip(1)).reshape(-1)  # a mirrored digit: not in the split
    found = alike.most_alike(default_model, drawing, images, labels)
    # Directly: every test digit's last hidden layer, one cosine similarity each, the largest.
    with torch.no_grad():
        mine = default_model.activations(drawing.reshape(1, -1))[-1]
        theirs = default_model.activations(normalize(images).reshape(len(images), -1))[-1]
    similarity = F.cosine_similarity(theirs, mine, dim=1)
    best = torch.argsort(similarity, descending=True)[: alike.SHOWN]
    assert [a.index for a in found.by_network] == best.tolist()
    assert [a.similarity for a in found.by_network] == pytest.approx(similarity[best].tolist(), abs=1e-5)
    # And by pixels: the ink (0 = none) of the drawing against each digit's.
    ink = images.reshape(len(images), -1).float() / 255
    mine_ink = (images[5].flip(1).reshape(-1).float() / 255).reshape(1, -1)
    pixel_similarity = F.cosine_similarity(ink, mine_ink, dim=1)
    assert [a.similarity for a in found.by_pixels] == pytest.approx(
        pixel_similarity.sort(descending=True).values[: alike.SHOWN].tolist(), abs=1e-5
    )


def test_each_model_has_its_own_view_and_only_the_latest_few_are_kept(test_split, monkeypatch):
    images, _ = test_split
    small = RunConfig(hidden=(16,), dropout=(0.0,))
    models = [build_model(small).eval() for _ in range(alike.KEPT_MODELS + 2)]
    views = [alike.network_view(model, images) for model in models]
    assert alike.network_view(models[-1], images) is views[-1]  # asked again: not computed again
    assert not torch.equal(views[0], views[1])  # two networks, two views
    assert len(alike._views) == alike.KEPT_MODELS
    # Within the memory budget: room for two of these views, then a wider one that needs more.
    monkeypatch.setattr(alike, "KEPT_BYTES", 2 * views[0].numel() * 4)
    alike.network_view(models[0], images)
    assert len(alike._views) == 2 and alike.network_view(models[0], images) is not views[0]
    wide = build_model(RunConfig(hidden=(64,), dropout=(0.0,))).eval()
    alike.network_view(wide, images)
    assert [ref() for ref, _, _ in alike._views.values()] == [wide]  # the latest, even over budget


@pytest.mark.slow
def test_on_pen_drawn_digits_the_networks_neighbours_share_the_digit_more_than_pixel_ones(real_mnist_dir):
    """What the page claims: 300 MNIST training digits redrawn with a round pen (the Draw page's
    stroke), their nearest test digits by the default model's view and by pixels."""
    model = predict.load_default()[0]
    images, labels = load_test_images(real_mnist_dir)
    train = MNIST(str(real_mnist_dir), train=True, download=False)
    rng = np.random.default_rng(0)
    same = {"network": 0, "pixels": 0}
    count = 300
    for i in range(count):
        amount = pen.random_drawing(train.data[i].numpy(), rng, pen.PEN_WIDTHS[i % len(pen.PEN_WIDTHS)]).ink
        drawing = preprocessing.preprocess(robustness.render(amount, "white on black")).model_input
        found = alike.most_alike(model, drawing, images, labels)
        label = int(train.targets[i])
        same["network"] += sum(a.label == label for a in found.by_network)
        same["pixels"] += sum(a.label == label for a in found.by_pixels)
    share = {way: n / (count * alike.SHOWN) for way, n in same.items()}
    assert share["network"] > 0.93 and share["network"] > share["pixels"] + 0.03, share
