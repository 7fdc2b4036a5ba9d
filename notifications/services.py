"""The one way the portal sends a message: render now, record, deliver after commit.

Every app calls ``notification_send``; the kinds and the context each needs are listed in
``notifications.registry``. Delivery is a Celery task that calls ``notification_deliver``; its
outcome (sent / failed, attempts, last error) is kept on the ``Notification`` row, which staff
see in admin and can resend.
"""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from core.services import audit_record

from .models import Notification
from .registry import KINDS, template_names

logger = logging.getLogger(__name__)


class NotificationContextMissing(ValueError):
    """A sender left out a name the kind's templates need (see notifications.registry)."""


def notification_language(language: str | None) -> str:
    """One of the portal's languages: a recipient with an unknown one gets the default."""
    codes = [code for code, _name in settings.LANGUAGES]
    if language in codes:
        return language
    if language and language.lower().startswith("zh"):
        return "zh-hans"
    if language and language.lower().startswith("en"):
        return "en"
    return settings.LANGUAGE_CODE


def notification_render(*, kind: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """Subject and body of a message kind in one language, from its two templates."""
    registered = KINDS.get(kind)
    if registered is None:
        # Still rendered (a template must exist), but the registry is where kinds are listed.
        logger.warning("notification kind %r is not in notifications.registry", kind)
    else:
        missing = [name for name in registered.context if name not in context]
        if missing:
            raise NotificationContextMissing(f"{kind} needs {', '.join(missing)} in its context")
    language = notification_language(language)
    subject_template, body_template = template_names(kind)
    with translation.override(language):
        full_context = {"site_url": settings.SITE_URL, "language": language, **context}
        subject = render_to_string(subject_template, full_context)
        body = render_to_string(body_template, full_context)
    return " ".join(subject.split())[:300], body.strip() + "\n"


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
    message silently never going out; a rolled-back change sends nothing."""
    language = notification_language(language)
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
    _enqueue(notification.pk)
    return notification


def _enqueue(notification_id: int) -> None:
    from .tasks import notification_deliver_task

    # robust: a broker outage must not turn the founder's committed action into an error page;
    # the message stays pending in the database and staff can resend it from admin.
    transaction.on_commit(lambda: notification_deliver_task.delay(notification_id), robust=True)


def notification_deliver(*, notification_id: int) -> bool:
    """Send one pending message. Returns False if it was already sent (idempotent).

    A failure is recorded (state failed, attempts, error) and re-raised so the task's retry
    policy tries again; the row keeps the latest error for staff."""
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
            failure = error
        else:
            notification.state = Notification.State.SENT
            notification.sent_at = timezone.now()
            notification.last_error = ""
            notification.save(update_fields=["state", "attempts", "last_error", "sent_at"])
            return True
    # Raised outside the atomic block so the failed state and the error are committed.
    raise failure


def notification_resend(
    *, notification: Notification, actor: AbstractBaseUser | None = None
) -> Notification:
    """Staff resend: the same recorded message again (same subject and body), as a new
    delivery of the same row; the attempt count keeps growing so the log shows every try."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(pk=notification.pk)
        notification.state = Notification.State.PENDING
        notification.sent_at = None
        notification.save(update_fields=["state", "sent_at"])
        audit_record(
            actor=actor,
            action="notification.resent",
            target=notification,
            detail={"kind": notification.kind, "attempts_before": notification.attempts},
        )
        _enqueue(notification.pk)
    return notification


def notifications_requeue_stale(*, older_than_seconds: int | None = None) -> int:
    """Queue again the messages still pending long after they were written (by default
    NOTIFICATIONS_STALE_SECONDS): their first enqueue was lost (a broker outage at commit time).
    Sending is idempotent, so a message whose first task is merely slow is still sent once."""
    if older_than_seconds is None:
        older_than_seconds = settings.NOTIFICATIONS_STALE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = list(
        Notification.objects.filter(
            state=Notification.State.PENDING, created_at__lt=cutoff
        ).values_list("pk", flat=True)[:500]
    )
    for notification_id in stale:
        _enqueue(notification_id)
    return len(stale)
