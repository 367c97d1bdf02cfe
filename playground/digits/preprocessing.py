"""An image of a digit → what the model sees: (784,) normalised pixels, white ink on black.

The steps follow how MNIST itself was made (LeCun et al.): the ink is cropped to its bounding
box, scaled with an antialiasing (area) filter so that its longer side is 20 px, keeping the
aspect ratio, and placed in a 28×28 field so that its centre of mass is at the centre. The
result is normalised exactly like the training data (`playground.core.data.normalize`).

Works for any image size and for the three usual kinds of picture: dark ink on a transparent
background (the drawing canvas), black on white (a scan) and white on black (MNIST itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from playground.core.data import normalize

FIELD = 28  # MNIST's image side
BOX = 20  # MNIST's digits fit a 20×20 box inside the 28×28 field
CENTRE = 14.0  # where MNIST puts the centre of mass (row and column, pixel indices)
INK_THRESHOLD = 0.2  # ink below this is antialiasing fringe or noise, not part of the bounding box
MIN_INK_FRACTION = 0.002  # less total ink than this share of the image: nothing drawn yet
MIN_EXTENT = 0.04  # a bounding box shorter than this share of the image side: a stray dot


@dataclass(frozen=True)
class Preprocessed:
    """Every step of the preprocessing, as float32 arrays of ink from 0 (none) to 1."""

    empty: bool  # no (or too little) ink found: nothing to classify
    model_input: torch.Tensor  # (784,) normalised, as in training
    ink: np.ndarray  # (H, W) the whole image as ink
    cropped: np.ndarray  # (h, w) the ink's bounding box, full resolution
    scaled: np.ndarray  # (h', w') longer side 20 px, aspect ratio kept
    centred: np.ndarray  # (28, 28) what the model sees, before normalisation
    bbox: tuple[int, int, int, int] | None  # (top, left, bottom, right) in the image, exclusive end


def load_image(path: str | Path) -> np.ndarray:
    """An image file → (H, W, 4) uint8 RGBA array."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


def ink(image: np.ndarray) -> np.ndarray:
    """(H, W) float32 ink amount 0..1 from an RGBA, RGB or grey image (uint8, or float 0..1).

    A mostly transparent image is a drawing on a transparent background: its ink is the alpha.
    Otherwise the ink is whatever differs from the background colour, read from the border, so
    black-on-white is inverted and white-on-black is kept."""
    image = _unit(image)
    if image.ndim == 3 and image.shape[2] == 4 and np.median(_border(image[..., 3])) < 0.5:
        return image[..., 3]
    grey = _luminance(image)
    background = float(np.median(_border(grey)))
    if background > 0.5:  # light background: the ink is the dark part
        grey, background = 1.0 - grey, 1.0 - background
    # Stretch so that the background is exactly 0 (a grey scan background is no ink).
    return np.clip((grey - background) / max(1.0 - background, 1e-6), 0.0, 1.0)


def preprocess(image: np.ndarray) -> Preprocessed:
    """Any image of one digit → the 28×28 MNIST-style input the model expects."""
    return preprocess_ink(ink(image))


def preprocess_ink(amount: np.ndarray) -> Preprocessed:
    """(H, W) ink 0..1 of one digit → the 28×28 MNIST-style input (the steps after `ink`)."""
    bbox = _bounding_box(amount)
    if bbox is None or _too_little(amount, bbox):
        blank = np.zeros((FIELD, FIELD), np.float32)
        return Preprocessed(
            True,
            normalize(torch.from_numpy(blank.reshape(-1))),
            amount,
            np.zeros((0, 0), np.float32),
            np.zeros((0, 0), np.float32),
            blank,
            bbox,
        )
    top, left, bottom, right = bbox
    cropped = amount[top:bottom, left:right]
    scaled = scale_to_box(cropped)
    centred = centre_by_mass(scaled)
    model_input = normalize(torch.from_numpy(centred.reshape(-1).copy()))
    return Preprocessed(False, model_input, amount, cropped, scaled, centred, bbox)


