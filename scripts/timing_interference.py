"""Does a visitor pressing "Time it" on the GPU page, or "Teach it" on the Draw page, slow another
visitor's training?

    .venv/bin/python scripts/timing_interference.py --data-dir ../shared/data [--pairs 3]
        [--visitor timer|teacher] [--json]

Trains the same run (the Fast preset by default) in the app's own training worker, through the
app's hosting code (RunHistory, run slots, worker pool) but without a browser, alternately alone
and while a thread of this process presses a button again and again: "Time it" the way the GPU
page does (the server's timing booth, the largest matrix size), or "Teach it" the way the Draw
page does (the teaching booth, a lesson of the most drawings a lesson takes, 30 MNIST test
digits, on the shipped model). A browser is left out on purpose: a visitor's browser runs on the
visitor's machine, and here it would only add its own noise. With --visitor teacher this process
runs torch on one thread, as the web server does (ui/session.py). Reports each run's seconds per
epoch (the engine's own figure, training only) and compares the median with the presser to the
spread of the plain runs.
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

import torch  # noqa: E402

from playground.core import data  # noqa: E402
from playground.core.config import FAST, RunConfig  # noqa: E402
from playground.digits import predict, teach  # noqa: E402
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


class Presser(threading.Thread):
    """A visitor pressing a button again and again (0.3 s between presses): `press()` once."""

    def __init__(self, press) -> None:
        super().__init__(daemon=True)
        self.press, self.halt, self.presses = press, threading.Event(), 0

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                self.press()
                self.presses += 1
            except Busy:
                pass
            self.halt.wait(0.3)


def time_it() -> None:
    shared.timing_booth().run(lambda report: gpu_ops.compare(gpu_ops.MAX_N, ["cpu"], report))


def teacher(data_dir: Path):
    """A press of Teach it: a lesson of 30 drawings (MNIST test digits) on the shipped model."""
    model, config, _ = predict.load_default()
    images, labels = data.load_test_images(data_dir)
    drawings = data.normalize(images[: teach.MAX_EXAMPLES].reshape(teach.MAX_EXAMPLES, -1))
    replay, test = data.load_train_sample(data_dir), (images, labels)

    def press() -> None:
        lesson = (
            lambda report: teach.teach(  # noqa: E731
                model, config, drawings, labels[: teach.MAX_EXAMPLES], replay, test, report
            )
        )
        shared.teaching_booth().run(lesson)

    return press


def measure(config: RunConfig, data_dir: Path, pairs: int, visitor: str = "timer") -> dict:
    if visitor == "teacher":
        torch.set_num_threads(1)  # as the web server runs torch
    press = teacher(data_dir) if visitor == "teacher" else time_it
    train(config.replace(epochs=1), data_dir)  # the worker started, MNIST read, the cost model too
    plain, timed, presses = [], [], 0
    for _ in range(pairs):
        plain.append(train(config, data_dir))
        presser = Presser(press)
        presser.start()
        time.sleep(0.5)  # the presses are already going when the run starts
        timed.append(train(config, data_dir))
        presser.halt.set()
        presser.join(30)
        presses += presser.presses
    spread = max(plain) - min(plain)
    difference = statistics.median(timed) - statistics.median(plain)
    return {
        "config": config.to_params(),
        "visitor": visitor,
        "plain_s_per_epoch": [round(x, 3) for x in plain],
        "with_visitor_s_per_epoch": [round(x, 3) for x in timed],
        "presses": presses,
        "median_plain": round(statistics.median(plain), 3),
        "median_with_visitor": round(statistics.median(timed), 3),
        "difference": round(difference, 3),
        "plain_spread": round(spread, 3),
        "within_noise": abs(difference) <= spread,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--pairs", type=int, default=3, help="plain and timed runs, alternately")
    parser.add_argument("--epochs", type=int, default=FAST.epochs)
    parser.add_argument("--visitor", choices=["timer", "teacher"], default="timer", help="who presses")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = measure(FAST.replace(epochs=args.epochs, device="cpu"), args.data_dir, args.pairs, args.visitor)
    print(json.dumps(report) if args.json else "\n".join(f"{k:24} {v}" for k, v in report.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
