"""Real browser: draw a digit with the mouse on the Draw page's canvas, or with a finger on a
phone's touch screen; the app answers with a digit and the probability chart, and Clear takes
the answer away."""

import io
from pathlib import Path

import pytest
import torch
from playwright.sync_api import expect

from playground.core import checkpoint
from playground.core.config import RunConfig
from playground.core.model import build_model
from playground.digits import predict, preprocessing
from tests.drawings import draw_digit, small_eight
from tests.harness import assert_no_exception, wait_for_app, wait_until

pytestmark = pytest.mark.browser

# A "7" in canvas pixels: the top bar, then the long diagonal down to the left.
SEVEN = [(70, 60), (110, 60), (150, 60), (190, 60), (170, 110), (150, 160), (130, 210), (115, 240)]


def draw(page, points, per_segment: int = 8) -> None:
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=per_segment)
    page.mouse.up()


def assert_pictures_inline(page) -> None:
    """Every picture on the page came with it and shows (ui/inline.py: one fetched as a file could
    be deleted by a stopped run of the page before the browser got it, a 404 kept as a broken
    picture, seen in the load test)."""
    pictures = page.locator("[data-testid='stImage'] img")
    wait_until(lambda: pictures.count() >= 5, what="the page's pictures")
    sources = pictures.evaluate_all("els => els.map(e => [e.src.slice(0, 15), e.complete && e.naturalWidth])")
    assert all(src.startswith("data:image/") and width > 0 for src, width in sources), sources


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
    runner_up = next(t for t in titles if "Why " in t and "Why 7" not in t).split()[1]
    page.get_by_text(f"small steps made it read {runner_up}").wait_for()  # Change its mind
    other = "0" if runner_up != "0" else "2"  # a digit of the visitor's own choosing
    page.locator(".st-key-draw_change_to button", has_text=other).click()
    page.get_by_text(f"small steps made it read {other}").wait_for()
    assert page.get_by_text("Noise as large: 7").count() == 1
    assert_pictures_inline(page)
    assert page.get_by_text("Read with a").count() == 1  # the canvas's strokes, with an even pen

    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw a digit first").first.wait_for()
    assert page.locator("[data-testid='stMetricValue']").count() == 0


def test_a_small_eight_drawn_with_the_thickest_pen_is_read_from_its_strokes(page, app_url):
    """The canvas's own strokes (fabric.js paths), redrawn with an even pen: with the 36 px pen a
    60 px 8 is a blob on the canvas, and still read as an 8."""
    page.goto(f"{app_url}/draw")
    wait_for_app(page)
    page.get_by_text("Draw a digit first").first.wait_for()
    pen = page.get_by_role("slider").first
    pen.focus()
    pen.press("End")  # 36 px
    shown = page.get_by_test_id("stSliderThumbValue").first
    wait_until(lambda: shown.inner_text().strip() == "36", what="the thickest pen")
    wait_for_app(page)
    draw(page, [tuple(point) for point in small_eight(60, centre=(120, 110))[0]], per_segment=2)
    page.get_by_text("Read with a 7 px pen").wait_for()
    wait_for_app(page)
    assert_no_exception(page)
    assert page.locator("[data-testid='stMetricValue']").first.inner_text().strip() == "8"
    page.get_by_text("Your strokes with an even pen").wait_for()


def clear_of_each_other(pad: dict, answer: dict, width: int) -> bool:
    """The pad wholly in a window `width` px wide, and the answer beside it or below it."""
    beside = answer["x"] >= pad["x"] + pad["width"] and answer["x"] + answer["width"] <= width
    below = answer["y"] >= pad["y"] + pad["height"]
    return pad["x"] + pad["width"] <= width and (beside or below)


def test_no_window_width_puts_the_answer_over_a_pad(page, app_url):
    """The canvas keeps its size. In columns of ratios, windows 700–1250 px wide (the sidebar open)
    made the pad's column 160–300 px wide, and the answer's column covered the pad's right part:
    now the answer is beside the pad where there is room for both, below it where there is not."""
    for mode, empty in (("", "Draw a digit first"), ("?mode=number", "Write a number first")):
        page.goto(f"{app_url}/draw{mode}")
        wait_for_app(page)
        page.get_by_text(empty).first.wait_for()
        canvas = page.locator("canvas.upper-canvas").first
        answer = page.get_by_test_id("stExpander").first  # "Which model answers", the answer's top
        for width in (640, 800, 1000, 1100, 1300):
            page.set_viewport_size({"width": width, "height": 900})
            wait_until(
                lambda c=canvas, a=answer, w=width: clear_of_each_other(
                    c.bounding_box(), a.bounding_box(), w
                ),
                30,
                what=f"the pad clear of the answer at {width} px ({mode or 'one digit'})",
            )