def scale_to_box(cropped: np.ndarray, box: int = BOX) -> np.ndarray:
    """(h, w) ink → longer side `box` px, aspect ratio kept, with an area filter when shrinking
    (every source pixel counts, as in MNIST's antialiased downscaling); peak ink set to 1."""
    h, w = cropped.shape
    factor = box / max(h, w)
    size = (max(1, round(w * factor)), max(1, round(h * factor)))  # PIL wants (width, height)
    resample = Image.Resampling.BOX if factor <= 1 else Image.Resampling.BILINEAR
    scaled = np.asarray(Image.fromarray(cropped.astype(np.float32)).resize(size, resample))
    # Thin strokes fade when shrunk; MNIST digits always reach full intensity.
    peak = float(scaled.max())
    return np.clip(scaled / peak if peak > 0 else scaled, 0.0, 1.0).astype(np.float32)


def centre_by_mass(scaled: np.ndarray, field: int = FIELD) -> np.ndarray:
    """Place (h, w) ink into a (field, field) image so that its centre of mass lands on the
    centre, as MNIST did (whole-pixel shift, kept inside the field)."""
    h, w = scaled.shape
    rows, cols = np.indices(scaled.shape)
    mass = float(scaled.sum())
    com_row = float((rows * scaled).sum()) / mass
    com_col = float((cols * scaled).sum()) / mass
    top = int(np.clip(round(CENTRE - com_row), 0, field - h))
    left = int(np.clip(round(CENTRE - com_col), 0, field - w))
    centred = np.zeros((field, field), np.float32)
    centred[top : top + h, left : left + w] = scaled
    return centred


def naive(image: np.ndarray) -> torch.Tensor:
    """The baseline: the whole image's ink squeezed to 28×28 (no crop, no centring) → (784,)."""
    small = Image.fromarray(ink(image)).resize((FIELD, FIELD), Image.Resampling.BOX)
    return normalize(torch.from_numpy(np.asarray(small, dtype=np.float32).reshape(-1).copy()))


def enlarge(pixels: np.ndarray, size: int) -> np.ndarray:
    """Ink 0..1 → a square uint8 picture (white ink on black) about `size` px wide, padded to a
    square and with sharp pixels (nearest neighbour), for showing a step image on a page."""
    if pixels.size == 0:
        return np.zeros((size, size), np.uint8)
    h, w = pixels.shape
    side = max(h, w)
    square = np.zeros((side, side), np.float32)
    square[(side - h) // 2 : (side - h) // 2 + h, (side - w) // 2 : (side - w) // 2 + w] = pixels
    factor = max(1, round(size / side))
    big = np.repeat(np.repeat(square, factor, axis=0), factor, axis=1)
    return (np.clip(big, 0, 1) * 255).astype(np.uint8)


def _unit(image: np.ndarray) -> np.ndarray:
    """uint8 0..255 (or float 0..1) → float32 0..1, shape kept."""
    image = np.asarray(image)
    if np.issubdtype(image.dtype, np.floating):
        return np.clip(image, 0.0, 1.0).astype(np.float32)
    return image.astype(np.float32) / 255.0


def _luminance(pixels: np.ndarray) -> np.ndarray:
    """(H, W) float32 0..1 brightness of a grey, RGB or RGBA 0..1 image (alpha ignored)."""
    if pixels.ndim == 2:
        return pixels
    if pixels.shape[2] >= 3:
        return pixels[..., 0] * 0.299 + pixels[..., 1] * 0.587 + pixels[..., 2] * 0.114
    return pixels[..., 0]


def _border(plane: np.ndarray) -> np.ndarray:
    """The outermost pixels of an (H, W) plane: the best guess at the background."""
    return np.concatenate([plane[0], plane[-1], plane[:, 0], plane[:, -1]])


def _bounding_box(amount: np.ndarray) -> tuple[int, int, int, int] | None:
    mask = amount > INK_THRESHOLD
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _too_little(amount: np.ndarray, bbox: tuple[int, int, int, int]) -> bool:
    """A speck or a stray click rather than a digit."""
    top, left, bottom, right = bbox
    extent = max(bottom - top, right - left) / max(amount.shape)
    return float(amount.sum()) < MIN_INK_FRACTION * amount.size or extent < MIN_EXTENT
