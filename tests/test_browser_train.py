"""Real browser: a configuration in the URL, a live chart that updates, accuracy, and Stop."""

import re
import time
import warnings

import pytest
import torch
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from playground.core import checkpoint
from tests.harness import assert_no_exception, wait_for_app, wait_until

pytestmark = pytest.mark.browser

CURVE_POINTS = (
    "() => { const el = document.querySelector('.js-plotly-plot');"
    " return el && el.data && el.data.length ? el.data[0].x.length : 0 }"
)


WATCH_THE_CHART = f"""() => {{
    window.keptAlive = true;  // gone if the chart were built again instead of updated
    window.seenPoints = new Set(); window.seenLabels = new Set();
    const points = {CURVE_POINTS};
    setInterval(() => {{
        window.seenPoints.add(points());
        window.seenLabels.add(document.querySelector('#label').innerText);
    }}, 100);
}}"""


def live_frame(page):
    """The live read-out's frame (ui/live_run.py draws it in an iframe of its own)."""
    iframe = page.locator("iframe[src*='live_run']")
    iframe.wait_for()
    return iframe.element_handle().content_frame()


def wait_for_points(page, more_than, timeout=120):
    wait_until(
        lambda: live_frame(page).evaluate(CURVE_POINTS) > more_than,
        timeout,
        what=f"the live chart to have more than {more_than} points",
    )


# A run that cannot end before the test presses Stop, however slowly a loaded machine brings the
# page its Stop button: minutes of training (100 epochs of 1024×1024 at batch 8 on the small MNIST).
LONG_RUN = "hidden=1024,1024&dropout=0.1,0.1&batch_size=8&epochs=100"


def wait_for_results(page, timeout_ms=240_000):
    """Wait for a run's results; when they do not come, say what the page showed instead (the
    live read-out's text and the buttons): a press that was lost, a queue, or a run that stalled."""
    try:
        page.get_by_text("Final test accuracy").wait_for(timeout=timeout_ms)
    except Exception as err:
        label = live_frame(page).locator("#label").inner_text(timeout=10_000)
        buttons = page.get_by_role("button").all_inner_texts()
        raise AssertionError(f"no results; the read-out says {label!r}; buttons {buttons}") from err


def open_train(page, app_url, query):
    page.goto(f"{app_url}/train?{query}")
    wait_for_app(page)
    assert_no_exception(page)


def test_train_from_url_chart_updates_and_accuracy_appears(page, app_url):
    open_train(page, app_url, "hidden=64,32&dropout=0.1,0.1&batch_size=8&epochs=40&lr=0.001")
    assert page.get_by_text("784 → 64 → 32 → 10").count() >= 1  # the URL's config is the next run
    frame = live_frame(page)
    # The browser itself watches the chart, ten times a second, from before the click: a test
    # process on a loaded machine may look too late to see the run while it trains.
    frame.evaluate(WATCH_THE_CHART)
    page.get_by_role("button", name="▶ Train").click()
    page.get_by_text("Final test accuracy").wait_for(timeout=240_000)
    seen = frame.evaluate("() => [...window.seenPoints]")
    labels = frame.evaluate("() => [...window.seenLabels]")
    assert len(set(seen) - {0}) >= 2, f"the live chart did not update twice: {seen}"
    assert any("samples/s" in label and "s left" in label for label in labels), labels
    assert frame.evaluate("() => window.keptAlive === true"), "the live chart was rebuilt, not updated"
    assert "finished" in frame.locator("#label").inner_text()
    assert frame.locator("#track").get_attribute("aria-valuenow") == "100"
    page.get_by_text("Final test accuracy").wait_for(timeout=240_000)
    # The results come in the order the page draws them: under load the comparison came a moment
    # after the accuracy (a whole-suite run on 2026-12-07 counted it before it had come).
    page.get_by_text("Compare runs").wait_for()
    assert page.get_by_text("Compare runs").count() == 1
    page.get_by_role("tab", name="First layer").click()  # what each first-layer unit learned
    page.get_by_text("First layer: units ranked 1–64").wait_for()
    page.get_by_text("The code of this run, as you set it").click()  # the code beside the sliders
    page.get_by_text("nn.Linear").first.wait_for()
    assert_no_exception(page)


def test_the_read_out_shows_before_plotly_js_has_come(page, app_url):
    """The live frame says it is ready before it loads plotly.js (4.6 MB): a browser slow to
    fetch it would otherwise pass Streamlit's 60 s wait and get an error in the frame's place
    (seen with ten pages in one browser). Here plotly.js is held back until the text shows."""
    held = []
    page.route("**/plotly.min.js", lambda route: held.append(route))
    open_train(page, app_url, "hidden=32&epochs=1")
    frame = live_frame(page)
    wait_until(lambda: frame.locator("#label").inner_text().strip(), what="the read-out's text")
    assert frame.locator(".js-plotly-plot").count() == 0  # no chart yet: plotly.js is still held
    assert held, "the frame did not ask for plotly.js"
    for request in held:
        request.continue_()
    frame.locator(".js-plotly-plot").wait_for()  # drawn on arrival
    assert frame.evaluate(CURVE_POINTS) == 0  # the empty chart of a run not started
    assert_no_exception(page)


