"""Compute grants, their tranches, the transactional outbox of webhooks, and usage reports."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.history import history_kept

ZERO = Decimal("0")


class Grant(models.Model):
    """Compute at one center granted to one winning application.

    ``version`` rises by one with every change that a center must learn of; each change writes
    exactly one ``OutboxEvent`` carrying that version (docs/webhooks.md).
    """

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    LIVE_STATUSES = ("offered", "accepted", "active", "completed")
    ENDED_STATUSES = ("declined", "expired", "revoked")

    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    draw_entry = models.OneToOneField(
        "lottery.DrawEntry",
        verbose_name=_("draw entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grant",
    )
    center = models.ForeignKey(
        "centers.Center",
        verbose_name=_("computing center"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    gpu_type = models.ForeignKey(
        "centers.GpuType",
        verbose_name=_("GPU type"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    capacity = models.ForeignKey(
        "centers.CenterCapacity",
        verbose_name=_("capacity"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    unit = models.CharField(_("unit"), max_length=16, default="gpu_hours")
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OFFERED, db_index=True
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    billing_account = models.CharField(
        _("billing account"),
        max_length=120,
        blank=True,
        help_text=_("The center's account id for the recipient."),
    )
    valid_from = models.DateField(_("valid from"))
    expires_at = models.DateField(_("expires at"), help_text=_("Last day the compute may be used."))
    offer_expires_at = models.DateTimeField(
        _("offer expires at"),
        help_text=_("An offer not accepted by then expires and the seat goes to the waitlist."),
    )
    offered_at = models.DateTimeField(_("offered at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=300, blank=True)
    last_usage_at = models.DateTimeField(_("last usage at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = history_kept()

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        ordering = ["-offered_at", "-id"]
        permissions = [("allocate_grants", "Can allocate grants to winners")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="grant_amount_positive"),
            models.CheckConstraint(condition=Q(version__gte=1), name="grant_version_from_one"),
            models.CheckConstraint(
                condition=Q(expires_at__gte=F("valid_from")), name="grant_valid_dates_ordered"
            ),
            # One live grant per application; ended ones stay as history.
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(status__in=["offered", "accepted", "active", "completed"]),
                name="one_live_grant_per_application",
            ),
        ]

    def __str__(self) -> str:
        return f"G-{self.pk} {self.application.reference} @ {self.center.code}"

    @property
    def released(self) -> Decimal:
        total = self.tranches.filter(state=Tranche.State.RELEASED).aggregate(s=Sum("amount"))["s"]
        return total or ZERO

    @property
    def unreleased(self) -> Decimal:
        total = self.tranches.filter(state=Tranche.State.PENDING).aggregate(s=Sum("amount"))["s"]
        return total or ZERO

    @property
    def used(self) -> Decimal:
        total = self.usage_reports.aggregate(s=Sum("used"))["s"]
        return total or ZERO

    @property
    def is_open_offer(self) -> bool:
        return self.status == self.Status.OFFERED and self.offer_expires_at > timezone.now()


class Tranche(models.Model):
    class State(models.TextChoices):
        # "Pending" alone is also a delivery's and a message's state; a tranche is "to be released".
        PENDING = "pending", pgettext_lazy("tranche state", "Pending")
        RELEASED = "released", _("Released")
        FORFEITED = "forfeited", _("Forfeited")

    grant = models.ForeignKey(
        Grant, verbose_name=_("grant"), on_delete=models.CASCADE, related_name="tranches"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    commitment = models.ForeignKey(
        "applications.Commitment",
        verbose_name=_("commitment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tranches",
        help_text=_("Empty for the tranche released on acceptance."),
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    forfeited_at = models.DateTimeField(_("forfeited at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    history = history_kept()

    class Meta:
        verbose_name = _("tranche")
        verbose_name_plural = _("tranches")
        ordering = ["grant", "number"]
        constraints = [
            models.UniqueConstraint(fields=["grant", "number"], name="tranche_number_once"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="tranche_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(state="released", released_at__isnull=False) | ~Q(state="released"),
                name="released_tranche_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"G-{self.grant_id} #{self.number} {self.amount} {self.get_state_display()}"


class OutboxEvent(models.Model):
    """A webhook event, written in the same transaction as the change it announces.

    ``body`` is the exact JSON text sent; it never changes, so retries and resends of the
    same ``webhook_id`` are byte-identical (only timestamp and signature differ per attempt).
    """

    webhook_id = models.CharField(_("webhook-id"), max_length=64, unique=True)
    event_type = models.CharField(_("event type"), max_length=40, db_index=True)
    grant = models.ForeignKey(
        Grant,
        verbose_name=_("grant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    grant_version = models.PositiveIntegerField(_("grant version"), null=True, blank=True)
    body = models.TextField(_("body"))
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["grant", "grant_version"],
                condition=Q(grant__isnull=False),
                name="one_event_per_grant_version",
            ),
        ]

    def __str__(self) -> str:
        version = f" v{self.grant_version}" if self.grant_version else ""
        return f"{self.event_type}{version} ({self.webhook_id})"


class WebhookDelivery(models.Model):
    """One event to one endpoint: retried on the contract's schedule until a 2xx or failure.

    ``next_attempt_at`` is the database's record of when to try next (never a Celery countdown);
    a worker claims due rows with ``select_for_update(skip_locked=True)`` and leases them by
    moving ``next_attempt_at`` forward before it sends.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey(
        OutboxEvent, verbose_name=_("event"), on_delete=models.PROTECT, related_name="deliveries"
    )
    endpoint = models.ForeignKey(
        "centers.WebhookEndpoint",
        verbose_name=_("endpoint"),
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    # Copied from the event so the "earlier version still pending" check is one index lookup.
    grant = models.ForeignKey(
        Grant,
        verbose_name=_("grant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    grant_version = models.PositiveIntegerField(_("grant version"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(
        _("attempts"),
        default=0,
        help_text=_("Attempts in the current schedule (reset by a resend)."),
    )
    next_attempt_at = models.DateTimeField(
        _("next attempt at"), null=True, blank=True, db_index=True
    )
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last status code"), null=True, blank=True
    )
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="delivery_once_per_endpoint"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
            models.Index(fields=["endpoint", "grant", "grant_version"], name="delivery_order_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class DeliveryAttempt(models.Model):
    """Every HTTP attempt, kept for staff: status code, time, response excerpt."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("delivery"),
        on_delete=models.CASCADE,
        related_name="attempt_log",
    )
    number = models.PositiveSmallIntegerField(_("number"))
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    response_excerpt = models.CharField(_("response excerpt"), max_length=500, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error} at {self.started_at:%H:%M:%S}"


class UsageReport(models.Model):
    """Consumption a center reports against a grant; ``report_id`` makes the report idempotent."""

    center = models.ForeignKey(
        "centers.Center",
        verbose_name=_("computing center"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    grant = models.ForeignKey(
        Grant, verbose_name=_("grant"), on_delete=models.PROTECT, related_name="usage_reports"
    )
    report_id = models.CharField(_("report id"), max_length=100)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    used = models.DecimalField(_("used"), max_digits=16, decimal_places=2)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("usage report")
        verbose_name_plural = _("usage reports")
        ordering = ["-period_end", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["center", "report_id"], name="usage_report_once"),
            models.CheckConstraint(condition=Q(used__gte=0), name="usage_not_negative"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="usage_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.used} for G-{self.grant_id}"
