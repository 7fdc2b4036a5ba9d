"""The checker itself: a page with known WCAG failures must fail it, with and without
JavaScript, or every "zero violations" above would prove nothing."""

import pytest
from playwright.sync_api import Browser

from .conftest import _SCRIPTLESS, NARROW, assert_accessible, assert_reflows

pytestmark = pytest.mark.browser

BAD_PAGE = """<!DOCTYPE html><html><head><title>Bad</title></head><body><main>
<h1>Bad page</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<input type="text" name="nameless">
<div style="width:600px">too wide</div></main></body></html>"""
URL = "http://e2e-harness.invalid/page/"


# transactional like the other browser tests, so pytest-django keeps them together (one launch).
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("java_script", [True, False], ids=["scripted", "scriptless"])
def test_the_checker_catches_known_failures(browser: Browser, java_script):
    context = browser.new_context(
        java_script_enabled=java_script, viewport={"width": NARROW, "height": 600}
    )
    if not java_script:
        _SCRIPTLESS.add(context)
    try:
        context.route(
            "http://e2e-harness.invalid/**",
            lambda route: route.fulfill(content_type="text/html", body=BAD_PAGE),
        )
        page = context.new_page()
        page.goto(URL)
        with pytest.raises(AssertionError) as failure:
            assert_accessible(page)
        report = str(failure.value)
        for rule in ["html-has-lang", "image-alt", "label"]:
            assert rule in report, report
        with pytest.raises(AssertionError, match="scrolls sideways"):
            assert_reflows(page)
    finally:
        context.close()
