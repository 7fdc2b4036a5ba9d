"""What every GOV.UK-style form here must do in the browser, shared by the journeys."""

from urllib.parse import urlparse

from playwright.sync_api import Page, expect

ERROR_PREFIX = {"zh-hans": "错误：", "en": "Error: "}


def submit_main_form(page: Page) -> None:
    """Press the page's main button (the last form in <main>; the header has none)."""
    page.locator("main form button[type=submit]").last.click()


def assert_error_summary(page: Page, *, language: str, fields: int = 10) -> None:
    """After a submission with errors: the summary is shown and has focus, the title says
    "Error: " / "错误：", each link names a message and points at a form control whose field
    shows the same message, and following a link takes the founder to that field."""
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert page.title().startswith(ERROR_PREFIX[language]), page.title()
    links = summary.locator("a")
    assert links.count() >= fields, "every field in error should be listed in the summary"
    items = links.evaluate_all(
        "links => links.map(a => [a.getAttribute('href'), a.textContent.trim()])"
    )
    for href, message in items:
        assert href.startswith("#"), href
        control = page.locator(f"[id='{href[1:]}']")
        expect(control).to_have_count(1)
        assert control.evaluate("e => e.tagName") in {"INPUT", "SELECT", "TEXTAREA"}, href
        beside = control.evaluate("e => e.closest('.form-group').textContent")
        assert message in beside, (href, message)
    link = links.nth(min(1, len(items) - 1))
    href = link.get_attribute("href")
    link.click()
    assert urlparse(page.url).fragment == href[1:]
    expect(page.locator(href)).to_be_in_viewport()