def finger_stroke(page, points) -> None:
    """One finger on a touch screen, through the browser's own touch input (CDP)."""
    cdp = page.context.new_cdp_session(page)
    kinds = ["touchStart"] + ["touchMove"] * (len(points) - 1)
    for kind, (x, y) in zip(kinds, points):
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def steps(points, per_segment=8):
    """The points joined by short moves, as a finger's touch events come."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        fractions = [k / per_segment for k in range(1, per_segment + 1)]
        out += [(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t) for t in fractions]
    return out


def test_a_finger_draws_on_a_phone_and_the_page_holds_still(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 640}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(f"{app_url}/draw")
        wait_for_app(page)
        canvas = page.locator("canvas.upper-canvas").first
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        # The seven drawn upwards, from the diagonal's foot: a finger moving up would scroll the
        # page down if the canvas let the page have the gesture.
        upwards = [(box["x"] + x, box["y"] + y) for x, y in reversed(SEVEN)]
        finger_stroke(page, steps(upwards))
        page.locator(".js-plotly-plot").first.wait_for()
        wait_for_app(page)
        assert page.locator("[data-testid='stMetricValue']").first.inner_text().strip() == "7"
        assert canvas.bounding_box()["y"] == box["y"]  # the page did not move under the finger
        # The same gesture beside the canvas does scroll the page (the answer's charts are below),
        # so the check above would have seen a canvas that let the page have it.
        beside = box["x"] + box["width"] + 0.5 * (390 - box["x"] - box["width"])
        finger_stroke(page, steps([(beside, y) for x, y in upwards]))
        wait_until(lambda: canvas.bounding_box()["y"] < box["y"] - 50, 60, what="the page to scroll")
        page.get_by_role("button", name="Undo stroke").tap()  # the finger's undo
        page.get_by_text("Draw a digit first").first.wait_for()
        assert_no_exception(page)
    finally:
        context.close()


def answer(page) -> str:
    wait_for_app(page)
    return page.locator("[data-testid='stMetricValue']").first.inner_text().strip()


def test_undo_stroke_takes_back_the_last_stroke_only(page, app_url):
    """The page's own undo (the canvas's toolbar shows on hover only, never to a finger)."""
    page.goto(f"{app_url}/draw")
    wait_for_app(page)
    undo = page.get_by_role("button", name="Undo stroke")
    expect(undo).to_be_disabled()  # nothing drawn yet
    draw(page, [(150, 40), (150, 140), (150, 240)])  # a one
    wait_until(lambda: answer(page) == "1", what="the model to read the one")
    draw(page, [(70, 40), (110, 40), (150, 40)])  # a bar on its top, leftwards: a seven
    wait_until(lambda: answer(page) == "7", what="the model to read the seven")
    undo.click()
    wait_until(lambda: answer(page) == "1", what="the one again, after the bar is taken back")
    undo.click()
    page.get_by_text("Draw a digit first").first.wait_for()  # the one taken back too
    expect(undo).to_be_disabled()
    assert_no_exception(page)


def test_digits_drawn_on_the_one_digit_pad_move_to_the_number_pad_at_a_click(page, app_url):
    """The canvas sends no picture of a drawing it starts with, so the number pad is read from the
    strokes the page put there; the next stroke drawn there is read with them."""
    page.goto(f"{app_url}/draw")
    wait_for_app(page)
    draw(page, [(70, 70), (70, 140), (70, 210)])  # a one …
    draw(page, [(130, 70), (170, 70), (210, 70), (190, 140), (170, 210)])  # … and a seven beside it
    page.get_by_text("looks like 2 digits side by side").wait_for()
    page.get_by_role("button", name="Read it as a number").click()
    wait_until(lambda: answer(page) == "17", what="the number pad to read 17")
    assert "mode=number" in page.url
    canvas = page.locator("canvas.upper-canvas").first.bounding_box()
    assert canvas["width"] == 320  # the number pad's
    draw(page, [(300, 30), (300, 75), (300, 120)])  # a one more, right of the moved strokes
    wait_until(lambda: answer(page) == "171", what="the number pad to read 171")
    assert_no_exception(page)


def test_a_digit_of_a_number_moves_to_the_one_digit_pad_to_be_explained(page, app_url):
    page.goto(f"{app_url}/draw?mode=number")
    wait_for_app(page)
    draw(page, [(60, 30), (60, 75), (60, 120)])  # a one …
    draw(page, [(120, 30), (160, 30), (200, 30), (180, 75), (160, 120)])  # … and a seven
    wait_until(lambda: answer(page) == "17", what="the number pad to read 17")
    page.get_by_role("button", name="7", exact=True).click()  # the seven, explained
    page.get_by_text("Which pixels made it say 7").first.wait_for()
    assert answer(page) == "7" and "mode=number" not in page.url
    assert page.locator("canvas.upper-canvas").first.bounding_box()["width"] == 280  # the one-digit pad
    assert_no_exception(page)


def back_up_to_the_pad(page) -> None:
    """Scroll the page to its top, as a person does to draw again: a canvas scrolled up under
    Streamlit's header (see-through, over the window's top 60 px) gets no stroke that starts there."""
    size = page.viewport_size
    page.mouse.move(size["width"] / 2, size["height"] / 2)  # the wheel scrolls what is under the pointer
    page.mouse.wheel(0, -5000)
    pad = page.locator("canvas.upper-canvas").first
    wait_until(lambda: pad.bounding_box()["y"] > 60, what="the pad in view")


def pad_in_view(page) -> bool:
    """The whole pad is in the window, below Streamlit's header."""
    box = page.locator("canvas.upper-canvas").first.bounding_box()
    return box is not None and box["y"] > 60 and box["y"] + box["height"] <= page.viewport_size["height"]


