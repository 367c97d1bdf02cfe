"""The tutorial's "Operate on GPU": device placement shown live, and one matrix product timed on
the CPU and, when there is one, on the GPU."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

# On a shared server the timing runs on the thread count the server already has (one: it never
# changes torch's setting for the whole process), so these bound it: 2·2048³ ≈ 17 GFLOP is about
# 0.3 s on one core of the 2-core development machine.
MAX_N = 2048
MIN_N = 64
PER_SIZE_BUDGET_S = 0.2  # repeat a product until this much time has gone (at least once)
TOTAL_BUDGET_S = 3.0  # never start a product that would end the sweep later than this


@dataclass(frozen=True)
class PlacementStep:
    code: str
    result: str  # what it printed, or the error it raised
    ok: bool


def _run(code: str, fn: Callable[[], object]) -> PlacementStep:
    try:
        return PlacementStep(code, str(fn()), True)
    except (RuntimeError, AssertionError) as e:  # no driver, no device, mixed devices
        first_sentence = str(e).splitlines()[0].split(". ")[0]  # CUDA's messages run on and on
        return PlacementStep(code, f"{type(e).__name__}: {first_sentence}", False)


def pick_device() -> torch.device:
    """Today's idiom, replacing the tutorial's `if torch.cuda.is_available(): x = x.cuda()`."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def placement_demo(cuda: bool | None = None) -> list[PlacementStep]:
    """Each placement idiom run on this machine. Without a GPU the CUDA lines show the error
    they raise here, which is itself worth seeing."""
    cuda = torch.cuda.is_available() if cuda is None else cuda
    x = torch.arange(6.0).reshape(2, 3)
    device = torch.device("cuda" if cuda else "cpu")
    steps = [
        _run("torch.cuda.is_available()", lambda: cuda),
        _run('device = torch.device("cuda" if torch.cuda.is_available() else "cpu")', lambda: device),
        _run("x = torch.arange(6.0).reshape(2, 3); x.device", lambda: x.device),
        _run("x.to(device).device", lambda: x.to(device).device),
        _run("x.cuda().device", lambda: x.cuda().device),
        _run('torch.zeros(2, 3, device="cuda").device', lambda: torch.zeros(2, 3, device="cuda").device),
    ]
    if cuda:
        steps += [
            _run(
                "(x.cuda() * 2).cpu()  # compute on the GPU, bring the result back",
                lambda: (x.cuda() * 2).cpu(),
            ),
            _run("x + x.cuda()  # operands must share a device", lambda: x + x.cuda()),
        ]
    return steps


# --- matmul timing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    device: str  # "cpu" or "cuda"
    n: int  # n×n @ n×n
    seconds: float  # best of the repeats, per product
    repeats: int

    @property
    def gflops(self) -> float:
        return 2 * self.n**3 / self.seconds / 1e9


def sweep_sizes(n: int) -> list[int]:
    """Powers of two from MIN_N up to n (n itself last), so the chart shows how time grows."""
    n = clamp_size(n)
    sizes, s = [], MIN_N
    while s < n:
        sizes.append(s)
        s *= 2
    return sizes + [n]


def clamp_size(n: int) -> int:
    return max(MIN_N, min(int(n), MAX_N))


def _sync(device: str) -> None:
    # CUDA kernels run asynchronously: without this we would time the launch, not the product
    if device == "cuda":
        torch.cuda.synchronize()


def time_matmul(
    n: int,
    device: str = "cpu",
    dtype: torch.dtype = torch.float32,
    budget_s: float = PER_SIZE_BUDGET_S,
    max_repeats: int = 1000,
) -> Timing:
    """Best time of one n×n float32 product on `device`, repeated within `budget_s`."""
    n = clamp_size(n)
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen, dtype=dtype).to(device)
    b = torch.randn(n, n, generator=gen, dtype=dtype).to(device)
    # Warm-up on a small product: wakes the thread pool / CUDA context and cuBLAS without
    # paying for a second full-size product on a slow CPU.
    (a[:64, :64] @ b[:64, :64])
    _sync(device)
    best, repeats, start = float("inf"), 0, time.perf_counter()
    while repeats < max_repeats and (repeats == 0 or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - t0)
        repeats += 1
    return Timing(device, n, best, repeats)


def compare(
    n: int,
    devices: list[str],
    on_step: Callable[[float, str], None] | None = None,
    total_budget_s: float = TOTAL_BUDGET_S,
) -> tuple[list[Timing], list[str]]:
    """Time the sweep up to n on each device. Returns the timings and what was skipped because
    the total budget ran out. `on_step(fraction_done, message)` drives a progress bar."""
    sizes = sweep_sizes(n)
    jobs = [(d, s) for s in sizes for d in devices]
    timings, skipped, start = [], [], time.perf_counter()
    for i, (device, size) in enumerate(jobs):
        if on_step:
            on_step(i / len(jobs), f"{device}: {size}×{size} @ {size}×{size}")
        expected_end = time.perf_counter() - start + _expected_seconds(timings, device, size)
        if timings and expected_end > total_budget_s:
            skipped.append(f"{device} {size}")  # the first always runs
            continue
        timings.append(time_matmul(size, device))
    if on_step:
        on_step(1.0, "done")
    return timings, skipped


def _expected_seconds(timings: list[Timing], device: str, size: int) -> float:
    """What timing `size` will take: the repeats' budget, or one product when that is longer,
    scaled as n³ from the largest size timed so far on that device."""
    done = [t for t in timings if t.device == device]
    if not done:
        return 0.0
    one = done[-1].seconds * (size / done[-1].n) ** 3
    return max(one, min(PER_SIZE_BUDGET_S, one * 1000))


def speedup(timings: list[Timing], n: int) -> float | None:
    """CPU time / GPU time at size n, when both were measured."""
    by = {(t.device, t.n): t.seconds for t in timings}
    if ("cpu", n) in by and ("cuda", n) in by:
        return by[("cpu", n)] / by[("cuda", n)]
    return None
