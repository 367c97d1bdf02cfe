"""The run config: one validated, immutable description of a training run.

Defaults are the 2017 tutorial's recipe. Every field has an allowed range; a bad value raises
`ConfigError` naming the field and that range. The config round-trips through a flat dict of
strings (`to_params` / `from_params`) so that the train page can keep it in the URL.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPTIMIZERS = ("adam", "adamw", "sgd")
ACTIVATIONS = ("relu", "gelu", "tanh", "sigmoid")
SCHEDULES = ("constant", "onecycle")
DEVICES = ("auto", "cpu", "cuda")
# fp32: the tutorial. bf16/fp16: autocast mixed precision, weights kept in fp32 (core/precision.py).
PRECISIONS = ("fp32", "bf16", "fp16")

MIN_LAYERS, MAX_LAYERS = 1, 4
MIN_UNITS, MAX_UNITS = 8, 1024
MIN_DROPOUT, MAX_DROPOUT = 0.0, 0.9
MIN_LR, MAX_LR = 1e-5, 1.0
MIN_BATCH, MAX_BATCH = 8, 4096
MIN_EPOCHS, MAX_EPOCHS = 1, 100
MAX_SEED = 2**31 - 1
MIN_AUGMENT, MAX_AUGMENT = 0.0, 1.0


class ConfigError(ValueError):
    """A config value is missing, of the wrong type, or out of range. `field` names it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class RunConfig:
    hidden: tuple[int, ...] = (548, 252)
    dropout: tuple[float, ...] = (0.5, 0.2)
    batchnorm: bool = True
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = 1e-3
    schedule: str = "constant"  # "onecycle": 25% linear warm-up to lr, then cosine down
    batch_size: int = 64
    epochs: int = 15
    seed: int = 0
    device: str = "auto"

    # Mixed precision (issue 14). Last, so that the URL and CLI of older configs read as fp32.
    precision: str = "fp32"
    # Data augmentation's strength (core/augment.py): 0 trains on MNIST as it is (the tutorial),
    # 1 is the strongest random affine, elastic and stroke-width redrawing of each batch.
    augment: float = 0.0

    def __post_init__(self) -> None:
        # Accept lists for convenience but store tuples, so the config stays hashable and frozen.
        object.__setattr__(self, "hidden", _int_tuple("hidden", self.hidden))
        object.__setattr__(self, "dropout", _float_tuple("dropout", self.dropout))
        if _is_number(self.augment):
            object.__setattr__(self, "augment", float(self.augment))  # 1 and 1.0: one config
        _validate(self)

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some fields changed (validated like any new config)."""
        return dataclasses.replace(self, **changes)

    def to_params(self) -> dict[str, str]:
        """The flat dict of strings used in URLs and checkpoints."""
        return {
            "hidden": ",".join(str(h) for h in self.hidden),
            "dropout": ",".join(_fmt(d) for d in self.dropout),
            "batchnorm": "1" if self.batchnorm else "0",
            "activation": self.activation,
            "optimizer": self.optimizer,
            "lr": _fmt(self.lr),
            "schedule": self.schedule,
            "batch_size": str(self.batch_size),
            "epochs": str(self.epochs),
            "seed": str(self.seed),
            "device": self.device,
            "precision": self.precision,
            "augment": _fmt(self.augment),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> RunConfig:
        """Parse `to_params` output strictly: any bad value raises ConfigError. Missing keys
        take their default; unknown keys are ignored (a URL may carry other parameters)."""
        kwargs = {name: parse_field(name, params[name]) for name in FIELD_NAMES if name in params}
        return cls(**kwargs)

    @classmethod
    def from_params_lenient(cls, params: Mapping[str, str]) -> tuple[RunConfig, list[str]]:
        """Parse untrusted params (a URL): each bad value is replaced by its default and
        reported in the returned warnings, so a bad link never crashes the page."""
        kwargs: dict[str, Any] = {}
        warnings: list[str] = []

        def keep_if_valid(name: str, value: Any, **context: Any) -> None:
            try:
                cls(**{**context, name: value})
                kwargs[name] = value
            except ConfigError as err:
                warnings.append(f"Ignored URL parameter {err}; using the default.")

        parsed: dict[str, Any] = {}
        for name in FIELD_NAMES:
            if name in params:
                try:
                    parsed[name] = parse_field(name, params[name])
                except ConfigError as err:
                    warnings.append(f"Ignored URL parameter {err}; using the default.")
        for name, value in parsed.items():
            if name == "hidden":
                keep_if_valid("hidden", value, dropout=default_dropout(len(value)))
            elif name != "dropout":
                keep_if_valid(name, value)
        hidden = kwargs.get("hidden", cls.hidden)
        if "dropout" in parsed:
            keep_if_valid("dropout", parsed["dropout"], hidden=hidden)
        if "dropout" not in kwargs:
            kwargs["dropout"] = default_dropout(len(hidden))
        return cls(**kwargs), warnings


def default_dropout(depth: int) -> tuple[float, ...]:
    """The tutorial's rates (0.5, then 0.2) for a network of `depth` hidden layers."""
    return tuple(0.5 if i == 0 else 0.2 for i in range(depth))


