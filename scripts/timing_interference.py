"""Does a visitor pressing "Time it" on the GPU page slow another visitor's training?

    .venv/bin/python scripts/timing_interference.py --data-dir ../shared/data [--pairs 3] [--json]

Trains the same run (the Fast preset by default) in the app's own training worker, through the
app's hosting code (RunHistory, run slots, worker pool) but without a browser, alternately alone
and while a thread of this process presses "Time it" again and again, the way the GPU page does
(the server's timing booth, the largest matrix size). A browser is left out on purpose: a
visitor's browser runs on the visitor's machine, and here it would only add its own noise.
Reports each run's seconds per epoch (the engine's own figure, training only) and compares the
median with the timer to the spread of the plain runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.core.config import FAST, RunConfig  # noqa: E402
from playground.hosting import shared  # noqa: E402
from playground.hosting.booth import Busy  # noqa: E402
from playground.hosting.runs import RunHistory  # noqa: E402
from playground.lessons import gpu_ops  # noqa: E402


def train(config: RunConfig, data_dir: Path) -> float:
    history = RunHistory()
    record = history.start(config, data_dir)
    history.wait(600)
    if record.error or not record.epochs:
        raise RuntimeError(f"the run failed: {record.error}")
    return statistics.mean(e.epoch_seconds for e in record.epochs)


class Timer(threading.Thread):
    """A visitor pressing Time it again and again (0.3 s between presses)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.halt, self.presses = threading.Event(), 0

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                shared.timing_booth().run(lambda report: gpu_ops.compare(gpu_ops.MAX_N, ["cpu"], report))
                self.presses += 1
            except Busy:
                pass
            self.halt.wait(0.3)


def measure(config: RunConfig, data_dir: Path, pairs: int) -> dict:
    train(config.replace(epochs=1), data_dir)  # the worker started, MNIST read, the cost model too
    plain, timed, presses = [], [], 0
    for _ in range(pairs):
        plain.append(train(config, data_dir))
        timer = Timer()
        timer.start()
        time.sleep(0.5)  # the timing is already going when the run starts
        timed.append(train(config, data_dir))
        timer.halt.set()
        timer.join(10)
        presses += timer.presses
    spread = max(plain) - min(plain)
    difference = statistics.median(timed) - statistics.median(plain)
    return {
        "config": config.to_params(),
        "plain_s_per_epoch": [round(x, 3) for x in plain],
        "with_timer_s_per_epoch": [round(x, 3) for x in timed],
        "presses": presses,
        "median_plain": round(statistics.median(plain), 3),
        "median_with_timer": round(statistics.median(timed), 3),
        "difference": round(difference, 3),
        "plain_spread": round(spread, 3),
        "within_noise": abs(difference) <= spread,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--pairs", type=int, default=3, help="plain and timed runs, alternately")
    parser.add_argument("--epochs", type=int, default=FAST.epochs)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = measure(FAST.replace(epochs=args.epochs, device="cpu"), args.data_dir, args.pairs)
    print(json.dumps(report) if args.json else "\n".join(f"{k:24} {v}" for k, v in report.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
