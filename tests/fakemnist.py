"""Small MNIST-format datasets for tests: digits rendered with a font, in the real IDX layout,
so that torchvision's real MNIST loader reads them."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def render_digit(digit: int, rng: np.random.Generator, size: int = 28) -> np.ndarray:
    """A white-on-black digit, randomly sized and shifted a little: (size, size) uint8."""
    font = ImageFont.load_default(size=int(rng.integers(18, 25)))
    image = Image.new("L", (size, size))
    centre = (size / 2 + rng.normal(0, 1.5), size / 2 + rng.normal(0, 1.5))
    ImageDraw.Draw(image).text(centre, str(digit), fill=255, font=font, anchor="mm", stroke_width=1)
    return np.asarray(image)


def write_idx_images(path: Path, images: np.ndarray) -> None:
    n, rows, cols = images.shape
    path.write_bytes(struct.pack(">IIII", 0x0803, n, rows, cols) + images.astype(np.uint8).tobytes())


def write_idx_labels(path: Path, labels: np.ndarray) -> None:
    path.write_bytes(struct.pack(">II", 0x0801, len(labels)) + labels.astype(np.uint8).tobytes())


def make_fake_mnist(root: Path, n_train: int = 600, n_test: int = 200, seed: int = 0) -> Path:
    """Write root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte; returns root."""
    rng = np.random.default_rng(seed)
    raw = Path(root) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        rng.shuffle(labels)
        images = np.stack([render_digit(int(d), rng) for d in labels])
        write_idx_images(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx_labels(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return Path(root)
