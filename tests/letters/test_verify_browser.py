"""The verification page in a real browser (Debian's Chromium): axe-clean, reflows at 320 px,
works without JavaScript, and the error summary takes focus."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from letters import services
from tests.e2e.conftest import _fresh_rate_limits, browser, check_page, new_page  # noqa: F401
from tests.letters.factories import make_grant

pytestmark = pytest.mark.browser

LANGUAGES = ["zh-hans", "en"]


@pytest.fixture
def two_versions(settings, tmp_path, transactional_db):
    """Version 1 superseded by version 2, both rendered and stored."""
    settings.MEDIA_ROOT = tmp_path
    grant = make_grant()
    first = services.letter_schedule(grant=grant)  # autocommit: the eager task has run
    grant.version = 2
    grant.save()
    second = services.letter_schedule(grant=grant)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == "superseded" and second.state == "current"
    return first, second


@pytest.mark.parametrize("language", LANGUAGES)
def test_code_from_the_qr_link_without_javascript(new_page, two_versions, language):  # noqa: F811
    first, second = two_versions
    page = new_page(java_script=False)
    page.goto(f"/letters/verify/?code={first.verification_code}")  # what the QR code holds
    assert f"/letters/verify/?code={first.verification_code}" in page.url
    page.goto(f"/{language}/letters/verify/?code={first.verification_code}")
    main = page.locator("main")
    expect(main.locator("[data-state=superseded]")).to_be_visible()
    expect(main).to_contain_text(second.sha256)
    expect(main).to_contain_text(first.sha256)
    check_page(page, language=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_uploading_a_letter_without_javascript(new_page, two_versions, language, tmp_path):  # noqa: F811
    _first, second = two_versions
    pdf = tmp_path / "letter.pdf"
    with second.file.open("rb") as stored:
        pdf.write_bytes(stored.read())
    page = new_page(java_script=False)
    page.goto(f"/{language}/letters/verify/")
    page.locator("#id_pdf").set_input_files(str(pdf))
    page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    main = page.locator("main")
    expect(main.locator("#upload-result [data-state=current]")).to_be_visible()
    expect(main).to_contain_text(second.sha256)
    check_page(page, language=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_wrong_code_focuses_the_error_summary(new_page, transactional_db, language):  # noqa: F811
    page = new_page()
    page.goto(f"/{language}/letters/verify/")
    page.locator("#id_code").fill("ABC")
    page.locator("form[method=get] button[type=submit]").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    assert page.title().startswith("错误：" if language == "zh-hans" else "Error:")
    summary.locator("a[href='#id_code']").click()
    expect(page.locator("#id_code")).to_be_focused()
    check_page(page, language=language)