def test_stop_mid_run_keeps_the_partial_model(page, app_url, tmp_path):
    open_train(page, app_url, LONG_RUN)
    page.get_by_role("button", name="▶ Train").click()
    wait_for_points(page, 3)
    page.get_by_role("button", name="■ Stop").click()
    page.get_by_text("stopped early").wait_for(timeout=120_000)
    page.get_by_text("Final test accuracy").wait_for(timeout=120_000)
    wait_for_app(page)
    epochs_done = page.locator("[data-testid='stMetric']", has_text="Epochs done").inner_text()
    assert "/100" in epochs_done and "100/100" not in epochs_done
    with page.expect_download() as download:  # the partial model, as a checkpoint that loads
        page.get_by_role("button", name=re.compile(r"Model of Run \d+ \(\.pt\)")).click()
    download.value.save_as(tmp_path / "partial.pt")
    model, config, meta = checkpoint.load(tmp_path / "partial.pt")
    assert config.hidden == (1024, 1024) and config.epochs == 100
    assert model(torch.zeros(1, 784)).shape == (1, 10) and 0 <= meta["test_accuracy"] <= 1
    assert_no_exception(page)


def test_reload_mid_run_finds_the_run_and_keeps_its_model(page, app_url):
    open_train(page, app_url, LONG_RUN)
    page.get_by_role("button", name="▶ Train").click()
    wait_for_points(page, 3)
    page.reload()  # a new Streamlit session in the same browser
    wait_for_app(page)
    wait_for_points(page, 3)  # the run, still live
    page.get_by_role("button", name="■ Stop").click()
    page.get_by_text("Final test accuracy").wait_for(timeout=120_000)
    page.get_by_text("Results: Run 1 — stopped early").wait_for()
    assert_no_exception(page)


PAGE_RUN = "() => parseInt(getComputedStyle(document.documentElement).getPropertyValue('--page-run'), 10)"
# What a browser that missed the page's latest full run looks like: its CSS still says an older run.
MISS_A_RUN = """() => { for (const style of document.querySelectorAll('style'))
    if (style.textContent.includes('--page-run'))
        style.textContent = style.textContent.replace(/--page-run: \\d+/, '--page-run: 0'); }"""


def test_a_page_that_missed_its_latest_full_run_asks_for_it_again(page, app_url):
    """Mid-run, as it was seen under load: the read-out keeps getting its updates while the page
    stays behind its latest full run. The read-out looks 3 s after an update, asks, and the page
    is sent again. (This test used to miss a run with no run training: the read-out looks only
    after an update, and under load the page could be edited after that one look: it failed 2
    of 18 runs beside a load test, and once on CI.)"""
    # Longer than LONG_RUN (which ended once before the test was done with it, on a fast spell).
    open_train(page, app_url, "hidden=1024,1024,1024,1024&dropout=0.1,0.1,0.1,0.1&batch_size=8&epochs=100")
    frame = live_frame(page)
    page.get_by_role("button", name="▶ Train").click()
    wait_for_points(page, 1)
    wait_for_app(page)
    stop = page.get_by_role("button", name="■ Stop")
    try:
        shown = page.evaluate(PAGE_RUN)
        assert shown >= 2  # the page's first run, and the one that started training
        page.evaluate(MISS_A_RUN)
        try:
            wait_until(lambda: page.evaluate(PAGE_RUN) > shown, what="the page to be sent again")
        except AssertionError as err:
            seen, now = frame.evaluate("() => window.watchdogCounts"), page.evaluate(PAGE_RUN)
            raise AssertionError(f"{err}; the page shows run {now}, the frame saw {seen}") from None
        counts = frame.evaluate("() => window.watchdogCounts")
        assert counts["asks"] >= 1 and stop.is_enabled()  # asked for, while the run trains
        # Once up to date, it asks no more: the next look finds the page as it should be.
        wait_until(lambda: frame.evaluate("() => window.watchdogCounts.checks") > counts["checks"])
        assert frame.evaluate("() => window.watchdogCounts.asks") == counts["asks"]
        assert_no_exception(page)
    finally:  # the run would hold the server's training slot for the next tests
        if stop.is_enabled():
            stop.click()
        page.get_by_text("Final test accuracy").wait_for(timeout=120_000)


