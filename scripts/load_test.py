"""Load test: N concurrent headless-browser sessions against one app server (issue 6).

    .venv/bin/python scripts/load_test.py --sessions 10 --data-dir ../shared/data [--json]
        [--timeout 600] [--max-rss-mb 4000] [--query 'hidden=64&dropout=0.1&batch_size=512&epochs=1']
        [--hostile]

With --hostile (issue 11), two of the sessions are not a class's: session 1 asks for the hogging
config (/train?hidden=1024,1024,1024,1024&batch_size=8&epochs=100) and presses Train, which the
server must refuse with its estimate; session 2 opens the GPU page and presses "Time it" again
and again until every other session is done; session 3 (with 4 sessions or more) draws a digit
on the Draw page, keeps it, and presses "Teach it" (a lesson on its handwriting, in the server's
teaching booth) again and again until every other session is done. The others must still train
and have their drawings read, with no error.

Starts the app (`streamlit run`, loopback only, a free port), launches one headless Chromium and
opens N browser contexts at once, each its own Streamlit session. Every session:

1. opens /train?<query>; once every session has the page open (or has failed to open it), all
   press "▶ Train" at the same moment, as a class does when told to. The runs queue (one trains
   at a time per device, the others show "waiting for a free training slot"); each session then
   waits for "Final test accuracy";
2. follows the sidebar link "Draw a digit" (a client-side page switch, so the session and its
   trained run are kept), checks that the page answers with "Run 1, trained in this session",
   draws a 7 with the mouse on the canvas and waits for the model's answer.

Errors counted: an exception box (stException) on any page, a timeout, a console error or an
uncaught exception in a page, a failed request or an HTTP status >= 400 from the app, a draw page
answering with another model than the session's own run, and a Python traceback in the server's
output. Two things are not counted, and are listed apart as "known_harmless": the two 404s (and
their console lines) of Streamlit's own base-path probe on a deep link (streamlit/streamlit#7074),
and a component's file whose request the browser itself aborted (net::ERR_ABORTED) because a page
switch removed the component's frame while it loaded (seen once in 20 sessions).
Every 0.5 s the resident memory (VmRSS) of the server process and of its descendants
(the training worker processes, multiprocessing's resource tracker) is sampled; the peaks are
reported.

Bounded: N <= 20, one global deadline (--timeout, default 600 s) for the whole test. Exit code 1
when any error occurred or the peak total RSS exceeded --max-rss-mb.

Default bound, 4000 MB (server + workers): measured on the 2-core machine with 10 sessions on the
real MNIST (three runs), the server peaked at 0.86 GB and its children (one CPU training worker
with MNIST resident, plus multiprocessing's resource tracker) at 1.0-1.3 GB: 1.84-2.10 GB in all.
4000 MB is about twice that: room for allocator noise and for one more worker process (about
1.1 GB each), while a leak that grows per session or per run would cross it as --sessions grows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import CHROMIUM, CHROMIUM_ARGS, OutputWatch, start_app  # noqa: E402

MAX_SESSIONS = 20
DEFAULT_QUERY = "hidden=64&dropout=0.1&batch_size=512&epochs=1"
DEFAULT_MAX_RSS_MB = 4000.0
DEFAULT_STEP_TIMEOUT = 240.0  # s for any one wait (10 sessions' runs all end within about 90 s)
SAMPLE_EVERY = 0.5  # s
# A "7" in canvas pixels: the top bar, then the long diagonal down to the left.
SEVEN = [(70, 60), (110, 60), (150, 60), (190, 60), (170, 110), (150, 160), (130, 210), (115, 240)]
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
EXCEPTION = "[data-testid='stException']"
QUEUE_TEXT = re.compile(r"place (\d+) in the queue")
NODE_TEXT = re.compile(r"node ([0-9a-f]+)")
HOG_QUERY = "hidden=1024,1024,1024,1024&dropout=0.2,0.2,0.2,0.2&batch_size=8&epochs=100"


# --- memory -----------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """VmRSS of one process in MB (0 if it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of one process so far (None if it has gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from the ppid field of /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = text[text.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class MemorySampler(threading.Thread):
    """Samples the server's and its descendants' RSS every `every` seconds; keeps the peaks."""

    def __init__(self, pid: int, every: float = SAMPLE_EVERY):
        super().__init__(name="rss-sampler", daemon=True)
        self.pid, self.every = pid, every
        self.peak_server = self.peak_workers = self.peak_total = 0.0
        self.peak_processes = 0
        self.samples = 0
        # Last CPU seconds seen per process, by group: the server, its workers, and the browser
        # (everything else below this Python process: Playwright's driver and Chromium).
        self.cpu: dict[str, dict[int, float]] = {"server": {}, "workers": {}, "browser": {}}
        self._halt = threading.Event()

    def sample(self) -> None:
        server = rss_mb(self.pid)
        children = descendants(self.pid)
        workers = sum(rss_mb(child) for child in children)
        self.peak_server = max(self.peak_server, server)
        self.peak_workers = max(self.peak_workers, workers)
        self.peak_total = max(self.peak_total, server + workers)
        self.peak_processes = max(self.peak_processes, len(children))
        self.samples += 1
        groups = {
            "server": [self.pid],
            "workers": children,
            "browser": [p for p in descendants(os.getpid()) if p != self.pid and p not in children],
        }
        for group, pids in groups.items():
            for pid in pids:
                seconds = cpu_s(pid)
                if seconds is not None:
                    self.cpu[group][pid] = seconds

    def cpu_seconds(self) -> dict[str, float]:
        return {group: round(sum(seen.values()), 1) for group, seen in self.cpu.items()}

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.every)

    def stop(self) -> None:
        self._halt.set()
        self.join(5)
        self.sample()


# --- one browser session ----------------------------------------------------------------------


@dataclass
class SessionResult:
    index: int
    ok: bool = False
    errors: list[str] = field(default_factory=list)
    opened_s: float | None = None  # from the start until the train page is ready
    result_s: float | None = None  # from pressing Train to "Final test accuracy"
    predict_s: float | None = None  # from the end of the stroke to the model's answer
    total_s: float | None = None
    max_queue_place: int = 0  # the highest "place N in the queue" seen
    clicked_at: float | None = None  # seconds since the test started
    result_at: float | None = None
    accuracy: str | None = None
    epoch_time: str | None = None  # the page's "Time per epoch"
    digit: str | None = None
    node: str | None = None  # with the Ray backend: the cluster node that trained the run
    known: list[str] = field(default_factory=list)  # Streamlit's base-path probes (not errors)
    role: str = "trainer"  # or, with --hostile, "hog", "timer" and "teacher"
    note: str | None = None  # the hog's refusal; the timer's presses


def base_path_probe(app_url: str, request_url: str) -> bool:
    """Opened on a deep link (/train), Streamlit's frontend first looks for its server one level
    down (/train/_stcore/health, /train/_stcore/host-config), gets 404, then finds it at the root:
    streamlit/streamlit#7074, a known harmless quirk of Streamlit itself, not of this app."""
    return (
        re.fullmatch(re.escape(app_url) + r"/[^/_][^/]*/_stcore/(health|host-config)", request_url)
        is not None
    )


class StartLine:
    """Holds every session's Train click until all sessions have opened the train page (or failed
    to), so the runs start together and really compete for the training slot. Without it, a
    session that opened the page a few seconds early could train alone and nothing would queue."""

    def __init__(self, sessions: int) -> None:
        self._waiting = set(range(1, sessions + 1))
        self._go = asyncio.Event()

    def arrive(self, index: int) -> None:
        """Session `index` is ready (or out); idempotent."""
        self._waiting.discard(index)
        if not self._waiting:
            self._go.set()

    async def wait(self, timeout_s: float) -> None:
        await asyncio.wait_for(self._go.wait(), timeout_s)


async def live_text(page) -> str:
    """The text of the train page's live read-out (it says the queue place); it lives in an
    iframe of its own (ui/live_run.py)."""
    iframe = page.locator("iframe[src*='live_run']")
    try:
        if not await iframe.count():
            return ""
        frame = await (await iframe.first.element_handle(timeout=1000)).content_frame()
        return await frame.evaluate("() => document.body.textContent") if frame else ""
    except Exception:  # noqa: BLE001 - a frame that went away while we asked
        return ""


async def metric_value(page, label: str) -> str | None:
    metric = page.locator("[data-testid='stMetric']", has_text=label)
    if not await metric.count():
        return None
    return (await metric.first.locator("[data-testid='stMetricValue']").inner_text()).strip()


async def page_state(page, index: int, artifacts: Path | None) -> str:
    """What a failed session's page shows: the script state and the main area's text (and a
    screenshot in `artifacts`), to tell a stuck run from a page that stopped updating."""
    try:
        state = await page.evaluate(
            "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
            " const main = document.querySelector('[data-testid=\"stMain\"]');"
            " return [app ? app.getAttribute('data-test-script-state') : null,"
            " (main ? main.innerText : document.body.innerText).replace(/\\s+/g, ' ')]; }"
        )
        if artifacts is not None:
            artifacts.mkdir(parents=True, exist_ok=True)
            await page.screenshot(
                path=str(artifacts / f"session-{index}.png"), full_page=True, timeout=10_000
            )
        return f"script {state[0]}; {state[1][:700]}"
    except Exception as err:  # noqa: BLE001 - the page may be gone
        return f"(unreadable: {type(err).__name__})"


async def run_session(
    index: int,
    browser,
    url: str,
    query: str,
    t0: float,
    deadline: float,
    step_timeout: float,
    artifacts: Path | None,
    start_line: StartLine,
) -> SessionResult:
    result = SessionResult(index)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()

    def left_ms() -> float:
        """Each wait ends at the step timeout or at the global deadline, whichever comes first."""
        return max(1.0, min(step_timeout, deadline - time.monotonic()) * 1000)

    def browser_error(text: str) -> None:
        """An error the browser saw, with the step it came in (a request of the page just left?)."""
        result.errors.append(f"{text} [while {step}, at {time.monotonic() - t0:.1f} s]")

    def on_console(message) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if "status of 404" in message.text and base_path_probe(url, where):
            result.known.append(where)
        else:
            browser_error(f"console error: {message.text[:300]} ({where})")

    def on_request_failed(request) -> None:
        if "/component/" in request.url and "ERR_ABORTED" in str(request.failure):
            result.known.append(request.url)  # the browser dropped an iframe's file: a page switch
        elif request.url.startswith(url):
            browser_error(f"request failed: {request.method} {request.url} ({request.failure})")

    def on_response(response) -> None:
        if response.status == 404 and base_path_probe(url, response.url):
            result.known.append(response.url)
        elif response.url.startswith(url) and response.status >= 400:
            browser_error(f"HTTP {response.status}: {response.request.method} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda err: browser_error(f"page error: {str(err)[:300]}"))
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)

    async def no_exception(where: str) -> None:
        boxes = page.locator(EXCEPTION)
        if await boxes.count():
            result.errors.append(f"exception on {where}: {(await boxes.first.inner_text())[:500]}")

    started = time.monotonic()
    step = "opening /train"
    try:
        await page.goto(f"{url}/train?{query}", timeout=left_ms())
        train = page.get_by_role("button", name="▶ Train")
        await train.wait_for(timeout=left_ms())
        await page.wait_for_selector(APP_IDLE, timeout=left_ms())
        await no_exception("the train page")
        result.opened_s = time.monotonic() - started

        step = "waiting for the other sessions to open the train page"
        start_line.arrive(index)
        await start_line.wait(left_ms() / 1000)

        step = "training"
        await train.click(timeout=left_ms())
        clicked = time.monotonic()
        result.clicked_at = clicked - t0
        final = page.get_by_text("Final test accuracy")
        while not await final.count():
            if time.monotonic() > min(deadline, clicked + step_timeout):
                raise TimeoutError(f"no 'Final test accuracy' {time.monotonic() - clicked:.0f} s after Train")
            text = await live_text(page)
            places = [int(n) for n in QUEUE_TEXT.findall(text)]
            result.max_queue_place = max([result.max_queue_place, *places])
            if await page.locator(EXCEPTION).count():
                break
            await asyncio.sleep(0.5)
        await no_exception("the train page after training")
        if result.errors and any(e.startswith("exception") for e in result.errors):
            return result
        result.result_s = time.monotonic() - clicked
        result.result_at = time.monotonic() - t0
        result.accuracy = await metric_value(page, "Final test accuracy")
        result.epoch_time = await metric_value(page, "Time per epoch")
        placed = page.get_by_text("Trained on the Ray cluster, node")
        if await placed.count():
            result.node = NODE_TEXT.search(await placed.first.inner_text()).group(1)
        await page.wait_for_selector(APP_IDLE, timeout=left_ms())

        step = "switching to the draw page"
        await page.get_by_role("link", name="Draw a digit").first.click(timeout=left_ms())
        await page.get_by_text("Draw a digit first").first.wait_for(timeout=left_ms())
        await page.wait_for_selector(APP_IDLE, timeout=left_ms())
        await no_exception("the draw page")
        answering = page.get_by_text("Answering:").first
        caption = (await answering.inner_text(timeout=left_ms())).strip()
        if "Run 1, trained in this session" not in caption:
            result.errors.append(f"draw page does not answer with this session's run: {caption!r}")

        step = "drawing"
        await draw_seven(page, left_ms)
        drawn = time.monotonic()

        step = "waiting for the prediction"
        answer = page.locator("[data-testid='stMetric']", has_text="The model reads")
        await answer.wait_for(timeout=left_ms())
        await page.wait_for_selector(APP_IDLE, timeout=left_ms())
        result.predict_s = time.monotonic() - drawn
        result.digit = (await answer.locator("[data-testid='stMetricValue']").first.inner_text()).strip()
        await no_exception("the draw page after drawing")
    except Exception as err:  # noqa: BLE001 - a timeout or a browser error is one error of this session
        result.errors.append(
            f"{step}: {type(err).__name__}: {str(err).splitlines()[0][:300]}"
            f" | page shows: {await page_state(page, index, artifacts)}"
        )
    finally:
        start_line.arrive(index)  # a session that failed early must not hold the others back
        result.total_s = time.monotonic() - started
        result.ok = not result.errors
        try:
            await context.close()
        except Exception:  # noqa: BLE001 - the browser may already be gone at the deadline
            pass
    return result


async def run_hostile(
    index: int,
    role: str,
    browser,
    url: str,
    deadline: float,
    step_timeout: float,
    start_line: StartLine,
    trainers_done: asyncio.Event,
) -> SessionResult:
    """The hog asks for a run of hours and must be refused; the timer presses "Time it" on the
    GPU page, the teacher "Teach it" on the Draw page, until the trainers are done. Each fails on
    an exception box or a timeout."""
    result = SessionResult(index, role=role)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.on("pageerror", lambda err: result.errors.append(f"page error: {str(err)[:300]}"))
    left_ms = lambda: max(1.0, min(step_timeout, deadline - time.monotonic()) * 1000)  # noqa: E731
    started = time.monotonic()
    step = "opening the page"
    try:
        where = {"hog": f"/train?{HOG_QUERY}", "timer": "/gpu", "teacher": "/draw"}[role]
        await page.goto(f"{url}{where}", timeout=left_ms())
        if role == "teacher":
            step = "keeping a drawing to teach"
            await keep_a_seven(page, left_ms)
        label = {"hog": "▶ Train", "timer": "Time it", "teacher": "Teach it this drawing"}[role]
        button = page.get_by_role("button", name=label)
        await button.wait_for(timeout=left_ms())
        await page.wait_for_selector(APP_IDLE, timeout=left_ms())
        start_line.arrive(index)
        await start_line.wait(left_ms() / 1000)
        if role == "hog":
            step = "asking for the hogging run"
            await button.click(timeout=left_ms())
            refusal = page.locator("[data-testid='stAlertContentError']", has_text="it allows")
            await refusal.wait_for(timeout=left_ms())
            result.note = (await refusal.inner_text()).strip()[:200]
        else:
            step = "timing again and again" if role == "timer" else "teaching again and again"
            presses = 0
            while not trainers_done.is_set() and time.monotonic() < deadline:
                await button.click(timeout=left_ms())
                presses += 1
                await page.wait_for_timeout(300)
                await page.wait_for_selector(APP_IDLE, timeout=left_ms())
            if role == "teacher":  # each lesson ended with the lesson's read-out, not an error
                await page.get_by_text("Your drawings it reads right").first.wait_for(timeout=left_ms())
            result.note = f"{presses} presses of {label}"
        if await page.locator(EXCEPTION).count():
            result.errors.append(f"exception: {(await page.locator(EXCEPTION).first.inner_text())[:300]}")
    except Exception as err:  # noqa: BLE001 - one error of this session
        result.errors.append(f"{step}: {type(err).__name__}: {str(err).splitlines()[0][:300]}")
    finally:
        start_line.arrive(index)
        result.total_s = time.monotonic() - started
        result.ok = not result.errors
        try:
            await context.close()
        except Exception:  # noqa: BLE001
            pass
    return result


async def draw_seven(page, left_ms) -> None:
    """A 7 drawn with the mouse on the Draw page's pad."""
    canvas = page.locator("canvas.upper-canvas").first
    await canvas.wait_for(timeout=left_ms())
    await canvas.scroll_into_view_if_needed(timeout=left_ms())
    box = await canvas.bounding_box()
    await page.mouse.move(box["x"] + SEVEN[0][0], box["y"] + SEVEN[0][1])
    await page.mouse.down()
    for x, y in SEVEN[1:]:
        await page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    await page.mouse.up()


async def keep_a_seven(page, left_ms) -> None:
    """Draw a 7 on the Draw page's pad, open *Teach it your handwriting* and keep the drawing."""
    await draw_seven(page, left_ms)
    await page.locator("[data-testid='stMetric']", has_text="The model reads").wait_for(timeout=left_ms())
    await page.wait_for_selector(APP_IDLE, timeout=left_ms())
    await page.get_by_text("Teach it your handwriting").first.click(timeout=left_ms())
    keep = page.get_by_role("button", name=re.compile(r"Keep it as an? \d"))
    await keep.click(timeout=left_ms())
    await page.get_by_text("Draw a digit first").first.wait_for(timeout=left_ms())


# --- the whole test ---------------------------------------------------------------------------


async def drive(
    sessions: int,
    url: str,
    query: str,
    t0: float,
    deadline: float,
    step_timeout: float,
    artifacts: Path | None,
    hostile: bool = False,
) -> list[SessionResult]:
    from playwright.async_api import async_playwright

    roles = ({1: "hog", 2: "timer"} | ({3: "teacher"} if sessions >= 4 else {})) if hostile else {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        start_line = StartLine(sessions)
        trainers_done = asyncio.Event()
        try:
            tasks = [
                asyncio.create_task(
                    run_hostile(i, roles[i], browser, url, deadline, step_timeout, start_line, trainers_done)
                    if i in roles
                    else run_session(
                        i, browser, url, query, t0, deadline, step_timeout, artifacts, start_line
                    )
                )
                for i in range(1, sessions + 1)
            ]
            trainers = [t for i, t in enumerate(tasks, 1) if i not in roles]
            asyncio.get_running_loop().create_task(asyncio.wait(trainers)).add_done_callback(
                lambda _: trainers_done.set()
            )
            # Each session watches the deadline itself; this is the backstop if one hangs anyway.
            done, pending = await asyncio.wait(tasks, timeout=max(1.0, deadline - time.monotonic() + 15))
            for task in pending:
                task.cancel()
            results = []
            for i, task in enumerate(tasks):
                if task not in done or task.cancelled():
                    results.append(SessionResult(i + 1, errors=["the session hung past the global timeout"]))
                elif task.exception() is not None:
                    err = task.exception()
                    results.append(SessionResult(i + 1, errors=[f"setting up: {type(err).__name__}: {err}"]))
                else:
                    results.append(task.result())
            return results
        finally:
            await browser.close()


def run(
    sessions: int,
    data_dir: Path,
    timeout: float = 600,
    query: str = DEFAULT_QUERY,
    max_rss_mb: float = DEFAULT_MAX_RSS_MB,
    step_timeout: float = DEFAULT_STEP_TIMEOUT,
    artifacts: Path | None = None,
    hostile: bool = False,
) -> dict:
    """Run the load test; return the report (a JSON-able dict with "passed")."""
    if not 1 <= sessions <= MAX_SESSIONS or (hostile and sessions < 3):
        raise ValueError(f"--sessions must be between 1 (3 with --hostile) and {MAX_SESSIONS}")
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"{CHROMIUM} missing: apt-get install -y chromium")
    started = time.monotonic()
    deadline = started + timeout
    proc, url = start_app(Path(data_dir))
    watch = OutputWatch(proc)
    watch.start()
    sampler = MemorySampler(proc.pid)
    sampler.start()
    try:
        results = asyncio.run(
            drive(sessions, url, query, started, deadline, step_timeout, artifacts, hostile)
        )
    finally:
        sampler.stop()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        watch.join(5)
        if artifacts is not None:  # the server's whole output, beside the screenshots
            artifacts.mkdir(parents=True, exist_ok=True)
            (artifacts / "server.log").write_text("\n".join(watch.lines))
    wall = time.monotonic() - started
    errors = [f"session {r.index}: {e}" for r in results for e in r.errors]
    errors += [f"server: {t}" for t in watch.traceback_texts()]
    result_times = [r.result_s for r in results if r.result_s is not None]
    report = {
        "sessions": sessions,
        "hostile": {r.role: r.note for r in results if r.role != "trainer"},
        "trainers_ok": f"{sum(r.ok for r in results if r.role == 'trainer')}/"
        f"{sum(r.role == 'trainer' for r in results)}",
        "query": query,
        "data_dir": str(data_dir),
        "errors": errors,
        "error_count": len(errors),
        "wall_s": round(wall, 1),
        "result_s": {
            "min": round(min(result_times), 1) if result_times else None,
            "median": round(sorted(result_times)[len(result_times) // 2], 1) if result_times else None,
            "max": round(max(result_times), 1) if result_times else None,
        },
        "known_harmless": {
            u: sum(k == u for r in results for k in r.known)
            for u in sorted({k for r in results for k in r.known})
        },
        "max_queue_place": max((r.max_queue_place for r in results), default=0),
        "runs_per_node": {
            n: sum(r.node == n for r in results) for n in sorted({r.node for r in results if r.node})
        },
        "peak_rss_mb": {
            "server": round(sampler.peak_server),
            "workers": round(sampler.peak_workers),
            "total": round(sampler.peak_total),
        },
        "peak_child_processes": sampler.peak_processes,
        "cpu_s": sampler.cpu_seconds(),
        "rss_samples": sampler.samples,
        "max_rss_mb": max_rss_mb,
        "cpu_count": os.cpu_count(),
        "per_session": [
            {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(r).items()} for r in results
        ],
    }
    report["passed"] = not errors and sampler.peak_total <= max_rss_mb
    return report


def table(report: dict) -> str:
    def fmt(value, unit=" s") -> str:
        return "-" if value is None else f"{value:.1f}{unit}"

    lines = [
        f"{'session':>7} {'ok':>3} {'open':>7} {'to result':>10} {'queue':>5} {'predict':>8} "
        f"{'total':>7} {'done at':>8} {'accuracy':>9} {'s/epoch':>8} {'digit':>5}"
    ]
    for r in report["per_session"]:
        lines.append(
            f"{r['index']:>7} {'yes' if r['ok'] else 'NO':>3} {fmt(r['opened_s']):>7} "
            f"{fmt(r['result_s']):>10} {r['max_queue_place']:>5} {fmt(r['predict_s']):>8} "
            f"{fmt(r['total_s']):>7} {fmt(r['result_at']):>8} {r['accuracy'] or '-':>9} "
            f"{r['epoch_time'] or '-':>8} {r['digit'] or '-':>5}"
        )
    peak = report["peak_rss_mb"]
    times = report["result_s"]
    lines += [
        "",
        f"sessions            {report['sessions']} (query {report['query']}); "
        f"trainers ok {report['trainers_ok']}",
        *(f"{role:<20}{note}" for role, note in report["hostile"].items()),
        f"errors              {report['error_count']}",
        f"wall time           {report['wall_s']:.1f} s",
        f"time to result      min {fmt(times['min'])}, median {fmt(times['median'])}, max {fmt(times['max'])}"
        f" (highest queue place seen: {report['max_queue_place']})",
        *(
            [f"runs per Ray node    {', '.join(f'{n}: {c}' for n, c in report['runs_per_node'].items())}"]
            if report["runs_per_node"]
            else []
        ),
        f"peak RSS            server {peak['server']} MB, workers {peak['workers']} MB "
        f"({report['peak_child_processes']} child processes), total {peak['total']} MB "
        f"(bound {report['max_rss_mb']:.0f} MB; {report['rss_samples']} samples)",
        "CPU seconds         "
        + ", ".join(f"{k} {v:.0f}" for k, v in report["cpu_s"].items())
        + f" (on {report['cpu_count']} cores)",
        f"result              {'PASSED' if report['passed'] else 'FAILED'}",
    ]
    lines += [f"  error: {e}" for e in report["errors"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sessions", type=int, default=10, help=f"concurrent browser sessions (1-{MAX_SESSIONS})"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=ROOT.parent / "shared" / "data",
        help="the MNIST directory the app uses (MNIST/raw/ inside it)",
    )
    parser.add_argument("--timeout", type=float, default=600, help="global deadline in seconds")
    parser.add_argument("--query", default=DEFAULT_QUERY, help="the run config as URL parameters")
    parser.add_argument(
        "--max-rss-mb",
        type=float,
        default=DEFAULT_MAX_RSS_MB,
        help="fail when the peak RSS of server + workers exceeds this",
    )
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=DEFAULT_STEP_TIMEOUT,
        help="seconds for any one wait of a session (the page to open, the run's result, ...)",
    )
    parser.add_argument("--artifacts", type=Path, help="save a screenshot of each failed session here")
    parser.add_argument(
        "--hostile",
        action="store_true",
        help="session 1 asks for a run of hours, session 2 presses Time it on the GPU page throughout, "
        "session 3 (of 4 or more) presses Teach it on the Draw page throughout",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= MAX_SESSIONS:
        parser.error(f"--sessions must be between 1 and {MAX_SESSIONS}")
    report = run(
        args.sessions,
        args.data_dir,
        args.timeout,
        args.query,
        args.max_rss_mb,
        args.step_timeout,
        args.artifacts,
        args.hostile,
    )
    print(json.dumps(report) if args.json else table(report))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
