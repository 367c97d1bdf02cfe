"""Pictures of what a network learned: first-layer weights as a grid of 28×28 tiles, and the
saliency of a drawing (which pixels pushed the answer up or down). Both use one diverging colour
scale centred on 0: red for positive, blue for negative, white for nothing."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from playground.digits.saliency import Saliency
from playground.figures.toolbar import TITLE_PX, TOOLBAR_PX, keep_toolbar_clear

DIVERGING = "RdBu_r"  # blue (negative) → white (0) → red (positive)


def weights_grid(pictures: np.ndarray, units: list[int], columns: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Tile the chosen units' (28, 28) pictures row by row with one blank pixel between tiles.
    Returns the grid and, per cell, the unit shown there (-1 in the gaps)."""
    side = pictures.shape[-1]
    rows = -(-len(units) // columns)
    step = side + 1
    grid = np.full((rows * step - 1, columns * step - 1), np.nan, dtype=np.float32)
    owner = np.full(grid.shape, -1)
    for k, unit in enumerate(units):
        r, c = divmod(k, columns)
        grid[r * step : r * step + side, c * step : c * step + side] = pictures[unit]
        owner[r * step : r * step + side, c * step : c * step + side] = unit
    return grid, owner


_BLUE, _WHITE, _RED = np.array([33, 102, 172.0]), np.array([255.0, 255, 255]), np.array([178, 24, 43.0])


def weights_image(pictures: np.ndarray, units: list[int], columns: int = 8, scale: int = 3) -> np.ndarray:
    """The same grid as a plain RGB picture (uint8), for the live view: an image is a few KB to
    send twice a second, where a heatmap of 50,000 cells is a megabyte of JSON. Blue-white-red,
    centred on 0 and scaled by the largest weight shown; gaps light grey."""
    grid, _ = weights_grid(pictures, units, columns)
    limit = float(np.nanmax(np.abs(grid))) or 1.0
    rgb = diverging_rgb(np.nan_to_num(grid, nan=0.0), limit)
    rgb[np.isnan(grid)] = 235
    return np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)


def diverging_rgb(values: np.ndarray, limit: float) -> np.ndarray:
    """(H, W) values → (H, W, 3) uint8: blue for −limit, white for 0, red for +limit."""
    t = np.clip(values / limit, -1, 1)[..., None]
    rgb = np.where(t < 0, _WHITE + (_BLUE - _WHITE) * -t, _WHITE + (_RED - _WHITE) * t)
    return rgb.round().astype(np.uint8)


def change_picture(change: np.ndarray, size: int = 140) -> np.ndarray:
    """A (28, 28) change of ink → an RGB picture about `size` px wide: red where ink was added,
    blue where it was taken away, white where nothing changed, scaled by the largest change (a
    change of a few hundredths of ink would be white on a fixed scale)."""
    rgb = diverging_rgb(change, float(np.abs(change).max()) or 1.0)
    factor = max(1, round(size / change.shape[0]))
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


def ink_picture(pixels: np.ndarray) -> np.ndarray:
    """0–1 ink (28, 28) → an 8-bit grey picture, white on black as MNIST's digits are, its
    brightest pixel white (a search with an ink cost leaves faint strokes, hard to see as they
    are) unless it is fainter than 0.1: a trace of ink is not blown up into a picture."""
    return (np.clip(pixels / max(float(pixels.max()), 0.1), 0, 1) * 255).astype(np.uint8)


def digits_strip(pictures: np.ndarray, scale: int = 4) -> np.ndarray:
    """(N, 28, 28) ink pictures in one row, 1 px light grey apart, `scale`× as large: one image."""
    gap = np.full((28, 1), 235, np.uint8)
    tiles = [part for picture in pictures for part in (ink_picture(picture), gap)][:-1]
    row = np.concatenate(tiles, axis=1)
    return np.repeat(np.repeat(row, scale, axis=0), scale, axis=1)


def weights_figure(pictures: np.ndarray, units: list[int], title: str, columns: int = 8) -> go.Figure:
    grid, owner = weights_grid(pictures, units, columns)
    limit = float(np.nanmax(np.abs(grid))) or 1.0
    figure = go.Figure(
        go.Heatmap(
            z=grid,
            customdata=owner,
            colorscale=DIVERGING,
            zmid=0,
            zmin=-limit,
            zmax=limit,
            hoverongaps=False,
            hovertemplate="unit %{customdata}: weight %{z:.3f}<extra></extra>",
            colorbar=dict(title="weight", thickness=12),
        )
    )
    figure.update_layout(
        # square pixels at ~560 px wide
        height=20 + TOOLBAR_PX + TITLE_PX + round(560 * grid.shape[0] / grid.shape[1]),
        margin=dict(l=10, r=10, b=10),
        xaxis=dict(visible=False, scaleanchor="y", constrain="domain"),
        yaxis=dict(visible=False, autorange="reversed"),
    )
    return keep_toolbar_clear(figure, title)


def saliency_figure(item: Saliency, probability: float) -> go.Figure:
    limit = float(np.abs(item.gradient).max()) or 1.0
    figure = go.Figure(
        go.Heatmap(
            z=item.gradient,
            colorscale=DIVERGING,
            zmid=0,
            zmin=-limit,
            zmax=limit,
            hovertemplate="row %{y}, column %{x}: %{z:.3f}<extra></extra>",
            colorbar=dict(thickness=10),
        )
    )
    figure.update_layout(
        height=300 + TITLE_PX,
        margin=dict(l=10, r=10, b=10),
        xaxis=dict(visible=False, scaleanchor="y", constrain="domain"),
        yaxis=dict(visible=False, autorange="reversed"),
    )
    return keep_toolbar_clear(figure, f"Why {item.digit} ({probability:.0%})")
