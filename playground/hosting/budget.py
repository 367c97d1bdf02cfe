"""How long a run will take on this server, before it starts: the compute budget's yardstick.

A training step's time on a given device is close to linear in a few facts of the config:

    seconds/step ≈ c0 + c1·layers + c2·W + c3·B·W + c4·B·U + c5·B·A + c6·A

(W: weights of the linear layers, U: hidden units, B: batch size, A: 1 when the batches are
augmented, else 0). c0 and c1 are the fixed cost of a step and of each layer's kernels, c2 the
optimizer's pass over every weight (Adam touches each one whatever the batch: it dominates a
4×1024 network at batch 8), c3 the matrix products, c4 the elementwise work (activation,
BatchNorm, dropout), c5 and c6 the redrawing of each image and of each batch (augmentation costs
the tutorial network at batch 256 a third more time per step). The coefficients are fitted to this
server's own timings: a short calibration in a child process (the threads and device of a
training worker), then every epoch that real runs train. A config that has trained here before
is estimated from its own measured epochs, which is what a class re-running the presets gets.
"""

from __future__ import annotations

import json
import os
import statistics
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from playground.core.config import RunConfig
from playground.core.data import raw_dir
from playground.core.schedule import steps_per_epoch
from playground.hosting.speed_record import SpeedRecord

MNIST_TRAIN, MNIST_TEST = 60_000, 10_000
RUN_OVERHEAD_S = 0.15  # model build, the hand-overs to and from the worker: 0.1–0.2 s measured
MEASURED_EPOCHS = 30  # a shape's latest epochs that estimate it: minutes of training, across swings
MEASURED_SHAPES = 200  # the shapes trained latest keep their epochs (the rest: the fit's estimate)
SPREAD_SHOWN = 1.2  # the page gives a range as well when a shape's speeds differ this much
CALIBRATION_STEP_S = 0.15  # time each calibration config for about this long
CALIBRATION_MIN_STEPS = 3
CALIBRATION_WARMUP_STEPS = {"cpu": 2, "cuda": 5}  # CUDA: 3 eager warm-up steps and the capture
CALIBRATION_TIMEOUT_S = 900.0  # a loaded machine calibrates slowly; the prior serves meanwhile
CALIBRATION_POLL_S = 0.25  # how soon a calibration gives way to a run that starts
CALIBRATION_ATTEMPTS = 20  # then the prior and the runs' own epochs serve for good
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # where `python -m playground...` works
# Spread over the regimes above: overhead-bound, optimizer-bound, matmul-bound, many layers.
CALIBRATION = [
    RunConfig(hidden=(64,), dropout=(0.0,), batchnorm=False, batch_size=64),
    RunConfig(hidden=(548, 252), dropout=(0.5, 0.2), batch_size=64),
    RunConfig(hidden=(548, 252), dropout=(0.5, 0.2), batch_size=512),
    RunConfig(hidden=(1024, 1024), dropout=(0.2, 0.2), batch_size=8),
    RunConfig(hidden=(1024, 1024, 1024), dropout=(0.2,) * 3, batch_size=128),
    RunConfig(hidden=(128,) * 4, dropout=(0.2,) * 4, batch_size=32),
    RunConfig(hidden=(548, 252), dropout=(0.5, 0.2), batch_size=64, augment=0.7),
    RunConfig(hidden=(548, 252), dropout=(0.5, 0.2), batch_size=256, augment=0.7),  # Augmented
]


def features(config: RunConfig) -> list[float]:
    sizes = [784, *config.hidden, 10]
    weights = sum(a * b for a, b in zip(sizes, sizes[1:]))
    units = sum(config.hidden) + 10
    batch = config.batch_size
    augmented = 1.0 if config.augment > 0 else 0.0  # its strength scales random numbers, not work
    return [
        1.0,
        float(len(config.hidden)),
        float(weights),
        float(batch * weights),
        float(batch * units),
        batch * augmented,
        augmented,
    ]


def _shape_key(config: RunConfig) -> tuple:
    """What a step's time depends on; the learning rate, seed and epochs do not change it. Runs
    in bf16 and augmented runs are measured apart from the rest: a Tutorial epoch with
    augmentation takes about a third longer, and one in bf16 up to 1.4× less."""
    dropout = any(d > 0 for d in config.dropout)
    return (
        config.hidden,
        config.batchnorm,
        config.activation,
        config.optimizer,
        dropout,
        config.batch_size,
        config.precision,
        config.augment > 0,
    )


