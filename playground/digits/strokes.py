"""A drawing's strokes redrawn with an even pen: the pen's width in proportion to the digit's size.

MNIST's writers used pens that, once their digit was shrunk to the 20 px box, drew strokes about
2.4 px wide. On the Draw page a visitor chooses one pen for every drawing: an 18 px pen on a digit
60 px tall becomes a 6 px stroke in the box, and its loops fill in (a 6, 8 or 9 becomes a blob).
The canvas sends the strokes themselves besides the picture, so the page can redraw them with a
pen of MNIST's proportions, loops and all, whatever the visitor's pen was.

The strokes come from a visitor's browser: their number and length are bounded before any is
read, and anything that is not a list of paths of finite numbers is refused (`StrokesError`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

# Pen width / the centre lines' longest side. Chosen on 3,000 MNIST *training* digits redrawn
# by `pen.py` (pens 10–32 px, 60–250 px tall): 0.08, 0.11 and 0.14 read 96.9–97.2% of them
# (96.8% as drawn); in the 20 px box 0.11 is a stroke of about 2 px, as MNIST's median.
EVEN_PEN = 0.11
MIN_PEN = 2.0  # px: a dot or a tiny digit still has a stroke to see
MAX_PEN = 64  # px: the pads' pens go to 36
MAX_STROKES = 200  # a digit takes 1–5 strokes, a number 20: more is not a drawing
MAX_COMMANDS = 10_000  # path commands, all strokes together: minutes of scribbling (a digit: 20–200)
SUPERSAMPLE = 4  # drawn 4× larger and shrunk with an area filter: an antialiased edge, as the canvas's
_COMMANDS = {"M": 2, "L": 2, "Q": 4, "C": 6}  # fabric.js path commands → how many numbers follow


class StrokesError(ValueError):
    """The canvas's strokes are not a drawing this page can redraw; the message says why."""


def from_canvas(objects: object, width: int, height: int) -> list[np.ndarray]:
    """The objects of a width × height canvas (fabric.js paths, as the freedraw pen records them:
    ["M", x, y], ["Q", cx, cy, x, y], …, ["L", x, y] in canvas px) → one (K, 2) float (x, y) array
    per stroke: every point the pen passed, in order. A point off the canvas (which shows nothing
    there) is put on its edge, so that the digit's size, and the pen's, are what the canvas shows."""
    if not isinstance(objects, list) or not objects:
        raise StrokesError("no strokes")
    if len(objects) > MAX_STROKES:
        raise StrokesError(f"{len(objects)} strokes, more than {MAX_STROKES}")
    paths = [item.get("path") if isinstance(item, dict) else None for item in objects]
    if not all(isinstance(path, list) and path for path in paths):
        raise StrokesError("a stroke that is not a pen's path")
    commands = sum(len(path) for path in paths)
    if commands > MAX_COMMANDS:
        raise StrokesError(f"{commands} path commands, more than {MAX_COMMANDS}")
    return [np.clip(_points(path), 0, (width, height)) for path in paths]


def moved(objects: object, size: tuple[int, int], to: tuple[int, int], margin: float = 12.0) -> list[dict]:
    """The canvas objects of a pad of `size` (width, height), moved onto a pad of size `to`:
    centred there, and shrunk where they would not fit within `margin` (never enlarged), the pens
    with them. Each path's points are moved, and so are its position and size where the canvas
    gave them (fabric.js places a path by those), so that both the canvas and `from_canvas` find
    it where it was put. Refused as `from_canvas` refuses (`StrokesError`)."""
    lines = from_canvas(objects, *size)
    pens = [_pen_width(item) for item in objects]  # from_canvas has checked: a list of dicts
    half_pen = max(pens) / 2
    low = np.concatenate(lines).min(axis=0) - half_pen
    high = np.concatenate(lines).max(axis=0) + half_pen
    room = np.asarray(to, np.float64) - 2 * margin
    scale = float(min(1.0, *(room / np.maximum(high - low, 1.0))))
    shift = np.asarray(to, np.float64) / 2 - scale * (low + high) / 2
    return [_moved_object(item, pen, scale, shift) for item, pen in zip(objects, pens, strict=True)]


def drawn(objects: object, width: int, height: int) -> np.ndarray:
    """The canvas's strokes as it shows them, each with its own pen → (height, width) float32 ink
    0..1. For a drawing that the page put on a canvas: a canvas sends no picture of the drawing it
    starts with. Refused as `from_canvas` refuses (`StrokesError`)."""
    lines = from_canvas(objects, width, height)
    pens = [min(round(_pen_width(item)), MAX_PEN) for item in objects]  # a redraw for each pen used
    ink = np.zeros((height, width), np.float32)
    for pen in sorted(set(pens)):
        same = [line for line, used in zip(lines, pens, strict=True) if used == pen]
        np.maximum(ink, redraw(same, width, height, max(pen, MIN_PEN)), out=ink)
    return ink


def _pen_width(item: dict) -> float:
    width = item.get("strokeWidth", 0)
    return float(width) if _finite(width) and 0 < width <= 1000 else 1.0


def _moved_object(item: dict, pen: float, scale: float, shift: np.ndarray) -> dict:
    moved = dict(item, path=[_moved_command(command, scale, shift) for command in item["path"]])
    moved["strokeWidth"] = pen * scale
    for key, offset in (("left", shift[0]), ("top", shift[1]), ("width", 0.0), ("height", 0.0)):
        if _finite(item.get(key)):
            moved[key] = item[key] * scale + offset
        else:
            moved.pop(key, None)  # fabric.js then places the path by its points
    return moved


def _moved_command(command: list, scale: float, shift: np.ndarray) -> list:
    values = np.asarray(command[1:], np.float64).reshape(-1, 2) * scale + shift
    return [command[0], *(float(v) for v in values.reshape(-1))]


def _points(path: list) -> np.ndarray:
    numbers = []
    for command in path:
        if not (isinstance(command, list) and command and command[0] in _COMMANDS):
            raise StrokesError("a path command this page does not know")
        values = command[1:]
        if len(values) != _COMMANDS[command[0]] or not all(_finite(v) for v in values):
            raise StrokesError("a path point that is not two numbers")
        numbers.extend(values)  # a curve's control points lie on the pen's way too: the raw pointer samples
    return np.asarray(numbers, np.float64).reshape(-1, 2)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def even_width(lines: Sequence[np.ndarray]) -> float:
    """The pen, in px, for these centre lines: EVEN_PEN × their longest side."""
    points = np.concatenate(lines)
    extent = points.max(axis=0) - points.min(axis=0)
    return max(MIN_PEN, EVEN_PEN * float(extent.max()))


def redraw(lines: Sequence[np.ndarray], width: int, height: int, pen: float | None = None) -> np.ndarray:
    """Centre lines ((K, 2) x, y arrays in px) drawn with a round pen (`even_width` unless given)
    on a width × height picture → (height, width) float32 ink 0..1."""
    pen = even_width(lines) if pen is None else pen
    picture = Image.new("L", (width * SUPERSAMPLE, height * SUPERSAMPLE))
    pencil = ImageDraw.Draw(picture)
    radius = pen * SUPERSAMPLE / 2
    for line in lines:
        xy = line * SUPERSAMPLE
        for x, y in xy:  # round caps and joins, as the canvas's pen
            pencil.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
        if len(xy) > 1:
            pencil.line([tuple(point) for point in xy], fill=255, width=round(2 * radius))
    small = picture.resize((width, height), Image.Resampling.BOX)
    return np.asarray(small, np.float32) / 255.0
