"""A number written on a wide canvas → its digits, left to right, each read by the network.

The network reads one digit at a time, so a number is cut into digits first. Each connected
stroke of ink is a piece, found on a grid of 2 px cells (so a stroke's antialiased fringe, or a
pen lifted a hair's breadth, does not split it). Pieces that overlap left to right by half the
narrower one's width are one digit: a 4 or a 5 drawn in two strokes, a 7 with a bar. The digits
are those groups sorted by their left edge. Each digit's own ink (its neighbours' removed) then
goes through the one-digit preprocessing: crop, shrink into the 20 px box, centre by mass.

When the canvas's strokes come with the drawing, the digits are found from the strokes instead
(`stroke_digits`): strokes group into digits by the same overlap rule, so digits that touch,
each written with strokes of its own, come apart without a cut; and each digit's strokes are
redrawn with an even pen for its size, as the one-digit pad redraws a whole drawing.

Digits that touch are one piece. Cutting them is left to the network's reading, as no shape rule
tells a wide digit from two touching ones: a digit at least 0.7× as wide as tall is tried cut in
two where its ink thins, and a cut is kept when the network reads the two halves surer than
the whole: by its confidence or its evidence before the softmax when the digit is wider than
tall, by a wider margin of evidence alone when it is narrower (then each half is tried again,
for three digits touching).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from playground.core.model import MLP
from playground.digits import predict, preprocessing, strokes

CELL = 2  # px: ink closer than this is one stroke
MIN_OVERLAP = 0.5  # of the narrower piece's width: pieces above each other are one digit
MAX_DIGITS = 12  # a bound on a visitor's drawing: more marks than this are not read
MAX_PIECES = 4 * MAX_DIGITS  # more strokes than this are a scribble: not grouped (quadratic)
MAX_INK_CELLS = 8000  # inked 2 px cells: two thirds of a 320×150 canvas, more ink than any number
SPECK_CELLS = 6  # a group shorter and narrower than this many cells (12 px) is a speck, not a digit
# Cutting touching digits (measured with `robustness --set numbers` and `--set touching`, README):
WIDE = 1.0  # a digit wider than tall may well be two that touch: cut by confidence or evidence
NEVER_ONE = 1.4  # wider than this times its height, no digit is one: any surer cut is kept
SURER = 1.5  # narrower, the halves' confidences multiplied must beat the whole's by half again…
# …or each half's largest logit the whole's by this much: a softmax's confidence saturates (the
# network may read a blob of two digits as one at 100%), the logit before it does not.
EVIDENCE = 2.0
# Two digits written close enough to overlap are taller than wide, like most single digits: such a
# piece is cut by evidence alone, by a wider margin. Measured on the first 3,000 test digits, pieces
# 0.7–1× as wide as tall: the wide pieces' tests would cut 35 of 1,729 single digits and 103 of 142
# touching pairs; evidence alone, by 3, cuts 7 single digits and 77 pairs.
NARROW = 0.7  # a digit at least this wide for its height is tried cut…
NARROW_EVIDENCE = 3.0  # …and cut when each half's largest logit beats the whole's by this much
# The columns tried: where the ink thins, the thinnest first, each at least a tenth of the height
# from the others. Measured on all 10,000 test digits (README): the four thinnest columns of any
# kind → six where the ink thins, touching numbers read right 63.5% → 68.7%, apart 90.0% → 89.7%.
CUTS_TRIED = 6


@dataclass(frozen=True)
class Digit:
    """One digit cut from the drawing."""

    box: tuple[int, int, int, int]  # (top, left, bottom, right) in the drawing, exclusive end
    ink: np.ndarray  # (h, w) float32 0..1: this digit's ink inside its box, its neighbours' removed
    touched: bool = False  # cut from a neighbour it touched


@dataclass(frozen=True)
class ReadDigit:
    digit: Digit
    processed: preprocessing.Preprocessed
    prediction: predict.Prediction


@dataclass(frozen=True)
class Cut:
    """A piece tried cut in two, as the network read it whole and cut: why it was cut, or kept."""

    whole: ReadDigit
    halves: tuple[ReadDigit, ReadDigit]  # of the cut made or, kept whole, the nearest to passing
    by: Literal["confidence", "evidence"] | None  # the test the halves passed; None: kept whole
    whole_evidence: float  # the whole's largest logit
    halves_evidence: tuple[float, float]

    @property
    def made(self) -> bool:
        return self.by is not None


@dataclass(frozen=True)
class Reading:
    """What the network reads in a drawing of a number."""

    ink: np.ndarray  # (H, W) float32 0..1: the whole drawing (each digit evened, when read so)
    digits: list[ReadDigit]  # left to right
    too_many: bool  # more than MAX_DIGITS marks (or a scribble): nothing read
    # Each cut made (before its halves' cuts), and each piece wider than tall kept whole.
    cuts: list[Cut] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(str(d.prediction.digit) for d in self.digits)

    @property
    def least_sure(self) -> ReadDigit | None:
        return min(self.digits, key=lambda d: d.prediction.confidence, default=None)


def read(model: MLP, image: np.ndarray, lines: Sequence[np.ndarray] | None = None) -> Reading:
    """An RGBA/RGB/grey drawing of a number → each digit's preprocessing and answer, left to right.
    `lines`: the drawing's strokes ((K, 2) x, y px, `strokes.from_canvas`): the digits are then
    found from the strokes (`stroke_digits`), each redrawn with an even pen for its size."""
    amount = preprocessing.ink(image)
    digits = split(amount)
    if digits is None:
        return Reading(amount, [], too_many=True)
    if lines:
        return _read_strokes(model, lines, amount.shape)
    room = MAX_DIGITS - len(digits)  # how many more digits cutting touching ones may make
    read_digits, cuts = [], []
    for digit in digits:
        found = _read_cutting(model, _reading(model, digit), room, cuts)
        room -= len(found) - 1
        read_digits += found
    return Reading(amount, read_digits, too_many=False, cuts=cuts)


def _read_strokes(model: MLP, lines: Sequence[np.ndarray], shape: tuple[int, int]) -> Reading:
    """The digits found from the strokes, each read with an even pen. Only a digit wider than any
    digit is (NEVER_ONE: two written in one stroke, joined) is still tried cut by the network."""
    digits = stroke_digits(lines, shape)
    if digits is None or len(digits) > MAX_DIGITS:
        return Reading(np.zeros(shape, np.float32), [], too_many=True)
    room = MAX_DIGITS - len(digits)
    read_digits, cuts = [], []
    for digit in digits:
        top, left, bottom, right = digit.box
        whole = _reading(model, digit)
        joined = right - left > NEVER_ONE * (bottom - top)
        found = _read_cutting(model, whole, room, cuts) if joined else [whole]
        room -= len(found) - 1
        read_digits += found
    return Reading(_together([r.digit for r in read_digits], shape), read_digits, False, cuts)


def stroke_digits(lines: Sequence[np.ndarray], shape: tuple[int, int]) -> list[Digit] | None:
    """The digits a drawing's strokes make, left to right, each redrawn with an even pen for its
    size. Strokes that share a point are one (the pen-drawn sets' skeletons come as links of two
    points); strokes that overlap left to right by MIN_OVERLAP of the narrower are one digit, as
    pieces of ink are (`split`): a 4 or a 5 drawn in two strokes. Digits that touch are written
    as strokes of their own, so they come apart here without any cut. Specks (a click) are left
    out. None for more than MAX_PIECES strokes apart: a scribble, not grouped (quadratic)."""
    joined = _joined_strokes(lines)
    if len(joined) > MAX_PIECES:
        return None
    groups = _merged([(group, _stroke_extent(group)) for group in joined])
    digits = [_redrawn(group, shape) for group in groups]
    return sorted((d for d in digits if d is not None), key=lambda d: d.box[1])


def strokes_in(box: tuple[int, int, int, int], lines: Sequence[np.ndarray]) -> list[int]:
    """The strokes ((K, 2) x, y px) that drew the digit in `box` (top, left, bottom, right): those
    with most of their points inside it (a digit's box holds its strokes' ink, pen and all)."""
    top, left, bottom, right = box
    low, high = np.array([left, top]), np.array([right, bottom])
    inside = [float(np.mean(np.all((line >= low) & (line <= high), axis=1))) for line in lines]
    return [i for i, share in enumerate(inside) if share > 0.5]


def _joined_strokes(lines: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
    """Strokes that share a point (to a thousandth of a px), joined: union-find over the strokes."""
    parent = list(range(len(lines)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[tuple[float, float], int] = {}
    for i, line in enumerate(lines):
        for x, y in np.round(line, 3):
            j = first_with.setdefault((float(x), float(y)), i)
            parent[root(i)] = root(j)
    joined: dict[int, list[np.ndarray]] = {}
    for i, line in enumerate(lines):
        joined.setdefault(root(i), []).append(line)
    return list(joined.values())


def _stroke_extent(group: list[np.ndarray]) -> tuple[float, float, float, float]:
    """(top, left, bottom, right) of the strokes' centre lines, px."""
    points = np.concatenate(group)
    (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
    return float(top), float(left), float(bottom), float(right)


def _together(digits: list[Digit], shape: tuple[int, int]) -> np.ndarray:
    """The digits' ink in one picture, each in its box."""
    ink = np.zeros(shape, np.float32)
    for digit in digits:
        top, left, bottom, right = digit.box
        np.maximum(ink[top:bottom, left:right], digit.ink, out=ink[top:bottom, left:right])
    return ink


def _redrawn(lines: list[np.ndarray], shape: tuple[int, int]) -> Digit | None:
    """A digit's strokes redrawn with an even pen for its size, cropped to the ink; None for a
    speck (shorter and narrower than SPECK_CELLS cells, as `split` leaves out)."""
    ink = strokes.redraw(lines, shape[1], shape[0])
    rows, cols = np.nonzero(ink > 0)
    if rows.size == 0:
        return None
    top, left, bottom, right = rows.min(), cols.min(), rows.max() + 1, cols.max() + 1
    if max(bottom - top, right - left) < SPECK_CELLS * CELL:
        return None
    return Digit((int(top), int(left), int(bottom), int(right)), ink[top:bottom, left:right])


def _read_cutting(model: MLP, whole: ReadDigit, room: int, cuts: list[Cut]) -> list[ReadDigit]:
    """A digit as read whole, or, when it is wide enough to be two and reads surer cut in two, its
    halves (each tried again: at most `room` more digits). Each cut made is added to `cuts`, and
    so is the nearest cut of a piece wider than tall that is kept whole."""
    digit = whole.digit
    top, left, bottom, right = digit.box
    aspect = (right - left) / (bottom - top)
    if room < 1 or aspect < NARROW:
        return [whole]
    halves = [pair for column in _thin_columns(digit.ink) if (pair := _cut(digit, column))]
    readings = [(_reading(model, a), _reading(model, b)) for a, b in halves]
    readings = [(a, b) for a, b in readings if not (a.processed.empty or b.processed.empty)]
    if not readings:
        return [whole]
    cut = _best_cut(model, whole, readings, aspect)
    if cut.made or aspect >= WIDE:  # a narrower piece kept whole is most single digits: not news
        cuts.append(cut)
    if not cut.made:
        return [whole]
    first = _read_cutting(model, cut.halves[0], room - 1, cuts)
    return first + _read_cutting(model, cut.halves[1], room - len(first), cuts)


def _best_cut(model: MLP, whole: ReadDigit, pairs: list[tuple[ReadDigit, ReadDigit]], aspect: float) -> Cut:
    """The cut whose halves the network reads surer than the whole, if one is. A wide digit's
    (`aspect`, width over height, at least WIDE) by confidence (the product of the halves' beats
    the whole's by SURER, or at all past NEVER_ONE), else by evidence (each half's largest logit
    beats the whole's by EVIDENCE); a narrower one's by evidence only, by NARROW_EVIDENCE. If
    none is, the cut with the strongest evidence, not made."""
    whole_evidence = _evidence(model, whole)
    evidence = [(_evidence(model, a), _evidence(model, b)) for a, b in pairs]
    if aspect >= WIDE:
        surest = max(range(len(pairs)), key=lambda i: _sureness(pairs[i]))
        if _sureness(pairs[surest]) > (1.0 if aspect > NEVER_ONE else SURER) * whole.prediction.confidence:
            return Cut(whole, pairs[surest], "confidence", whole_evidence, evidence[surest])
    margin = EVIDENCE if aspect >= WIDE else NARROW_EVIDENCE
    strongest = max(range(len(pairs)), key=lambda i: min(evidence[i]))
    made = min(evidence[strongest]) > whole_evidence + margin
    return Cut(whole, pairs[strongest], "evidence" if made else None, whole_evidence, evidence[strongest])


def _reading(model: MLP, digit: Digit) -> ReadDigit:
    processed = preprocessing.preprocess_ink(digit.ink)
    return ReadDigit(digit, processed, predict.predict(model, processed.model_input))


def _sureness(pair: tuple[ReadDigit, ReadDigit]) -> float:
    return pair[0].prediction.confidence * pair[1].prediction.confidence


@torch.inference_mode()
def _evidence(model: MLP, read: ReadDigit) -> float:
    """The largest logit: the output layer on the last hidden layer's response (as `predict`
    read it, in eval mode), before the softmax turns it into a confidence."""
    weight = next(model.parameters())
    last = torch.from_numpy(read.prediction.activations[-1]).to(weight.device, weight.dtype)
    return float(model.output(last).max())


def _thin_columns(ink: np.ndarray) -> list[int]:
    """Up to CUTS_TRIED columns where a digit's ink thins (its least inked columns, over 5 px,
    among those inked no more than either neighbour), thinnest first, each at least 15% of the height
    from the sides (a 1 is that wide) and a tenth from one another. Where two digits touch, the
    ink thins at the join, though a column of either may be thinner still (the side of a 0)."""
    height, width = ink.shape
    side, apart = max(6, round(0.15 * height)), max(4, 0.1 * height)
    profile = np.convolve(ink.sum(axis=0), np.ones(5) / 5, mode="same")
    columns = np.arange(side, width - side)
    thins = (profile[columns] <= profile[columns - 1]) & (profile[columns] <= profile[columns + 1])
    columns = columns[thins]
    chosen: list[int] = []
    for column in columns[np.argsort(profile[columns], kind="stable")]:
        if all(abs(column - other) >= apart for other in chosen):
            chosen.append(int(column))
        if len(chosen) == CUTS_TRIED:
            break
    return chosen


def _cut(digit: Digit, column: int) -> tuple[Digit, Digit] | None:
    """A digit cut straight down at `column` → its two halves, each trimmed to its own ink."""
    halves = []
    for columns in (slice(0, column), slice(column, None)):
        part = np.zeros_like(digit.ink)
        part[:, columns] = digit.ink[:, columns]
        rows, cols = np.nonzero(part > 0)
        if rows.size == 0:
            return None
        top, left = digit.box[0] + int(rows.min()), digit.box[1] + int(cols.min())
        box = (top, left, digit.box[0] + int(rows.max()) + 1, digit.box[1] + int(cols.max()) + 1)
        ink = part[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        halves.append(Digit(box, ink, touched=True))
    return halves[0], halves[1]


def split(amount: np.ndarray) -> list[Digit] | None:
    """(H, W) ink 0..1 → its digits, left to right; None when there are more than MAX_DIGITS (or
    so much ink that finding them would be a visitor's way to keep the server busy)."""
    cells = _cells(amount)
    if int(cells.sum()) > MAX_INK_CELLS:
        return None
    pieces = _pieces(cells)
    if len(pieces) > MAX_PIECES:
        return None
    groups = [g for g in _group(pieces) if not _speck(g)]
    if len(groups) > MAX_DIGITS:
        return None
    labels = np.zeros(cells.shape, np.int32)
    for number, group in enumerate(groups, start=1):
        for piece in group:
            rows, cols = zip(*piece, strict=True)
            labels[rows, cols] = number
    # Cells back to pixels: each pixel belongs to its cell's group, and the faint fringe of a
    # stroke's edge (in cells next to its own) to that stroke's.
    h, w = amount.shape
    pixel_labels = np.repeat(np.repeat(_widen(labels), CELL, axis=0), CELL, axis=1)[:h, :w]
    digits = []
    for number, group in enumerate(groups, start=1):
        top, left, bottom, right = (side * CELL for side in _extent(group))
        box = (top, left, min(bottom, h), min(right, w))
        window = (slice(box[0], box[2]), slice(box[1], box[3]))
        own = np.where(pixel_labels[window] == number, amount[window], 0.0).astype(np.float32)
        digits.append(Digit(box, own))
    return sorted(digits, key=lambda d: d.box[1])


def _cells(amount: np.ndarray) -> np.ndarray:
    """(H, W) ink → (H/CELL, W/CELL) bool: the cells that hold ink (above the fringe's level)."""
    h, w = amount.shape
    padded = np.zeros((-(-h // CELL) * CELL, -(-w // CELL) * CELL), np.float32)
    padded[:h, :w] = amount
    blocks = padded.reshape(padded.shape[0] // CELL, CELL, padded.shape[1] // CELL, CELL)
    return blocks.max(axis=(1, 3)) > preprocessing.INK_THRESHOLD


def _widen(labels: np.ndarray) -> np.ndarray:
    """Unlabelled cells next to a labelled one take its label (the largest, where two meet)."""
    padded = np.pad(labels, 1)
    h, w = labels.shape
    around = np.max([padded[r : r + h, c : c + w] for r in range(3) for c in range(3)], axis=0)
    return np.where(labels > 0, labels, around)


def _pieces(cells: np.ndarray) -> list[list[tuple[int, int]]]:
    """The connected groups of inked cells (8 neighbours), each a list of (row, col)."""
    seen = np.zeros(cells.shape, bool)
    pieces = []
    for start in zip(*np.nonzero(cells), strict=True):
        if seen[start]:
            continue
        seen[start] = True
        piece, frontier = [], deque([start])
        while frontier:
            row, col = frontier.popleft()
            piece.append((int(row), int(col)))
            for r in range(max(row - 1, 0), min(row + 2, cells.shape[0])):
                for c in range(max(col - 1, 0), min(col + 2, cells.shape[1])):
                    if cells[r, c] and not seen[r, c]:
                        seen[r, c] = True
                        frontier.append((r, c))
        pieces.append(piece)
    return pieces


def _group(pieces: list[list[tuple[int, int]]]) -> list[list[list[tuple[int, int]]]]:
    """Pieces that overlap left to right (by MIN_OVERLAP of the narrower) → one group each.
    Merging widens a group, so merge until nothing more overlaps."""
    return _merged([([piece], _extent([piece])) for piece in pieces])


def _merged(groups: list[tuple[list, tuple]]) -> list[list]:
    """(members, extent) groups → the members of groups merged while two overlap (`_overlap`)."""
    while pair := _overlapping(groups):
        (first, a), (second, b) = groups[pair[0]], groups.pop(pair[1])
        joined = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
        groups[pair[0]] = (first + second, joined)
    return [members for members, _ in groups]


def _overlapping(groups: list) -> tuple[int, int] | None:
    """The first two groups (by index) whose extents overlap enough to be one digit."""
    pairs = itertools.combinations(range(len(groups)), 2)
    return next(((i, j) for i, j in pairs if _overlap(groups[i][1], groups[j][1])), None)


def _extent(group: list[list[tuple[int, int]]]) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) in cells, exclusive end."""
    rows = [r for piece in group for r, _ in piece]
    cols = [c for piece in group for _, c in piece]
    return min(rows), min(cols), max(rows) + 1, max(cols) + 1


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    shared = min(a[3], b[3]) - max(a[1], b[1])
    return shared >= MIN_OVERLAP * min(a[3] - a[1], b[3] - b[1])


def _speck(group: list[list[tuple[int, int]]]) -> bool:
    top, left, bottom, right = _extent(group)
    return max(bottom - top, right - left) < SPECK_CELLS