# Before this server's calibration is in: timings from the development machine (2 cores, one
# training thread), good to a factor of about two. GPU: the CUDA-graph step measured on an H200.
_PRIOR = {
    "cpu": [
        (RunConfig(hidden=(64,), dropout=(0.0,), batchnorm=False, batch_size=8), 1.2e-3),
        (RunConfig(hidden=(64,), dropout=(0.0,), batchnorm=False, batch_size=512), 7.1e-3),
        (RunConfig(batch_size=64), 3.3e-3),
        (RunConfig(batch_size=512), 9.5e-3),
        (RunConfig(hidden=(1024,) * 4, dropout=(0.2,) * 4, batch_size=8), 33.5e-3),
        (RunConfig(hidden=(1024,) * 4, dropout=(0.2,) * 4, batch_size=256), 204e-3),
        (RunConfig(batch_size=64, augment=0.7), 4.4e-3),
        (RunConfig(batch_size=512, augment=0.7), 15e-3),
    ],
    "cuda": [
        (RunConfig(batch_size=64), 0.25e-3),
        (RunConfig(batch_size=1024), 0.30e-3),
        (RunConfig(batch_size=4096), 0.53e-3),
    ],
}


@dataclass
class CostModel:
    """Seconds per step on one device: fitted to timings, exact for configs trained here."""

    device: str = "cpu"
    record: SpeedRecord | None = None  # where this machine's measured epochs outlive the server
    calibrated: bool = False
    _points: list[tuple[list[float], float]] = field(default_factory=list)
    _timed: int = 0  # the first _points: the calibration's (or the prior's), kept by every refit
    _coefficients: list[float] = field(default_factory=list)
    _measured: dict[tuple, list[float]] = field(default_factory=dict)  # shape → s/step of real epochs
    _eval: dict[tuple, float] = field(default_factory=dict)  # shape → s per evaluation
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.use_timings([(c, s) for c, s in _PRIOR.get(self.device, _PRIOR["cpu"])], calibrated=False)
        if self.record is not None:  # what the servers before this one measured here
            self._measured, self._eval = self.record.load()

    def use_timings(self, timings: list[tuple[RunConfig, float]], calibrated: bool = True) -> None:
        """Fit the model to (config, seconds per step) timings, replacing earlier calibration.
        Calibration timings are also exact figures for their own shapes (the presets among them)."""
        with self._lock:
            self._points = [(features(c), s) for c, s in timings]
            self._timed = len(timings)
            self._coefficients = fit(self._points)
            self.calibrated = calibrated
            if calibrated:
                for config, seconds in timings:
                    self._measured.setdefault(_shape_key(config), []).insert(0, seconds)

    def observe_epoch(self, config: RunConfig, seconds_per_step: float, eval_seconds: float | None) -> None:
        """A real run's epoch: remembered for its shape (the middle of the latest ones is used,
        see `typical`) and added to the fit, so that shapes never trained here are estimated
        better too."""
        key = _shape_key(config)
        with self._lock:
            recent = self._measured.pop(key, [])  # back in last: the shapes trained latest
            recent.append(seconds_per_step)
            self._measured[key] = recent[-MEASURED_EPOCHS:]
            while len(self._measured) > MEASURED_SHAPES:  # visitors can try any number of shapes
                self._eval.pop(oldest := next(iter(self._measured)), None)
                del self._measured[oldest]
            if eval_seconds is not None:
                self._eval[key] = eval_seconds
            self._points.append((features(config), seconds_per_step))
            del self._points[self._timed : -50]  # calibration plus the latest 50 epochs
            self._coefficients = fit(self._points)
            measured = {shape: list(seconds) for shape, seconds in self._measured.items()}
            evaluations = dict(self._eval)
        if self.record is not None:
            self.record.save(measured, evaluations)

    def seconds_per_step(self, config: RunConfig) -> float:
        with self._lock:
            measured = self._measured.get(_shape_key(config))
            if measured:
                return typical(measured)
            return predict(self._coefficients, features(config))

    def eval_seconds(self, config: RunConfig, test_samples: int = MNIST_TEST) -> float:
        """One evaluation of the test set: a forward pass, about a third of a training step's
        work per sample (no backward, no optimizer)."""
        with self._lock:
            if (known := self._eval.get(_shape_key(config))) is not None:
                return known
            c = self._coefficients
        f = features(config)
        return test_samples * (c[3] * f[3] + c[4] * f[4]) / config.batch_size / 3

    def estimate_seconds(self, config: RunConfig, train_samples: int = MNIST_TRAIN) -> float:
        """The whole run: its steps, an evaluation after each epoch and one at the end."""
        return self._run_seconds(config, train_samples, self.seconds_per_step(config))

    def estimate_range(
        self, config: RunConfig, train_samples: int = MNIST_TRAIN
    ) -> tuple[float, float] | None:
        """The whole run at the faster and at the slower end of the speeds its shape trained at
        here (`spread`), when they differ by SPREAD_SHOWN or more (a machine whose speed swings);
        None when the shape has not trained here for a few epochs, or trained at one speed."""
        with self._lock:
            measured = list(self._measured.get(_shape_key(config), []))
        if len(measured) < 4:
            return None
        lower, upper = spread(measured)
        if upper < SPREAD_SHOWN * lower:
            return None
        return tuple(self._run_seconds(config, train_samples, s) for s in (lower, upper))

    def _run_seconds(self, config: RunConfig, train_samples: int, seconds_per_step: float) -> float:
        steps = steps_per_epoch(train_samples, config.batch_size) * config.epochs
        evaluations = config.epochs + 1
        return RUN_OVERHEAD_S + steps * seconds_per_step + evaluations * self.eval_seconds(config)


