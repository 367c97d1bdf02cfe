"""Training precision: fp32 (the tutorial), bf16 or fp16 mixed precision, and whether this machine
runs a precision fast.

Mixed precision here means autocast around the forward pass and the loss only: the weights, their
gradients and the optimizer's state stay float32, and evaluation always runs in float32. fp16
needs loss scaling (its range ends at 65504 and small gradients underflow to 0), so it is offered
on CUDA only, where a GradScaler does that; bf16 has float32's range and needs none.

Whether bf16 is fast on this CPU is found by trying: `bf16_speed()` times a few training steps of
the tutorial network in both precisions once per process. The CPU's flags only explain the
result in words; they do not decide it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from playground.core.config import TUTORIAL
from playground.core.model import build_model

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}

# bf16 counts as slow when it trains at less than this fraction of fp32's speed: below 1.0 with
# a margin, as one probe on a busy machine varies by a few percent.
SLOW_BELOW = 0.9
PROBE_BATCH, PROBE_STEPS = 256, 12


class PrecisionUnavailableError(RuntimeError):
    """The config asks for a precision the training device cannot run (fp16 on the CPU)."""


def unavailable_reason(precision: str, device_type: str) -> str | None:
    """Why `precision` cannot train on this device type ('cpu' or 'cuda'), or None when it can."""
    if precision == "fp16" and device_type != "cuda":
        return "fp16 trains on a CUDA GPU only (it needs loss scaling); on the CPU use bf16"
    if precision == "bf16" and device_type == "cuda" and not torch.cuda.is_bf16_supported():
        return "this GPU has no bfloat16 support (it needs compute capability 8.0 or later)"
    return None


def check(precision: str, device: torch.device) -> None:
    """Raise PrecisionUnavailableError with the reason when `precision` cannot run on `device`."""
    reason = unavailable_reason(precision, device.type)
    if reason:
        raise PrecisionUnavailableError(f"precision '{precision}' was asked for, but {reason}")


def autocast(precision: str, device: torch.device, cache_enabled: bool = True):
    """The context to run the forward pass and loss in: nothing for fp32, else torch.autocast.
    A CUDA graph capture needs cache_enabled=False (the cast weights must not outlive it)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=DTYPES[precision], cache_enabled=cache_enabled)


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler | None:
    """fp16's loss scaling; None for the precisions that need none."""
    if precision == "fp16" and device.type == "cuda":
        return torch.amp.GradScaler("cuda")
    return None


# --- is bf16 fast here? --------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeedProbe:
    fp32_ms: float  # median time of one training step
    bf16_ms: float
    native_bf16: bool  # what the CPU's flags say (an explanation, not the decision)

    @property
    def speedup(self) -> float:
        """bf16's speed as a multiple of fp32's (above 1: bf16 trains faster)."""
        return self.fp32_ms / self.bf16_ms


_probe: SpeedProbe | None = None
_probe_lock = threading.Lock()


def bf16_speed() -> SpeedProbe:
    """Time a few CPU training steps of the tutorial network in fp32 and in bf16, once per
    process (about a second): later calls return the same answer."""
    global _probe
    with _probe_lock:
        if _probe is None:
            _probe = SpeedProbe(_step_ms("fp32"), _step_ms("bf16"), cpu_has_native_bf16())
        return _probe


def slow_warning(precision: str, device_type: str) -> str | None:
    """What to tell a user about to train in `precision` on this device type, when this machine
    runs it slowly; None when it is fast or the question does not arise (fp32, CUDA)."""
    if precision != "bf16" or device_type != "cpu":
        return None
    probe = bf16_speed()
    if probe.speedup >= SLOW_BELOW:
        return None
    why = (
        "no native bfloat16 (its flags list neither avx512_bf16 nor amx_bf16, so each product is "
        "converted and computed in float32)"
        if not probe.native_bf16
        else "its bfloat16 instructions did not pay off here"
    )
    return (
        f"bf16 will be slow on this CPU: {why}. Measured here: one training step takes "
        f"{probe.bf16_ms:.1f} ms in bf16 against {probe.fp32_ms:.1f} ms in fp32 "
        f"({probe.speedup:.2f}× the speed)."
    )


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU's flags name bfloat16 instructions (Linux only; False elsewhere)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    lines = [line for line in text.splitlines() if line.startswith("flags")]
    flags = lines[0].split(":", 1)[1].split() if lines else []
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _step_ms(precision: str) -> float:
    """Median milliseconds of one training step of the tutorial network on random data."""
    device = torch.device("cpu")
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(PROBE_BATCH, 784, generator=generator)
    y = torch.randint(0, 10, (PROBE_BATCH,), generator=generator)
    model = build_model(TUTORIAL)
    optimizer = torch.optim.Adam(model.parameters(), lr=TUTORIAL.lr, fused=True)
    times = []
    for _ in range(PROBE_STEPS):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with autocast(precision, device):
            loss = F.nll_loss(model(x), y)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    times = sorted(times[2:])  # the first steps allocate and pick kernels
    return 1000 * times[len(times) // 2]
