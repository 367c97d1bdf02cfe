"""Hand-drawn-looking digits for tests: thick strokes on a large picture, anywhere on it."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageDraw

# Stroke paths (x, y) drawn on a 400×300 picture; a shape MNIST models read without doubt.
SHAPES = {
    0: [("ellipse", (150, 50, 250, 230))],
    1: [("line", [(200, 50), (200, 240)])],
    4: [("line", [(220, 50), (140, 170), (260, 170)]), ("line", [(225, 110), (225, 250)])],
    7: [("line", [(140, 60), (260, 60), (180, 240)])],
}


def draw_digit(
    digit: int, size: tuple[int, int] = (400, 300), offset: tuple[int, int] = (0, 0), width: int = 22
) -> np.ndarray:
    """(H, W) float32 ink 0..1 of `digit` (one of SHAPES), shifted by offset (x, y)."""
    image = Image.new("L", size)
    pen = ImageDraw.Draw(image)
    dx, dy = offset
    for kind, points in SHAPES[digit]:
        if kind == "ellipse":
            left, top, right, bottom = points
            pen.ellipse([left + dx, top + dy, right + dx, bottom + dy], outline=255, width=width)
        else:
            pen.line([(x + dx, y + dy) for x, y in points], fill=255, width=width, joint="curve")
    return np.asarray(image, dtype=np.float32) / 255.0


def as_picture(ink: np.ndarray, kind: str) -> np.ndarray:
    """Ink 0..1 → uint8 picture: "transparent" (RGBA, black ink in alpha, as the canvas draws),
    "black-on-white" (RGB) or "white-on-black" (grey)."""
    level = (ink * 255).round().astype(np.uint8)
    if kind == "transparent":
        return np.dstack([np.zeros_like(level)] * 3 + [level])
    if kind == "black-on-white":
        return np.dstack([255 - level] * 3)
    return level


def draw_number(
    digits: list[int], size: tuple[int, int] = (320, 150), height: int = 100, gap: int = 16
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """(H, W) float32 ink of `digits` (each one of SHAPES) written side by side `gap` px apart,
    each `height` px tall, and where each was put: its (left, right) columns."""
    canvas = np.zeros((size[1], size[0]), np.float32)
    left, spans = gap, []
    for digit in digits:
        ink = draw_digit(digit)
        rows, cols = np.nonzero(ink > 0)
        ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        width = max(1, round(ink.shape[1] * height / ink.shape[0]))
        small = np.asarray(Image.fromarray(ink).resize((width, height), Image.Resampling.BOX))
        top = (size[1] - height) // 2
        canvas[top : top + height, left : left + width] = np.clip(small, 0, 1)
        spans.append((left, left + width))
        left += width + gap
    return canvas, spans


# Digits as a pen writes them on the number pad: strokes (x, y) in a 70×110 cell, 12 px wide.
WRITTEN = {
    1: [(35, 0), (35, 110)],
    2: [(5, 25), (25, 2), (50, 5), (60, 30), (5, 108), (68, 108)],
    3: [(5, 10), (35, 0), (60, 20), (50, 45), (25, 52), (55, 62), (62, 90), (35, 110), (5, 100)],
    7: [(5, 2), (65, 2), (25, 110)],
}


def write(digits: list[int], step: int = 66) -> np.ndarray:
    """(150, 320) ink of `digits` (each one of WRITTEN) written `step` px apart: at 66 px their
    strokes touch."""
    picture = Image.new("L", (320, 150))
    pen = ImageDraw.Draw(picture)
    for i, digit in enumerate(digits):
        pen.line([(20 + i * step + x, 20 + y) for x, y in WRITTEN[digit]], fill=255, width=12, joint="curve")
    return np.asarray(picture, np.float32) / 255.0


def as_png(picture: np.ndarray) -> bytes:
    """A uint8 picture (RGBA, RGB or grey) as the Draw page's canvas sends its drawing: a PNG."""
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


def canvas_state(picture: np.ndarray, strokes: int = 1, objects: list | None = None) -> dict:
    """What the Draw page's canvas sends for a drawing of `picture` (uint8, the pad's size): its
    strokes (`objects`, as `canvas_objects` makes them; else `strokes` placeholders, only their
    number counts) and its picture as a PNG data URL."""
    url = "data:image/png;base64," + base64.b64encode(as_png(picture)).decode()
    objects = [{"type": "path"}] * strokes if objects is None else objects
    return {"drawing": {"raw": {"objects": objects}, "data": url}}


def canvas_objects(lines: list[np.ndarray], pen: float) -> list[dict]:
    """Strokes ((K, 2) x, y pointer positions, K ≥ 2) as the canvas's freedraw pen records them
    (fabric.js 7): a path from the first point, through quadratic curves whose control points are
    the pointer's positions and whose ends are the midpoints between them, to a line to the last."""
    objects = []
    for line in lines:
        points = [(float(x), float(y)) for x, y in line]
        path = [["M", *points[0]]]
        for (ax, ay), (bx, by) in zip(points[1:-1], points[2:], strict=True):
            path.append(["Q", ax, ay, (ax + bx) / 2, (ay + by) / 2])
        path.append(["L", *points[-1]])
        objects.append({"type": "Path", "version": "7.4.0", "strokeWidth": pen, "path": path})
    return objects


def ellipse_arc(
    centre: tuple[float, float], radii: tuple[float, float], turns: tuple[float, float], points: int = 30
) -> np.ndarray:
    """(points, 2) x, y along an ellipse, clockwise from `turns[0]` to `turns[1]` (in turns, 0 at
    the top)."""
    angle = np.linspace(*turns, points) * 2 * np.pi
    return np.stack([centre[0] + radii[0] * np.sin(angle), centre[1] - radii[1] * np.cos(angle)], axis=1)


def small_eight(height: float = 60, centre: tuple[float, float] = (100, 100)) -> list[np.ndarray]:
    """An 8 in one stroke, `height` px tall: a smaller loop above a larger one."""
    (x, y), h = centre, height / 2
    top = ellipse_arc((x, y - 0.5 * h), (0.44 * h, 0.5 * h), (0.5, 1.5))
    bottom = ellipse_arc((x, y + 0.5 * h), (0.54 * h, 0.5 * h), (0.0, 1.0))
    return [np.concatenate([top, bottom])]