FIELD_NAMES = tuple(f.name for f in dataclasses.fields(RunConfig))


def parse_field(name: str, text: str) -> Any:
    """Turn one URL/CLI string into the field's Python type (range checks happen in RunConfig)."""
    text = str(text).strip()
    try:
        if name == "hidden":
            return tuple(int(part) for part in text.split(",") if part.strip() != "")
        if name == "dropout":
            return tuple(float(part) for part in text.split(",") if part.strip() != "")
        if name == "batchnorm":
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if name in ("lr", "augment"):
            return float(text)
        if name in ("batch_size", "epochs", "seed"):
            return int(text)
        if name in ("activation", "optimizer", "schedule", "device", "precision"):
            return text.lower()
    except ValueError:
        raise ConfigError(name, f"cannot read {text!r} ({_DESCRIPTIONS[name]})") from None
    raise ConfigError(name, "unknown setting")


_DESCRIPTIONS = {
    "hidden": f"{MIN_LAYERS}–{MAX_LAYERS} comma-separated layer sizes of {MIN_UNITS}–{MAX_UNITS} units",
    "dropout": f"one dropout rate per hidden layer, each {MIN_DROPOUT}–{MAX_DROPOUT}",
    "batchnorm": "true or false",
    "activation": "one of " + ", ".join(ACTIVATIONS),
    "optimizer": "one of " + ", ".join(OPTIMIZERS),
    "lr": f"a number from {MIN_LR:g} to {MAX_LR:g}",
    "schedule": "one of " + ", ".join(SCHEDULES),
    "batch_size": f"an integer from {MIN_BATCH} to {MAX_BATCH}",
    "epochs": f"an integer from {MIN_EPOCHS} to {MAX_EPOCHS}",
    "seed": f"an integer from 0 to {MAX_SEED}",
    "device": "one of " + ", ".join(DEVICES),
    "precision": "one of " + ", ".join(PRECISIONS) + " (fp16 on a CUDA GPU only)",
    "augment": f"a strength from {MIN_AUGMENT:g} (off) to {MAX_AUGMENT:g}",
}


def describe(name: str) -> str:
    """The allowed values of a field, in words (for help texts and error messages)."""
    return _DESCRIPTIONS[name]


def _validate(c: RunConfig) -> None:
    def fail(name: str) -> None:
        raise ConfigError(name, f"must be {_DESCRIPTIONS[name]}")

    if not MIN_LAYERS <= len(c.hidden) <= MAX_LAYERS or any(
        not MIN_UNITS <= h <= MAX_UNITS for h in c.hidden
    ):
        fail("hidden")
    if len(c.dropout) != len(c.hidden):
        raise ConfigError(
            "dropout", f"needs one rate per hidden layer ({len(c.hidden)}), got {len(c.dropout)}"
        )
    if any(not MIN_DROPOUT <= d <= MAX_DROPOUT for d in c.dropout):
        fail("dropout")
    if not isinstance(c.batchnorm, bool):
        fail("batchnorm")
    for name, allowed in (
        ("activation", ACTIVATIONS),
        ("optimizer", OPTIMIZERS),
        ("schedule", SCHEDULES),
        ("device", DEVICES),
        ("precision", PRECISIONS),
    ):
        if getattr(c, name) not in allowed:
            fail(name)
    if not _is_number(c.lr) or not MIN_LR <= c.lr <= MAX_LR:
        fail("lr")
    for name, low, high in (
        ("batch_size", MIN_BATCH, MAX_BATCH),
        ("epochs", MIN_EPOCHS, MAX_EPOCHS),
        ("seed", 0, MAX_SEED),
    ):
        value = getattr(c, name)
        if not _is_int(value) or not low <= value <= high:
            fail(name)
    if not _is_number(c.augment) or not MIN_AUGMENT <= c.augment <= MAX_AUGMENT:
        fail("augment")


def _int_tuple(name: str, values: Any) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ConfigError(name, f"must be {_DESCRIPTIONS[name]}")
    if not all(_is_int(v) for v in values):
        raise ConfigError(name, f"must be {_DESCRIPTIONS[name]}")
    return tuple(int(v) for v in values)


def _float_tuple(name: str, values: Any) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ConfigError(name, f"must be {_DESCRIPTIONS[name]}")
    if not all(_is_number(v) for v in values):
        raise ConfigError(name, f"must be {_DESCRIPTIONS[name]}")
    return tuple(float(v) for v in values)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _fmt(x: float) -> str:
    return repr(float(x))  # shortest string that reads back as the same float


TUTORIAL = RunConfig()
# Reaches ≥ 97.6% quickly: large batches and a one-cycle schedule (see the README's figures).
FAST = RunConfig(batch_size=512, lr=4e-3, schedule="onecycle", epochs=3)
# The shipped default model's recipe: the tutorial's network trained on augmented batches, with
# larger batches and a one-cycle schedule so that 40 epochs fit a few CPU minutes (≥ 99%).
AUGMENTED = RunConfig(batch_size=256, lr=3e-3, schedule="onecycle", epochs=40, augment=0.7)
PRESETS = {"tutorial": TUTORIAL, "fast": FAST, "augmented": AUGMENTED}
