"""The train page's picture of data augmentation: a few MNIST digits as training redraws them."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch

from playground.core import augment, data


def augmented_rows(digits: np.ndarray, strength: float, rows: int = 3, seed: int = 0) -> np.ndarray:
    """(N, 28, 28) uint8 digits → (1 + rows, N, 28, 28) float ink 0..1: the digits as they are,
    then `rows` random redrawings at `strength` (the engine's own code; fixed seed, so that the
    page shows the same grid for the same strength)."""
    x = data.normalize(torch.from_numpy(digits).reshape(len(digits), -1))
    generator = augment.make_generator(seed, "cpu")
    redrawn = [x] + [augment.augment_batch(x, strength, generator) for _ in range(rows)]
    ink = torch.stack(redrawn) * data.STD + data.MEAN
    return ink.reshape(1 + rows, len(digits), 28, 28).clamp(0, 1).numpy()


def augment_figure(digits: np.ndarray, strength: float, rows: int = 3, seed: int = 0) -> go.Figure:
    """A grid of digits: the first row as in MNIST, the others as augmented training batches."""
    grid = augmented_rows(digits, strength, rows if strength > 0 else 0, seed)
    n_rows, n_cols = grid.shape[:2]
    gap = 2  # px of background between digits
    mosaic = np.full((n_rows * (28 + gap) - gap, n_cols * (28 + gap) - gap), np.nan)
    for r in range(n_rows):
        for c in range(n_cols):
            mosaic[r * (28 + gap) : r * (28 + gap) + 28, c * (28 + gap) : c * (28 + gap) + 28] = grid[r, c]
    figure = go.Figure(
        go.Heatmap(
            z=mosaic,
            colorscale="gray",
            zmin=0,
            zmax=1,
            showscale=False,
            hoverinfo="skip",
        )
    )
    figure.update_layout(
        height=24 + 34 * n_rows,  # the train page's left column: about 300 px wide
        margin=dict(l=4, r=4, t=8, b=4),
        plot_bgcolor="rgba(0,0,0,0)",
        xaxis=dict(visible=False, fixedrange=True),
        yaxis=dict(visible=False, autorange="reversed", scaleanchor="x", fixedrange=True),
    )
    return figure
