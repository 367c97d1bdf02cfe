"""What data augmentation costs the CPU per epoch: the tutorial network (batch 64) trained for one
epoch with augmentation off and on, alternately, several times; medians and the ratio.

    python scripts/augment_cost.py [--data-dir DIR] [--strength 0.7] [--repeats 3] [--threads N] [--json]

Alternating the two keeps a machine whose load changes from favouring either. Two times per
epoch, training only (evaluation excluded): the engine's own wall-clock epoch time, and the CPU
time the process used (with --threads 1, the work itself: it hardly depends on what else the
machine runs, where wall-clock time on a shared machine does).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from playground.core import data  # noqa: E402
from playground.core.config import TUTORIAL  # noqa: E402
from playground.core.engine import EpochEvent, StepEvent, Trainer  # noqa: E402


def epoch_seconds(mnist: data.MnistTensors, strength: float) -> tuple[float, float]:
    """(wall-clock, CPU) seconds of one training epoch."""
    config = TUTORIAL.replace(epochs=1, augment=strength, device="cpu")
    cpu_start = time.process_time()
    for event in Trainer(config, mnist):
        if isinstance(event, StepEvent) and event.step == event.steps_per_epoch:
            cpu = time.process_time() - cpu_start  # the last step, before the evaluation
        elif isinstance(event, EpochEvent):
            return event.epoch_seconds, cpu
    raise RuntimeError("the epoch did not finish")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--strength", type=float, default=0.7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    mnist = data.load_mnist(args.data_dir or data.default_data_dir(), "cpu")
    times: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    for i in range(args.repeats):
        for name, strength in (("off", 0.0), ("on", args.strength)):
            times[name].append(epoch_seconds(mnist, strength))
            wall, cpu = times[name][-1]
            print(f"run {i + 1} augmentation {name}: {wall:.2f} s/epoch, {cpu:.2f} CPU s", file=sys.stderr)
    median = {(name, k): statistics.median(t[k] for t in times[name]) for name in times for k in (0, 1)}
    result = {
        "threads": torch.get_num_threads(),
        "strength": args.strength,
        "runs": times,
        "wall_off_s": median["off", 0],
        "wall_on_s": median["on", 0],
        "wall_extra": median["on", 0] / median["off", 0] - 1,
        "cpu_off_s": median["off", 1],
        "cpu_on_s": median["on", 1],
        "cpu_extra": median["on", 1] / median["off", 1] - 1,
        "load_average": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['threads']} threads, tutorial network, batch 64, augmentation {args.strength:g} "
            f"(load average {os.getloadavg()[0]:.1f}):\n"
            f"  wall-clock s/epoch: off {result['wall_off_s']:.2f}, on {result['wall_on_s']:.2f}: "
            f"{result['wall_extra']:+.0%}\n"
            f"  CPU s/epoch:        off {result['cpu_off_s']:.2f}, on {result['cpu_on_s']:.2f}: "
            f"{result['cpu_extra']:+.0%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
