"""The founder's private status page: signed links, tampering, expiry, withdrawal, resend."""

import datetime as dt

import pytest
from django.core import mail, signing
from django.test import override_settings
from django.utils import timezone

from applications.models import Application
from applications.services import STATUS_LINK_SALT, status_link_for, status_token_make
from core.models import AuditEvent
from tests.factories import ApplicationFactory, CommitmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(open_round):
    application = ApplicationFactory(round=open_round, language="en", email="zhang.wei@example.cn")
    CommitmentFactory(application=application)
    return application


def test_the_signed_link_opens_the_status_page_with_the_timeline(client, application):
    response = client.get(status_link_for(application))
    assert response.status_code == 200
    page = response.content.decode()
    assert application.reference in page
    assert "Application received." in page
    assert "Eligible" in page
    assert "Open-source model weights by" in page
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]
    assert application.uscc not in page  # minimal personal data
    assert application.mobile not in page


def test_a_tampered_link_is_refused(client, application):
    token = status_token_make(application)
    other = ApplicationFactory(round=application.round)
    forged = signing.dumps({"ref": other.reference}, salt="another-purpose", compress=True)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in [tampered, forged, "not-a-token"]:
        response = client.get(f"/en/status/{bad}/")
        assert response.status_code == 404
        assert other.reference not in response.content.decode()
        assert "This link has expired or is not valid" in response.content.decode()


def test_a_token_signed_for_another_purpose_is_refused(client, application):
    token = signing.dumps({"ref": application.reference}, salt="suanli.other", compress=True)
    assert client.get(f"/en/status/{token}/").status_code == 404
    good = signing.dumps({"ref": application.reference}, salt=STATUS_LINK_SALT, compress=True)
    assert client.get(f"/en/status/{good}/").status_code == 200


@override_settings(STATUS_LINK_MAX_AGE_DAYS=1)
def test_an_expired_link_is_refused_and_offers_a_new_one(client, application):
    token = status_token_make(application)
    assert client.get(f"/en/status/{token}/").status_code == 200
    from unittest import mock

    later = timezone.now().timestamp() + 2 * 86400
    with mock.patch("time.time", return_value=later):
        response = client.get(f"/en/status/{token}/")
    assert response.status_code == 404
    assert "/en/status/resend/" in response.content.decode()


def test_withdraw_asks_for_confirmation_then_withdraws_on_post(client, application):
    path = status_link_for(application)
    confirm = client.get(path + "withdraw/")
    assert confirm.status_code == 200
    assert "Are you sure you want to withdraw" in confirm.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.ELIGIBLE  # GET changes nothing
    response = client.post(path + "withdraw/", follow=True)
    assert "Your application has been withdrawn." in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN
    assert application.withdrawn_at is not None
    assert AuditEvent.objects.filter(action="application.withdrawn").count() == 1
    assert "You withdrew the application." in response.content.decode()
    assert "/withdraw/" not in response.content.decode()  # no second withdrawal offered


def test_no_withdrawal_after_the_round_closes(client, application):
    path = status_link_for(application)
    application.round.closes_at = timezone.now() - dt.timedelta(minutes=1)
    application.round.opens_at = timezone.now() - dt.timedelta(days=10)
    application.round.save()
    assert "/withdraw/" not in client.get(path).content.decode()
    response = client.post(path + "withdraw/", follow=True)
    assert "can no longer be withdrawn" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.ELIGIBLE


def test_resend_link_gives_the_same_answer_whether_or_not_it_matched(
    client, application, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        matched = client.post(
            "/en/status/resend/",
            {"reference": application.reference.lower(), "email": "ZHANG.WEI@example.cn"},
            follow=True,
        )
        unmatched = client.post(
            "/en/status/resend/",
            {"reference": application.reference, "email": "someone@example.cn"},
            follow=True,
        )
    assert matched.redirect_chain == unmatched.redirect_chain
    assert matched.status_code == unmatched.status_code == 200
    assert "Check your email" in unmatched.content.decode()
    assert [m.to for m in mail.outbox] == [["zhang.wei@example.cn"]]
    assert "/en/status/" in mail.outbox[0].body


def test_resend_accepts_the_reference_without_dashes(
    client, application, django_capture_on_commit_callbacks
):
    compact = application.reference.replace("-", "")
    if len(compact) != 16:
        application.reference = "WU26-7KQ3-M9XP-2B4D"
        application.save()
        compact = "wu26 7kq3 m9xp 2b4d"
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/en/status/resend/", {"reference": compact, "email": application.email})
    assert len(mail.outbox) == 1


def test_resend_form_errors_use_the_summary(client, db):
    response = client.post("/zh-hans/status/resend/", {"reference": "", "email": "x"})
    page = response.content.decode()
    assert "<title>错误：" in page
    assert 'href="#id_reference"' in page and 'href="#id_email"' in page


@override_settings(APPLICATION_RATE_LIMIT_PER_HOUR=2)
def test_resend_is_rate_limited(client, application):
    for _ in range(2):
        client.post("/en/status/resend/", {"reference": "X", "email": "a@example.cn"})
    response = client.post("/en/status/resend/", {"reference": "X", "email": "a@example.cn"})
    assert response.status_code == 429


def test_the_status_page_shows_a_staff_decision_and_its_reason(client, open_round):
    from django.contrib.auth.models import User

    from applications.services import application_decide

    application = ApplicationFactory(round=open_round, status="needs_review", language="zh-hans")
    reviewer = User.objects.create_user("reviewer-x", is_staff=True)
    application_decide(
        application=application,
        status="ineligible",
        reason="营业执照显示员工 60 人。",
        actor=reviewer,
    )
    page = client.get(status_link_for(application)).content.decode()
    assert "工作人员认定该申请不符合条件。" in page
    assert "营业执照显示员工 60 人。" in page
    assert "年" in page and "月" in page  # dates like 2026年12月1日
