"""Journey 4 in a real browser, in both languages: a member of the public. Home (skip link,
language link), the draws, one draw and a reference found on it, the draw record downloaded
and re-run with the standalone verifier (OK), the transparency dashboard and one of its CSV
files checked against the table on the page, the grant register, letter verification, and a
waitlisted founder's status page leading back to the draw. Every step: right `lang`, zero
axe-core violations, reflow at 320 px, screenshots at 320 and 1280 px."""

from __future__ import annotations

import csv
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from applications.services import status_link_for
from tests.factories import RoundFactory
from tests.lottery.conftest import results_of

from .conftest import NARROW, ROOT
from .data import completed_draw
from .journeys import Journey

pytestmark = pytest.mark.browser

OPEN_ROUND = {"zh-hans": "武汉第一轮", "en": "Wuhan round one"}


@pytest.mark.parametrize(
    ("language", "width"), [("zh-hans", NARROW), ("en", 1280)], ids=["zh-hans", "en"]
)
def test_a_visitor_checks_a_draw_and_the_figures(
    new_page, transactional_db, tmp_path, language, width
):
    draw = completed_draw()
    RoundFactory(title_zh=OPEN_ROUND["zh-hans"], title_en=OPEN_ROUND["en"])
    page = new_page(width=width)
    journey = Journey(page, name="4-public", language=language)
    main = page.locator("main")

    # Home. The first Tab shows the skip link with a visible focus indicator; it leads to main.
    page.goto(f"/{language}/")
    journey.step("home")
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
    expect(main.get_by_role("link", name=OPEN_ROUND[language])).to_be_visible()

    # The draws, and one draw: winners and waitlist by reference, no personal data.
    page.locator("header nav a[href$='/draws/']").click()
    expect(page).to_have_url(re.compile(rf"/{language}/draws/$"))
    journey.step("draws")
    page.locator(f"main a[href$='/draws/{draw.draw_id}/']").first.click()
    assert page.url.endswith(f"/{language}/draws/{draw.draw_id}/")
    results = results_of(draw)
    for entry in results:
        expect(main).to_contain_text(entry.reference)
        expect(main).not_to_contain_text(entry.application.founder_name)
    expect(main).to_contain_text(draw.seed)
    journey.step("draw")
    # A reference found: where a waitlisted entrant stands, and the ticket to check.
    entry = results[3]
    page.fill("#ref", entry.reference)
    page.locator("form.find-reference button[type=submit]").click()
    found = page.locator("main [role=status]")
    expect(found).to_contain_text(entry.reference)
    expect(found).to_contain_text(entry.ticket)
    journey.step("reference-found")

    # The draw record, as the page links it, re-run with the standalone verifier.
    draw_page = page.url
    with page.expect_response(lambda r: r.url.endswith(f"/draws/{draw.draw_id}.json")) as info:
        page.locator(f"main a[href$='/draws/{draw.draw_id}.json']").click()
    record = tmp_path / f"{draw.draw_id}.json"
    record.write_bytes(info.value.body())
    page.goto(draw_page)
    verified = subprocess.run(
        [sys.executable, str(ROOT / "lottery" / "verify_draw.py"), str(record)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "OK" in verified.stdout.splitlines()[-1], verified.stdout

    # The transparency dashboard; the funnel's CSV holds the numbers its table shows.
    page.locator("header nav a[href$='/transparency/']").click()
    expect(page).to_have_url(re.compile(rf"/{language}/transparency/$"))
    journey.step("transparency")
    funnel = page.locator("section[aria-labelledby=funnel]")
    shown = [
        int(text.replace(",", "")) for text in funnel.locator("tbody td.numeric").all_inner_texts()
    ]
    with page.expect_download() as download_info:
        funnel.locator("a[href*='/figures/funnel.csv']").click()
    saved = tmp_path / "funnel.csv"
    download_info.value.save_as(saved)
    rows = list(csv.DictReader(saved.read_text(encoding="utf-8-sig").splitlines()))
    assert [int(row["count"]) for row in rows] == shown
    assert shown[0] == draw.round.applications.count()
    page.goto(f"/{language}/transparency/grants/")
    journey.step("grant-register")

    # Letter verification.
    page.locator("header nav a[href$='/letters/verify/']").click()
    expect(page).to_have_url(re.compile(rf"/{language}/letters/verify/$"))
    expect(page.locator("main input[type=file]")).to_have_count(1)
    journey.step("letter-verification")

    # The waitlisted founder's private status page gives the same rank and links to the draw.
    page.goto(status_link_for(entry.application))
    journey.step("waitlisted-status", language=entry.application.language)
    page.locator(f"main a[href*='/draws/{draw.draw_id}/']").click()
    expect(page.locator("main [role=status]")).to_contain_text(entry.ticket)
