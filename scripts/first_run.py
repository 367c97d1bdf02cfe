"""How soon does a first press of Train show training? (a measurement, not a test)

    .venv/bin/python scripts/first_run.py [--data-dir DIR] [--query 'hidden=64&...'] [--wait 5]
        [--repeat 2]

Starts the app, opens /train?<query> in headless Chromium (on the same cores), waits `--wait`
seconds as a visitor reading the page would, presses "▶ Train" and polls the live read-out every
50 ms. Prints, in seconds after the click: when the page first says the run loads MNIST, when it
first shows a training step, when it says "finished", and when the results appear; and the
samples/s of the first step shown. Each repeat starts a fresh app, so every run is a first run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import CHROMIUM, CHROMIUM_ARGS, start_app  # noqa: E402

LIVE_TEXT = "() => document.body ? document.body.textContent : ''"


def live_text(page) -> str:
    """The live read-out's text (ui/live_run.py; an iframe of its own)."""
    handle = page.locator("iframe[src*='live_run']").first.element_handle()
    frame = handle.content_frame() if handle else None
    return frame.evaluate(LIVE_TEXT) if frame else ""


def first_run(data_dir: Path, query: str, wait_s: float) -> dict:
    from playwright.sync_api import sync_playwright

    proc, url = start_app(data_dir)
    seen: dict[str, float | str] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(f"{url}/train?{query}")
            train = page.get_by_role("button", name="▶ Train")
            train.wait_for()
            page.wait_for_timeout(wait_s * 1000)
            clicked = time.monotonic()
            train.click()
            results = page.get_by_text("Final test accuracy")
            while not results.count():
                if time.monotonic() - clicked > 300:
                    raise TimeoutError("no results 300 s after Train")
                text, now = live_text(page), round(time.monotonic() - clicked, 2)
                if "Loading MNIST" in text:
                    seen.setdefault("loading_s", now)
                if " · step " in text and "first_step_s" not in seen:
                    seen["first_step_s"] = now
                    seen["first_step_read_out"] = text.split(" samples/s")[0].split("\n")[-1].strip()
                if "finished" in text:
                    seen.setdefault("finished_s", now)
                time.sleep(0.05)
            seen["results_s"] = round(time.monotonic() - clicked, 2)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument(
        "--query",
        default="hidden=64&dropout=0.1&batch_size=512&epochs=4",
        help="the run config as URL parameters",
    )
    parser.add_argument("--wait", type=float, default=5.0, help="seconds between opening the page and Train")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    for _ in range(args.repeat):
        print(
            json.dumps(
                {"query": args.query, "wait_s": args.wait, **first_run(args.data_dir, args.query, args.wait)}
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