def test_a_model_taught_ones_as_sevens_reads_the_next_one_as_seven(browser, app_url):
    """Teach it your handwriting, as a visitor does it on a phone-sized window: each drawing kept
    as the digit picked (the pad cleared for the next, and brought back into view from the panel
    screens below it), the lesson, then a new drawing read by the taught model."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{app_url}/draw")
    wait_for_app(page)
    for x in (120, 150, 180):
        draw(page, [(x, 40), (x, 140), (x, 240)])  # a one
        wait_until(lambda: answer(page) == "1", what="the model to read the one")
        if x == 120:
            page.get_by_text("Teach it your handwriting").first.click()
        page.locator(".st-key-teach_label button", has_text="7").click()
        keep = page.get_by_role("button", name="Keep it as a 7")
        keep.scroll_into_view_if_needed()
        assert not pad_in_view(page)  # the panel is screens below the pad
        keep.click()
        page.get_by_text("Draw a digit first").first.wait_for()  # kept: the pad is cleared
        wait_until(lambda: pad_in_view(page), what="the pad scrolled back into view")
    page.get_by_role("button", name="Teach it these 3").click()
    page.get_by_text("Your drawings it reads right").wait_for()
    back_up_to_the_pad(page)
    draw(page, [(100, 60), (100, 150), (100, 250)])  # a one it was not taught
    wait_until(lambda: answer(page) == "7", what="the taught model to read the new one as 7")
    with page.expect_download() as download:  # and the taught model, downloaded, reads it so too
        page.get_by_role("button", name="Download the taught model (.pt)").click()
    model, _, meta = checkpoint.load(Path(download.value.path()).read_bytes())
    one = preprocessing.preprocess(draw_digit(1, size=(280, 280), offset=(-60, -10))).model_input
    assert predict.predict(model, one).digit == 7 and meta["taught_drawings"] == 3
    assert_no_exception(page)
    context.close()


def test_open_the_lesson_brings_the_lesson_into_view_on_a_phone(browser, app_url):
    """A number's digits kept on the number tab, then *Open the lesson*: the one-digit tab opens
    with the lesson in view, not the pad and the answer, which fill a phone's first screens."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(f"{app_url}/draw?mode=number")
        wait_for_app(page)
        for x in (80, 220):
            draw(page, [(x, 25), (x, 75), (x, 125)])  # two ones
            wait_for_app(page)
        wait_until(lambda: answer(page) == "11", what="the model to read 11")
        number = page.get_by_label("The number it is")
        number.fill("77")
        number.press("Enter")
        wait_for_app(page)
        page.get_by_role("button", name="Keep these 2 digits").click()
        page.get_by_role("button", name="Open the lesson").click()
        header = page.locator(".st-key-teach_panel summary")
        header.wait_for()

        def lesson_in_view() -> bool:
            box = header.bounding_box()
            return box is not None and 60 <= box["y"] <= page.viewport_size["height"] / 2

        wait_until(lesson_in_view, what="the lesson scrolled into view")
        expect(page.get_by_role("button", name="Teach it these 2")).to_be_visible()
        assert not pad_in_view(page)  # the window moved past the pad to the lesson
        assert_no_exception(page)
    finally:
        context.close()