def test_weights_show_while_it_trains_and_the_draw_page_answers_with_the_latest_epoch(page, app_url):
    from tests.test_browser_draw import SEVEN, draw

    open_train(page, app_url, LONG_RUN)
    page.get_by_role("button", name="▶ Train").click()
    page.get_by_text("First layer after epoch").first.wait_for()  # the live weight pictures
    page.get_by_role("link", name="Draw a digit").first.click()  # the run goes on meanwhile
    wait_for_app(page)
    draw(page, SEVEN)
    page.get_by_text("still training: its weights after epoch").first.wait_for()
    assert_no_exception(page)
    page.get_by_role("link", name="Train").first.click()
    if not train_page_drawn(page):
        # Twice in the whole suite on the loaded 2-core machine (never alone), the switch left
        # the train page half drawn: its title or nothing, no buttons, the address still /draw;
        # the Draw page also stayed, its address /draw: two ways a timer of the Draw page undid the
        # click are fixed (ui/streamlit_fixes.py); the reload stays for anything else of the kind.
        # A reload draws it whole, the run found again, as a person would do (README, *Many users*).
        titles = page.locator("h1").all_inner_texts()
        warnings.warn(f"the page switch left {page.url} half drawn (titles {titles}): reloaded", stacklevel=1)
        page.goto(f"{app_url}/train")
        wait_for_app(page)
    page.get_by_role("button", name="■ Stop").click()
    wait_for_results(page)  # when they do not come, what the page showed instead


def train_page_drawn(page, timeout_ms: float = 60_000) -> bool:
    """Whether the train page shows its title and its Stop button within `timeout_ms`."""
    try:
        page.get_by_text("Train the tutorial's network").wait_for(timeout=timeout_ms)
        page.get_by_role("button", name="■ Stop").wait_for(timeout=timeout_ms)
    except PlaywrightTimeoutError:
        return False
    return True


def test_the_exported_script_downloads_with_the_pages_settings(page, app_url, tmp_path):
    """The .py is made when the button is pressed (a file made at every page run could be
    replaced before a busy browser fetched it). And the press reruns nothing: Streamlit names
    the file to make anew at each run of the page, so a run that the press itself asked for,
    finished before a busy server took up the request for the file, left the request a name
    that no longer existed, and the download never came (seen on a loaded machine). The test
    holds the request until any run the press asked for has finished."""
    messages = ServerMessages(page)
    open_train(page, app_url, "hidden=64,32&dropout=0.5,0.2&batch_size=256&epochs=2")
    wait_until(messages.settle)
    runs_asked, runs_finished = len(messages.reruns_asked), messages.runs_finished
    messages.holding_file_requests = True
    with page.expect_download() as download:
        page.get_by_role("button", name="⬇ PyTorch code (.py)").click()
        wait_until(lambda: messages.settle() and messages.file_requests, what="the request for the file")
        if len(messages.reruns_asked) > runs_asked:  # the press asked for a run of the page
            wait_until(
                lambda: messages.settle() and messages.runs_finished > runs_finished,
                what="the run the press asked for",
            )
        messages.holding_file_requests = False
        messages.to_server.send(messages.file_requests.pop())
    target = tmp_path / "train_mnist.py"
    download.value.save_as(target)
    assert download.value.suggested_filename == "train_mnist.py"
    assert "784 → 64 → 32 → 10" in target.read_text() and "batch 256, 2 epochs" in target.read_text()
    assert_no_exception(page)


