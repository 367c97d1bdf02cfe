"""Real browser: a configuration in the URL, a live chart that updates, accuracy, and Stop."""

import time

import pytest

from tests.conftest import assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser

CURVE_POINTS = "() => { const el = document.querySelector('.js-plotly-plot'); return el && el.data && el.data.length ? el.data[0].x.length : 0 }"


def open_train(page, app_url, query):
    page.goto(f"{app_url}/train?{query}")
    wait_for_app(page)
    assert_no_exception(page)


def test_train_from_url_chart_updates_and_accuracy_appears(page, app_url):
    open_train(page, app_url, "hidden=64,32&dropout=0.1,0.1&batch_size=8&epochs=12&lr=0.001")
    assert page.get_by_text("784 → 64 → 32 → 10").count() >= 1  # the URL's config is the next run
    page.get_by_role("button", name="▶ Train").click()
    seen = set()
    deadline = time.time() + 120
    while time.time() < deadline and not page.get_by_text("Final test accuracy").count():
        seen.add(page.evaluate(CURVE_POINTS))
        time.sleep(0.25)
    assert len(seen - {0}) >= 2, f"the live chart did not update twice: {seen}"
    page.get_by_text("Final test accuracy").wait_for(timeout=120_000)
    assert page.get_by_text("Compare runs").count() == 1
    assert_no_exception(page)


def test_stop_mid_run_keeps_the_partial_model(page, app_url):
    open_train(page, app_url, "hidden=64&dropout=0.1&batch_size=8&epochs=100")
    page.get_by_role("button", name="▶ Train").click()
    page.wait_for_function(f"({CURVE_POINTS})() > 3", timeout=60_000)
    started = time.time()
    page.get_by_role("button", name="■ Stop").click()
    page.get_by_text("stopped early").wait_for(timeout=30_000)
    assert time.time() - started < 10
    page.get_by_text("Final test accuracy").wait_for(timeout=30_000)
    wait_for_app(page)
    epochs_done = page.locator("[data-testid='stMetric']", has_text="Epochs done").inner_text()
    assert "/100" in epochs_done and "100/100" not in epochs_done
    assert page.get_by_text("Model of Run").count() >= 1  # the partial model can be downloaded
    assert_no_exception(page)


def test_reload_mid_run_finds_the_run_and_keeps_its_model(page, app_url):
    open_train(page, app_url, "hidden=64&dropout=0.1&batch_size=8&epochs=100")
    page.get_by_role("button", name="▶ Train").click()
    page.wait_for_function(f"({CURVE_POINTS})() > 3", timeout=60_000)
    page.reload()  # a new Streamlit session in the same browser
    wait_for_app(page)
    page.wait_for_function(f"({CURVE_POINTS})() > 3", timeout=30_000)  # the run, still live
    page.get_by_role("button", name="■ Stop").click()
    page.get_by_text("Final test accuracy").wait_for(timeout=30_000)
    page.get_by_text("Results: Run 1 — stopped early").wait_for()
    assert_no_exception(page)
