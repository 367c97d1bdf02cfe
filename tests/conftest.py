"""Shared fixtures: small MNIST files, the real MNIST when present, and a real-browser harness
(the app under `streamlit run` on a free port, opened in headless Chromium via Playwright)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fakemnist import make_fake_mnist

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def fake_mnist_dir(tmp_path_factory) -> Path:
    """A data directory holding a small MNIST (600 train / 200 test digits) in the IDX layout."""
    return make_fake_mnist(tmp_path_factory.mktemp("fake-mnist"))


@pytest.fixture(scope="session")
def fake_mnist(fake_mnist_dir):
    """The small MNIST loaded through the real loader, on the CPU."""
    from playground.core.data import load_mnist

    return load_mnist(fake_mnist_dir, "cpu", download=False)


@pytest.fixture(scope="session")
def real_mnist_dir() -> Path:
    """PLAYGROUND_DATA_DIR when it holds the real MNIST (CI points it at ../shared/data)."""
    from playground.core.data import is_available

    env = os.environ.get("PLAYGROUND_DATA_DIR")
    if not env or not is_available(env):
        pytest.skip("real MNIST not available: set PLAYGROUND_DATA_DIR to a folder with MNIST/raw/")
    return Path(env)


# --- real browser -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(
    data_dir: Path, extra_env: dict[str, str] | None = None, prefix: list[str] | None = None
) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run app.py` on a free loopback port; wait for /_stcore/health. `prefix`
    goes before the command (`taskset -c 0`, say)."""
    port = _free_port()
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(data_dir), **(extra_env or {})}
    proc = subprocess.Popen(
        [
            *(prefix or []),
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            break
    proc.kill()
    output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    raise RuntimeError(f"streamlit did not come up on {url}:\n{output[-3000:]}")


@pytest.fixture(scope="session")
def app_url(fake_mnist_dir):
    """The app served on loopback with the small MNIST as its data directory."""
    proc, url = start_app(fake_mnist_dir)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium (bash run.sh test does this)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until the script run has finished: Streamlit marks the app 'notRunning'."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)


def assert_no_exception(page) -> None:
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()
