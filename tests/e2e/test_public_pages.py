"""The public pages, in both languages: right `lang`, zero axe-core violations, reflow at 320 px,
and what a visitor comes for is on the page."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from applications.services import status_link_for
from lottery import services as lottery_services
from lottery.models import Draw
from tests.factories import ApplicationFactory, CenterFactory, RoundFactory

from .conftest import NARROW, check_page

pytestmark = pytest.mark.browser

# Each language at one width, so axe also sees the narrow layout (a table that scrolls inside
# its wrapper at 320 px is a region keyboard users must reach); check_page checks reflow anyway.
LANGUAGES = [pytest.param("zh-hans", NARROW, id="zh-hans-320px"), pytest.param("en", 1280, id="en")]


@pytest.fixture
def completed_draw(transactional_db) -> Draw:
    """A closed round of five eligible applications drawn for two grants, through the services
    (announce, freeze, declared value; the eager worker executes the draw)."""
    now = timezone.now()
    CenterFactory()
    draw_round = RoundFactory(
        code="wuhan-2026-r1",
        title_zh="武汉2026年第一轮",
        title_en="Wuhan 2026 round one",
        opens_at=now - dt.timedelta(days=30),
        closes_at=now - dt.timedelta(days=1),
        winners=2,
    )
    for _ in range(5):
        ApplicationFactory(round=draw_round)
    draw = lottery_services.draw_announce(
        round=draw_round,
        beacon_source=Draw.BeaconSource.DECLARED,
        beacon_description="SSE Composite Index close on the first trading day after entries close",
        now=now - dt.timedelta(days=29),
    )
    assert lottery_services.draw_freeze(draw=draw)
    lottery_services.draw_declared_value_enter(draw=draw, value="3412.56", actor=None)
    draw.refresh_from_db()
    assert draw.state == Draw.State.COMPLETED
    return draw


@pytest.mark.parametrize(("language", "width"), LANGUAGES)
def test_public_pages(new_page, completed_draw, language, width):
    """A visitor's tour: home, the draws, one draw and its search, the transparency dashboard
    and grant register, letter verification. One test per language: the data is built once."""
    RoundFactory(title_zh="武汉第一轮", title_en="Wuhan round one")
    page = new_page(width=width)

    # Home. The first Tab shows the skip link with a visible focus indicator; it leads to main.
    page.goto(f"/{language}/")
    check_page(page, language=language)
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    style = skip.evaluate(
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert style[0] != "none" and style[1] != "0px", style
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # The language switch leads to the same page in the other language, and back.
    other = "en" if language == "zh-hans" else "zh-hans"
    page.locator(".language-switch a").click()
    expect(page).to_have_url(re.compile(rf"/{other}/$"))
    expect(page.locator("html")).to_have_attribute("lang", other)
    page.locator(".language-switch a").click()
    expect(page).to_have_url(re.compile(rf"/{language}/$"))
    # The open round is offered with a way in.
    round_title = "武汉第一轮" if language == "zh-hans" else "Wuhan round one"
    page.get_by_role("link", name=round_title).click()
    expect(page.locator("#id_company_legal_name")).to_be_visible()
    assert page.url.split("?")[0].endswith(f"/{language}/apply/")

    # The draws, and one draw: winners and waitlist by reference, no personal data.
    page.locator("header nav a[href$='/draws/']").click()
    expect(page).to_have_url(re.compile(rf"/{language}/draws/$"))
    check_page(page, language=language)
    page.locator(f"main a[href$='/draws/{completed_draw.draw_id}/']").first.click()
    assert page.url.endswith(f"/{language}/draws/{completed_draw.draw_id}/")
    check_page(page, language=language)
    main = page.locator("main")
    for entry in completed_draw.entries.all():
        expect(main).to_contain_text(entry.reference)
    expect(main).not_to_contain_text("张伟")
    expect(main).to_contain_text(completed_draw.seed)
    # Search by reference: where a waitlisted entrant stands, and how to check the ticket.
    entry = completed_draw.entries.get(rank=4)
    page.fill("#ref", entry.reference)
    page.locator("form.find-reference button[type=submit]").click()
    found = page.locator("main [role=status]")
    expect(found).to_contain_text(entry.reference)
    expect(found).to_contain_text(entry.ticket)
    check_page(page, language=language)

    # The transparency dashboard: charts, each with a table beside it; the grant register.
    page.locator("header nav a[href$='/transparency/']").click()
    expect(page).to_have_url(re.compile(rf"/{language}/transparency/$"))
    check_page(page, language=language)
    expect(main.locator("table").first).to_be_visible()
    assert main.locator("svg").count() >= 1
    assert main.locator("table").count() >= main.locator("svg[role=img]").count()
    page.goto(f"/{language}/transparency/grants/")
    check_page(page, language=language)

    # Letter verification.
    page.locator("header nav a[href$='/letters/verify/']").click()
    expect(page).to_have_url(re.compile(rf"/{language}/letters/verify/$"))
    check_page(page, language=language)
    expect(page.locator("main input[type=file]")).to_have_count(1)

    # The waitlisted founder's private status page gives the same rank and links to the draw.
    page.goto(status_link_for(entry.application))
    check_page(page, language=entry.application.language)
    page.locator(f"main a[href*='/draws/{completed_draw.draw_id}/']").click()
    expect(page.locator("main [role=status]")).to_contain_text(entry.ticket)
