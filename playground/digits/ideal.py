"""What a network thinks each digit looks like: for each digit, the picture it scores highest,
found by autograd (activation maximisation; Simonyan, Vedaldi & Zisserman, 2013).

Each picture starts as an all-but-blank canvas. At every step, autograd gives the gradient of the
digit's score with respect to the 784 pixels (as on the draw page's "which pixels made it say 7"),
and the pixels move a little along it (Adam, kept between 0 and 1). Left at that, the pixels
become a noise only this network reads, so three things keep the picture a drawing: a slight
blur after every step (strokes, not speckles), a random shift of up to two pixels before every
step (a shape that works only at one exact place does not survive), and a small cost per unit of
ink (without it, a network trained without augmentation fills the canvas with blobs). The score
is the digit's logit minus the mean of the ten: the log-probability saturates at 0 once the digit
is sure, and its gradient with it.

All ten digits are found together as one batch of ten: 150 steps take 0.2–0.3 s on one CPU
thread for the tutorial's network, 1.2 s for the widest a run may have (4 × 1024). The result is kept
for as long as its model lives; one search runs at a time in a process.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from playground.core.data import MEAN, STD
from playground.core.model import MLP
from playground.digits.saliency import logits

STEPS = 150  # the shapes have formed by 100 (measured on the default model); 150 to settle
RATE = 0.05  # Adam's step, in pixel units (0 = no ink, 1 = full ink)
SHIFT = 2  # px: the random shift before each step
START_INK = 0.02  # the canvas starts with up to this much ink, at random: a blank one has no gradient
INK_COST = 0.03  # score lost per unit of ink (a full pixel); measured on four models: 0 filled
# non-augmented models' pictures with blobs (two were as little as 11% and 25% sure of one), 0.05
# broke the default model's strokes up, 0.03 is between (the least sure: 57–99%)
DIGITS = 10

Progress = Callable[[float], None]


@dataclass(frozen=True)
class IdealDigits:
    pixels: np.ndarray  # (10, 28, 28) float32, 0 (no ink) to 1: the picture of each digit
    probabilities: np.ndarray  # (10, 10) the model's softmax for each picture (row = picture)

    def confidence(self, digit: int) -> float:
        """How sure the model is that its picture of `digit` is a `digit`."""
        return float(self.probabilities[digit, digit])


def ideal_digits(model: MLP, progress: Progress | None = None) -> IdealDigits:
    """The ten pictures of `model` (computed once per model; later calls return the same result).
    `progress` hears 0 to 1 while they are found."""
    with _lock:
        found = _found.get(model)
        if found is None:
            found = search(model, progress=progress)
            _found[model] = found
    return found


def known(model: MLP) -> IdealDigits | None:
    """The pictures of `model` if they have been found already (the page then needs no progress bar)."""
    with _lock:
        return _found.get(model)


def average_digits(images: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """(10, 28, 28) float32, 0 to 1: the mean of each digit's images ((N, 28, 28) uint8), to set
    beside the network's pictures (a digit with no image is blank)."""
    ink = images.reshape(len(images), -1).float() / 255.0
    counts = torch.bincount(labels, minlength=DIGITS).clamp(min=1).float()
    sums = torch.zeros(DIGITS, ink.shape[1]).index_add_(0, labels, ink)
    return (sums / counts[:, None]).reshape(DIGITS, 28, 28).numpy()


def resemblance(pictures: np.ndarray, averages: np.ndarray) -> np.ndarray:
    """(10, 10) cosine similarity of each picture (row) to each average digit (column), as ink."""
    rows = F.normalize(torch.from_numpy(pictures).reshape(len(pictures), -1).float(), dim=1)
    columns = F.normalize(torch.from_numpy(averages).reshape(len(averages), -1).float(), dim=1)
    return (rows @ columns.T).numpy()


def own_digits(pictures: np.ndarray, averages: np.ndarray) -> list[int]:
    """The digits whose picture is most like their own average digit. A blank picture (what an
    untrained network gives: no ink raises its score by more than the ink costs) is like none."""
    nearest = resemblance(pictures, averages).argmax(axis=1)
    return [digit for digit in range(len(pictures)) if pictures[digit].max() > 0 and nearest[digit] == digit]


def search(model: MLP, steps: int = STEPS, seed: int = 0, progress: Progress | None = None) -> IdealDigits:
    """The search itself, without the cache. Leaves `model` as it was: its mode, its parameters,
    no `.grad` (the gradient goes to the pixels only; other visitors may be using the model).
    The model must be in eval mode, as the pages keep theirs: in training mode each forward pass
    would move its BatchNorm statistics."""
    if model.training:
        raise ValueError("ideal digits are searched for with a model in eval mode")
    weight = next(model.parameters())
    generator = torch.Generator().manual_seed(seed)
    pixels = torch.rand(DIGITS, 28 * 28, generator=generator) * START_INK
    pixels = pixels.to(weight.device).requires_grad_(True)
    optimizer = torch.optim.Adam([pixels], lr=RATE)
    digits = torch.arange(DIGITS, device=weight.device)
    for step in range(steps):
        dy, dx = torch.randint(-SHIFT, SHIFT + 1, (2,), generator=generator).tolist()
        with torch.enable_grad():
            score = _scores(model, _shifted(pixels, dy, dx), digits).sum() - INK_COST * pixels.sum()
            (gradient,) = torch.autograd.grad(score, pixels)
        pixels.grad = -gradient  # Adam descends: this climbs the score
        optimizer.step()
        with torch.no_grad():
            pixels.copy_(_blurred(pixels).clamp_(0, 1))
        if progress is not None and (step + 1) % 10 == 0:
            progress((step + 1) / steps)
    with torch.no_grad():
        probabilities = F.softmax(logits(model, _as_input(pixels, weight)).float(), dim=1)
    return IdealDigits(
        pixels.detach().reshape(DIGITS, 28, 28).float().cpu().numpy(), probabilities.cpu().numpy()
    )


def _scores(model: MLP, pixels: torch.Tensor, digits: torch.Tensor) -> torch.Tensor:
    """Each picture's own digit's logit over the mean of its ten: the softmax's constant cancels."""
    out = logits(model, _as_input(pixels, next(model.parameters()))).float()
    return out[digits, digits] - out.mean(dim=1)


def _as_input(pixels: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return ((pixels - MEAN) / STD).to(weight.dtype)


def _shifted(pixels: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    return torch.roll(pixels.reshape(-1, 28, 28), (dy, dx), dims=(1, 2)).reshape(-1, 28 * 28)


def _blurred(pixels: torch.Tensor) -> torch.Tensor:
    """Each pixel a 1-2-1 weighted mean of its 3 × 3 neighbourhood."""
    taps = torch.tensor([1.0, 2.0, 1.0], device=pixels.device, dtype=pixels.dtype)
    kernel = (taps[:, None] * taps[None, :] / 16).reshape(1, 1, 3, 3)
    return F.conv2d(pixels.reshape(-1, 1, 28, 28), kernel, padding=1).reshape(pixels.shape)


# Keyed by the model itself, weakly: a deleted run or an ended session frees its pictures (31 KB
# each). The lock makes a model's first search its only one, and one search at a time.
_found: weakref.WeakKeyDictionary[MLP, IdealDigits] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
