"""What data augmentation costs the CPU per epoch: the tutorial network (batch 64) trained for one
epoch with augmentation off and on, alternately, several times; medians and the ratio.

    python scripts/augment_cost.py [--data-dir DIR] [--strength 0.7] [--repeats 3] [--threads N] [--json]

Alternating the two keeps a machine whose load changes from favouring either. The time is the
engine's own epoch time (training only, evaluation excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from playground.core import data  # noqa: E402
from playground.core.config import TUTORIAL  # noqa: E402
from playground.core.engine import EpochEvent, Trainer  # noqa: E402


def epoch_seconds(mnist: data.MnistTensors, strength: float) -> float:
    config = TUTORIAL.replace(epochs=1, augment=strength, device="cpu")
    return next(e.epoch_seconds for e in Trainer(config, mnist) if isinstance(e, EpochEvent))


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
    times: dict[str, list[float]] = {"off": [], "on": []}
    for i in range(args.repeats):
        for name, strength in (("off", 0.0), ("on", args.strength)):
            times[name].append(epoch_seconds(mnist, strength))
            print(f"run {i + 1} augmentation {name}: {times[name][-1]:.2f} s/epoch", file=sys.stderr)
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    result = {
        "threads": torch.get_num_threads(),
        "strength": args.strength,
        "off_s": times["off"],
        "on_s": times["on"],
        "median_off_s": off,
        "median_on_s": on,
        "extra": on / off - 1,
        "load_average": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{torch.get_num_threads()} threads, tutorial network, batch 64: off {off:.2f} s/epoch, "
            f"augmentation {args.strength:g} {on:.2f} s/epoch: {on / off - 1:+.0%} "
            f"(load average {os.getloadavg()[0]:.1f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
