"""Change its mind: a small change to a digit's pixels that makes the network read another digit
(an *adversarial example*: Szegedy et al. 2014, Goodfellow et al. 2015). Small, not the smallest:
the first change found going downhill in short steps, which stop as soon as the network is half
sure.

Autograd once more, turned round. Training holds the pixels and moves the weights down the
gradient of the loss; here the weights hold and the pixels move, one short step at a time, down
the gradient of the chosen digit's loss, until the network is at least half sure of that digit.
Every step has the same length (0.1 of one pixel's full ink, measured over all 784 pixels as one
vector), so the change grows only as far as it must; the ink stays between none and full.

The lesson is in the control beside it: random noise of the same size barely moves the answer.
What turns a 7 into a 3 is not how much changed but where: along the few directions the network
reads, which a person does not see. (A network trained on augmented digits needs larger changes:
`python -m playground.digits.adversarial` measures it.)

Nothing here writes to the model: the gradients go to a copy of the pixels only, so a model that
many visitors share is safe, and the steps are bounded (MAX_STEPS), whatever a visitor asks.

    python -m playground.digits.adversarial [--model CKPT] [--data-dir DIR] [--limit N] [--json]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torchvision.datasets import MNIST

from playground.core import checkpoint, data
from playground.core.model import MLP
from playground.digits import predict

STEP = 0.1  # one step's length: a tenth of one pixel's full ink, over the 784 pixels as a vector
MAX_STEPS = 200  # the bound on one request: 200 forward and backward passes (20 steps typical)
SURE = 0.5  # done when the network gives the asked-for digit at least this probability
NOISE_MULTIPLES = (1, 2, 4, 8)  # the noise `measure` tries: as long as the change, and longer
NOISE_ROUNDS = 4  # scale-and-clip rounds that bring the noise to the change's size within the ink's range


@dataclass(frozen=True)
class MindChange:
    """One digit's pixels changed until the network reads `digit`, and noise of the same size."""

    digit: int  # the digit it was asked to read
    reached: bool  # it reads `digit`, at least SURE, within MAX_STEPS
    steps: int
    before: np.ndarray  # (28, 28) ink 0..1: what it saw
    after: np.ndarray  # (28, 28) ink 0..1: changed
    probabilities: np.ndarray  # (10,) for `after`
    noisy: np.ndarray  # (28, 28) ink 0..1: `before` with random noise as large as the change
    noisy_probabilities: np.ndarray  # (10,) for `noisy`
    path: np.ndarray  # (steps + 1, 10): the probabilities before each step, and at the end

    @property
    def change(self) -> np.ndarray:
        return self.after - self.before

    @property
    def size(self) -> float:
        """The change's length: the 784 pixels' ink changes as one vector (one full pixel is 1)."""
        return float(np.linalg.norm(self.change))

    @property
    def share_of_digit(self) -> float:
        """The change's length against the digit's own (its ink as one vector)."""
        return self.size / max(float(np.linalg.norm(self.before)), 1e-12)

    @property
    def largest_pixel_change(self) -> float:
        return float(np.abs(self.change).max())


@dataclass(frozen=True)
class Search:
    """What `change_minds` found for a batch."""

    after: torch.Tensor  # (N, 784) the changed ink
    steps: torch.Tensor  # (N,) the steps each took
    reached: torch.Tensor  # (N,) whether each came to read its digit
    # (steps taken + 1, N, 10): the probabilities before each step and at the end (keep_path only)
    path: torch.Tensor


def change_minds(
    model: MLP,
    ink: torch.Tensor,
    digits: torch.Tensor,
    step: float = STEP,
    max_steps: int = MAX_STEPS,
    sure: float = SURE,
    keep_path: bool = False,
) -> Search:
    """(N, 784) ink 0..1 and (N,) digits → each image moved until the network reads its digit.
    Each moves on its own until it is done, so one batch measures many. The model must be in eval
    mode: in training mode BatchNorm would mix the images and update its statistics, and dropout
    would change the network at every step."""
    if model.training:
        raise ValueError("the model must be in eval mode (model.eval()) to be read, not trained")
    weight = next(model.parameters())
    x = ink.detach().reshape(len(ink), -1).to(weight.device, weight.dtype).clamp(0, 1)
    digits = digits.to(weight.device).reshape(-1, 1)
    steps = torch.zeros(len(x), dtype=torch.long, device=x.device)
    path = []
    for taken in range(max_steps + 1):
        x.requires_grad_(True)
        with torch.enable_grad():
            log_probabilities = model(data.normalize(x))
            log_p = log_probabilities.gather(1, digits)[:, 0]
            (gradient,) = torch.autograd.grad(-log_p.sum(), x)  # to the pixels only, not the weights
        if keep_path:
            path.append(log_probabilities.detach().exp().float().cpu())
        done = log_p.detach().exp() >= sure
        if taken == max_steps or bool(done.all()):
            kept = torch.stack(path) if path else torch.empty(0, len(x), 10)
            return Search(x.detach(), steps, done, kept)
        direction = gradient / gradient.norm(dim=1, keepdim=True).clamp_min(1e-12)
        x = (x.detach() - step * direction * (~done)[:, None]).clamp(0, 1)
        steps += (~done).long()
    raise AssertionError("unreachable")