def typical(seconds: list[float]) -> float:
    """The step time to expect from a shape's measured ones: the time at the mean of the two
    speeds of its `spread` (the harmonic mean of their step times). A machine's speed can swing
    between two levels for minutes at a time (this project's 2-core machine: 1.5–1.9×, and whole
    15-epoch runs at either level). The median of such a window is one level or the other,
    whichever the latest epochs mostly had, so the next run was often estimated at the wrong one
    (0.63× and 1.32–1.39× seen). With both levels in the window this lands between them, where
    its error is the same for a run at either level: (r − 1)/(r + 1) for levels r× apart. So the
    estimate is within ±30% of the measured time of a run at either level for swings up to
    1.3/0.7 = 1.86×; the geometric middle of the two (used before) is 30% over a fast run's time
    from 1.69× on. With one level it is that level, and a few outliers (epochs beside another
    process) do not move it."""
    if len(seconds) < 4:
        return statistics.median(seconds)
    lower, upper = spread(seconds)
    return 2 * lower * upper / (lower + upper)


def spread(seconds: list[float]) -> tuple[float, float]:
    """The 10th and 90th percentiles: the fast and the slow level of a swinging machine once
    each has a tenth of the window, past the odd outlier."""
    deciles = statistics.quantiles(seconds, n=10, method="inclusive")
    return deciles[0], deciles[-1]


def predict(coefficients: list[float], f: list[float]) -> float:
    return max(sum(c * x for c, x in zip(coefficients, f)), 1e-6)


def fit(points: list[tuple[list[float], float]]) -> list[float]:
    """Least squares on the relative error (a 1 ms step and a 200 ms one count alike), with
    every coefficient kept ≥ 0: a feature whose fitted cost would be negative is dropped and the
    rest refitted, so that a bigger network is never estimated faster."""
    n = len(points[0][0])
    active = list(range(n))
    while active:
        a = torch.tensor([[f[i] / t for i in active] for f, t in points], dtype=torch.float64)
        b = torch.ones(len(points), 1, dtype=torch.float64)
        scale = a.abs().max(dim=0).values.clamp_min(1e-30)  # columns span 1 to 1e9
        solution = torch.linalg.lstsq(a / scale, b, driver="gelsd").solution.flatten() / scale
        negative = [i for i, c in zip(active, solution.tolist()) if c < 0]
        if not negative:
            coefficients = [0.0] * n
            for i, c in zip(active, solution.tolist()):
                coefficients[i] = c
            return coefficients
        active.remove(min(negative, key=lambda i: solution[active.index(i)].item()))
    return [0.0] * n


def train_size(root: Path | str) -> int:
    """Training images in the MNIST under `root`, from the IDX header (MNIST's own 60,000 when
    it is not there yet): the test suite's small MNIST trains far faster."""
    try:
        with open(raw_dir(root) / "train-images-idx3-ubyte", "rb") as f:
            magic, count = struct.unpack(">II", f.read(8))
        return count if magic == 2051 else MNIST_TRAIN
    except (OSError, struct.error):
        return MNIST_TRAIN


# --- calibration --------------------------------------------------------------------------------


