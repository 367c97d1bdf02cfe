"""Real browser: draw a digit with the mouse on the Draw page's canvas; the app answers with a
digit and the probability chart, and Clear takes the answer away."""

import pytest

from tests.harness import assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser

# A "7" in canvas pixels: the top bar, then the long diagonal down to the left.
SEVEN = [(70, 60), (110, 60), (150, 60), (190, 60), (170, 110), (150, 160), (130, 210), (115, 240)]


def draw(page, points) -> None:
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    page.mouse.up()


def test_drawing_a_seven_gets_an_answer_and_the_probability_chart(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_role("link", name="Draw a digit").first.click()
    page.get_by_text("Draw a digit first").first.wait_for()
    assert page.get_by_text("default model shipped").count() >= 1  # no training in this session

    draw(page, SEVEN)
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for()
    wait_for_app(page)
    assert_no_exception(page)
    assert page.locator("[data-testid='stMetricValue']").first.inner_text().strip() == "7"
    probabilities = page.evaluate(
        "() => { const y = document.querySelector('.js-plotly-plot').data[0].y;"
        " return Array.from(y._inputArray || y); }"
    )
    assert len(probabilities) == 10 and abs(sum(probabilities) - 1) < 1e-3
    assert max(probabilities) == probabilities[7]
    page.get_by_text("Which pixels made it say 7").wait_for()  # the saliency of the answer…
    titles = page.evaluate(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot'), el => el.layout.title.text || '')"
    )
    assert sum("Why " in t for t in titles) == 2, titles  # …and of the runner-up

    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw a digit first").first.wait_for()
    assert page.locator("[data-testid='stMetricValue']").count() == 0
