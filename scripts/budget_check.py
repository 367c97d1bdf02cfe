"""How good is the train page's estimate? Trains the Tutorial and Fast presets on this machine
through the app's hosting code (the Augmented one too with `--presets`) and compares each run's
estimate with its measured time.

    .venv/bin/python scripts/budget_check.py --data-dir ../shared/data [--repeats 2]
        [--tutorial-epochs 15] [--presets tutorial fast augmented] [--state-dir DIR] [--json]

What the app does when a visitor presses Train, minus the browser: the cost model is calibrated
in a child process (as when the server's first page needing it opens), each run is estimated
just before it starts (what the page shows), and trained by the app's training worker (started
and holding MNIST before the first run, as the train page has it). The measured time is what
a visitor waits for after pressing Train: from the run's start to its results (`wall_s`: the
hand-over to the worker, the model's build, the steps, an evaluation after each epoch and the
final one, the weights' way back), which is what the estimate adds up. The target is the
estimate within ±30% of it: `error` = estimate / wall_s − 1 within ±0.3. `measured_s` is the
run's own clock (`DoneEvent.elapsed`: from its first step to its last epoch's evaluation, without
the final evaluation and the hand-overs), which checks before 2026-12-01 (late) compared the
estimate with; `ratio` is measured_s / estimate, as they gave it. The first run of each preset
is estimated from the calibration alone; later ones also from the runs before them. `epoch_s`
are the run's epochs, to see the machine's speed change. `range_s` is the range the page adds
once a preset has trained here at varying speeds.

`--state-dir` is the server's PLAYGROUND_STATE_DIR, where it keeps the speeds it measured for the
servers after it (playground/hosting/speed_record.py): an empty folder is a server's first start
on this machine, and a second check with the same folder a restarted server. `recorded_epochs`
says how many epochs of each preset the record held when the check began.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.core.config import PRESETS, TUTORIAL  # noqa: E402
from playground.hosting import shared  # noqa: E402
from playground.hosting.budget import _shape_key  # noqa: E402
from playground.hosting.runs import RunHistory  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--tutorial-epochs", type=int, default=TUTORIAL.epochs)
    parser.add_argument("--presets", nargs="+", choices=list(PRESETS), default=["tutorial", "fast"])
    parser.add_argument("--state-dir", type=Path, help="the server's PLAYGROUND_STATE_DIR")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ["PLAYGROUND_DATA_DIR"] = str(args.data_dir)
    if args.state_dir:
        os.environ["PLAYGROUND_STATE_DIR"] = str(args.state_dir)
    os.environ.setdefault("PLAYGROUND_MAX_RUN_SECONDS", "7200")  # measure, don't refuse

    shared.prewarm_worker("cpu", args.data_dir)  # what opening the train page does
    model = shared.cost_model("cpu")
    presets = {name: PRESETS[name] for name in args.presets}
    if "tutorial" in presets:
        presets["tutorial"] = TUTORIAL.replace(epochs=args.tutorial_epochs)
    recorded = {name: len(model._measured.get(_shape_key(c), [])) for name, c in presets.items()}
    deadline = time.time() + 300
    while not model.calibrated and time.time() < deadline:
        time.sleep(0.5)
    rows = []
    for repeat in range(args.repeats):
        for name, config in presets.items():
            config = config.replace(device="cpu")
            estimate = shared.estimate_seconds(config, "cpu")
            span = shared.estimate_range(config, "cpu")  # what the page adds when speeds varied
            history = RunHistory()
            started = time.monotonic()
            record = history.start(config, args.data_dir)
            history.wait(3600)
            wall = time.monotonic() - started
            if record.done is None:
                raise RuntimeError(f"{name}: the run failed: {record.error}")
            measured = record.done.elapsed
            rows.append(
                {
                    "preset": name,
                    "run": repeat + 1,
                    "epochs": config.epochs,
                    "estimate_s": round(estimate, 1),
                    "wall_s": round(wall, 1),
                    "error": round(estimate / wall - 1, 2),
                    "measured_s": round(measured, 1),
                    "ratio": round(measured / estimate, 2),
                    "range_s": [round(s, 1) for s in span] if span else None,
                    "s_per_epoch": round(sum(e.epoch_seconds for e in record.epochs) / len(record.epochs), 2),
                    "epoch_s": [round(e.epoch_seconds, 2) for e in record.epochs],
                }
            )
            if not args.json:
                print(rows[-1], flush=True)
    report = {
        "calibrated": model.calibrated,
        "record": str(model.record.path) if model.record else None,
        "recorded_epochs": recorded,
        "load_average": os.getloadavg(),
        "rows": rows,
        "within_30_percent": all(abs(r["error"]) <= 0.3 for r in rows),
    }
    print(json.dumps(report) if args.json else json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
