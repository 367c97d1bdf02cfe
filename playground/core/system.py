"""What this machine offers: the training device and library versions."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DeviceInfo:
    cuda: bool
    name: str  # GPU name, or the CPU's description
    torch_version: str
    cpu_cores: int

    @property
    def summary(self) -> str:
        kind = "GPU" if self.cuda else "CPU"
        return f"{kind}: {self.name} · torch {self.torch_version}"


def usable_cores() -> int:
    """The cores this process may run on: fewer than os.cpu_count() in a container with a CPU
    set or under taskset, where more threads than that would only take turns."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def device_info() -> DeviceInfo:
    cuda = torch.cuda.is_available()
    name = torch.cuda.get_device_name(0) if cuda else (platform.processor() or platform.machine())
    return DeviceInfo(cuda, name, torch.__version__, usable_cores())


def gpu_unavailable_reason() -> str | None:
    """Why the GPU cannot be used here, or None when it can."""
    if torch.cuda.is_available():
        return None
    if torch.version.cuda is None:
        return "this torch is a CPU-only build"
    return "torch sees no CUDA GPU on this machine"
