"""The MNIST-style preprocessing: ink reading, crop, scale to 20 px, centre of mass, emptiness."""

import numpy as np
import pytest
import torch

from playground.core.data import MEAN, STD
from playground.digits import preprocessing


def stroke_image(height: int = 280, width: int = 280, box=(40, 100, 200, 130)) -> np.ndarray:
    """(H, W) ink 0..1 with one solid upright bar: rows top..bottom, cols left..right."""
    ink = np.zeros((height, width), np.float32)
    top, left, bottom, right = box
    ink[top:bottom, left:right] = 1.0
    return ink


def as_kind(ink: np.ndarray, kind: str) -> np.ndarray:
    level = (ink * 255).astype(np.uint8)
    if kind == "transparent":  # the canvas: black strokes on (0,0,0,0)
        return np.dstack([np.zeros_like(level)] * 3 + [level])
    if kind == "black-on-white":
        grey = 255 - level
        return np.dstack([grey, grey, grey, np.full_like(level, 255)])
    if kind == "white-on-black-rgb":
        return np.dstack([level] * 3)
    return level  # white on black, grey


def ring(height: int, width: int, centre: tuple[int, int], radius: float, thickness: float) -> np.ndarray:
    rows, cols = np.indices((height, width))
    distance = np.hypot(rows - centre[0], cols - centre[1])
    return (np.abs(distance - radius) < thickness / 2).astype(np.float32)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / image.sum()), float((cols * image).sum() / image.sum())


@pytest.mark.parametrize("kind", ["transparent", "black-on-white", "white-on-black-rgb", "grey"])
def test_every_background_kind_reads_the_same_ink(kind):
    ink = ring(200, 300, (90, 200), 50, 12)
    result = preprocessing.preprocess(as_kind(ink, kind))
    reference = preprocessing.preprocess(as_kind(ink, "grey"))
    assert not result.empty
    assert np.allclose(preprocessing.ink(as_kind(ink, kind)), ink, atol=1 / 255)
    assert torch.allclose(result.model_input, reference.model_input, atol=1e-5)


def test_black_on_white_is_inverted():
    image = as_kind(stroke_image(), "black-on-white")
    amount = preprocessing.ink(image)
    assert amount[0, 0] == 0.0 and amount[100, 110] == 1.0


def test_grey_scan_background_counts_as_no_ink():
    image = np.full((100, 100), 200, np.uint8)  # light grey paper
    image[20:80, 45:55] = 20  # dark pen
    amount = preprocessing.ink(image)
    assert amount[0, 0] == 0.0 and amount[50, 50] == pytest.approx(180 / 200)  # pen vs paper


def test_crops_to_the_bounding_box_at_full_resolution():
    result = preprocessing.preprocess(as_kind(stroke_image(box=(40, 100, 200, 130)), "transparent"))
    assert result.bbox == (40, 100, 200, 130)
    assert result.cropped.shape == (160, 30)


@pytest.mark.parametrize("shape", [(30, 300), (300, 30), (150, 150), (8, 4)])
def test_longer_side_is_scaled_to_20_px_keeping_the_aspect_ratio(shape):
    h, w = shape
    result = preprocessing.preprocess(stroke_image(h + 20, w + 20, (10, 10, 10 + h, 10 + w)))
    assert max(result.scaled.shape) == 20
    assert result.scaled.shape[0] / result.scaled.shape[1] == pytest.approx(h / w, rel=0.15)
    assert result.scaled.max() == pytest.approx(1.0)


def test_downscaling_averages_areas():
    # A 1-px checkerboard shrunk 4× is uniform grey with an area filter (nearest would alias).
    board = (np.indices((80, 80)).sum(axis=0) % 2).astype(np.float32)
    scaled = preprocessing.scale_to_box(board)
    assert scaled.shape == (20, 20)
    assert scaled.std() < 0.01


