"""Real browser: the app starts under `streamlit run` and the home page renders."""

import pytest

from tests.conftest import assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser


def test_home_page_renders(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_text("PyTorch Playground").first.wait_for()
    assert page.get_by_text("Found in").count() == 1  # the small MNIST the server points at
    assert_no_exception(page)
    for link in ("Train", "Draw a digit", "Autograd"):
        assert page.get_by_role("link", name=link).count() >= 1
