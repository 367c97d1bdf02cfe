"""The benchmark: the tutorial's own training loop against the engine, in one process on one device.

The tutorial loop is reproduced as it was written: torchvision MNIST with `ToTensor`, a
`DataLoader` (batch 64, shuffle, 1 worker, pinned memory on CUDA) and `loss.item()` every step.
The engine trains the same model with the same hyperparameters from resident tensors, once per
precision asked for (fp32, bf16…). With repeats, the loops take turns (tutorial, engine fp32,
engine bf16, tutorial, …), so that a machine's load changing over time hits them all alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from playground.core.config import TUTORIAL
from playground.core.data import ensure_mnist, load_mnist
from playground.core.engine import DoneEvent, EpochEvent, Trainer
from playground.core.model import build_model
from playground.core.precision import check

Report = Callable[[str], None]


@dataclass(frozen=True)
class LoopResult:
    seconds_per_epoch: float  # mean training time per epoch (evaluation excluded); with repeats,
    # the median of the repeats' means
    epoch_seconds: list[float]  # every epoch of every repeat, in order
    test_accuracy: float  # model.eval(), inputs scaled as in its own training (the last repeat)


@dataclass(frozen=True)
class BenchResult:
    device: str
    device_name: str
    torch_version: str
    epochs: int
    repeats: int
    batch_size: int  # the engine's; the tutorial loop's is 64
    tutorial: LoopResult
    engine: dict[str, LoopResult]  # by precision: "fp32", "bf16"…
    cuda_graph: bool  # whether the engine ran its steps as a CUDA graph
    notes: list[str]  # what the reader of the figures should know (an eager fallback, say)

    @property
    def ratio(self) -> dict[str, float]:
        """By precision: how many times faster the engine trains than the tutorial loop."""
        return {p: self.tutorial.seconds_per_epoch / r.seconds_per_epoch for p, r in self.engine.items()}

    def to_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def tutorial_loop(root: Path, device: torch.device, epochs: int, report: Report = print) -> LoopResult:
    """The 2017 tutorial's loop, with today's API names (loss.item() for loss.data[0])."""
    torch.manual_seed(TUTORIAL.seed)
    to_tensor = transforms.ToTensor()
    train = datasets.MNIST(str(root), train=True, transform=to_tensor, download=False)
    test = datasets.MNIST(str(root), train=False, transform=to_tensor, download=False)
    loader = DataLoader(train, batch_size=64, shuffle=True, num_workers=1, pin_memory=device.type == "cuda")
    model = build_model(TUTORIAL).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=TUTORIAL.lr)
    epoch_seconds = []
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.perf_counter()
        for images, labels in loader:
            images, labels = images.view(-1, 784).to(device), labels.to(device)
            optimizer.zero_grad()
            loss = F.nll_loss(model(images), labels)
            loss.backward()
            optimizer.step()
            loss.item()  # the tutorial read the loss back every step (loss.data[0] in 2017)
        epoch_seconds.append(time.perf_counter() - start)
        report(f"tutorial loop  epoch {epoch}/{epochs}: {epoch_seconds[-1]:.2f} s")
    return LoopResult(sum(epoch_seconds) / epochs, epoch_seconds, _accuracy(model, test, device))


@torch.no_grad()
def _accuracy(model: torch.nn.Module, test: datasets.MNIST, device: torch.device) -> float:
    model.eval()
    correct = 0
    for images, labels in DataLoader(test, batch_size=1000):
        predictions = model(images.view(-1, 784).to(device)).argmax(dim=1)
        correct += (predictions.cpu() == labels).sum().item()
    return correct / len(test)


def engine_loop(
    root: Path,
    device: torch.device,
    epochs: int,
    report: Report = print,
    precision: str = "fp32",
    batch_size: int = TUTORIAL.batch_size,
) -> tuple[LoopResult, Trainer]:
    data = load_mnist(root, device, download=False)
    config = TUTORIAL.replace(epochs=epochs, device=device.type, precision=precision, batch_size=batch_size)
    trainer = Trainer(config, data)
    epoch_seconds, accuracy = [], 0.0
    for event in trainer:
        if isinstance(event, EpochEvent):
            epoch_seconds.append(event.epoch_seconds)
            report(
                f"engine {precision}    epoch {event.epoch}/{epochs}: {event.epoch_seconds:.2f} s, "
                f"test accuracy {event.test_accuracy:.2%}"
            )
        elif isinstance(event, DoneEvent):
            accuracy = event.evaluation.accuracy
    if trainer.graph_error:
        report(f"engine {precision}: no CUDA graph, it ran eagerly: {trainer.graph_error}")
    return LoopResult(sum(epoch_seconds) / epochs, epoch_seconds, accuracy), trainer


def run_bench(
    root: Path,
    device: torch.device,
    epochs: int,
    report: Report = print,
    precisions: Sequence[str] = ("fp32", "bf16"),
    repeats: int = 1,
    batch_size: int = TUTORIAL.batch_size,
) -> BenchResult:
    """`batch_size` is the engine's (the tutorial loop keeps its 64): a GPU's mixed precision
    shows at large batches."""
    ensure_mnist(root, download=True)
    for name in precisions:
        check(name, device)  # before minutes of training, not after
    tutorial_runs: list[LoopResult] = []
    engine_runs: dict[str, list[LoopResult]] = {p: [] for p in precisions}
    graph, notes = False, set()
    for _ in range(repeats):
        tutorial_runs.append(tutorial_loop(root, device, epochs, report))
        for name in precisions:
            result, trainer = engine_loop(root, device, epochs, report, name, batch_size)
            engine_runs[name].append(result)
            graph = graph or trainer.uses_cuda_graph
            if trainer.graph_error:
                notes.add(f"{name}: {trainer.graph_error}")
    device_name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"CPU, {torch.get_num_threads()} threads"
    )
    return BenchResult(
        device=device.type,
        device_name=device_name,
        torch_version=torch.__version__,
        epochs=epochs,
        repeats=repeats,
        batch_size=batch_size,
        tutorial=_combine(tutorial_runs),
        engine={name: _combine(runs) for name, runs in engine_runs.items()},
        cuda_graph=graph,
        notes=sorted(notes),
    )


def _combine(runs: list[LoopResult]) -> LoopResult:
    """One result for the repeats of a loop: the median of their seconds per epoch (robust to one
    repeat that met a busy machine), every epoch's time, and the last repeat's accuracy."""
    return LoopResult(
        statistics.median(r.seconds_per_epoch for r in runs),
        [s for r in runs for s in r.epoch_seconds],
        runs[-1].test_accuracy,
    )