def test_off_centre_digit_is_centred_by_mass():
    ink = ring(280, 280, (60, 220), 30, 8)  # top-right corner
    ink[40:80, 240:246] = 1.0  # lopsided: the mass is not the box centre
    result = preprocessing.preprocess(ink)
    row, col = centre_of_mass(result.centred)
    assert abs(row - 14) <= 0.51 and abs(col - 14) <= 0.51  # a whole-pixel shift, like MNIST
    assert result.centred.shape == (28, 28)


def test_position_and_size_do_not_change_what_the_model_sees():
    small_corner = ring(280, 280, (50, 50), 20, 6)
    big_centre = ring(280, 280, (140, 140), 80, 24)
    a, b = preprocessing.preprocess(small_corner), preprocessing.preprocess(big_centre)
    assert np.abs(a.centred - b.centred).mean() < 0.05


def test_model_input_is_normalised_like_training():
    result = preprocessing.preprocess(ring(100, 100, (50, 50), 30, 8))
    assert result.model_input.shape == (784,)
    assert result.model_input.dtype == torch.float32
    assert result.model_input.min() == pytest.approx(-MEAN / STD)  # background
    assert result.model_input.max() == pytest.approx((1 - MEAN) / STD)  # full ink
    expected = (torch.from_numpy(result.centred.reshape(-1)) - MEAN) / STD
    assert torch.allclose(result.model_input, expected)


def test_an_mnist_sized_image_keeps_its_shape():
    ink = np.zeros((28, 28), np.float32)
    ink[4:24, 12:16] = 1.0  # a "1", already 20 px tall and centred
    result = preprocessing.preprocess((ink * 255).astype(np.uint8))
    assert np.allclose(result.centred, ink, atol=0.01)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((280, 280, 4), np.uint8),  # untouched canvas
        np.full((280, 280, 3), 255, np.uint8),  # blank white paper
        np.zeros((50, 50), np.uint8),  # black square
    ],
)
def test_empty_image_predicts_nothing(image):
    result = preprocessing.preprocess(image)
    assert result.empty
    assert result.model_input.shape == (784,)


def test_a_stray_speck_counts_as_empty():
    image = np.zeros((280, 280, 4), np.uint8)
    image[100:104, 100:104, 3] = 255  # a click, not a digit
    assert preprocessing.preprocess(image).empty


def test_naive_baseline_squeezes_the_whole_image_without_centring():
    """A bar in the canvas's top-left corner stays there in the naive 28×28, 10× smaller; the
    MNIST steps crop it and centre its mass, as MNIST's digits are."""
    corner = as_kind(stroke_image(box=(10, 10, 90, 40)), "transparent")

    def centre_of_ink(flat: torch.Tensor) -> tuple[float, float]:
        pixels = (flat - flat.min()).reshape(28, 28)
        rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
        return float((pixels * rows).sum() / pixels.sum()), float((pixels * cols).sum() / pixels.sum())

    row, col = centre_of_ink(preprocessing.naive(corner))
    assert row == pytest.approx(5.0, abs=0.6) and col == pytest.approx(2.5, abs=0.6)  # (50, 25) / 10
    row, col = centre_of_ink(preprocessing.preprocess(corner).model_input)
    assert row == pytest.approx(14, abs=1) and col == pytest.approx(14, abs=1)


def test_load_image_gives_rgba(tmp_path):
    from PIL import Image

    path = tmp_path / "digit.png"
    Image.fromarray(np.zeros((40, 30), np.uint8)).save(path)
    assert preprocessing.load_image(path).shape == (40, 30, 4)


def test_enlarge_is_sharp_and_uint8():
    big = preprocessing.enlarge(np.eye(4, dtype=np.float32), 40)
    assert big.shape == (40, 40) and big.dtype == np.uint8
    assert set(np.unique(big)) == {0, 255}
    assert preprocessing.enlarge(np.ones((20, 10), np.float32), 140).shape == (140, 140)  # padded square
