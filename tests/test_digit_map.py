"""Where a drawing lands (digits/digit_map.py): the principal plane checked against an SVD, a test
digit landing on its own dot, the separation measure, and the network's plane against the
pixels' on the real MNIST."""

import pytest
import torch

from playground import figures
from playground.core.data import load_test_images, normalize
from playground.digits import alike, digit_map, predict


@pytest.fixture(scope="module")
def default_model():
    return predict.load_default()[0]


def test_the_plane_is_the_top_two_principal_directions(fake_mnist_dir):
    images, labels = load_test_images(fake_mnist_dir)
    rows = alike.pixel_view(images)
    plane = digit_map.find_plane(rows, labels)
    _, _, vh = torch.linalg.svd(rows - rows.mean(dim=0), full_matrices=False)  # the other way
    for axis in range(2):
        assert abs(float(plane.axes[:, axis] @ vh[axis])) == pytest.approx(1.0, abs=1e-4)
    assert torch.equal(digit_map.find_plane(rows, labels).axes, plane.axes)  # the same map each time


def test_a_test_digit_lands_on_its_own_dot_on_both_maps(default_model, fake_mnist_dir):
    images, labels = load_test_images(fake_mnist_dir)
    for index in (3, 42):
        maps = digit_map.digit_maps(default_model, normalize(images[index]).reshape(-1), images, labels)
        for m in maps:
            assert len(m.xy) == len(m.labels) == min(digit_map.POINTS, len(images))
            assert m.drawing == pytest.approx(tuple(m.xy[index]), abs=1e-4)
        assert [m.dimensions for m in maps] == [252, 784]  # the default model's last layer; pixels


def test_separation_is_large_for_apart_groups_and_small_for_mixed_ones():
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(200) % 2
    noise = torch.randn(200, 2, generator=generator)
    apart = noise + 10 * labels[:, None].float()  # two groups 14 units apart, spread 1
    assert digit_map.separation(apart, labels) > 20
    assert digit_map.separation(noise, labels) < 0.1  # the same cloud under two names


@pytest.mark.slow
def test_on_the_real_mnist_the_network_pulls_the_digits_apart(real_mnist_dir, default_model):
    images, labels = load_test_images(real_mnist_dir)
    network, pixels = digit_map.digit_maps(default_model, normalize(images[0]).reshape(-1), images, labels)
    assert network.separation > 3 * pixels.separation, (network.separation, pixels.separation)


def test_the_maps_figure_labels_each_digit_where_no_other_label_covers_it():
    generator = torch.Generator().manual_seed(1)
    labels = torch.arange(300) % 3  # 0s and 1s share a middle; 2s lie apart
    xy = torch.randn(300, 2, generator=generator) + torch.tensor([[0.0, 0.0], [0.0, 0.0], [8.0, 8.0]])[labels]
    m = digit_map.DigitMap(xy.numpy(), labels.numpy(), (0.0, 0.0), 1.0, 2)
    figure = figures.drawing.digit_map_figure(m, "a map")
    places = {a.text: (a.x, a.y) for a in figure.layout.annotations}
    assert set(places) == {"<b>0</b>", "<b>1</b>", "<b>2</b>"}
    (x0, y0), (x1, y1) = places["<b>0</b>"], places["<b>1</b>"]
    gap = 0.05 * float(xy[:, 1].max() - xy[:, 1].min())
    assert abs(x0 - x1) >= gap or abs(y0 - y1) >= gap  # one moved off the other
    assert figure.data[-1].name == "your drawing" and figure.data[-1].marker.symbol == "star"