# "2" and "6" on the number pad (320 × 150). The six starts at the pad's top-right corner and
# heads down-left: where the canvas's invisible toolbar used to take a finger's touch.
TWO = [(18, 52), (30, 32), (48, 25), (66, 35), (68, 58), (50, 90), (20, 132), (45, 132), (76, 132)]
SIX = [(295, 10), (270, 50), (252, 85), (252, 120), (270, 136), (292, 125), (298, 100), (280, 86), (255, 98)]


def test_a_number_written_with_a_finger_on_a_phone_is_read(browser, app_url):
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(f"{app_url}/draw")
        wait_for_app(page)
        page.get_by_role("tab", name="A number").tap()
        page.get_by_text("Write a number first").wait_for()
        canvas = page.locator("canvas.upper-canvas").first
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        assert box["width"] == 320 and box["x"] + box["width"] <= 360  # the pad fits the phone
        for stroke in (TWO, SIX):
            finger_stroke(page, steps([(box["x"] + x, box["y"] + y) for x, y in stroke]))
        wait_until(lambda: answer(page) == "26", what="the model to read 26")
        page.get_by_text("Where your drawing was cut into digits").wait_for()
        page.get_by_text("Read from your strokes").wait_for()  # the finger's strokes
        # Nothing of the page reaches past the screen's right edge (no sideways scrolling).
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
        assert_no_exception(page)
    finally:
        context.close()


def hostile_checkpoint() -> bytes:
    """Under 2 KB: a list of pairs of pairs, 60 levels of the same pair twice. The old loader
    printed it into an error message: 2⁶⁰ items, in one C call that held the server's GIL."""
    item: list = []
    for _ in range(60):
        item = [item, item]
    buffer = io.BytesIO()
    torch.save({"format": checkpoint.FORMAT, "config": {"hidden": item}, "state_dict": {}}, buffer)
    return buffer.getvalue()


def test_an_uploaded_checkpoint_answers_and_a_hostile_one_is_refused_at_once(browser, page, app_url):
    page.goto(f"{app_url}/draw")
    wait_for_app(page)
    page.get_by_text("Which model answers").click()
    upload = page.locator("[data-testid='stFileUploaderDropzoneInput']")
    upload.set_input_files(files=[{"name": "stall.pt", "mimeType": "application/octet-stream",
                                   "buffer": hostile_checkpoint()}])  # fmt: skip
    # Another visitor's page comes as usual meanwhile (the server is not held up)…
    other = browser.new_context().new_page()
    try:
        other.goto(f"{app_url}/autograd")
        wait_for_app(other)
        other.get_by_text("x.grad").first.wait_for(timeout=120_000)
    finally:
        other.context.close()
    # …and the file is refused, saying why, with no server internals.
    error = page.get_by_text("Cannot use stall.pt: its data uses one container twice")
    error.wait_for()
    assert "/" not in error.inner_text()
    assert page.get_by_text("default model shipped").count() >= 1  # the default answers still

    config = RunConfig(hidden=(32,), dropout=(0.1,), epochs=1)
    good = checkpoint.to_bytes(build_model(config), config, {"test_accuracy": 0.125})
    upload.set_input_files(files=[{"name": "mine.pt", "mimeType": "application/octet-stream",
                                   "buffer": good}])  # fmt: skip
    page.get_by_text("the checkpoint you uploaded, mine.pt").first.wait_for()
    assert page.get_by_text("Cannot use stall.pt").count() == 0
    draw(page, SEVEN)
    wait_until(lambda: answer(page).isdigit(), what="the uploaded model's answer")
    assert_no_exception(page)