def noise_like(before: torch.Tensor, size: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(N, 784) ink → the same with random (Gaussian) noise whose length is `size` (N,) once the
    ink's range, none to full, has cut what it cuts (each round scales what is left up again)."""
    noise = torch.randn(before.shape, generator=generator).to(before)
    noisy = before
    for _ in range(NOISE_ROUNDS):
        length = noise.norm(dim=1, keepdim=True).clamp_min(1e-12)
        noisy = (before + noise * size[:, None] / length).clamp(0, 1)
        noise = noisy - before
    return noisy


def change_mind(
    model: MLP, centred: np.ndarray, digit: int, seed: int = 0, max_steps: int = MAX_STEPS
) -> MindChange:
    """The draw page's question: its 28×28 input (ink 0..1, as `preprocessing` centres it), and
    the digit the visitor wants the network to read."""
    if isinstance(digit, bool) or not isinstance(digit, int | np.integer) or not 0 <= digit <= 9:
        raise ValueError(f"a digit is 0 to 9, not {digit!r}")
    pixels = np.asarray(centred, dtype=np.float32)
    if pixels.shape != (28, 28) or not np.isfinite(pixels).all():
        raise ValueError(f"the network reads 28×28 finite pixels, not an array of shape {pixels.shape}")
    before = torch.from_numpy(pixels.reshape(1, -1)).clamp(0, 1)
    search = change_minds(
        model, before, torch.tensor([int(digit)]), max_steps=min(max_steps, MAX_STEPS), keep_path=True
    )
    after = search.after
    weight = next(model.parameters())
    noisy = noise_like(
        before, (after.cpu().float() - before).norm(dim=1), torch.Generator().manual_seed(seed)
    )
    with torch.inference_mode():
        both = torch.cat([after, noisy.to(weight.device, weight.dtype)])
        probabilities = model(data.normalize(both)).exp().float().cpu().numpy()
    return MindChange(
        digit=int(digit),
        reached=bool(search.reached[0]),
        steps=int(search.steps[0]),
        before=before.reshape(28, 28).numpy(),
        after=after.float().cpu().reshape(28, 28).numpy(),
        probabilities=probabilities[0],
        noisy=noisy.float().reshape(28, 28).numpy(),
        noisy_probabilities=probabilities[1],
        path=search.path[:, 0].numpy(),
    )


@dataclass(frozen=True)
class Report:
    """How hard a model's mind is to change, over MNIST test digits it reads right, each pushed
    towards its runner-up digit."""

    digits: int  # test digits measured (those the model reads right)
    reached: float  # share changed to their runner-up within MAX_STEPS
    median_size: float  # the change's length (one full pixel is 1), over those reached
    median_share_of_digit: float  # the change's length against the digit's own
    noise_changed: dict[int, float]  # share whose answer random noise changed, by its length (× the change's)


def measure(model: MLP, images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> Report:
    """images: (N, 28, 28) uint8 MNIST digits. In batches of 500: the steps are per image."""
    device = next(model.parameters()).device
    ink = images.reshape(len(images), -1).to(device).float() / 255.0
    labels = labels.to(device)
    with torch.inference_mode():
        probabilities = torch.cat([model(data.normalize(b)).exp() for b in ink.split(1000)])
    right = probabilities.argmax(dim=1) == labels
    if not right.any():
        raise ValueError(f"the model reads none of these {len(labels)} test digits right: nothing to change")
    ink, probabilities, labels = ink[right], probabilities[right], labels[right]
    runner_up = probabilities.argsort(dim=1, descending=True)[:, 1]
    generator = torch.Generator().manual_seed(seed)
    sizes, reached = [], []
    noise_changed: dict[int, list[torch.Tensor]] = {multiple: [] for multiple in NOISE_MULTIPLES}
    for part, digits, answers in zip(ink.split(500), runner_up.split(500), labels.split(500)):
        search = change_minds(model, part, digits)
        after, done = search.after, search.reached
        size = (after - part).norm(dim=1)
        for multiple in NOISE_MULTIPLES:
            noisy = noise_like(part, size * multiple, generator)
            with torch.inference_mode():
                noise_changed[multiple].append(model(data.normalize(noisy)).argmax(dim=1) != answers)
        sizes.append(size[done])
        reached.append(done)
    size, reached = torch.cat(sizes), torch.cat(reached)
    share = size / ink[reached].norm(dim=1)
    return Report(
        digits=len(ink),
        reached=float(reached.float().mean()),
        median_size=float(size.median()) if len(size) else float("nan"),  # nan: none was changed
        median_share_of_digit=float(share.median()) if len(share) else float("nan"),
        noise_changed={m: float(torch.cat(changed).float().mean()) for m, changed in noise_changed.items()},
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m playground.digits.adversarial",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", type=Path, help="checkpoint (default: the shipped model)")
    parser.add_argument("--data-dir", type=Path, help="MNIST folder (default: $PLAYGROUND_DATA_DIR)")
    parser.add_argument("--limit", type=int, default=1000, help="the first N test digits (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    root = args.data_dir or data.default_data_dir()
    data.ensure_mnist(root, download=False)
    test = MNIST(root=str(root), train=False, download=False)
    model = checkpoint.load(args.model)[0] if args.model else predict.load_default()[0]
    try:
        report = measure(model, test.data[: args.limit], test.targets[: args.limit], args.seed)
    except ValueError as err:
        parser.exit(1, f"{err}\n")
    if args.json:
        print(json.dumps(asdict(report)))
    else:
        print(
            f"{report.digits} test digits read right, each pushed towards its runner-up digit:\n"
            f"  changed within {MAX_STEPS} steps: {report.reached:.1%}\n"
            f"  the change's length, median: {report.median_size:.2f} "
            f"({report.median_share_of_digit:.1%} of the digit's own)\n"
            "  random noise changed the answer of "
            + ", ".join(f"{share:.1%} ({m}× as long)" for m, share in report.noise_changed.items())
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
