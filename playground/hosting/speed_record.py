"""This machine's measured training speeds, kept across server restarts.

A server learns how fast each network shape trains here from the epochs its runs train
(`budget.CostModel`). A restarted server used to know only its second of calibration again, so a
preset's first estimate after every restart was as good as that second: on this project's
2-core machine, whose speed swings 1.5–1.9× for minutes at a time, 31% under and 42% over the
measured time were seen. With the record, a restarted server estimates each shape trained here
before from its latest epochs, as the server before it did.

The record is the operator's: one file per device in PLAYGROUND_STATE_DIR (default: the per-user
cache folder); nothing a visitor sends names it. It holds speeds, and is used only by the machine
that measured them: a record whose fingerprint (the CPU's or GPU's model, the cores, a worker's
threads, torch's version, the training set's size) is not this server's is ignored, and replaced
at the next save. A record that cannot be read or written changes nothing but the estimates.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import torch

from playground.core.system import usable_cores

FORMAT = 1
Measured = dict[tuple, list[float]]  # shape → seconds per step of its latest epochs
Evaluations = dict[tuple, float]  # shape → seconds per evaluation of the test set


def state_dir() -> Path:
    """PLAYGROUND_STATE_DIR, else the per-user cache folder (where MNIST goes by default)."""
    if env := os.environ.get("PLAYGROUND_STATE_DIR"):
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "pytorch-playground"


@dataclass
class SpeedRecord:
    """The speeds measured on `device` by servers with this `fingerprint`, in `path`."""

    path: Path
    fingerprint: dict
    _writing: threading.Lock = field(default_factory=threading.Lock)

    def load(self) -> tuple[Measured, Evaluations]:
        """What the record holds, or nothing when it is missing, damaged or another machine's."""
        try:
            stored = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}, {}
        if not isinstance(stored, dict) or stored.get("fingerprint") != self.fingerprint:
            return {}, {}
        measured, evaluations = {}, {}
        for entry in stored.get("shapes", []) if isinstance(stored.get("shapes"), list) else []:
            if (parsed := _entry(entry)) is None:
                return {}, {}  # not written by this code: trust none of it
            shape, seconds, evaluation = parsed
            measured[shape] = seconds
            if evaluation is not None:
                evaluations[shape] = evaluation
        return measured, evaluations

    def save(self, measured: Measured, evaluations: Evaluations) -> None:
        """Replace the record (written whole, then renamed: a reader never sees half of it)."""
        shapes = [
            {"shape": _encode(shape), "seconds_per_step": seconds, "eval_seconds": evaluations.get(shape)}
            for shape, seconds in measured.items()
        ]
        text = json.dumps({"fingerprint": self.fingerprint, "shapes": shapes})
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        with self._writing:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                partial.write_text(text)
                os.replace(partial, self.path)
            except OSError:  # a read-only or full disk: the estimates go on without the record
                with contextlib.suppress(OSError):
                    partial.unlink(missing_ok=True)


def for_device(device: str, threads: int | None, train_samples: int) -> SpeedRecord | None:
    """This server's record for `device` ("cpu", "cuda"); None where the machine cannot be told
    apart from another (a GPU whose model the driver does not say)."""
    machine = _cpu_model() if device == "cpu" else _gpu_models()
    if not machine:
        return None
    fingerprint = {
        "format": FORMAT,
        "device": device,
        "machine": machine,
        "cores": usable_cores(),
        "threads": threads,
        "torch": torch.__version__,
        "train_samples": train_samples,  # evaluations' times depend on the data, not only the shape
    }
    return SpeedRecord(state_dir() / f"speeds-{device}.json", fingerprint)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def _gpu_models() -> str:
    """The GPUs' models as the NVIDIA driver lists them, read without starting CUDA in the web
    server (a CUDA context would take GPU memory from the training worker)."""
    models = []
    for info in sorted(Path("/proc/driver/nvidia/gpus").glob("*/information")):
        try:
            lines = info.read_text().splitlines()
        except OSError:
            continue
        models += [line.partition(":")[2].strip() for line in lines if line.startswith("Model:")]
    return ", ".join(models)


def _encode(shape: tuple) -> list:
    """`budget._shape_key` as JSON: the hidden sizes' tuple as a list."""
    hidden, *rest = shape
    return [list(hidden), *rest]


def _entry(entry: object) -> tuple[tuple, list[float], float | None] | None:
    """One stored shape with its speeds, checked field by field; None if anything is off."""
    if not isinstance(entry, dict):
        return None
    shape, seconds, evaluation = entry.get("shape"), entry.get("seconds_per_step"), entry.get("eval_seconds")
    if not (isinstance(shape, list) and len(shape) == 8):
        return None
    hidden, batchnorm, activation, optimizer, dropout, batch, precision, augmented = shape
    valid = (
        isinstance(hidden, list)
        and all(_count(h) for h in hidden)
        and all(isinstance(flag, bool) for flag in (batchnorm, dropout, augmented))
        and all(isinstance(name, str) for name in (activation, optimizer, precision))
        and _count(batch)
        and isinstance(seconds, list)
        and len(seconds) > 0
        and all(_positive(s) for s in seconds)
        and (evaluation is None or _positive(evaluation))
    )
    if not valid:
        return None
    shape = (tuple(hidden), batchnorm, activation, optimizer, dropout, batch, precision, augmented)
    return shape, seconds, evaluation


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _positive(value: object) -> bool:
    return isinstance(value, float) and 0 < value < 3600
