"""Messages are recorded, sent once after commit by the task, and their failures kept for staff."""

import socket

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings

from core.models import AuditEvent
from notifications.models import Notification
from notifications.services import (
    NotificationContextMissing,
    notification_deliver,
    notification_resend,
    notification_send,
)
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def _send(application, language="zh-hans"):
    return notification_send(
        kind="application_received",
        to_email=application.email,
        language=language,
        context={"application": application, "status_url": "/zh-hans/status/abc/"},
        related=application,
    )


def _closed_port() -> int:
    """A loopback port nobody listens on: a real SMTP connection to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_message_is_sent_by_the_task_only_after_the_transaction_commits(
    django_capture_on_commit_callbacks,
):
    application = ApplicationFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = _send(application)
        assert mail.outbox == []
        assert Notification.objects.get(pk=notification.pk).state == "pending"
    assert len(callbacks) == 1
    notification.refresh_from_db()
    assert notification.state == "sent"
    assert notification.attempts == 1
    assert notification.sent_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [application.email]
    assert mail.outbox[0].subject == notification.subject
    assert application.reference in mail.outbox[0].subject
    assert notification.related_type == "applications.application"
    assert notification.related_id == str(application.pk)


def test_a_rolled_back_change_sends_and_records_nothing(django_capture_on_commit_callbacks):
    application = ApplicationFactory()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _send(application)
        raise RuntimeError("the change failed")
    assert callbacks == []
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_message_is_rendered_in_the_recipients_language():
    application = ApplicationFactory(founder_name="Ada Chen", language="en")
    english = _send(application, language="en")
    chinese = _send(application, language="zh-hans")
    assert english.subject.startswith("Application received")
    assert "Dear Ada Chen" in english.body
    assert chinese.subject.startswith("已收到申请")
    assert "Ada Chen，您好" in chinese.body
    # An unknown language falls back to the portal's default (Chinese), never to an error.
    assert _send(application, language="fr").language == "zh-hans"


def test_delivering_twice_sends_one_message(django_capture_on_commit_callbacks):
    application = ApplicationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        notification = _send(application)
    assert len(mail.outbox) == 1
    # A task delivered twice (a retry after a lost acknowledgement) sends nothing more.
    assert notification_deliver(notification_id=notification.pk) is False
    assert len(mail.outbox) == 1
    assert Notification.objects.get(pk=notification.pk).attempts == 1


def test_a_failed_delivery_is_recorded_and_staff_can_resend_it(django_capture_on_commit_callbacks):
    application = ApplicationFactory()
    with django_capture_on_commit_callbacks(execute=False):
        notification = _send(application)
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=_closed_port(),
            EMAIL_TIMEOUT=5,
        ),
        pytest.raises(ConnectionRefusedError),
    ):
        notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.state == "failed"
    assert notification.attempts == 1
    assert "ConnectionRefusedError" in notification.last_error
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification=notification, actor=None)
    notification.refresh_from_db()
    assert notification.state == "sent"
    assert notification.attempts == 2
    assert notification.last_error == ""
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(
        action="notification.resent", target_id=str(notification.pk)
    ).exists()


def test_a_sender_that_leaves_out_a_needed_name_fails_at_once():
    application = ApplicationFactory()
    with pytest.raises(NotificationContextMissing, match="status_url"):
        notification_send(
            kind="application_received",
            to_email=application.email,
            language="en",
            context={"application": application},
        )
    assert not Notification.objects.exists()


def test_staff_see_the_log_and_resend_from_admin(admin_client, django_capture_on_commit_callbacks):
    application = ApplicationFactory()
    with django_capture_on_commit_callbacks(execute=False):
        notification = _send(application)
    Notification.objects.filter(pk=notification.pk).update(state="failed", last_error="boom")
    listing = admin_client.get("/en/admin/notifications/notification/?state__exact=failed")
    assert listing.status_code == 200
    assert application.email in listing.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/en/admin/notifications/notification/",
            {"action": "resend", "_selected_action": [notification.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert "1 message queued again." in response.content.decode()
    notification.refresh_from_db()
    assert notification.state == "sent"
    assert len(mail.outbox) == 1


def test_a_message_whose_enqueue_was_lost_at_commit_is_sent_by_the_sweep_once(
    django_capture_on_commit_callbacks, monkeypatch
):
    """A broker outage at commit time leaves the message pending, never an error for the
    founder; the periodic sweep queues it again and it is sent exactly once."""
    from datetime import timedelta

    from django.utils import timezone

    from notifications import tasks
    from notifications.services import notifications_requeue_stale

    application = ApplicationFactory()

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.notification_deliver_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        notification = _send(application)
    notification.refresh_from_db()
    assert notification.state == Notification.State.PENDING
    assert mail.outbox == []

    monkeypatch.undo()
    assert notifications_requeue_stale() == 0  # too recent: its first task may still be queued
    Notification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - timedelta(minutes=11)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_requeue_stale() == 1
    notification.refresh_from_db()
    assert notification.state == Notification.State.SENT
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_requeue_stale() == 0
    assert len(mail.outbox) == 1
