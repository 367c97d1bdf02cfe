"""MNIST test digits redrawn the way the Draw page's canvas draws: one uniform round pen.

An MNIST digit's strokes vary in width (its writers used real pens, and its scanning blurred
them); a visitor's drawing has one pen width throughout, often much thicker than MNIST's once
shrunk to the 20 px box. To measure that, each digit is thinned to its skeleton (one pixel wide
centre lines) and the skeleton is redrawn with a round pen of a chosen width, at a chosen height,
anywhere on a 280×280 canvas, antialiased like a canvas stroke.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

CANVAS = 280  # the Draw page's canvas side
PEN_WIDTHS = (10, 14, 18, 24, 32)  # px on the canvas: the Draw page's slider offers 8–36
HEIGHTS = (60, 250)  # the drawn digit's height in px, pen included
MIN_HEIGHT_PER_PEN = 3.0  # nobody draws a digit only 2 pens tall: it is a blob even to a person
UPSAMPLE = 4  # the skeleton is found at 112×112, so that its lines are smooth when enlarged
SUPERSAMPLE = 4  # drawn 4× larger and shrunk with an area filter: the stroke's antialiased edge
_NEIGHBOURS = ((0, 1), (1, 0), (1, 1), (1, -1))  # each 8-neighbour pair once


def skeleton(digit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A (28, 28) uint8 MNIST digit → (K, 2) float (row, col) points of its centre lines, in 28 px
    units, and their links: (L, 2) index pairs of neighbouring points."""
    big = Image.fromarray(digit).resize((28 * UPSAMPLE, 28 * UPSAMPLE), Image.Resampling.BILINEAR)
    mask = thin(np.asarray(big) > 96)
    rows, cols = np.nonzero(mask)
    index = -np.ones(mask.shape, np.int64)
    index[rows, cols] = np.arange(len(rows))
    links = []
    for dr, dc in _NEIGHBOURS:
        r2, c2 = rows + dr, cols + dc
        inside = (r2 >= 0) & (r2 < mask.shape[0]) & (c2 >= 0) & (c2 < mask.shape[1])
        other = np.full(len(rows), -1)
        other[inside] = index[r2[inside], c2[inside]]
        linked = other >= 0
        links.append(np.stack([np.flatnonzero(linked), other[linked]], axis=1))
    points = np.stack([rows, cols], axis=1).astype(np.float32) / UPSAMPLE
    return points, np.concatenate(links)


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang & Suen's (1984) thinning of a boolean image to one-pixel-wide lines, vectorised."""
    image = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p = _neighbourhood(image)  # P2..P9 clockwise from the pixel above
            count = sum(p)
            transitions = sum(((p[i] == 0) & (p[(i + 1) % 8] == 1)).astype(np.uint8) for i in range(8))
            if step == 0:
                a, b = p[0] * p[2] * p[4], p[2] * p[4] * p[6]
            else:
                a, b = p[0] * p[2] * p[6], p[0] * p[4] * p[6]
            centre = image[1:-1, 1:-1]
            remove = (centre == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & (a == 0) & (b == 0)
            if remove.any():
                centre[remove] = 0
                changed = True
        if not changed:
            return image[1:-1, 1:-1].astype(bool)


def _neighbourhood(image: np.ndarray) -> list[np.ndarray]:
    h, w = image.shape[0] - 2, image.shape[1] - 2
    offsets = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))
    return [image[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w] for dr, dc in offsets]


def centre_lines(
    lines: tuple[np.ndarray, np.ndarray], pen: float, height: float, top: float, left: float
) -> list[np.ndarray]:
    """Where `draw` puts the skeleton, as the canvas would send it: one (2, 2) (x, y) array per
    link of two points, and a (1, 2) array per point with no link, in canvas px."""
    points, links = lines
    low, high = points.min(axis=0), points.max(axis=0)
    factor = (height - pen) / max(float(high[0] - low[0]), 1.0)
    rows_cols = (points - low) * factor + pen / 2 + np.array([int(top), int(left)])
    xy = rows_cols[:, ::-1]
    alone = np.setdiff1d(np.arange(len(points)), links.reshape(-1))
    return [xy[pair] for pair in links] + [xy[i : i + 1] for i in alone]


def draw(
    lines: tuple[np.ndarray, np.ndarray], pen: float, height: float, top: float, left: float
) -> np.ndarray:
    """A skeleton drawn with a round pen `pen` px wide, the ink `height` px tall, its top-left
    corner at (top, left) → (CANVAS, CANVAS) float32 ink 0..1."""
    points, links = lines
    low, high = points.min(axis=0), points.max(axis=0)
    factor = (height - pen) / max(float(high[0] - low[0]), 1.0)
    # Where each skeleton point lands, in the supersampled box that holds the drawn digit.
    xy = ((points - low) * factor + pen / 2) * SUPERSAMPLE
    box_h, box_w = (np.ceil((high - low) * factor + pen) * SUPERSAMPLE).astype(int) + 1
    picture = Image.new("L", (int(box_w), int(box_h)))
    pencil = ImageDraw.Draw(picture)
    radius = pen * SUPERSAMPLE / 2
    for r, c in xy:
        pencil.ellipse((c - radius, r - radius, c + radius, r + radius), fill=255)
    for a, b in links:
        pencil.line((xy[a, 1], xy[a, 0], xy[b, 1], xy[b, 0]), fill=255, width=round(2 * radius))
    small = picture.resize(
        (max(1, round(box_w / SUPERSAMPLE)), max(1, round(box_h / SUPERSAMPLE))), Image.Resampling.BOX
    )
    ink = np.asarray(small, np.float32) / 255.0
    canvas = np.zeros((CANVAS, CANVAS), np.float32)
    h, w = min(ink.shape[0], CANVAS - int(top)), min(ink.shape[1], CANVAS - int(left))
    canvas[int(top) : int(top) + h, int(left) : int(left) + w] = ink[:h, :w]
    return canvas


@dataclass(frozen=True)
class PenDrawing:
    """A digit as the canvas would send it: its picture and its strokes."""

    ink: np.ndarray  # (CANVAS, CANVAS) float32 ink 0..1
    strokes: list[np.ndarray]  # the pen's centre lines, (x, y) canvas px (`centre_lines`)
    height: float  # the ink's height, px


def random_drawing(digit: np.ndarray, rng: np.random.Generator, pen: float) -> PenDrawing:
    """A (28, 28) uint8 MNIST digit redrawn with `pen`, at a random height (never under 3 pens) and
    a random place on the canvas."""
    lines = skeleton(digit)
    low_h = max(HEIGHTS[0], MIN_HEIGHT_PER_PEN * pen)
    height = float(rng.uniform(low_h, HEIGHTS[1]))
    points = lines[0]
    extent = points.max(axis=0) - points.min(axis=0)
    width = extent[1] * (height - pen) / max(float(extent[0]), 1.0) + pen
    if width > CANVAS - 2:  # a wide, flat skeleton: shrink until it fits the canvas
        height = pen + (height - pen) * (CANVAS - 2 - pen) / (width - pen)
        width = CANVAS - 2
    top = float(rng.uniform(0, CANVAS - height - 1))
    left = float(rng.uniform(0, CANVAS - width - 1))
    placed = (lines, pen, height, top, left)
    return PenDrawing(draw(*placed), centre_lines(*placed), height)
