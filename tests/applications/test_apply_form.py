"""The one-page application as a founder uses it: errors, check your answers, confirmation."""

import re

import pytest
from django.core import mail
from django.test import override_settings

from applications.models import Application, Commitment

from .conftest import OTHER_VALID_USCC, VALID_USCC, answers

pytestmark = pytest.mark.django_db


def _send(client, language="en", **overrides):
    """Fill the form, continue, and accept on the check page; return the final response."""
    response = client.post(f"/{language}/apply/", answers(**overrides))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"].endswith("/apply/check/")
    return client.post(f"/{language}/apply/check/", follow=True)


def test_a_founder_applies_in_one_page_and_gets_a_reference_and_an_email(
    client, open_round, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _send(
            client, center_2="qingyang-dc", commit_paper="on", commit_paper_date="2027年3月1日"
        )
    assert response.status_code == 200
    application = Application.objects.get()
    page = response.content.decode()
    assert application.reference in page
    assert application.status == Application.Status.ELIGIBLE
    assert application.mobile == "+8613800138000"
    assert application.uscc == VALID_USCC
    assert [p.center.code for p in application.center_preferences.all()] == [
        "wuhan-ai",
        "qingyang-dc",
    ]
    assert {c.kind for c in application.commitments.all()} == {"open_weights", "paper"}
    assert application.language == "en"
    assert response["Referrer-Policy"] == "same-origin"
    assert "What happens next" in page and "suanli@wuhan.example.cn" in page
    assert re.fullmatch(r"[A-Z0-9-]{1,32}", application.reference)
    assert len(mail.outbox) == 1
    assert application.reference in mail.outbox[0].subject
    assert "/en/status/" in mail.outbox[0].body


def test_check_your_answers_lists_every_answer_with_change_links(client, open_round):
    client.post("/en/apply/", answers(website="example.cn"))
    page = client.get("/en/apply/check/").content.decode()
    for value in [
        "武汉深度求知科技有限公司",
        VALID_USCC,
        "+8613800138000",
        "https://example.cn",
        "Wuhan 2026 round 2",
    ]:
        assert value in page
    assert 'href="/en/apply/#id_uscc"' in page
    assert 'href="/en/apply/#id_round_0"' in page
    # Change takes the founder back to the form with the answers kept.
    form_page = client.get("/en/apply/").content.decode()
    assert f'value="{VALID_USCC}"' in form_page
    assert 'value="武汉深度求知科技有限公司"' in form_page
    assert Application.objects.count() == 0


def test_errors_keep_values_link_the_summary_to_fields_and_prefix_the_title(client, open_round):
    response = client.post(
        "/en/apply/",
        answers(uscc="91230184MA1BUFLT45", email="not-an-email", company_legal_name="  "),
    )
    assert response.status_code == 400  # refused answers: the page, with a 4xx for software
    page = response.content.decode()
    assert "<title>Error: Apply for subsidised compute" in page
    summary = page[
        page.index('class="error-summary"') : page.index(
            "</div>", page.index('class="error-summary"')
        )
    ]
    assert (
        "autofocus"
        in page[page.index('<div class="error-summary"') - 5 : page.index("data-error-summary")]
    )
    assert 'href="#id_uscc"' in summary and 'href="#id_email"' in summary
    assert 'href="#id_company_legal_name"' in summary
    assert 'id="id_uscc-error"' in page
    assert 'aria-describedby="id_uscc-hint id_uscc-error"' in page
    assert 'value="91230184MA1BUFLT45"' in page  # kept as typed, to be corrected
    assert 'value="not-an-email"' in page
    assert "novalidate" in page
    assert Application.objects.count() == 0


def test_chinese_error_title_prefix_and_messages(client, open_round):
    page = client.post("/zh-hans/apply/", answers(uscc="9123018")).content.decode()
    assert "<title>错误：" in page
    assert "统一社会信用代码应为 18 位" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"uscc": "91230184MA1BUFLT4"}, "uscc", "must be 18 characters; you entered 17"),
        ({"uscc": "91230184MA1BUFLT4O"}, "uscc", "never contains “O”"),
        ({"uscc": "91230184MA1BUFLT45"}, "uscc", "does not match"),
        ({"mobile": "12345"}, "mobile", "Enter a mobile number"),
        ({"gpu_hours_requested": "99"}, "gpu_hours_requested", "between 100 and 5,000"),
        ({"gpu_hours_requested": "5001"}, "gpu_hours_requested", "between 100 and 5,000"),
        ({"purpose": "x" * 1001}, "purpose", "1,000 characters or fewer"),
        ({"commit_open_weights": None}, "commit_open_weights", "at least one outcome"),
        ({"commit_open_weights_date": ""}, "commit_open_weights_date", "Enter a target date"),
        ({"commit_open_weights_date": "2020-01-01"}, "commit_open_weights_date", "in the future"),
        ({"founded_on": "2099-01-01"}, "founded_on", "today or in the past"),
        ({"founded_on": "March"}, "founded_on", "year-month-day"),
        ({"employees": "0"}, "employees", "at least 1"),
        ({"consent_terms": None}, "consent_terms", "accept the terms"),
        ({"round": "no-such-round"}, "round_0", "open for applications"),
        ({"center_1": ""}, "center_1", "first choice"),
        ({"center_2": "wuhan-ai"}, "center_2", "different center"),
        ({"center_3": "qingyang-dc"}, "center_2", "second choice before a third"),
    ],
)
def test_each_rule_has_a_message_that_says_how_to_fix_it(
    client, open_round, overrides, field, message
):
    response = client.post("/en/apply/", answers(**overrides))
    assert response.status_code == 400
    page = response.content.decode()
    assert f'href="#id_{field}"' in page
    assert message in page.replace("&quot;", '"').replace("&#x27;", "'")
    assert Application.objects.count() == 0


