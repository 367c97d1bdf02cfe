"""Real browser: the app starts under `streamlit run`, the home page renders, and a deep link
on a freshly started server goes through app.py's navigation (not a bare pages folder)."""

import ast
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.harness import assert_no_exception, served_app, wait_for_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.browser
def test_home_page_renders(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_text("PyTorch Playground").first.wait_for()
    # The picture first: the shipped model's strongest first-layer units, 8 tiles by 2, loaded.
    picture = page.locator("[data-testid='stImage'] img").first
    expect(picture).to_have_js_property("complete", True)
    size = picture.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size == [4 * (8 * 29 - 1), 4 * (2 * 29 - 1)]  # 28 px tiles, 1 px apart, 4× as large
    assert page.get_by_text("What the network learns").count() == 1
    # Then what it thinks each digit looks like: ten 28 px pictures in a row, 1 px apart, 4× as large.
    strip = page.locator("[data-testid='stImage'] img").nth(1)
    expect(strip).to_have_js_property("complete", True)
    assert strip.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [4 * (10 * 29 - 1), 4 * 28]
    assert page.get_by_text("What it thinks each digit looks like").count() == 1
    # A visitor learns that MNIST is there, never where (the server's paths are the operator's).
    assert page.get_by_text("Found on this server").count() == 1
    assert page.get_by_text("fake-mnist").count() == 0
    assert_no_exception(page)
    for link in ("Train", "Draw a digit", "Autograd"):
        assert page.get_by_role("link", name=link).count() >= 1
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.get_by_text("Device:").count() == 1  # the shared sidebar…
    assert sidebar.get_by_text("MNIST data directory").count() == 0  # …with no path field for visitors


def pages_in_navigation() -> list[str]:
    """The files app.py's st.navigation lists, as written there ("pages/train.py", …)."""
    calls = [
        node for node in ast.walk(ast.parse((ROOT / "app.py").read_text())) if isinstance(node, ast.Call)
    ]
    return [
        call.args[0].value
        for call in calls
        if getattr(call.func, "attr", None) == "Page" and isinstance(call.args[0], ast.Constant)
    ]


def test_every_page_hands_a_servers_first_run_to_app_py():
    """What the browser test below shows for two pages, read from every page's file: the page is
    named like its URL (Streamlit's lookup on a first visit finds it) and its first statement after
    its imports is the shell's handover (ui/shell.py says why)."""
    pages = pages_in_navigation()
    assert len(pages) >= 6 and sorted(pages) == sorted(
        f"pages/{path.name}" for path in (ROOT / "pages").glob("*.py")
    )
    for page in pages:
        body = [
            node
            for node in ast.parse((ROOT / page).read_text()).body
            if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Constant)
        ]
        first_call = next(
            index for index, node in enumerate(body) if not isinstance(node, ast.Import | ast.ImportFrom)
        )
        assert ast.unparse(body[first_call]) == "shell.run_inside_app()", page


# A fresh server for each: two pages (the heaviest, and one whose imports only work in a page);
# the test above covers the rest.
@pytest.mark.browser
@pytest.mark.parametrize(
    ("url_path", "title"),
    [
        ("train", "Train the tutorial"),
        ("draw", "Draw a digit"),
    ],
)
def test_a_first_visit_by_deep_link_gets_the_app_shell(browser, fake_mnist_dir, url_path, title):
    """Each page's URL as the very first visit to a freshly started server: the page comes with
    app.py's navigation and sidebar, and no "Page not found" dialog (ui/shell.py)."""
    with served_app(fake_mnist_dir) as url:  # its server stopped (killed if need be) at the end
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(120_000)  # a fresh server's first page imports torch: slow when loaded
        errors = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        try:
            page.goto(f"{url}/{url_path}")
            page.get_by_role("heading", name=title).first.wait_for()  # the page itself
            # app.py's navigation, then its shared sidebar
            page.locator("[data-testid='stSidebarNav'] a[aria-current='page']").wait_for()
            page.get_by_text("Device:").wait_for()
            wait_for_app(page)
            assert page.get_by_role("link", name="app").count() == 0  # no file-based page list
            assert page.get_by_text("Page not found").count() == 0
            assert not [e for e in errors if "does not seem to exist" in e or "no corresponding file" in e]
            assert_no_exception(page)
        finally:
            context.close()
