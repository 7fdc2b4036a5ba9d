"""The e-mails of the application: in the founder's language, with the signed status link."""

import re

import pytest
from django.core import mail
from django.test import Client

from applications.services import application_decide, status_token_read
from tests.factories import ApplicationFactory

from .conftest import answers

pytestmark = pytest.mark.django_db


def _apply(language, django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/{language}/apply/", answers())
        client.post(f"/{language}/apply/check/")
    assert len(mail.outbox) == 1
    return mail.outbox[0]


def test_the_chinese_receipt_email_has_chinese_dates_and_a_working_link(
    open_round, django_capture_on_commit_callbacks
):
    message = _apply("zh-hans", django_capture_on_commit_callbacks)
    assert message.subject.startswith("已收到申请：")
    assert re.search(r"本轮于 \d{4}年\d{1,2}月\d{1,2}日 截止", message.body)
    assert "suanli@wuhan.example.cn" in message.body
    path = re.search(r"https?://[^/\s]+(/zh-hans/status/[^\s/]+/)", message.body).group(1)
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert status_token_read(token) is not None
    assert Client().get(path).status_code == 200


def test_the_english_receipt_email_is_in_english(open_round, django_capture_on_commit_callbacks):
    message = _apply("en", django_capture_on_commit_callbacks)
    assert message.subject.startswith("Application received: ")
    assert "The round closes on" in message.body
    assert not re.search(
        r"[\u4e00-\u9fff]", message.body.replace("武汉深度求知科技有限公司", "").replace("张伟", "")
    )
    assert "/en/status/" in message.body


def test_the_decision_email_gives_the_reason(open_round, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import User

    application = ApplicationFactory(round=open_round, status="needs_review", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        application_decide(
            application=application,
            status="eligible",
            reason="Headcount checked against the social insurance record.",
            actor=User.objects.create_user("r", is_staff=True),
        )
    (message,) = mail.outbox
    assert application.reference in message.subject
    assert "Decision: Eligible." in message.body
    assert "Headcount checked against the social insurance record." in message.body
