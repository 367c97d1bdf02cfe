"""Real browser: what a stranger with the shared link sees and can do. No Deploy button or
developer menu, no field that names a server path, and the per-address limit on runs behind a
reverse proxy on the server's machine (which passes the visitor's address in X-Forwarded-For)."""

import re

import pytest
from playwright.sync_api import expect

from tests.harness import assert_no_exception, wait_for_app, wait_until

pytestmark = pytest.mark.browser

# Minutes of training on the small MNIST: the runs must still be going when the test looks at them,
# however late a loaded machine brings each page its Stop button.
LONG = "hidden=1024,1024&dropout=0.1,0.1&batch_size=8&epochs=100"


def visitor(browser, address: str | None = None, viewport: dict | None = None):
    """A private window; `address` is what the proxy would say the visitor's address is."""
    headers = {"X-Forwarded-For": address} if address else {}
    viewport = viewport or {"width": 1400, "height": 1000}
    context = browser.new_context(viewport=viewport, extra_http_headers=headers)
    page = context.new_page()
    page.set_default_timeout(120_000)
    return context, page


def open_train(page, app_url):
    page.goto(f"{app_url}/train?{LONG}")
    wait_for_app(page)
    page.get_by_role("button", name="▶ Train").wait_for()
    assert_no_exception(page)


def test_a_visitor_sees_no_deploy_button_developer_menu_or_path_field(page, app_url, fake_mnist_dir):
    page.goto(f"{app_url}/")
    wait_for_app(page)
    page.get_by_text("Where to go").wait_for()
    assert page.locator("[data-testid='stAppDeployButton']").count() == 0
    assert page.get_by_text("Deploy", exact=True).count() == 0
    menu = page.locator("[data-testid='stMainMenu']")
    if menu.count():  # the viewer's menu, if any, has no developer entries
        menu.click()
        for entry in ("Rerun", "Clear cache", "Record a screencast"):
            assert page.get_by_text(entry, exact=True).count() == 0
        page.keyboard.press("Escape")
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.locator("input[type='text']").count() == 0  # no data directory box
    assert str(fake_mnist_dir) not in page.locator("[data-testid='stApp']").inner_text()
    assert "Found on this server" in page.locator("[data-testid='stApp']").inner_text()


def test_a_third_run_from_one_address_is_refused(browser, app_url):
    windows = [visitor(browser, "203.0.113.9") for _ in range(3)] + [visitor(browser, "198.51.100.4")]
    try:
        for _, page in windows:
            open_train(page, app_url)
        for _, page in windows[:2]:
            page.get_by_role("button", name="▶ Train").click()
            expect(page.get_by_role("button", name="■ Stop")).to_be_enabled()
        third = windows[2][1]
        third.get_by_role("button", name="▶ Train").click()
        expect(third.get_by_text(re.compile("already has 2 runs queued or training"))).to_be_visible()
        other = windows[3][1]  # another address is not held back by the first one's runs
        other.get_by_role("button", name="▶ Train").click()
        expect(other.get_by_role("button", name="■ Stop")).to_be_enabled()
        for _, page in windows[:2] + windows[3:]:
            page.get_by_role("button", name="■ Stop").click()
            expect(page.get_by_role("button", name="▶ Train")).to_be_enabled(timeout=60_000)
            assert_no_exception(page)
    finally:
        for context, _ in windows:
            context.close()


# Inside the live read-out's frame: its text when cut neither at the side nor at the frame's foot,
# else "".
READ_OUT_SHOWN_WHOLE = """() => {
    const label = document.querySelector('#label');
    if (!label || !document.body) return "";  // the frame's page is still loading
    const across = label.scrollWidth <= label.clientWidth;
    const down = document.body.scrollHeight <= window.innerHeight + 1;
    return across && down ? label.innerText : "";
}"""


def test_a_queued_visitor_on_a_phone_reads_their_place_and_wait_whole(browser, app_url):
    first = visitor(browser, "192.0.2.1")
    phone = visitor(browser, "192.0.2.2", viewport={"width": 390, "height": 844})
    try:
        for _, page in (first, phone):
            open_train(page, app_url)
        first[1].get_by_role("button", name="▶ Train").click()
        expect(first[1].get_by_role("button", name="■ Stop")).to_be_enabled()
        phone[1].get_by_role("button", name="▶ Train").click()
        frame = phone[1].locator("iframe[src*='live_run']")
        # The read-out's end says how long the wait is: the part a one-line read-out cut off.
        wait_until(
            lambda: (
                "starts by itself" in frame.element_handle().content_frame().evaluate(READ_OUT_SHOWN_WHOLE)
            ),
            what="the queued read-out, with its place and wait, shown whole on a 390 px screen",
        )
        for _, page in (phone, first):
            page.get_by_role("button", name="■ Stop").click()
            expect(page.get_by_role("button", name="▶ Train")).to_be_enabled(timeout=60_000)
            assert_no_exception(page)
    finally:
        for context, _ in (first, phone):
            context.close()
