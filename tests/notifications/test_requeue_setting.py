"""How long a message may stay pending before the sweep queues it again is a setting, so an
operator (and the Redis outage drill) can shorten the wait after a broker outage."""

from datetime import timedelta

from django.core import mail
from django.test import override_settings
from django.utils import timezone

from notifications import tasks
from notifications.models import Notification
from notifications.services import notification_send, notifications_requeue_stale
from tests.factories import ApplicationFactory


@override_settings(NOTIFICATIONS_STALE_SECONDS=30)
def test_the_sweep_requeues_messages_pending_longer_than_the_setting(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    application = ApplicationFactory()

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.notification_deliver_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        notification = notification_send(
            kind="application_received",
            to_email=application.email,
            language="en",
            context={"application": application, "status_url": "/en/status/abc/"},
            related=application,
        )
    monkeypatch.undo()
    Notification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - timedelta(seconds=20)
    )
    assert notifications_requeue_stale() == 0
    Notification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - timedelta(seconds=31)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_requeue_stale() == 1
    notification.refresh_from_db()
    assert notification.state == Notification.State.SENT
    assert len(mail.outbox) == 1