class ServerMessages:
    """Stands on the page's connection to the server, and can hold what the server sends."""

    def __init__(self, page):
        self.page, self.held, self.holding, self.to_page = page, [], False, None
        self.to_server, self.reruns_asked, self.ticking = None, [], set()
        self.runs_finished, self.file_requests, self.holding_file_requests = 0, [], False
        page.route_web_socket(re.compile(r"/_stcore/stream"), self._connect)

    def _connect(self, to_page):
        self.to_page, self.to_server = to_page, to_page.connect_to_server()
        to_page.on_message(self._from_page)
        self.to_server.on_message(self._from_server)

    def _from_page(self, message):
        back = BackMsg.FromString(message) if isinstance(message, bytes) else None
        kind = back.WhichOneof("type") if back is not None else None
        if kind == "rerun_script":
            self.reruns_asked.append(back)
        if kind == "backend_operation_request" and self.holding_file_requests:
            self.file_requests.append(message)  # a download button's "make my file now"
            return
        self.to_server.send(message)

    def _from_server(self, message):
        forward = ForwardMsg.FromString(message) if isinstance(message, bytes) else None
        if forward is not None and forward.WhichOneof("type") == "auto_rerun":
            self.ticking.add(forward.auto_rerun.fragment_id)
        if forward is not None and forward.WhichOneof("type") == "script_finished":
            self.runs_finished += 1
        if self.holding:
            self.held.append(message)
        else:
            self.to_page.send(message)

    def wait_for_one_held(self):
        wait_until(lambda: self.settle() and self.held, what="the server to answer")

    def wait_for_rerun_asked(self, after):
        wait_until(
            lambda: self.settle() and len(self.reruns_asked) > after,
            what="the page to ask for a run",
        )
        return self.reruns_asked[after]

    def settle(self):
        """Let Playwright deliver what came over the connection (the page's own calls do); true,
        for `wait_until`."""
        return self.page.evaluate("0") == 0

    def release(self):
        # Still holding while the held ones go: a message that comes in meanwhile joins the queue
        # instead of overtaking it.
        while self.held:
            self.to_page.send(self.held.pop(0))
        self.holding = False

    def tick_as_before_until(self, rerun_asked, held_text: bytes, timeout=240):
        """Tick the live area (the page's fragment that reruns on a timer) with the controls'
        values of an earlier request, as a browser would that has drawn nothing the server sent
        since, until a held message holds `held_text`."""
        last_tick = 0.0

        def tick_or_done():
            nonlocal last_tick
            self.settle()
            if any(held_text in message for message in self.held if isinstance(message, bytes)):
                return True
            if self.ticking and time.monotonic() - last_tick > 0.5:  # the page's own pace
                self.to_server.send(self._tick(rerun_asked).SerializeToString())
                last_tick = time.monotonic()
            return False

        wait_until(tick_or_done, timeout, what=f"{held_text!r} from the server")

    def _tick(self, rerun_asked):
        tick = BackMsg()
        tick.rerun_script.CopyFrom(rerun_asked.rerun_script)
        tick.rerun_script.fragment_id, tick.rerun_script.is_auto_rerun = next(iter(self.ticking)), True
        del tick.rerun_script.cached_message_hashes[:]  # the server then sends each in full
        widgets = [w for w in tick.rerun_script.widget_states.widgets if not w.HasField("trigger_value")]
        del tick.rerun_script.widget_states.widgets[:]
        tick.rerun_script.widget_states.widgets.extend(widgets)
        return tick


def test_train_pressed_before_a_preset_has_come_back_trains_the_preset(page, app_url):
    """Train pressed after the server has begun the preset's run, before the page has its values:
    the click carries the values from before (a visitor a moment quicker than a busy server)."""
    messages = ServerMessages(page)
    open_train(page, app_url, "hidden=64&epochs=1")
    messages.holding = True
    page.get_by_role("button", name="⚡ Fast").click()
    messages.wait_for_one_held()  # the preset's run has begun, with the values the page had
    asked = len(messages.reruns_asked)
    page.get_by_role("button", name="▶ Train").click()
    stale_click = messages.wait_for_rerun_asked(after=asked)
    # A browser as slow as that draws nothing of the run before it ends, and the live read-out's
    # ticks carry the values from before the preset too: the tick that sees the run end makes
    # the page's full run with the results.
    messages.tick_as_before_until(stale_click, held_text=b"Final test accuracy")
    messages.release()
    page.get_by_text("Final test accuracy").wait_for(timeout=240_000)
    wait_for_app(page)
    epochs_done = page.locator("[data-testid='stMetric']", has_text="Epochs done").inner_text()
    next_run = page.locator("[data-testid='stCaptionContainer']", has_text="Next run:").inner_text()
    # Fast's 3 epochs, not the 1 of the settings before it. (It trained the 1 once, in a whole-suite
    # run on 2026-12-07, never alone: what the page showed is said, for the next look at it.)
    assert "3/3" in epochs_done, (
        f"trained the settings from before the preset: {epochs_done!r}; {next_run!r}; "
        f"{page.evaluate('location.href')}; reruns asked {len(messages.reruns_asked)}, "
        f"runs finished {messages.runs_finished}"
    )
    # And the page keeps the preset: its controls (the next run they make) and its address.
    assert "batch 512, 3 epochs" in next_run, next_run
    assert "batch_size=512" in page.evaluate("location.href")
    assert_no_exception(page)


# In the live frame: the legend's top and the plot area's bottom, in pixels.
LEGEND_AND_PLOT = """() => {
    const legend = document.querySelector('.js-plotly-plot .legend').getBoundingClientRect();
    const plot = document.querySelector('.js-plotly-plot .nsewdrag').getBoundingClientRect();
    return {legendTop: legend.top, plotBottom: plot.bottom, legendRows: legend.height};
}"""


def test_on_a_phone_the_live_charts_legend_leaves_the_curves_alone(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        open_train(page, app_url, "hidden=64&epochs=1&batch_size=64")
        page.get_by_role("button", name="▶ Train").tap()
        wait_for_results(page)
        box = live_frame(page).evaluate(LEGEND_AND_PLOT)
        assert box["legendTop"] >= box["plotBottom"], box  # under the plot, not over its curves
    finally:
        context.close()
