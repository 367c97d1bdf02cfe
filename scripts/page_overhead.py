"""How much slower does a run train through the page than headless? (a measurement, not a test)

    .venv/bin/python scripts/page_overhead.py [--client chromium|away] [--repeat 3]
        [--data-dir DIR] [--query 'batch_size=512&...']

Runs the same config (1) headless through the CLI and (2) through the train page, alternately,
`--repeat` times, and prints both times per epoch and the overhead of the medians.
`--client chromium` (default) drives the page in headless Chromium on this same machine, so the
browser's own rendering of the live chart competes with training for the cores; `--client away`
starts the run in Chromium, closes the browser while it trains (as a browser on the visitor's
machine costs this one nothing) and comes back with its cookies for the result.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.config import RunConfig  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, start_app  # noqa: E402


def headless(config: RunConfig, data_dir: Path) -> float:
    args = [sys.executable, "-m", "playground", "train", "--json", "--data-dir", str(data_dir)]
    for name, value in config.to_params().items():
        args += [f"--{name.replace('_', '-')}", *value.split(",")] if name not in ("batchnorm",) else []
    if not config.batchnorm:
        args.append("--no-batchnorm")
    result = subprocess.run(args, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(result.stdout)["seconds_per_epoch"]


def through_page(config: RunConfig, data_dir: Path, away_s: float | None = None) -> float:
    """Train through the page in headless Chromium; with `away_s`, close the browser while it
    trains and come back (with its cookies) after that many seconds."""
    from playwright.sync_api import sync_playwright

    proc, url = start_app(data_dir)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(f"{url}/train?{urllib.parse.urlencode(config.to_params())}")
            page.get_by_role("button", name="▶ Train").wait_for()
            page.get_by_role("button", name="▶ Train").click()
            if away_s is not None:  # the visitor's browser is elsewhere: nothing runs here
                page.get_by_text("Run 1 ·").first.wait_for(timeout=120_000)
                cookies = page.context.storage_state()
                browser.close()
                time.sleep(away_s)
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_context(storage_state=cookies).new_page()  # the same browser id
                page.goto(f"{url}/train")
            metric = page.locator("[data-testid='stMetric']", has_text="Time per epoch")
            metric.wait_for(timeout=600_000)
            return float(metric.locator("[data-testid='stMetricValue']").inner_text().split()[0])
    finally:
        proc.terminate()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--query", default="batch_size=512&lr=0.004&schedule=onecycle&epochs=3",
                        help="the run config as URL parameters (default: the fast preset)")
    parser.add_argument("--client", choices=["chromium", "away"], default="chromium",
                        help="chromium: a real browser on this machine renders the run live; away: it starts "
                        "the run, closes, and comes back for the result")
    parser.add_argument("--repeat", type=int, default=3, help="measure each this many times; medians compared")
    args = parser.parse_args()
    config = RunConfig.from_params(dict(urllib.parse.parse_qsl(args.query)))
    alone, page = [], []
    for _ in range(args.repeat):  # alternate, so that drifts of the machine hit both alike
        alone.append(headless(config, args.data_dir))
        time.sleep(2)
        away = 3 * alone[-1] * config.epochs + 10 if args.client == "away" else None
        page.append(through_page(config, args.data_dir, away))
    print(json.dumps({"config": config.to_params(), "client": args.client,
                      "headless_s_per_epoch": alone, "page_s_per_epoch": page,
                      "overhead_of_medians": round(statistics.median(page) / statistics.median(alone) - 1, 3)}))

if __name__ == "__main__":
    main()
