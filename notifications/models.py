from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One message to one person, rendered in their language, with its delivery state."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=60, db_index=True)
    to_email = models.EmailField(_("recipient"))
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    related_type = models.CharField(_("related type"), max_length=100, blank=True)
    related_id = models.CharField(_("related id"), max_length=64, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["related_type", "related_id"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to_email}"
