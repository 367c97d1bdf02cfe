"""The train page's picture of data augmentation: a few MNIST digits as training redraws them.

A plain image rather than a Plotly figure: a static grid of pixels needs no plotly.js in the
browser, and stays crisp at any width."""

from __future__ import annotations

import numpy as np
import torch

from playground.core import augment, data

GAP = 2  # px of grey between digits
ZOOM = 3  # each pixel drawn 3×3 (nearest neighbour), so that the browser's scaling stays sharp


def augmented_rows(digits: np.ndarray, strength: float, rows: int = 3, seed: int = 0) -> np.ndarray:
    """(N, 28, 28) uint8 digits → (1 + rows, N, 28, 28) float ink 0..1: the digits as they are,
    then `rows` random redrawings at `strength` (the engine's own code; fixed seed, so that the
    page shows the same grid for the same strength)."""
    x = data.normalize(torch.from_numpy(digits).reshape(len(digits), -1))
    generator = augment.make_generator(seed, "cpu")
    redrawn = [x] + [augment.augment_batch(x, strength, generator) for _ in range(rows)]
    ink = torch.stack(redrawn) * data.STD + data.MEAN
    return ink.reshape(1 + rows, len(digits), 28, 28).clamp(0, 1).numpy()


def augment_grid(digits: np.ndarray, strength: float, rows: int = 3, seed: int = 0) -> np.ndarray:
    """A (H, W) uint8 image: the digits as in MNIST in the first row, then as `rows` augmented
    training batches draw them (only the first row when augmentation is off)."""
    grid = augmented_rows(digits, strength, rows if strength > 0 else 0, seed)
    n_rows, n_cols = grid.shape[:2]
    step = 28 + GAP
    mosaic = np.full((n_rows * step - GAP, n_cols * step - GAP), 0.35, np.float32)
    for r in range(n_rows):
        for c in range(n_cols):
            mosaic[r * step : r * step + 28, c * step : c * step + 28] = grid[r, c]
    big = np.repeat(np.repeat(mosaic, ZOOM, axis=0), ZOOM, axis=1)
    return (big * 255).round().astype(np.uint8)
