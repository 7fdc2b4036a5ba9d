"""With a real broker and worker: a message is delivered by the Celery task after commit."""

import pytest
from django.db import transaction

from notifications.models import Notification
from notifications.services import notification_send
from tests.conftest import wait_until
from tests.factories import ApplicationFactory

pytestmark = [pytest.mark.services]


def test_a_real_worker_delivers_the_message_after_commit(celery_worker_process):
    application = ApplicationFactory()
    with transaction.atomic():
        notification = notification_send(
            kind="application_received",
            to_email=application.email,
            language="zh-hans",
            context={"application": application, "status_url": "/zh-hans/status/x/"},
            related=application,
        )
        # Nothing is queued before the commit: the row is still pending.
        assert Notification.objects.get(pk=notification.pk).state == "pending"
    delivered = wait_until(
        lambda: Notification.objects.filter(pk=notification.pk, state="sent").first()
    )
    assert delivered.attempts == 1
    assert delivered.sent_at is not None
