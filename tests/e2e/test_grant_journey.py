"""A drawn founder in a real browser, in both languages: the grant offer on the status page,
accepting it (a POST from a page reached by a token), and the milestone evidence form with its
error summary. Every page: right `lang`, zero axe-core violations, no sideways scroll at 320 px."""

import re

import pytest
from playwright.sync_api import expect

from applications.services import status_link_for
from grants.models import Grant
from tests.grants.factories import offered_grant

from .conftest import NARROW, check_page
from .forms import assert_error_summary, submit_main_form

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("language", "width"), [("zh-hans", NARROW), ("en", 1280)], ids=["zh-hans-320px", "en-desktop"]
)
def test_winner_accepts_the_grant_and_opens_the_evidence_form(new_page, language, width):
    grant = offered_grant(amount="1000", commitments=1, language=language)
    status_path = status_link_for(grant.application)
    page = new_page(width=width)

    page.goto(status_path)
    check_page(page, language=language)
    page.locator("main input[name=confirm_terms]").check()
    page.locator("main button[name=decision][value=accept]").click()
    expect(page).to_have_url(re.compile(re.escape(status_path) + "(#.*)?$"))
    grant.refresh_from_db()
    assert grant.status == Grant.Status.ACTIVE
    check_page(page, language=language)

    # The commitment's milestone takes evidence; sent empty, the form says what to fix.
    page.locator("main a[href*='/milestones/'][href$='/evidence/']").first.click()
    check_page(page, language=language)
    submit_main_form(page)
    assert_error_summary(page, language=language, fields=1)
    check_page(page, language=language)
