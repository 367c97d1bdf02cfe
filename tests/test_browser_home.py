"""Real browser: the app starts under `streamlit run`, the home page renders, and a deep link
on a freshly started server goes through app.py's navigation (not a bare pages folder)."""

import pytest

from tests.conftest import assert_no_exception, start_app, wait_for_app

pytestmark = pytest.mark.browser


def test_home_page_renders(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_text("PyTorch Playground").first.wait_for()
    assert page.get_by_text("Found in").count() == 1  # the small MNIST the server points at
    assert_no_exception(page)
    for link in ("Train", "Draw a digit", "Autograd"):
        assert page.get_by_role("link", name=link).count() >= 1
    assert page.get_by_text("MNIST data directory").count() == 1  # the shared sidebar


def test_first_visit_by_deep_link_gets_the_app_shell(page, fake_mnist_dir):
    proc, url = start_app(fake_mnist_dir)
    try:
        page.goto(f"{url}/train")
        wait_for_app(page)
        page.get_by_text("Learn", exact=True).wait_for()
        assert page.get_by_text("MNIST data directory").count() == 1
        assert page.get_by_role("link", name="app").count() == 0  # no file-based page list
        assert_no_exception(page)
    finally:
        proc.terminate()
        proc.wait(10)
