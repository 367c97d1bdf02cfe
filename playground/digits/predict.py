"""Classifying one drawing: which model answers, its probabilities, its hidden layers' response.

Used by the Draw page and by `python -m playground predict`. Nothing here knows about Streamlit:
the page passes in the session's trained runs and any uploaded checkpoint bytes.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from playground.core import checkpoint
from playground.core.config import RunConfig
from playground.core.model import MLP
from playground.digits import preprocessing

DEFAULT_MODEL_PATH = Path(__file__).parents[1] / "assets" / "default_model.pt"


class TrainedRun(Protocol):
    """What a finished or stopped training run offers the draw page (hosting's RunRecord has it;
    this package needs nothing else from hosting)."""

    id: int
    name: str
    model: MLP | None
    config: RunConfig
    epochs: Sequence[Any]  # its epochs' events so far: .epoch and .test_accuracy

    @property
    def final_accuracy(self) -> float | None: ...

    @property
    def stopped_early(self) -> bool: ...


@dataclass(frozen=True)
class ModelSource:
    """One model the page can ask: a run of this session, the shipped default, or an upload."""

    key: str  # stable across reruns: "run:<id>", "default" or "upload"
    label: str  # what the selector shows
    description: str  # one sentence: which model answers
    model: MLP
    config: RunConfig
    accuracy: float | None = None  # test accuracy when known


@dataclass(frozen=True)
class Prediction:
    probabilities: np.ndarray  # (10,) summing to 1
    activations: list[np.ndarray] = field(default_factory=list)  # one (units,) array per hidden layer

    @property
    def digit(self) -> int:
        return int(self.probabilities.argmax())

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())


@dataclass(frozen=True)
class Classification:
    """A drawing's preprocessing steps, the answer (None when empty) and the time both took."""

    processed: preprocessing.Preprocessed
    prediction: Prediction | None
    seconds: float


@functools.lru_cache(maxsize=1)
def load_default() -> tuple[MLP, RunConfig, dict[str, Any]]:
    """The shipped model, read once per process (shared read-only by every session)."""
    if not DEFAULT_MODEL_PATH.exists():
        raise FileNotFoundError(f"the shipped default model is missing: {DEFAULT_MODEL_PATH}")
    return checkpoint.load(DEFAULT_MODEL_PATH)


def default_source() -> ModelSource:
    model, config, meta = load_default()
    accuracy = meta.get("test_accuracy")
    return ModelSource(
        key="default",
        label="Default model (shipped)",
        description="the default model shipped with the playground ("
        + (
            f"the tutorial's network trained with data augmentation {config.augment:g}"
            if config.augment > 0
            else "the tutorial recipe, trained on MNIST"
        )
        + f"{_accuracy_text(accuracy)})",
        model=model,
        config=config,
        accuracy=accuracy,
    )


def run_source(record: TrainedRun, latest: bool = False) -> ModelSource:
    """A trained (finished or stopped) run of this session."""
    accuracy = record.final_accuracy
    state = "stopped early" if record.stopped_early else "trained"
    return ModelSource(
        key=f"run:{record.id}",
        label=f"{record.name}{' (latest)' if latest else ''}{_accuracy_text(accuracy, ' · ')}",
        description=f"{record.name}, {state} in this session{_accuracy_text(accuracy)}",
        model=record.model,
        config=record.config,
        accuracy=accuracy,
    )


def training_source(record: TrainedRun, epoch: int, model: MLP) -> ModelSource:
    """A run that is still training, answering with the weights of its latest finished epoch.
    Its key is the run's own, so the choice stays when the run ends and its final model answers."""
    accuracy = next((e.test_accuracy for e in reversed(record.epochs) if e.epoch == epoch), None)
    where = f"epoch {epoch} of {record.config.epochs}"
    return ModelSource(
        key=f"run:{record.id}",
        label=f"{record.name} (training: {where})",
        description=f"{record.name}, still training: its weights after {where}{_accuracy_text(accuracy)}",
        model=model,
        config=record.config,
        accuracy=accuracy,
    )


def upload_source(blob: bytes, filename: str) -> ModelSource:
    """An uploaded checkpoint. Raises checkpoint.CheckpointError with a message for the user."""
    model, config, meta = checkpoint.load(blob)
    accuracy = meta.get("test_accuracy") if isinstance(meta.get("test_accuracy"), float) else None
    return ModelSource(
        key="upload",
        label=f"Uploaded: {filename}",
        description=f"the checkpoint you uploaded, {filename}{_accuracy_text(accuracy)}",
        model=model,
        config=config,
        accuracy=accuracy,
    )


def taught_source(base: ModelSource, model: MLP, examples: int) -> ModelSource:
    """`base` after a lesson on the visitor's own drawings (`teach.teach`)."""
    return ModelSource(
        key="taught",
        label=f"Taught your {examples} drawings: {base.label}",
        description=f"{base.description}, then taught your {examples} drawings on this page",
        model=model,
        config=base.config,
    )


def model_sources(
    trained: Sequence[TrainedRun],
    uploaded: ModelSource | None = None,
    training: ModelSource | None = None,
    taught: ModelSource | None = None,
) -> list[ModelSource]:
    """The choices, best first: an upload (the user just asked for it), a model taught the
    visitor's drawings, a run still training, this session's runs newest first, then the shipped
    default. The first one answers unless the user picks another."""
    sources = [uploaded] if uploaded is not None else []
    sources += [taught] if taught is not None else []
    sources += [training] if training is not None else []
    sources += [run_source(record, latest=i == 0) for i, record in enumerate(trained)]
    sources.append(default_source())
    return sources


@torch.inference_mode()
def predict(model: MLP, model_input: torch.Tensor) -> Prediction:
    """(784,) normalised input → probabilities and each hidden layer's activations."""
    weight = next(model.parameters())
    x = model_input.reshape(1, -1).to(weight.device, weight.dtype)  # (1, 784), where the model lives
    probabilities = model(x).exp()[0]  # (10,)
    activations = [layer[0].cpu().numpy() for layer in model.activations(x)]
    return Prediction(probabilities.cpu().numpy(), activations)


def classify(model: MLP, image: np.ndarray) -> Classification:
    """An RGBA/RGB/grey image → preprocessing steps and the model's answer (None when empty)."""
    start = time.perf_counter()
    processed = preprocessing.preprocess(image)
    prediction = None if processed.empty else predict(model, processed.model_input)
    return Classification(processed, prediction, time.perf_counter() - start)


def _accuracy_text(accuracy: object, prefix: str = ", ") -> str:
    """ ", 98.49% test accuracy" (or with another prefix, just the figure); "" when unknown."""
    if not isinstance(accuracy, float):
        return ""
    return f"{prefix}{accuracy:.2%}" + (" test accuracy" if prefix == ", " else "")
