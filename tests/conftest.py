"""Shared fixtures: small MNIST files, the real MNIST when present, and a real-browser harness
(the app under `streamlit run` on a free port, opened in headless Chromium via Playwright)."""

from __future__ import annotations

import os

# The suite must pass on a loaded 2-core machine. By default an OpenMP thread that waits spins for
# a while before it sleeps: fastest when the cores are free (a dedicated server), but on busy cores
# a spinning thread burns the time slice that the thread it waits for needs (a tutorial step: 2.7
# ms idle, 18-57 ms beside a benchmark). A short spin (libgomp's own, when it counts more threads
# than cores) costs 6.6 ms idle and 5.4-7.4 ms busy. Set before torch loads, here and in every
# process a test starts (the app, its workers, the CLI); tests that need the default unset it.
os.environ.setdefault("GOMP_SPINCOUNT", "100")

import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

# The servers the suite starts keep this machine's training speeds in a folder of its own, not in
# the user's cache (playground/hosting/speed_record.py): each suite starts as a fresh install
# would, and leaves nothing behind.
os.environ["PLAYGROUND_STATE_DIR"] = tempfile.mkdtemp(prefix="playground-state-")
atexit.register(shutil.rmtree, os.environ["PLAYGROUND_STATE_DIR"], True)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from tests.fakemnist import make_fake_mnist  # noqa: E402
from tests.harness import CHROMIUM, CHROMIUM_ARGS, served_app  # noqa: E402

# Playwright's `expect` waits 5 s by default; the suite runs on loaded 2-core machines.
expect.set_options(timeout=120_000)


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


@pytest.fixture
def no_time_cap(monkeypatch):
    """Lift the server's per-run time cap for a test that is not about it: a long run's estimate
    grows with the machine's load (the cost model is calibrated under it) and could be refused."""
    from playground.hosting import settings, shared

    monkeypatch.setenv("PLAYGROUND_MAX_RUN_SECONDS", "86400")
    settings.settings.cache_clear()
    shared.admission.cache_clear()
    yield
    monkeypatch.undo()
    settings.settings.cache_clear()
    shared.admission.cache_clear()


@pytest.fixture
def cli_here(capsys):
    """`python -m playground ARGS` run in this process, as `subprocess.CompletedProcess`. For the
    commands that answer in a moment (refusals, evaluate, predict): a subprocess would spend its
    4-6 s importing torch. Training runs keep their subprocesses: `python -m` end to end."""
    import subprocess

    from playground.__main__ import main

    def run(*args) -> subprocess.CompletedProcess:
        capsys.readouterr()
        try:
            code = main([str(arg) for arg in args])
        except SystemExit as exit_:  # argparse's own refusals
            code = exit_.code
        printed = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, printed.out, printed.err)

    return run


@pytest.fixture
def draw_page(fake_mnist_dir, monkeypatch):
    """The Draw page under AppTest, with the small MNIST as the server's data."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(fake_mnist_dir))
    at = AppTest.from_file(str(Path(__file__).parent.parent / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/draw.py").run()
    assert not at.exception
    return at


# --- real browser -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def app_url(fake_mnist_dir):
    """The app served on loopback with the small MNIST as its data directory. Its time cap is a
    day: the Stop tests need runs that cannot end before the test presses Stop (the cap itself
    is tested on servers of its own). A traceback in its output fails the last test to use it."""
    with served_app(fake_mnist_dir, {"PLAYGROUND_MAX_RUN_SECONDS": str(24 * 3600)}) as url:
        yield url


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
    page.set_default_timeout(120_000)  # generous: the suite runs on loaded 2-core machines
    yield page
    context.close()


def pytest_collection_modifyitems(items):
    """The real-browser files first: they are the suite's longest, and `bash run.sh test` runs the
    suite in two processes, a file at a time each in this order (pytest-xdist), which end together
    only when the long files do not come last. The order within each group stays as collected."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is None)
