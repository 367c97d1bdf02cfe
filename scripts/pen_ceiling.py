"""How far can training lift the pen-drawn set? Fine-tunes a model on pen-drawn *training* digits
and shows the pen-drawn test digits it still gets wrong.

    python scripts/pen_ceiling.py [--data-dir DIR] [--model CKPT] [--train-digits 30000]
        [--limit 2000] [--epochs 3] [--pen-share 0.5] [--errors docs/pen-drawn-errors.png] [--json]

The best case for any augmentation that imitates the Draw page's pen: the pen-drawn set's own
generator (`digits/pen.py`, pens drawn at random from 8-36 px) redraws MNIST *training* digits,
and the model (the shipped one by default) is fine-tuned on batches that are `--pen-share` such
digits and the rest MNIST with the usual augmentation. Reported before and after: MNIST's test
accuracy, the pen-drawn test set (its first `--limit` digits, the same as
`robustness --set pen --limit N`) by pen width, and how well the model fits the pen-drawn training
digits it was trained on. `--errors` writes a picture of the pen-drawn test digits the starting
model reads wrongly: MNIST's original beside the model's input from the pen drawing.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from torchvision.datasets import MNIST  # noqa: E402

from playground.core import augment, checkpoint, data  # noqa: E402
from playground.core.model import MLP  # noqa: E402
from playground.digits import pen, predict, preprocessing  # noqa: E402
from playground.digits.robustness import PEN_KINDS, render  # noqa: E402

BATCH = 256


def pen_inputs(images: np.ndarray, seed: int, test_widths: bool) -> tuple[np.ndarray, np.ndarray]:
    """(N, 28, 28) uint8 digits → ((N, 784) model inputs of their pen drawings, (N,) pen widths).
    `test_widths`: the pen-drawn test set's widths and random stream, digit for digit."""
    rng = np.random.default_rng(seed)
    inputs, widths = [], []
    for i, digit in enumerate(images):
        width = pen.PEN_WIDTHS[i % len(pen.PEN_WIDTHS)] if test_widths else float(rng.uniform(8, 36))
        amount = pen.random_drawing(digit, rng, width).ink
        kind = PEN_KINDS[(i // len(pen.PEN_WIDTHS)) % len(PEN_KINDS)]
        inputs.append(preprocessing.preprocess(render(amount, kind)).model_input.numpy())
        widths.append(width)
    return np.stack(inputs), np.array(widths)


def pen_training_set(images: np.ndarray, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """Pen drawings of training digits, made in `workers` processes (6-7 ms a digit)."""
    chunks = np.array_split(np.arange(len(images)), workers)
    # spawn, not fork: this process has run torch (its OpenMP threads do not survive a fork)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(
            pool.map(pen_inputs, [images[c] for c in chunks], range(1, workers + 1), [False] * workers)
        )
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@torch.no_grad()
def accuracy(model: MLP, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    model.eval()
    return (torch.cat([model(b).argmax(1) for b in x.split(4096)]) == y).numpy()


def report(model: MLP, mnist: data.MnistTensors, sets: dict) -> dict:
    test_ok = accuracy(model, *sets["test"])
    widths = sets["test_widths"]
    return {
        "mnist_test": float(accuracy(model, mnist.test_x, mnist.test_y).mean()),
        "pen_test": float(test_ok.mean()),
        "pen_test_by_width": {f"{w:g} px": float(test_ok[widths == w].mean()) for w in np.unique(widths)},
        "pen_train_fit": float(accuracy(model, *sets["train"]).mean()),
    }


def fine_tune(model: MLP, mnist: data.MnistTensors, pen_x, pen_y, epochs: int, share: float, lr: float):
    """Adam with a cosine decay; each batch `share` pen-drawn training digits (lightly augmented),
    the rest MNIST with the shipped model's augmentation (strength 0.7)."""
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = augment.make_generator(0, torch.device("cpu"))
    n_pen = int(BATCH * share)
    steps = len(mnist.train_x) // (BATCH - n_pen) * epochs
    for step in range(steps):
        if step % (steps // epochs) == 0:
            order = torch.randperm(len(mnist.train_x))
            offset = 0
        picked = order[offset : offset + BATCH - n_pen]
        offset += BATCH - n_pen
        drawn = torch.randint(0, len(pen_x), (n_pen,))
        x = torch.cat(
            [
                augment.augment_batch(mnist.train_x[picked], 0.7, generator),
                augment.augment_batch(pen_x[drawn], 0.3, generator),
            ]
        )
        y = torch.cat([mnist.train_y[picked], pen_y[drawn]])
        for group in optimizer.param_groups:
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        optimizer.zero_grad(set_to_none=True)
        F.nll_loss(model(x), y).backward()
        optimizer.step()
    model.eval()


def errors_picture(
    model: MLP, x: torch.Tensor, y: torch.Tensor, widths: np.ndarray, originals: np.ndarray, path: Path
) -> int:
    """A sheet of the digits `model` reads wrongly, 8 a row: MNIST's original beside the model's
    input from its pen drawing, captioned "true as read, pen"."""
    with torch.no_grad():
        read = model.eval()(x).argmax(1).numpy()
    wrong = np.flatnonzero(read != y.numpy())
    side, caption, columns, gap = 72, 14, 8, 10
    cell = 2 * side + gap
    rows = max(1, math.ceil(len(wrong) / columns))
    sheet = Image.new("L", (columns * cell, rows * (side + caption)), 255)
    pencil = ImageDraw.Draw(sheet)
    for k, i in enumerate(wrong):
        drawn = (x[i].reshape(28, 28) * data.STD + data.MEAN).clamp(0, 1).numpy()
        top, left = (k // columns) * (side + caption), (k % columns) * cell
        for n, ink in enumerate((originals[i] / 255.0, drawn)):
            tile = Image.fromarray((255 - ink * 255).astype(np.uint8))
            sheet.paste(tile.resize((side, side), Image.Resampling.NEAREST), (left + n * side, top))
        pencil.text((left + 2, top + side), f"{y[i]} read as {read[i]}, {widths[i]:g} px pen", fill=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return len(wrong)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--model", type=Path, help="checkpoint (default: the shipped model)")
    parser.add_argument("--train-digits", type=int, default=30_000)
    parser.add_argument("--limit", type=int, default=2000, help="the first N pen-drawn test digits")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--pen-share", type=float, default=0.5)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--errors", type=Path, help="write the starting model's errors as a PNG")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    root = args.data_dir or data.default_data_dir()
    mnist = data.load_mnist(root, "cpu", download=False)
    test = MNIST(root=str(root), train=False, download=False)
    train = MNIST(root=str(root), train=True, download=False)
    test_x, test_widths = pen_inputs(test.data.numpy()[: args.limit], 0, test_widths=True)
    train_x, _ = pen_training_set(train.data.numpy()[: args.train_digits], args.workers)
    sets = {
        "test": (torch.from_numpy(test_x), test.targets[: args.limit]),
        "test_widths": test_widths,
        "train": (torch.from_numpy(train_x), train.targets[: args.train_digits]),
    }
    model = checkpoint.load(args.model)[0] if args.model else predict.load_default()[0]
    result = {"before": report(model, mnist, sets)}
    if args.errors:
        originals = test.data.numpy()[: args.limit]
        result["errors_drawn"] = errors_picture(model, *sets["test"], test_widths, originals, args.errors)
    fine_tune(model, mnist, *sets["train"], args.epochs, args.pen_share, args.lr)
    result["after"] = report(model, mnist, sets)
    if args.json:
        print(json.dumps(result))
    else:
        for when in ("before", "after"):
            r = result[when]
            widths = ", ".join(f"{w} {a:.2%}" for w, a in r["pen_test_by_width"].items())
            print(
                f"{when:>6}: MNIST test {r['mnist_test']:.2%}, "
                f"pen-drawn test {r['pen_test']:.2%} ({widths}), "
                f"fit on the pen-drawn training digits {r['pen_train_fit']:.2%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
