"""How well does the preprocessing carry MNIST's recipe over to canvas drawings? Measured on two
sets made from the MNIST test digits: redrawn and pen-drawn.

Each MNIST test digit is redrawn as a large canvas-like picture: cropped, enlarged to a random
size (its longer side 25–90% of a 280×280 canvas), made into solid strokes with a thin
antialiased edge like a canvas brush, and put at a random, usually off-centre, place. The
pictures cycle through the three kinds of image `preprocessing.ink` reads (transparent background with
dark ink, black on white, white on black). Each is classified twice by the same model: after
`preprocessing.preprocess` (crop, scale to 20 px, centre by mass) and after the naive baseline (the
whole picture squeezed to 28×28).

The pen-drawn set (`digits/pen.py`) redraws each digit's skeleton with one uniform round pen, as
the Draw page's canvas draws: pens of 10–32 px, digits 60–250 px tall (at least 3 pens), anywhere
on the canvas, white on black and dark on transparent, reported by pen width and by height; and
as the Draw page reads a drawing: its strokes redrawn with an even pen (`digits/strokes.py`).

The numbers set writes pen-drawn digits two to four at a time side by side on the Draw page's
number pad, and measures how often `digits/number.py` cuts them into the digits written, and
whether each is then read as well as when drawn alone; also as the Draw page reads a number:
from its strokes (the skeletons' links), the digits found by strokes, each with an even pen.
The touching set writes them so that they touch (each one's box 3 px into the next), as people
write in a hurry.

    python -m playground.digits.robustness --data-dir /path/to/mnist [--model ckpt.pt] [--limit N] \
        [--set redrawn|pen|numbers|touching|both|all] [--number-pens PX ...] [--json]
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.datasets import MNIST

from playground.core import checkpoint, data
from playground.core.model import MLP
from playground.digits import number, pen, predict, preprocessing, strokes

CANVAS = 280  # the Draw page's canvas side
SIZES = (0.25, 0.9)  # the digit's longer side, as a share of the canvas side
SIZE_BINS = ((0.25, 0.45, "small"), (0.45, 0.7, "medium"), (0.7, 0.9001, "large"))
KINDS = ("transparent", "black on white", "white on black")
PEN_KINDS = ("white on black", "transparent")  # the canvas's own look, and its alpha channel
HEIGHT_BINS = ((60, 120, "60–120 px"), (120, 180, "120–180 px"), (180, 250.001, "180–250 px"))
NUMBER_PAD = (150, 320)  # the Draw page's number pad (height, width)
NUMBER_PENS = (8, 10, 12, 14)  # px: around the number pad's default 12
NUMBER_HEIGHTS = (60, 130)  # px, a digit on the number pad
TOUCHING_PX = 3  # the touching set: how far each digit's box reaches into the next one's


@dataclass(frozen=True)
class Report:
    digits: int
    original_accuracy: float  # the model on MNIST's own 28×28 test images
    preprocessed_accuracy: float  # canvas-like pictures → preprocessing.preprocess
    naive_accuracy: float  # canvas-like pictures → whole picture resized to 28×28
    by_size: dict[str, tuple[float, float]]  # bin → (preprocessed, naive)
    by_kind: dict[str, tuple[float, float]]  # background kind → (preprocessed, naive)


@dataclass(frozen=True)
class NumberReport:
    numbers: int
    digits: int
    cut_right: float  # numbers cut into as many digits as were written
    all_right: float  # numbers read right, every digit
    digit_accuracy: float  # digits read right, in the numbers cut right
    alone_accuracy: float  # the same digits, each read as a drawing of its own
    touching: bool = False  # written touching (each box TOUCHING_PX into the next), not apart
    too_few: float = 0.0  # numbers cut into fewer digits than were written (the rest of the miscut: more)
    # The same numbers as the Draw page reads them: from their strokes (`number.read` with lines),
    # the digits found by strokes and each redrawn with an even pen.
    evened_all_right: float = 0.0
    evened_digit_accuracy: float = 0.0  # digits read right, in the numbers cut right once evened
    pens: tuple[float, ...] = NUMBER_PENS  # px, the pens the numbers were written with
    evened_cut_right: float = 0.0  # numbers cut into as many digits as written, from their strokes


@dataclass(frozen=True)
class PenReport:
    digits: int
    accuracy: float  # pen-drawn pictures → preprocessing.preprocess
    by_pen: dict[str, float]  # pen width → accuracy
    by_height: dict[str, float]  # height bin → accuracy
    by_kind: dict[str, float]  # background kind → accuracy
    evened: float  # their strokes redrawn with an even pen (`strokes.redraw`) → preprocess: the Draw page
    evened_by_pen: dict[str, float]  # the pen the visitor drew with → accuracy once evened
    evened_by_height: dict[str, float]


def canvas_picture(
    digit: np.ndarray, rng: np.random.Generator, kind: str, canvas: int = CANVAS
) -> tuple[np.ndarray, float]:
    """A (28, 28) uint8 MNIST digit → a (canvas, canvas, 4) uint8 RGBA picture of it, and its
    size as a share of the canvas side."""
    ink = digit.astype(np.float32) / 255.0
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    share = float(rng.uniform(*SIZES))
    factor = share * canvas / max(ink.shape)
    size = (max(1, round(ink.shape[1] * factor)), max(1, round(ink.shape[0] * factor)))
    big = np.asarray(Image.fromarray(ink).resize(size, Image.Resampling.BICUBIC))
    # Solid strokes with a soft edge about a pixel wide, as a canvas brush draws them.
    stroke = np.clip((big - 0.35) / 0.3, 0.0, 1.0)
    h, w = stroke.shape
    top, left = int(rng.integers(0, canvas - h + 1)), int(rng.integers(0, canvas - w + 1))
    amount = np.zeros((canvas, canvas), np.float32)
    amount[top : top + h, left : left + w] = stroke
    return render(amount, kind), share


def render(amount: np.ndarray, kind: str) -> np.ndarray:
    """(H, W) ink 0..1 → RGBA uint8 of the given background kind."""
    level = (amount * 255).round().astype(np.uint8)
    opaque = np.full_like(level, 255)
    if kind == "transparent":  # the canvas: black ink, alpha carries the stroke
        return np.stack([np.zeros_like(level)] * 3 + [level], axis=2)
    grey = 255 - level if kind == "black on white" else level
    return np.stack([grey, grey, grey, opaque], axis=2)


def measure(model: MLP, images: np.ndarray, labels: np.ndarray, seed: int = 0) -> Report:
    """images: (N, 28, 28) uint8 MNIST digits, labels: (N,)."""
    rng = np.random.default_rng(seed)
    ours, naive, shares = [], [], []
    for i, digit in enumerate(images):
        picture, share = canvas_picture(digit, rng, KINDS[i % len(KINDS)])
        ours.append(preprocessing.preprocess(picture).model_input)
        naive.append(preprocessing.naive(picture))
        shares.append(share)
        if sys.stderr.isatty() and i % 200 == 0:
            print(f"\r{i}/{len(images)}", end="", file=sys.stderr, flush=True)
    original = data.normalize(torch.from_numpy(images).reshape(len(images), -1))
    correct = {
        name: _correct(model, torch.stack(x) if isinstance(x, list) else x, labels)
        for name, x in (("ours", ours), ("naive", naive), ("original", original))
    }
    shares_arr = np.array(shares)
    kinds = np.arange(len(images)) % len(KINDS)
    by_size = {name: _pair(correct, (shares_arr >= lo) & (shares_arr < hi)) for lo, hi, name in SIZE_BINS}
    by_kind = {kind: _pair(correct, kinds == k) for k, kind in enumerate(KINDS)}
    return Report(
        len(images),
        float(correct["original"].mean()),
        float(correct["ours"].mean()),
        float(correct["naive"].mean()),
        by_size,
        by_kind,
    )


def measure_pen(model: MLP, images: np.ndarray, labels: np.ndarray, seed: int = 0) -> PenReport:
    """images: (N, 28, 28) uint8 MNIST digits, labels: (N,). Digit i gets pen width
    PEN_WIDTHS[i % 5], so that every width draws a fifth of the digits. Each is read as drawn and
    as the Draw page reads it: its strokes redrawn with an even pen."""
    rng = np.random.default_rng(seed)
    inputs, evened, pens, heights, kinds = [], [], [], [], []
    for i, digit in enumerate(images):
        width = pen.PEN_WIDTHS[i % len(pen.PEN_WIDTHS)]
        kind = (i // len(pen.PEN_WIDTHS)) % len(PEN_KINDS)
        drawn = pen.random_drawing(digit, rng, width)
        inputs.append(preprocessing.preprocess(render(drawn.ink, PEN_KINDS[kind])).model_input)
        evened.append(preprocessing.preprocess(strokes.redraw(drawn.strokes, CANVAS, CANVAS)).model_input)
        pens.append(width), heights.append(drawn.height), kinds.append(kind)
        if sys.stderr.isatty() and i % 200 == 0:
            print(f"\r{i}/{len(images)}", end="", file=sys.stderr, flush=True)
    correct = _correct(model, torch.stack(inputs), labels)
    correct_evened = _correct(model, torch.stack(evened), labels)
    pens_arr, heights_arr, kinds_arr = np.array(pens), np.array(heights), np.array(kinds)

    def by_pen(right: np.ndarray) -> dict[str, float]:
        return {f"{w} px": _share(right, pens_arr == w) for w in pen.PEN_WIDTHS}

    def by_height(right: np.ndarray) -> dict[str, float]:
        bins = {name: (heights_arr >= lo) & (heights_arr < hi) for lo, hi, name in HEIGHT_BINS}
        return {name: _share(right, mask) for name, mask in bins.items()}

    return PenReport(
        len(images),
        float(correct.mean()),
        by_pen(correct),
        by_height(correct),
        {kind: _share(correct, kinds_arr == k) for k, kind in enumerate(PEN_KINDS)},
        float(correct_evened.mean()),
        by_pen(correct_evened),
        by_height(correct_evened),
    )


def _share(right: np.ndarray, mask: np.ndarray) -> float:
    return float(right[mask].mean()) if mask.any() else float("nan")


def measure_numbers(
    model: MLP,
    images: np.ndarray,
    labels: np.ndarray,
    seed: int = 0,
    touching: bool = False,
    pens: Sequence[float] = NUMBER_PENS,
) -> NumberReport:
    """images: (N, 28, 28) uint8 MNIST digits, labels: (N,), taken in turn into numbers of 2–4
    digits: each pen-drawn (one of `pens` px a number, NUMBER_HEIGHTS px tall) and written side by
    side on the Draw page's number pad, at random heights and random gaps (from none; or, when
    `touching`, each box TOUCHING_PX into the next), as `number.read` then cuts and reads them:
    as drawn, and as the Draw page reads them: from their strokes, each digit with an even pen.
    Numbers that do not fit the pad are drawn again."""
    rng = np.random.default_rng(seed)
    numbers = cut_right = all_right = too_few = digits = start = misses = 0
    read_right, alone_right = [], []
    evened_all_right, evened_cut_right, evened_right = 0, 0, []
    while start < len(images):  # the last number may be a single digit
        # After ten numbers too wide for the pad, two of the shortest digits (which always fit).
        k = min(int(rng.integers(2, 5)) if misses < 10 else 2, len(images) - start)
        chosen = range(start, start + k)
        width = float(rng.choice(pens))
        heights = rng.uniform(*NUMBER_HEIGHTS, k) if misses < 10 else np.full(k, NUMBER_HEIGHTS[0])
        drawn = [_pen_drawn(images[i], width, float(h)) for i, h in zip(chosen, heights, strict=True)]
        written = _written_side_by_side([ink for ink, _ in drawn], rng, touching)
        if written is None:
            misses += 1
            continue
        canvas, places = written
        lines = [line + place for (_, digit), place in zip(drawn, places) for line in digit]
        start, misses = start + k, 0
        truth = [int(labels[i]) for i in chosen]
        inputs = [preprocessing.preprocess_ink(ink).model_input for ink, _ in drawn]
        alone = [predict.predict(model, x).digit for x in inputs]
        read = [d.prediction.digit for d in number.read(model, canvas).digits]
        read_evened = [d.prediction.digit for d in number.read(model, canvas, lines).digits]
        if len(read_evened) == k:
            evened_cut_right += 1
            evened_all_right += read_evened == truth
            evened_right += [a == b for a, b in zip(read_evened, truth, strict=True)]
        numbers, digits = numbers + 1, digits + k
        if len(read) == k:
            cut_right += 1
            all_right += read == truth
            read_right += [a == b for a, b in zip(read, truth, strict=True)]
            alone_right += [a == b for a, b in zip(alone, truth, strict=True)]
        too_few += len(read) < k
    return NumberReport(
        numbers,
        digits,
        cut_right / numbers,
        all_right / numbers,
        float(np.mean(read_right)),
        float(np.mean(alone_right)),
        touching,
        too_few / numbers,
        evened_all_right / numbers,
        float(np.mean(evened_right)),
        tuple(pens),
        evened_cut_right / numbers,
    )


def _pen_drawn(digit: np.ndarray, width: float, height: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """An MNIST digit redrawn with a round pen, `height` px tall, cropped to its ink, and its
    strokes as the canvas would send them ((x, y) px from the ink's top left)."""
    lines = pen.skeleton(digit)
    ink = pen.draw(lines, width, height, 0, 0)
    rows, cols = np.nonzero(ink > 0)
    return ink[: rows.max() + 1, : cols.max() + 1], pen.centre_lines(lines, width, height, 0, 0)


def _written_side_by_side(
    drawn: list[np.ndarray], rng: np.random.Generator, touching: bool = False
) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """The digits on the number pad, left to right, at random gaps (or touching) and heights,
    and where each one's top left went ((x, y) px); None if too wide."""
    height, width = NUMBER_PAD
    overlaps = TOUCHING_PX * (len(drawn) - 1) if touching else 0
    space = width - 4 - sum(ink.shape[1] for ink in drawn) + overlaps
    if space < 0 or any(ink.shape[0] > height for ink in drawn):
        return None
    if touching:  # all the room before the first digit or after the last, none between
        before = float(rng.uniform(0, space))
        gaps = np.array([before] + [-TOUCHING_PX] * (len(drawn) - 1) + [space - before])
    else:
        gaps = rng.uniform(0, 1, len(drawn) + 1)
        gaps = gaps / gaps.sum() * space
    canvas, left, places = np.zeros(NUMBER_PAD, np.float32), 2 + gaps[0], []
    for ink, gap in zip(drawn, gaps[1:], strict=True):
        top, x = int(rng.integers(0, height - ink.shape[0] + 1)), int(left)
        window = canvas[top : top + ink.shape[0], x : x + ink.shape[1]]
        np.maximum(window, ink, out=window)
        places.append(np.array([x, top], np.float64))
        left += ink.shape[1] + gap
    return canvas, places


def _correct(model: MLP, inputs: torch.Tensor, labels: np.ndarray) -> np.ndarray:
    """(N, 784) inputs → (N,) bool: did the model get it right?"""
    with torch.inference_mode():
        guesses = torch.cat([model(batch).argmax(dim=1) for batch in inputs.split(1000)])
    return guesses.numpy() == labels


def _pair(correct: dict[str, np.ndarray], mask: np.ndarray) -> tuple[float, float]:
    return float(correct["ours"][mask].mean()), float(correct["naive"][mask].mean())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m playground.digits.robustness",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", type=Path, help="MNIST folder (default: $PLAYGROUND_DATA_DIR)")
    parser.add_argument("--model", type=Path, help="checkpoint (default: the shipped model)")
    parser.add_argument("--limit", type=int, help="only the first N test digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--set",
        choices=("redrawn", "pen", "numbers", "touching", "both", "all"),
        default="both",
        dest="which",
    )
    parser.add_argument(
        "--number-pens",
        type=float,
        nargs="+",
        default=NUMBER_PENS,
        metavar="PX",
        help=f"the numbers sets' pens, px (default: {' '.join(map(str, NUMBER_PENS))}; the pad offers 8–36)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    root = args.data_dir or data.default_data_dir()
    data.ensure_mnist(root, download=False)
    test = MNIST(root=str(root), train=False, download=False)
    images, labels = test.data.numpy(), test.targets.numpy()
    if args.limit:
        images, labels = images[: args.limit], labels[: args.limit]
    model = checkpoint.load(args.model)[0] if args.model else predict.load_default()[0]
    sets = {"both": ("redrawn", "pen"), "all": ("redrawn", "pen", "numbers", "touching")}.get(
        args.which, (args.which,)
    )
    measures = {
        "redrawn": (measure, _text),
        "pen": (measure_pen, _pen_text),
        "numbers": (functools.partial(measure_numbers, pens=args.number_pens), _number_text),
        "touching": (functools.partial(measure_numbers, touching=True, pens=args.number_pens), _number_text),
    }
    result = {name: measures[name][0](model, images, labels, args.seed) for name in sets}
    if args.json:
        print(json.dumps({name: asdict(report) for name, report in result.items()}))
    else:
        print("\n".join(measures[name][1](report) for name, report in result.items()))
    return 0


def _text(report: Report) -> str:
    lines = [
        f"{report.digits} MNIST test digits, redrawn {CANVAS}×{CANVAS}, off-centre, "
        f"{SIZES[0]:.0%}–{SIZES[1]:.0%} of the canvas",
        f"original 28×28 test images:        {report.original_accuracy:.2%}",
        f"canvas-like → MNIST preprocessing: {report.preprocessed_accuracy:.2%}",
        f"canvas-like → naive 28×28 resize:  {report.naive_accuracy:.2%}",
    ]
    for title, rows in (("size", report.by_size), ("background", report.by_kind)):
        lines += [
            f"  {title} {name:<15} preprocessing {ours:.2%}   naive {naive:.2%}"
            for name, (ours, naive) in rows.items()
        ]
    return "\n".join(lines)


def _number_text(report: NumberReport) -> str:
    return "\n".join(
        [
            f"{report.numbers} numbers of 2–4 pen-drawn MNIST test digits ({report.digits} digits), "
            f"pens {min(report.pens):g}–{max(report.pens):g} px, {NUMBER_HEIGHTS[0]}–{NUMBER_HEIGHTS[1]} px "
            f"tall, side by side {'touching' if report.touching else 'at random gaps'} on the "
            f"{NUMBER_PAD[1]}×{NUMBER_PAD[0]} number pad",
            f"cut into as many digits as written: {report.cut_right:.2%} (into fewer: "
            f"{report.too_few:.2%}, more: {1 - report.cut_right - report.too_few:.2%})",
            f"read right, every digit:            {report.all_right:.2%}",
            f"digits read right (numbers cut right): {report.digit_accuracy:.2%}; "
            f"the same digits drawn alone: {report.alone_accuracy:.2%}",
            f"from the strokes, each digit with an even pen (the Draw page): cut right "
            f"{report.evened_cut_right:.2%}, read right, every digit {report.evened_all_right:.2%}; "
            f"digits read right {report.evened_digit_accuracy:.2%}",
        ]
    )


def _pen_text(report: PenReport) -> str:
    lines = [
        f"{report.digits} MNIST test digits, pen-drawn: skeleton redrawn with one round pen "
        f"({pen.PEN_WIDTHS[0]}–{pen.PEN_WIDTHS[-1]} px), {pen.HEIGHTS[0]}–{pen.HEIGHTS[1]} px tall",
        f"pen-drawn → MNIST preprocessing:   {report.accuracy:.2%}",
    ]
    for title, rows in (("pen", report.by_pen), ("height", report.by_height), ("background", report.by_kind)):
        lines += [f"  {title} {name:<15} {accuracy:.2%}" for name, accuracy in rows.items()]
    lines.append(f"pen evened (the Draw page) → MNIST preprocessing: {report.evened:.2%}")
    for title, rows in (("pen", report.evened_by_pen), ("height", report.evened_by_height)):
        lines += [f"  {title} {name:<15} {accuracy:.2%}" for name, accuracy in rows.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
