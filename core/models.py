from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One state change that matters (eligibility, draw, grant, tranche, webhook): who, when, what.

    Append-only: nothing in the portal updates or deletes these rows."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,  # an audited user is deactivated, never deleted
        related_name="audit_events",
        help_text=_("Empty when the portal itself acted (a worker, the founder, a center)."),
    )
    actor_label = models.CharField(
        _("actor label"), max_length=150, blank=True, help_text=_("e.g. founder, worker")
    )
    action = models.CharField(_("action"), max_length=80, db_index=True)
    target_type = models.CharField(_("target type"), max_length=100)
    target_id = models.CharField(_("target id"), max_length=64)
    target_label = models.CharField(_("target"), max_length=200, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        who = self.actor or self.actor_label or "system"
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.target_label}"
