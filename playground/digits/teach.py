"""Teaching a model your handwriting: a copy of it fine-tuned on a few of your own labelled drawings.

    lesson = teach(model, config, yours_x, yours_y, replay=(images, labels), test=(images, labels))
    lesson.model               # the taught copy; `model` itself is never changed
    lesson.right_before, lesson.right_after, lesson.mnist_before, lesson.mnist_after

A handful of drawings is far too few to train on alone: the network would learn to answer your
digits and forget everyone else's (catastrophic forgetting). So each step's batch is a quarter
yours, each redrawn at random (`core.augment`: a few drawings then teach a way of writing, not
their exact pixels), and three quarters MNIST training digits as the model was trained on them
(replay). The lesson reports both sides of that trade: your digits read right before and after,
and MNIST's test set before and after.

Bounds, for a server shared by strangers: at most MAX_EXAMPLES drawings and always STEPS steps
of BATCH, so a lesson costs the same fraction of a second whatever a visitor sends.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from playground.core import augment, data
from playground.core.config import RunConfig
from playground.core.model import MLP

MAX_EXAMPLES = 30  # a visitor's kept drawings: enough to show the idea, little to store
STEPS = 80  # the tutorial network: about 0.9 s on one CPU thread, two readings of the test set included
BATCH = 64
YOURS_PER_BATCH = 16  # a quarter: the rest is replay
LR = 3e-4  # about the learning rate the presets end with: a nudge, not a retraining
YOUR_STRENGTH = 0.5  # augmentation of the visitor's drawings (the presets' Augmented uses 0.7)

Progress = Callable[[float, str], None]


class LessonError(ValueError):
    """The examples cannot be taught (none, too many, or not drawings with digit labels)."""


@dataclass(frozen=True)
class Lesson:
    model: MLP  # the taught copy, in eval mode
    examples: int
    right_before: int  # of the visitor's drawings, read right by the model before the lesson
    right_after: int
    mnist_before: float | None  # test-set accuracy (fraction); None when no test set was given
    mnist_after: float | None
    seconds: float


def check_examples(inputs: torch.Tensor, digits: torch.Tensor) -> None:
    """Raise LessonError unless inputs is (K, 784) finite and digits (K,) integers 0–9, 1 ≤ K ≤ MAX."""
    if inputs.ndim != 2 or inputs.shape[1] != 28 * 28 or digits.shape != (inputs.shape[0],):
        raise LessonError("the examples must be 28×28 drawings, one digit label each")
    if not 1 <= len(digits) <= MAX_EXAMPLES:
        raise LessonError(f"a lesson takes 1 to {MAX_EXAMPLES} drawings, not {len(digits)}")
    if digits.is_floating_point() or digits.min() < 0 or digits.max() > 9:
        raise LessonError("each drawing's label must be a digit, 0 to 9")
    if not torch.isfinite(inputs).all():
        raise LessonError("a drawing holds values that are not numbers")


def number_labels(text: str, count: int) -> list[int]:
    """The digits a visitor typed for a number whose `count` digits the page found: "1 274" →
    [1, 2, 7, 4]. Spaces are ignored; anything else raises LessonError saying what to type."""
    if len(text) > 4 * 12:  # a number on the pad has at most 12 digits (number.MAX_DIGITS)
        raise LessonError(f"that is too long for a number of {count} digits")
    typed = "".join(text.split())
    if not typed:
        raise LessonError(f"type the number the {count} digits make")
    if not (typed.isascii() and typed.isdigit()):
        raise LessonError(f"type digits 0–9 only: “{typed[:20]}” has other characters")
    if len(typed) != count:
        found = f"the page found {count} digit{'s' if count > 1 else ''}"
        raise LessonError(f"{found} and “{typed[:20]}” has {len(typed)}: type one for each")
    return [int(c) for c in typed]


def teach(
    model: MLP,
    config: RunConfig,
    inputs: torch.Tensor,
    digits: torch.Tensor,
    replay: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor] | None = None,
    report: Progress | None = None,
    seed: int = 0,
) -> Lesson:
    """A copy of `model` (trained with `config`) taught the drawings `inputs` (K, 784), normalised
    as the model reads them, to be the digits `digits` (K,). replay and test: MNIST images
    (N, 28, 28) uint8 and their labels. The same arguments give the same lesson."""
    check_examples(inputs, digits)
    start = time.perf_counter()
    report = report or (lambda fraction, message: None)
    inputs, digits = inputs.float().cpu(), digits.long().cpu()
    taught = copy.deepcopy(model).cpu().float()  # the original may answer other visitors meanwhile
    right_before = _right(taught, inputs, digits)
    mnist_before = _accuracy(taught, test) if test else None
    report(0.1, "training on your drawings")
    _fine_tune(taught, config, inputs, digits, replay, seed, report)
    report(0.9, "reading your drawings and MNIST's test digits again")
    return Lesson(
        model=taught.eval(),
        examples=len(digits),
        right_before=right_before,
        right_after=_right(taught, inputs, digits),
        mnist_before=mnist_before,
        mnist_after=_accuracy(taught, test) if test else None,
        seconds=time.perf_counter() - start,
    )


def _fine_tune(model, config, inputs, digits, replay, seed, report) -> None:
    images, labels = replay
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()
    # BatchNorm learns from the lesson's batches; dropout stays off: its masks come from torch's
    # global random stream, which the server's other threads share, and a nudge of a few steps
    # needs no regularising noise. So the same drawings give the same lesson.
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.eval()
    for step in range(STEPS):
        yours = torch.randint(0, len(digits), (YOURS_PER_BATCH,), generator=generator)
        theirs = torch.randint(0, len(labels), (BATCH - YOURS_PER_BATCH,), generator=generator)
        x = torch.cat(
            [
                augment.augment_batch(inputs[yours], YOUR_STRENGTH, generator),
                augment.augment_batch(_normalised(images[theirs]), config.augment, generator),
            ]
        )
        y = torch.cat([digits[yours], labels[theirs].long()])
        optimizer.zero_grad(set_to_none=True)
        F.nll_loss(model(x), y).backward()
        optimizer.step()
        if step % 10 == 9:
            report(0.1 + 0.8 * (step + 1) / STEPS, f"training on your drawings: step {step + 1} of {STEPS}")


def _normalised(images: torch.Tensor) -> torch.Tensor:
    return data.normalize(images.reshape(len(images), -1))


@torch.no_grad()
def readings(model: MLP, inputs: torch.Tensor) -> torch.Tensor:
    """The digits `model` reads in the drawings `inputs` (K, 784), as (K,) int64 on the CPU. The
    model must be in eval mode (every model a page answers with is)."""
    weight = next(model.parameters())
    return model(inputs.to(weight.device, weight.dtype)).argmax(dim=1).cpu()


def _right(model: MLP, inputs: torch.Tensor, digits: torch.Tensor) -> int:
    model.eval()
    return int((readings(model, inputs) == digits).sum())


@torch.no_grad()
def _accuracy(model: MLP, test: tuple[torch.Tensor, torch.Tensor]) -> float:
    images, labels = test
    model.eval()
    predictions = torch.cat(
        [model(_normalised(images[i : i + 4096])).argmax(dim=1) for i in range(0, len(labels), 4096)]
    )
    return float((predictions == labels).float().mean())
