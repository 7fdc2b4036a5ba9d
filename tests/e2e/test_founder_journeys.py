"""Journeys 1 and 2 in a real browser, in both languages, one founder from the home page to the
grant letter. Journey 1 is done with the keyboard only (Tab, Shift+Tab, Space, Enter, typing):
home in the other language, the language link, the one-page form with a wrong USCC check
character, the error summary (focus, "Error: " title), the correction, check your answers, the
reference and the receipt PDF. Journey 2: the status link from the e-mail, the timeline, the draw
run by a real Celery worker, the result, accepting the grant, the tranches, milestone evidence
and the grant letter. Every step: right `lang`, zero axe-core violations, reflow at 320 px, and
screenshots at 320 and 1280 px (see journeys.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from applications.models import Application, Round
from centers.models import CenterCapacity
from grants.models import Grant
from grants.services import grant_allocate
from lottery import services as lottery_services
from lottery.models import Draw
from lottery.tasks import draws_advance_task
from tests.conftest import wait_until
from tests.factories import ApplicationFactory, CenterFactory, GpuTypeFactory, RoundFactory
from tests.grants.factories import CenterCapacityFactory
from tests.milestones.conftest import RECORDED, RecordedServer

from .conftest import NARROW
from .journeys import Journey, pdf_text
from .keyboard import activate, choose, tab_to, tick, type_into

pytestmark = pytest.mark.browser

USCC = "91230184MA1BUFLT44"
# The same code with a wrong last (check) character: the form must say so.
USCC_WRONG_CHECK = USCC[:-1] + "5"
COMPANY = {"zh-hans": "武汉深算智能科技有限公司", "en": "Wuhan Deep Compute Intelligence Co., Ltd."}
FOUNDER = {"zh-hans": "张伟", "en": "Zhang Wei"}
EMAIL = "zhang.wei@example.cn"
# What the founder types at the start of an option to pick it (the select's type-ahead).
CITY = {"zh-hans": "武汉", "en": "Wuhan"}
CENTER = {"zh-hans": "武汉人工智能", "en": "Wuhan AI"}
OTHER = {"zh-hans": "en", "en": "zh-hans"}
# The model page the founder gives as evidence; the checker reads it from a local stand-in for
# the Hugging Face API (a recorded answer, updated after the grant started).
MODEL_URL = "https://huggingface.co/shanshui-ai/Lingxi-7B-Chat"


@pytest.fixture
def round_with_draw(transactional_db) -> Draw:
    """An open round whose draw is announced on a declared public value, with capacity at the
    Wuhan center and two other eligible applicants; three winners, so the founder wins."""
    center = CenterFactory()
    draw_round = RoundFactory(
        code="wuhan-2026-r2",
        title_zh="武汉2026年第二轮",
        title_en="Wuhan 2026 round two",
        winners=3,
    )
    CenterCapacityFactory(gpu_type=GpuTypeFactory(center=center), round=draw_round)
    for _ in range(2):
        ApplicationFactory(round=draw_round)
    return lottery_services.draw_announce(
        round=draw_round,
        beacon_source=Draw.BeaconSource.DECLARED,
        beacon_description="SSE Composite Index close on the first trading day after entries close",
    )


@pytest.fixture
def model_api(settings):
    """The open-weights checker reads a local server, never the real Hugging Face."""
    model = json.loads((RECORDED / "huggingface" / "model_ok.json").read_text())
    model["lastModified"] = (timezone.now() + dt.timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )
    server = RecordedServer()
    server.add("/api/models/shanshui-ai/Lingxi-7B-Chat", body=model)
    settings.MILESTONES_HUGGINGFACE_API = server.url
    settings.MILESTONES_FETCH_ALLOW_PRIVATE = True
    settings.MILESTONES_REQUIRE_HTTPS = False
    settings.MILESTONES_FETCH_TIMEOUT_SECONDS = 5.0
    yield server
    server.close()


def _fill_the_form_by_keyboard(page: Page, *, language: str, uscc: str) -> None:
    target = (timezone.localdate() + dt.timedelta(days=180)).isoformat()
    type_into(page, "#id_company_legal_name", COMPANY[language])
    type_into(page, "#id_uscc", uscc)
    choose(page, "#id_registration_city", CITY[language])
    type_into(page, "#id_founded_on", "2024-03-15")
    type_into(page, "#id_employees", "12")
    tick(page, "#id_revenue_band_0")
    type_into(page, "#id_founder_name", FOUNDER[language])
    type_into(page, "#id_email", EMAIL)
    type_into(page, "#id_mobile", "+86 138 0013 8000")
    tick(page, "#id_round_0")
    choose(page, "#id_center_1", CENTER[language])
    type_into(page, "#id_gpu_hours_requested", "1000")
    type_into(page, "#id_purpose", "训练一个面向中文法律文书的小模型，并开放权重。")
    tick(page, "#id_commit_open_weights")
    type_into(page, "#id_commit_open_weights_date", target)
    tick(page, "#id_consent_terms")


def _download(page: Page, selector: str, folder, *, keyboard: bool = False):
    """Follow a link that gives a file and return where the browser saved it."""
    with page.expect_download() as download_info:
        if keyboard:
            activate(page, selector)
        else:
            page.locator(selector).click()
    download = download_info.value
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


def _open_pdf(page: Page, selector: str, path):
    """Follow (by keyboard) a link to a PDF the browser shows in its viewer, keep the file (the
    viewer's "save": the same URL fetched with the page's cookies), and come back."""
    before = page.url
    with page.expect_response(lambda response: response.url.endswith(".pdf")) as response_info:
        activate(page, selector)
    response = response_info.value
    assert response.ok and response.headers["content-type"] == "application/pdf", response
    path.write_bytes(page.request.get(response.url).body())
    if page.url != before:
        page.go_back()
    return path


def _status_path_from_email(reference: str) -> str:
    for message in mail.outbox:
        if reference in message.body:
            match = re.search(r"https?://\S+/status/[^\s/]+/", message.body)
            if match:
                return urlparse(match.group(0)).path
    raise AssertionError(
        "no e-mail with the status link: " + repr([m.subject for m in mail.outbox])
    )


@pytest.mark.parametrize(
    ("language", "width"), [("zh-hans", NARROW), ("en", 1280)], ids=["zh-hans", "en"]
)
def test_a_founder_applies_wins_and_gets_the_grant_letter(
    new_page, round_with_draw, celery_worker, model_api, tmp_path, language, width
):
    page = new_page(width=width)

    # --- journey 1: apply, by keyboard only ---
    journey = Journey(page, name="1-apply", language=language)
    page.goto(f"/{OTHER[language]}/")
    journey.step("home-other-language", language=OTHER[language])
    activate(page, ".language-switch a")
    expect(page).to_have_url(re.compile(rf"/{language}/$"))
    journey.step("home")
    activate(page, "main a.button[href$='/apply/']")
    expect(page).to_have_url(re.compile(rf"/{language}/apply/$"))
    journey.step("form")

    _fill_the_form_by_keyboard(page, language=language, uscc=USCC_WRONG_CHECK)
    activate(page, "main form button[type=submit]")
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    assert page.title().startswith("错误：" if language == "zh-hans" else "Error: "), page.title()
    expect(summary.locator("a")).to_have_count(1)
    expect(summary.locator("a")).to_have_attribute("href", "#id_uscc")
    expect(page.locator("#id_uscc")).to_have_value(USCC_WRONG_CHECK)  # nothing typed is lost
    journey.step("error-summary")

    # The summary's link takes the founder to the field; they type the right code.
    tab_to(page, ".error-summary a[href='#id_uscc']")
    page.keyboard.press("Enter")
    expect(page.locator("#id_uscc")).to_be_focused()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(USCC)
    activate(page, "main form button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/{language}/apply/check/$"))
    main = page.locator("main")
    expect(main).to_contain_text(USCC)
    expect(main).to_contain_text(COMPANY[language])
    journey.step("check-answers")

    activate(page, "main form button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/{language}/apply/submitted/[^/]+/$"))
    application = Application.objects.get(uscc=USCC)
    assert application.language == language
    assert application.status == Application.Status.ELIGIBLE
    expect(page.locator("main .reference")).to_have_text(application.reference)
    journey.step("confirmation")
    receipt = _open_pdf(page, "main a[href$='/receipt.pdf']", tmp_path / "receipt.pdf")
    assert receipt.read_bytes().startswith(b"%PDF")
    assert application.reference in pdf_text(receipt)

    # --- journey 2: the status page, the draw, the grant ---
    journey = Journey(page, name="2-grant", language=language)
    page.goto(_status_path_from_email(application.reference))
    status_url = page.url
    timeline = page.locator("main ol.timeline")
    expect(timeline).to_contain_text(
        "已收到申请" if language == "zh-hans" else "Application received"
    )
    journey.step("status")

    # Entries close; the worker freezes the entrants, staff enter the declared value, and the
    # worker draws. (The close is moved, not waited for: the round's rules are the same.)
    draw = round_with_draw
    closed = timezone.now() - dt.timedelta(minutes=1)
    Round.objects.filter(pk=draw.round_id).update(closes_at=closed)
    Draw.objects.filter(pk=draw.pk).update(entries_close_at=closed)
    with celery_worker.taking_tasks():
        draws_advance_task.delay()
        wait_until(lambda: Draw.objects.get(pk=draw.pk).state == Draw.State.FROZEN, timeout=60)
        lottery_services.draw_declared_value_enter(
            draw=Draw.objects.get(pk=draw.pk), value="3412.56", actor=None
        )
        wait_until(lambda: Draw.objects.get(pk=draw.pk).state == Draw.State.COMPLETED, timeout=60)
    assert "draw_execute_task" in celery_worker.log()
    entry = application.draw_entry
    assert entry.outcome == "winner"

    page.reload()
    result = page.locator("main").get_by_role(
        "heading", name="抽签结果" if language == "zh-hans" else "Draw result"
    )
    expect(result).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        f"你已中签（排名第 {entry.rank} 位）"
        if language == "zh-hans"
        else f"You were drawn (rank {entry.rank})"
    )
    journey.step("drawn")

    # Staff allocate (journey 3 does it in the admin); the founder sees the offer.
    grant = grant_allocate(
        application=application,
        capacity=CenterCapacity.objects.get(round_id=draw.round_id),
        amount=Decimal("1000"),
        actor=None,
    )
    page.reload()
    expect(page.locator("#grant-heading")).to_be_visible()
    journey.step("offer")
    page.locator("main input[name=confirm_terms]").check()
    page.locator("main button[name=decision][value=accept]").click()
    expect(page.locator(".notification-banner, .messages, [role=status]").first).to_be_visible()
    grant.refresh_from_db()
    assert grant.status == Grant.Status.ACTIVE
    tranches = page.locator(".grant-section table tbody tr")
    expect(tranches).to_have_count(grant.tranches.count())
    expect(tranches.first).to_contain_text("400")
    journey.step("accepted-tranches")

    # Evidence for the open-weights milestone: sent empty first, then with the model's page.
    page.locator("main a[href*='/milestones/'][href$='/evidence/']").first.click()
    journey.step("evidence-form")
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator(".error-summary")).to_be_focused()
    journey.step("evidence-error")
    page.locator("#id_evidence_url").fill(MODEL_URL)
    page.locator("main form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(re.escape(status_url) + "#milestone-\\d+$"))
    milestone = grant.milestones.get(kind="open_weights")
    assert model_api.requests, "the checker read the model's page"
    assert milestone.state == "verified", (milestone.state, milestone.reason_en)
    tranche = milestone.tranche
    assert tranche.released_at is not None  # verified evidence releases its tranche
    with translation.override(language):
        verified, released = milestone.get_state_display(), tranche.get_state_display()
    shown = page.locator(f"#milestone-{milestone.pk}")
    expect(shown).to_contain_text(MODEL_URL)
    expect(shown).to_contain_text(verified)
    expect(tranches.nth(tranche.number - 1)).to_contain_text(released)
    journey.step("evidence-verified")

    # The grant letter, issued when the grant was accepted.
    letter = _download(page, "main a[href*='/letters/download/']", tmp_path)
    assert letter.read_bytes().startswith(b"%PDF")
    text = pdf_text(letter)
    assert application.reference in text