def test_forgiving_input_full_width_and_spaces(client, open_round):
    _send(
        client,
        uscc="９１２３０１８４ ＭＡ１Ｂ－ＵＦＬＴ４４",
        mobile="+86 138-0013-8000",
        email="ＺＨＡＮＧ＠example.cn",
        gpu_hours_requested="1,000",
        employees="１２",
    )
    application = Application.objects.get()
    assert application.uscc == VALID_USCC
    assert application.mobile == "+8613800138000"
    assert application.email == "ZHANG@example.cn"
    assert application.gpu_hours_requested == 1000
    assert application.employees == 12


def test_only_open_rounds_are_offered(client, open_round):
    import datetime as dt

    from django.utils import timezone

    from tests.factories import RoundFactory

    closed = RoundFactory(
        code="closed-round",
        opens_at=timezone.now() - dt.timedelta(days=30),
        closes_at=timezone.now() - dt.timedelta(days=1),
    )
    page = client.get("/en/apply/").content.decode()
    assert 'value="wuhan-2026-r2"' in page
    assert 'value="closed-round"' not in page
    response = client.post("/en/apply/", answers(round=closed.code))
    assert "This round has closed. Select a round that is open" in response.content.decode()
    response = client.post("/en/apply/", answers(round="no-such-round"))
    assert "Select a round that is open for applications" in response.content.decode()


def test_a_second_application_for_the_same_company_and_round_is_refused_with_an_offer(
    client, open_round, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _send(client)
    first = Application.objects.get()
    mail.outbox.clear()
    other = client.__class__()
    response = other.post(
        "/en/apply/", answers(email="someone.else@example.cn", uscc=" 91230184-ma1b-uflt44")
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "already applied to this round" in page
    assert "z•••@example.cn" in page  # the address on file, masked
    with django_capture_on_commit_callbacks(execute=True):
        sent = other.post("/en/apply/already-applied/")
    assert sent.status_code == 302
    assert Application.objects.count() == 1
    assert [m.to for m in mail.outbox] == [["zhang.wei@example.cn"]]  # never the new address
    assert first.reference in mail.outbox[0].body


def test_the_same_company_may_apply_to_another_round(client, open_round):
    from tests.factories import RoundFactory

    RoundFactory(code="qingyang-2026-r1")
    _send(client)
    _send(client, round_code="qingyang-2026-r1")
    assert Application.objects.count() == 2


def test_honeypot_filled_saves_nothing(client, open_round):
    response = client.post("/en/apply/", answers(company_fax="+86 27 1234 5678"))
    assert response.status_code == 400
    assert client.get("/en/apply/check/").status_code == 302  # nothing waiting to be sent
    assert Application.objects.count() == 0


@override_settings(APPLICATION_RATE_LIMIT_PER_HOUR=2)
def test_rate_limit_answers_429_with_a_clear_page(client, open_round):
    _send(client)
    _send(client, uscc=OTHER_VALID_USCC)
    client.post("/en/apply/", answers(uscc="91420100MA4KXXXX0X"))
    from applications.uscc import make_valid

    client.post("/en/apply/", answers(uscc=make_valid("91420100MA4K12345")))
    response = client.post("/en/apply/check/")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert Application.objects.count() == 2


def test_the_confirmation_page_is_a_bookmark_and_offers_a_pdf_receipt(client, open_round):
    response = _send(client)
    confirmation_url = response.redirect_chain[-1][0]
    application = Application.objects.get()
    again = client.__class__().get(confirmation_url)
    assert again.status_code == 200 and application.reference in again.content.decode()
    receipt = again.content.decode()
    pdf_url = re.search(r'href="([^"]+receipt\.pdf)"', receipt).group(1)
    pdf = client.get(pdf_url)
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    from io import BytesIO

    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf.content)).pages)
    assert application.reference in text
    assert "申请回执" in text


def test_the_form_works_with_no_round_open(client, db):
    page = client.get("/en/apply/").content.decode()
    assert "No round is open at the moment" in page


def test_commitments_are_stored_with_their_dates(client, open_round):
    _send(client, commit_product_launch="on", commit_product_launch_date="2027/1/15")
    kinds = dict(Commitment.objects.values_list("kind", "target_date"))
    assert str(kinds["product_launch"]) == "2027-01-15"


def test_line_breaks_count_as_one_character_as_the_founder_sees_them(client, open_round):
    purpose = "\r\n".join(["x" * 99] * 10)  # 999 characters on screen, 1,017 bytes sent
    _send(client, purpose=purpose)
    assert Application.objects.get().purpose == purpose.replace("\r\n", "\n")


def test_the_receipt_is_rendered_once_and_served_again_from_the_cache(client, open_round):
    from unittest import mock

    import letters.rendering

    response = _send(client)
    receipt = response.redirect_chain[-1][0] + "receipt.pdf"
    with mock.patch.object(
        letters.rendering, "render_pdf", wraps=letters.rendering.render_pdf
    ) as spy:
        first = client.get(receipt)
        second = client.get(receipt)
    assert first.content == second.content
    assert spy.call_count == 1