def time_configs(configs: list[RunConfig], device: str) -> list[tuple[RunConfig, float]]:
    """Seconds per step of each config on random data, timed by the real engine: steps after a
    few that warm it up (allocations, CUDA graph capture), for about CALIBRATION_STEP_S each
    (at least CALIBRATION_MIN_STEPS, however slow), so that a busy machine does not make the
    calibration itself a burden."""
    from playground.core.data import MnistTensors
    from playground.core.engine import StepEvent, Trainer

    results = []
    for config in configs:
        n = 32 * config.batch_size  # the data repeats: what is timed is the step, not MNIST
        x = torch.randn(n, 784, device=device)
        y = torch.randint(0, 10, (n,), device=device)
        data = MnistTensors(x, y, x[:16], y[:16], torch.zeros(16, 28, 28, dtype=torch.uint8), Path("."))
        trainer = Trainer(config.replace(epochs=100, device=device), data, log_every=1)
        durations, last = [], None
        for event in trainer:
            if not isinstance(event, StepEvent) or event.global_step <= CALIBRATION_WARMUP_STEPS[device]:
                continue
            if last is not None and event.global_step == last.global_step + 1:
                durations.append(event.elapsed - last.elapsed)
            last = event
            if len(durations) >= CALIBRATION_MIN_STEPS and sum(durations) >= CALIBRATION_STEP_S:
                trainer.stop()
        # The median step: a step that another process preempted says little about the next one.
        results.append((config, statistics.median(durations)))
    return results


def calibrate_in_child(
    model: CostModel, threads: int | None, busy: Callable[[], bool] = lambda: False
) -> threading.Thread:
    """Time the calibration configs in a child process (training's own conditions: the main
    thread of a process with a worker's thread count, not a thread of the web server) and fit
    `model` to them when they come. Returns at once; the model keeps its prior until then.

    The calibration yields to training: it starts only while `busy()` (a run trains on this
    device) is false, and a run that starts meanwhile stops it; it is tried again once the
    device is idle. On a server that had just started, the first visitor's run shared its
    cores with the calibration's torch import and timings: the Fast preset trained 25–30%
    slower through the page (scripts/page_overhead.py). Timings taken beside a run would
    also be wrong. Until a calibration gets through, the runs' own epochs refine the model.

    The child is a plain subprocess that prints its timings, not a multiprocessing child fed a
    queue: one that was still starting when the server exited found its queue's semaphores
    already removed and printed a traceback into the server's log (seen in the load test)."""

    def calibrate() -> None:
        for _ in range(CALIBRATION_ATTEMPTS):
            while busy():
                time.sleep(CALIBRATION_POLL_S)
            if (timings := _attempt(model.device, threads, busy)) is not None:
                model.use_timings(timings)
                return
        # Still the prior, refined by the epochs that real runs train: estimates stay rough, and
        # runs are capped while they train anyway.

    thread = threading.Thread(target=calibrate, name="playground-calibration", daemon=True)
    thread.start()
    return thread


def _attempt(
    device: str, threads: int | None, busy: Callable[[], bool]
) -> list[tuple[RunConfig, float]] | None:
    """One calibration in a child process: its timings, or None when a run started (or the
    child failed) before they came."""
    command = [sys.executable, "-m", "playground.hosting.budget", device, str(threads or 0)]
    deadline = time.monotonic() + CALIBRATION_TIMEOUT_S
    with subprocess.Popen(
        command, cwd=_PACKAGE_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as child:
        try:
            while time.monotonic() < deadline and not busy():
                try:
                    out, _ = child.communicate(timeout=CALIBRATION_POLL_S)
                except subprocess.TimeoutExpired:
                    continue
                return _timings(out) if child.returncode == 0 else None
            return None
        finally:
            child.kill()  # at once: a run that just started must not share its cores


def _timings(printed: str) -> list[tuple[RunConfig, float]] | None:
    """The child's last line: a JSON list of seconds per step, in CALIBRATION's order."""
    try:
        seconds = json.loads(printed.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return None
    if not isinstance(seconds, list) or len(seconds) != len(CALIBRATION):
        return None
    if not all(isinstance(s, float) and s > 0 for s in seconds):
        return None
    return list(zip(CALIBRATION, seconds))


def _calibrate_main(device: str, threads: int) -> None:
    parent = os.getppid()

    def end_with_the_server() -> None:  # nobody would read the timings: free the cores at once
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=end_with_the_server, daemon=True).start()
    if threads:
        torch.set_num_threads(threads)
    print(json.dumps([seconds for _, seconds in time_configs(CALIBRATION, device)]))


if __name__ == "__main__":  # the calibration child: python -m playground.hosting.budget DEVICE THREADS
    _calibrate_main(sys.argv[1], int(sys.argv[2]))
