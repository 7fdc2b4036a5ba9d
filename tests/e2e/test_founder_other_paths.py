"""The founder's other paths in a real browser, in both languages (test_founder_journeys.py has
the main one): every field in error at once, a Change link on check your answers, withdrawing,
and "My application" resending a lost link; and the form sent with JavaScript switched off,
including a second application by the same company. Pages the journeys already check in the
same state are not checked again here (the suite's time is part of CI's)."""

import datetime as dt
import re
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from applications.models import Application
from tests.factories import CenterFactory, RoundFactory

from .conftest import NARROW, check_page
from .forms import ERROR_PREFIX, assert_error_summary, submit_main_form

pytestmark = pytest.mark.browser

USCC = "91230184MA1BUFLT44"
# What a founder typing with a Chinese input method may send: full-width letters and digits,
# spaces between the groups. The form turns it into the code above.
USCC_FULL_WIDTH = "９１２３０１８４　ＭＡ１Ｂ　ＵＦＬＴ４４"

COMPANY = {"zh-hans": "武汉深算智能科技有限公司", "en": "Wuhan Deep Compute Intelligence Co., Ltd."}


@pytest.fixture
def open_round(transactional_db):
    CenterFactory()
    CenterFactory(
        code="qingyang-dc",
        name_zh="庆阳数据中心",
        name_en="Qingyang Data Center",
        city_zh="庆阳",
        city_en="Qingyang",
    )
    return RoundFactory(title_zh="武汉第一轮", title_en="Wuhan round one")


def _fill_form(page: Page, *, language: str, uscc: str) -> None:
    target = (timezone.localdate() + dt.timedelta(days=180)).isoformat()
    page.fill("#id_company_legal_name", COMPANY[language])
    page.fill("#id_uscc", uscc)
    page.select_option("#id_registration_city", "wuhan")
    page.fill("#id_founded_on", "2024-03-15")
    page.fill("#id_employees", "12")
    page.check("#id_revenue_band_0")
    page.fill("#id_founder_name", "张伟" if language == "zh-hans" else "Zhang Wei")
    page.fill("#id_email", "zhang.wei@example.cn")
    page.fill("#id_mobile", "+86 138 0013 8000")
    page.check("#id_round_0")
    page.select_option("#id_center_1", "wuhan-ai")
    page.fill("#id_gpu_hours_requested", "1,000")
    page.fill("#id_purpose", "训练一个面向中文法律文书的小模型，并开放权重。")
    page.check("#id_commit_open_weights")
    page.fill("#id_commit_open_weights_date", target)
    page.check("#id_consent_terms")


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
    ("language", "uscc", "width"),
    [("zh-hans", USCC_FULL_WIDTH, NARROW), ("en", USCC, 1280)],
    ids=["zh-hans-320px", "en-desktop"],
)
def test_every_error_a_change_link_withdrawing_and_a_resent_link(
    new_page, open_round, language, uscc, width
):
    page = new_page(width=width)

    # The empty form, then sent empty.
    page.goto(f"/{language}/apply/")
    assert not page.title().startswith(ERROR_PREFIX[language])
    submit_main_form(page)
    assert_error_summary(page, language=language)
    check_page(page, language=language)

    # Filled in correctly.
    _fill_form(page, language=language, uscc=uscc)
    submit_main_form(page)
    expect(page).to_have_url(re.compile(rf"/{language}/apply/check/$"))
    main = page.locator("main")
    expect(main).to_contain_text(USCC)  # the full-width input came back as the plain code
    expect(main).to_contain_text("1,000")

    # One Change link: back to the form with every answer kept, change the hours, come back.
    page.locator("main a[href$='#id_gpu_hours_requested']").click()
    expect(page).to_have_url(re.compile(rf"/{language}/apply/#id_gpu_hours_requested$"))
    expect(page.locator("#id_company_legal_name")).to_have_value(COMPANY[language])
    page.fill("#id_gpu_hours_requested", "2500")
    submit_main_form(page)
    expect(page).to_have_url(re.compile(rf"/{language}/apply/check/$"))
    expect(main).to_contain_text("2,500")

    # Send it: the confirmation shows the reference.
    submit_main_form(page)
    expect(page).to_have_url(re.compile(rf"/{language}/apply/submitted/[^/]+/$"))
    application = Application.objects.get()
    assert application.uscc == USCC
    assert application.gpu_hours_requested == 2500
    assert application.language == language
    expect(page.locator("main .reference")).to_have_text(application.reference)

    # The status page, through the link in the e-mail.
    page.goto(_status_path_from_email(application.reference))
    expect(page.locator("main")).to_contain_text(application.reference)

    # Withdraw: a confirmation page, then a POST.
    page.locator(f"main a[href$='{urlparse(page.url).path}withdraw/']").click()
    check_page(page, language=language)
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/withdraw/")):
        submit_main_form(page)
    expect(page.locator(".notification-banner")).to_be_visible()
    check_page(page, language=language)
    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN

    # The link is lost: "My application" asks for the reference and e-mail and sends a new one.
    mail.outbox.clear()
    page.locator("header nav a[href$='/status/resend/']").click()
    check_page(page, language=language)
    submit_main_form(page)
    assert_error_summary(page, language=language, fields=2)
    check_page(page, language=language)
    # Typed without the dashes and in lower case: still found.
    page.fill("#id_reference", application.reference.replace("-", "").lower())
    page.fill("#id_email", "zhang.wei@example.cn")
    submit_main_form(page)
    expect(page).to_have_url(re.compile(rf"/{language}/status/resend/sent/$"))
    check_page(page, language=language)
    page.goto(_status_path_from_email(application.reference))
    expect(page.locator("main")).to_contain_text(application.reference)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_form_works_without_javascript(new_page, open_round, language):
    page = new_page(java_script=False, width=NARROW)
    page.goto(f"/{language}/apply/")
    submit_main_form(page)
    assert_error_summary(page, language=language)
    check_page(page, language=language)
    _fill_form(page, language=language, uscc=USCC)
    submit_main_form(page)
    expect(page).to_have_url(re.compile(rf"/{language}/apply/check/$"))
    submit_main_form(page)
    expect(page).to_have_url(re.compile(rf"/{language}/apply/submitted/[^/]+/$"))
    application = Application.objects.get()
    expect(page.locator("main .reference")).to_have_text(application.reference)
    assert application.language == language

    # Applying again for the same company: told so, and offered the link by e-mail instead.
    mail.outbox.clear()
    page.goto(f"/{language}/apply/")
    _fill_form(page, language=language, uscc=USCC)
    submit_main_form(page)
    check_page(page, language=language)
    submit_main_form(page)
    expect(page).to_have_url(re.compile(rf"/{language}/status/resend/sent/$"))
    assert _status_path_from_email(application.reference)
    assert Application.objects.count() == 1
