"""Real browser: each teaching page renders in Chromium and its live parts work."""

import pytest
from playwright.sync_api import expect

from tests.harness import assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser


def open_page(page, app_url: str, stem: str) -> None:
    """Open /<stem> the way a user's bookmark would."""
    page.goto(f"{app_url}/{stem}")
    wait_for_app(page)
    page.get_by_text("Learn", exact=True).wait_for()  # the app's own navigation sidebar
    assert_no_exception(page)


def test_tensors_page(page, app_url):
    open_page(page, app_url, "tensors")
    page.get_by_text("Every dtype, read from this torch").wait_for()
    page.locator("[data-testid='stDataFrame']").nth(1).wait_for()  # the table and the explorer
    page.get_by_text("Then and now").first.wait_for()
    shape = page.get_by_role("textbox", name="Shape")
    shape.fill("2, 3")
    shape.press("Enter")
    bytes_metric = page.locator("[data-testid='stMetric']").filter(has_text="Bytes")
    expect(bytes_metric.locator("[data-testid='stMetricValue']")).to_have_text("24")  # 6 × float32
    assert_no_exception(page)


def test_gpu_page(page, app_url):
    open_page(page, app_url, "gpu")
    page.get_by_text("torch.cuda.is_available()").first.wait_for()
    page.get_by_role("button", name="Time it").click()
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for()
    wait_for_app(page)
    ys = chart.evaluate("el => el.data[0].y")
    assert 1 <= len(ys) <= 5 and all(y > 0 for y in ys)  # 64 … 1024, in milliseconds
    if len(ys) < 5:  # a loaded machine: the server's time budget left the largest sizes out, and says so
        assert page.get_by_text("Time budget reached; not timed:").count() == 1
    assert_no_exception(page)


def test_autograd_page(page, app_url):
    open_page(page, app_url, "autograd")
    grad = page.locator("[data-testid='stMetric']").filter(has_text="x.grad[0, 0]")
    value = grad.locator("[data-testid='stMetricValue']")
    expect(value).to_have_text("4.5")
    graph = page.locator("[data-testid='stGraphVizChart'] svg").first
    graph.wait_for()
    assert "MeanBackward0" in graph.text_content()
    page.locator(".js-plotly-plot").first.wait_for()  # the chart may come after the graph
    # one step right on the x slider (1.0 → 1.5): autograd now says 3/2 · 3.5
    page.get_by_role("slider").first.press("ArrowRight")
    expect(value).to_have_text("5.25")
    # At full size: one step of a real network, and a gradient that vanishes through sigmoid layers
    check = page.locator("[data-testid='stMetric']").filter(has_text="max |by hand − autograd|")
    assert float(check.locator("[data-testid='stMetricValue']").inner_text()) < 1e-6
    network = page.locator(".st-key-bp_model input").first
    network.scroll_into_view_if_needed()  # a click alone, at the window's edge, opened no list here
    network.click()
    page.keyboard.type("Sigmoid")  # as a visitor can: the list narrows to that one network
    page.locator("[role=option]", has_text="Sigmoid, no BatchNorm").wait_for()
    page.keyboard.press("Enter")
    page.get_by_text("Here it vanishes towards the input").wait_for()
    assert_no_exception(page)
