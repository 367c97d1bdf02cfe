"""Real browser on a phone: no toolbar hides words. On a touch screen nothing hovers, so the
toolbars that a mouse sees only while over a chart or table are shown all the time: Plotly's
over the top right of each chart, Streamlit's above each dataframe. Each page is opened on a
390 px touch screen with its charts drawn, and no word of it may lie under a toolbar."""

import pytest

from tests.harness import assert_no_exception, wait_for_app
from tests.test_browser_draw import SEVEN, finger_stroke, steps

pytestmark = pytest.mark.browser

# Every rendered piece of text on the page (HTML and Plotly's SVG) that a visible toolbar covers.
WORDS_UNDER_TOOLBARS = """() => {
    const BARS = '.modebar, [data-testid=stElementToolbar]';
    const shown = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
    const overlap = (a, b) =>
        a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const words = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode, el = node.parentElement;
        if (!node.textContent.trim() || !el || !shown(el) || el.closest(BARS)) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const box of range.getClientRects())
            if (box.width > 0) words.push([node.textContent.trim().slice(0, 50), box]);
    }
    const covered = [];
    for (const bar of [...document.querySelectorAll(BARS)].filter(shown)) {
        const box = bar.getBoundingClientRect();
        const kind = bar.matches('.modebar') ? 'a chart toolbar' : 'a table toolbar';
        for (const [text, word] of words) if (overlap(box, word)) covered.push(`${kind} covers "${text}"`);
    }
    return covered;
}"""


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    yield page
    context.close()


def assert_no_words_under_toolbars(page) -> None:
    wait_for_app(page)
    page.locator(".modebar, [data-testid=stElementToolbar]").first.wait_for(state="attached")
    # Plotly draws after the script run ends: wait until every chart has its toolbar.
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot').length"
        " === document.querySelectorAll('.js-plotly-plot .modebar').length"
    )
    assert_no_exception(page)
    assert page.evaluate(WORDS_UNDER_TOOLBARS) == []


def test_the_teaching_pages(phone, app_url):
    for stem in ("tensors", "autograd"):
        phone.goto(f"{app_url}/{stem}")
        phone.locator(".js-plotly-plot, [data-testid=stDataFrame]").first.wait_for()
        assert_no_words_under_toolbars(phone)
    phone.goto(f"{app_url}/gpu")
    wait_for_app(phone)
    phone.get_by_role("button", name="Time it").tap()
    phone.locator(".js-plotly-plot").first.wait_for()  # the timing chart
    assert_no_words_under_toolbars(phone)


def test_the_draw_pages_answer(phone, app_url):
    phone.goto(f"{app_url}/draw")
    wait_for_app(phone)
    canvas = phone.locator("canvas.upper-canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    finger_stroke(phone, steps([(box["x"] + x, box["y"] + y) for x, y in SEVEN]))
    phone.get_by_text("Which pixels made it say").first.wait_for()  # the answer's charts
    assert_no_words_under_toolbars(phone)


def test_a_runs_results_each_tab(phone, app_url):
    phone.goto(f"{app_url}/train?hidden=16&epochs=1&batch_size=64")
    wait_for_app(phone)
    phone.get_by_role("button", name="▶ Train").tap()
    phone.get_by_text("Compare runs").wait_for(timeout=240_000)
    phone.locator("[data-testid=stPlotlyChart]").nth(2).wait_for()  # confusion, loss, accuracy
    assert_no_words_under_toolbars(phone)
    tabs = {
        "Mistakes": "misclassified",
        "First layer": "units ranked",
        "Each digit": "most like the average",
        "Architecture": "hidden 1",
    }
    for tab, shown in tabs.items():
        phone.get_by_role("tab", name=tab).tap()
        phone.get_by_text(shown).first.wait_for()
        assert_no_words_under_toolbars(phone)
        if tab == "Mistakes":  # the gallery fills the phone's rows, in reading order
            tops = phone.locator("[role=tabpanel]:visible [data-testid=stImage] img").evaluate_all(
                "imgs => imgs.map(img => Math.round(img.getBoundingClientRect().top))"
            )
            assert len(tops) >= 6 and tops[0] == tops[1] == tops[2] < tops[-1], tops
            assert tops == sorted(tops), tops
