import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Notification

logger = logging.getLogger(__name__)


def notification_render(*, kind: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """Subject and body of a message kind in one language, from its two templates."""
    with translation.override(language):
        full_context = {"site_url": settings.SITE_URL, "language": language, **context}
        subject = render_to_string(f"notifications/{kind}.subject.txt", full_context)
        body = render_to_string(f"notifications/{kind}.body.txt", full_context)
    return " ".join(subject.split()), body.strip() + "\n"


def notification_send(
    *,
    kind: str,
    to_email: str,
    language: str,
    context: dict[str, Any],
    related: models.Model | None = None,
) -> Notification:
    """Record a message and send it after the surrounding transaction commits.

    Rendering happens now, so a template error fails the change that caused it instead of a
    message silently never going out."""
    subject, body = notification_render(kind=kind, language=language, context=context)
    notification = Notification.objects.create(
        kind=kind,
        to_email=to_email,
        language=language,
        subject=subject,
        body=body,
        related_type=related._meta.label_lower if related is not None else "",
        related_id=str(related.pk) if related is not None else "",
    )
    from .tasks import notification_deliver_task

    notification_id = notification.pk
    transaction.on_commit(lambda: notification_deliver_task.delay(notification_id))
    return notification


def notification_deliver(*, notification_id: int) -> bool:
    """Send one pending message. Returns False if it was already sent (idempotent)."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(pk=notification_id)
        if notification.state == Notification.State.SENT:
            return False
        notification.attempts += 1
        try:
            send_mail(
                notification.subject,
                notification.body,
                settings.DEFAULT_FROM_EMAIL,
                [notification.to_email],
            )
        except Exception as error:  # any mail failure is recorded and retried, never lost
            notification.state = Notification.State.FAILED
            notification.last_error = f"{type(error).__name__}: {error}"[:2000]
            notification.save(update_fields=["state", "attempts", "last_error"])
            logger.warning(
                "notification %s to %s failed: %s", notification.pk, notification.to_email, error
            )
            raise
        notification.state = Notification.State.SENT
        notification.sent_at = timezone.now()
        notification.last_error = ""
        notification.save(update_fields=["state", "attempts", "last_error", "sent_at"])
    return True


def notification_resend(*, notification: Notification) -> None:
    """Staff resend: the same message again, as a new delivery of the same record."""
    Notification.objects.filter(pk=notification.pk).update(state=Notification.State.PENDING)
    from .tasks import notification_deliver_task

    transaction.on_commit(lambda: notification_deliver_task.delay(notification.pk))
