"""How much slower does a run train through the page than headless? (a measurement, not a test)

    .venv/bin/python scripts/page_overhead.py [--client chromium|remote] [--repeat 3]
        [--data-dir DIR] [--query 'batch_size=512&...']

Runs the same config (1) headless through the CLI and (2) through the train page in headless
Chromium, alternately, `--repeat` times, and prints both times per epoch and the overhead of the
medians.
`--client chromium` (default): the browser runs on the same cores as training, so its rendering
of the live read-out competes with training (a visitor on the serving machine itself).
`--client remote`: the browser gets a core of its own (the last one) and both the headless run and
the app (server and training worker) get the others, as when the browser is on the visitor's
own machine: what is left is the cost of the page on the server.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.core.config import RunConfig  # noqa: E402
from tests.harness import CHROMIUM, CHROMIUM_ARGS, start_app  # noqa: E402


def headless(config: RunConfig, data_dir: Path, prefix: list[str]) -> float:
    args = [*prefix, sys.executable, "-m", "playground", "train", "--json", "--data-dir", str(data_dir)]
    for name, value in config.to_params().items():
        args += [f"--{name.replace('_', '-')}", *value.split(",")] if name not in ("batchnorm",) else []
    if not config.batchnorm:
        args.append("--no-batchnorm")
    result = subprocess.run(args, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(result.stdout)["seconds_per_epoch"]


def through_page(config: RunConfig, data_dir: Path, prefix: list[str], browser_prefix: list[str]) -> float:
    """Train through the page in headless Chromium; the time per epoch that the page reports."""
    from playwright.sync_api import sync_playwright

    proc, url = start_app(data_dir, prefix=prefix)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        executable = Path(tmp) / "chromium"  # Playwright starts a file: this one pins the browser
        executable.write_text(f'#!/bin/sh\nexec {" ".join(browser_prefix)} {CHROMIUM} "$@"\n')
        executable.chmod(0o755)
        try:
            browser = p.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(f"{url}/train?{urllib.parse.urlencode(config.to_params())}")
            page.get_by_role("button", name="▶ Train").click()
            metric = page.locator("[data-testid='stMetric']", has_text="Time per epoch")
            metric.wait_for(timeout=600_000)
            return float(metric.locator("[data-testid='stMetricValue']").inner_text().split()[0])
        finally:
            proc.terminate()


def pinning(client: str) -> tuple[list[str], list[str]]:
    """(prefix for training and the app, prefix for the browser)."""
    if client == "chromium":
        return [], []
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        sys.exit("--client remote needs at least 2 cores: one for the browser")
    training = ",".join(map(str, cores[:-1]))
    return ["taskset", "-c", training], ["taskset", "-c", str(cores[-1])]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument(
        "--query",
        default="batch_size=512&lr=0.004&schedule=onecycle&epochs=3",
        help="the run config as URL parameters (default: the fast preset)",
    )
    parser.add_argument(
        "--client",
        choices=["chromium", "remote"],
        default="chromium",
        help="chromium: the browser shares training's cores; remote: it has a core of its own",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="measure each this many times; medians compared"
    )
    args = parser.parse_args()
    config = RunConfig.from_params(dict(urllib.parse.parse_qsl(args.query)))
    prefix, browser_prefix = pinning(args.client)
    alone, page = [], []
    for _ in range(args.repeat):  # alternate, so that drifts of the machine hit both alike
        alone.append(headless(config, args.data_dir, prefix))
        time.sleep(2)
        page.append(through_page(config, args.data_dir, prefix, browser_prefix))
    print(
        json.dumps(
            {
                "config": config.to_params(),
                "client": args.client,
                "training_cores": prefix[2:] or "all",
                "headless_s_per_epoch": alone,
                "page_s_per_epoch": page,
                "overhead_of_medians": round(statistics.median(page) / statistics.median(alone) - 1, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
