"""Outcome milestones of a grant, and every evidence check made on them (for audit)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.history import history_kept


class Milestone(models.Model):
    """One outcome the founder committed to, tied to the tranche it releases.

    States: ``pending`` (no evidence yet), ``submitted`` (evidence waiting for its check or
    for staff), ``verified`` (tranche released), ``rejected`` (the check failed; the founder
    may resubmit), ``overdue`` (date plus grace passed without verified evidence),
    ``waived`` (staff dropped the requirement and released the tranche) and ``forfeited``
    (staff took the remaining compute back; nothing more can happen).
    """

    class Kind(models.TextChoices):
        OPEN_WEIGHTS = "open_weights", _("Open-source model weights")
        OPEN_CODE = "open_code", _("Open-source code")
        PAPER = "paper", _("Paper or technical report")
        PRODUCT_LAUNCH = "product_launch", _("Product launch")
        USAGE_REPORT = "usage_report", _("Usage report")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for evidence")
        SUBMITTED = "submitted", _("Evidence submitted")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Evidence not accepted")
        OVERDUE = "overdue", _("Overdue")
        WAIVED = "waived", _("Waived")
        FORFEITED = "forfeited", _("Forfeited")

    # Evidence may be (re)submitted in these states.
    OPEN_STATES = ("pending", "submitted", "rejected", "overdue")
    # No further change happens in these.
    CLOSED_STATES = ("verified", "waived", "forfeited")

    grant = models.ForeignKey(
        "grants.Grant", verbose_name=_("grant"), on_delete=models.PROTECT, related_name="milestones"
    )
    tranche = models.OneToOneField(
        "grants.Tranche",
        verbose_name=_("tranche"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="milestone",
        help_text=_("The compute this milestone releases; empty for the usage report."),
    )
    commitment = models.ForeignKey(
        "applications.Commitment",
        verbose_name=_("commitment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="milestones",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    target_date = models.DateField(_("target date"))
    original_target_date = models.DateField(_("original target date"))
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.PENDING, db_index=True
    )

    evidence_url = models.URLField(_("evidence link"), max_length=2000, blank=True)
    evidence_note = models.TextField(_("note"), max_length=500, blank=True)
    evidence_submitted_at = models.DateTimeField(_("evidence submitted at"), null=True, blank=True)
    evidence_submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("evidence submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty when the founder submitted it on the status page."),
    )
    # Rises with every submission, so a check of older evidence is never applied to newer.
    evidence_revision = models.PositiveIntegerField(_("evidence revision"), default=0)

    # Automatic checks: when the next is due (in the database, not a Celery countdown).
    check_attempts = models.PositiveSmallIntegerField(_("check attempts"), default=0)
    next_check_at = models.DateTimeField(_("next check at"), null=True, blank=True, db_index=True)
    needs_review = models.BooleanField(
        _("needs staff review"),
        default=False,
        db_index=True,
        help_text=_("The automatic check could not decide; a person must."),
    )

    # Why it is rejected, waived, extended or forfeited (shown to the founder when rejected).
    reason_en = models.TextField(_("reason (English)"), blank=True)
    reason_zh = models.TextField(_("reason (Chinese)"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when decided by the automatic check."),
    )

    # Reminders: the smallest "days before" already reminded, so each is sent once.
    last_reminder_days = models.PositiveSmallIntegerField(
        _("last reminder (days before)"), null=True, blank=True
    )
    overdue_at = models.DateTimeField(_("overdue since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = history_kept()

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["grant", "target_date", "id"]
        permissions = [("decide_milestone", "Can verify, reject, waive, extend or forfeit")]
        constraints = [
            models.UniqueConstraint(fields=["grant", "kind"], name="milestone_kind_once_per_grant"),
            models.CheckConstraint(
                condition=Q(
                    state__in=[
                        "pending",
                        "submitted",
                        "verified",
                        "rejected",
                        "overdue",
                        "waived",
                        "forfeited",
                    ]
                ),
                name="milestone_state_known",
            ),
            models.CheckConstraint(
                condition=~Q(state="submitted") | ~Q(evidence_url=""),
                name="submitted_milestone_has_evidence",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["verified", "rejected", "waived", "forfeited"])
                | Q(decided_at__isnull=False),
                name="decided_milestone_has_time",
            ),
        ]
        indexes = [models.Index(fields=["state", "target_date"], name="milestone_due_idx")]

    def __str__(self) -> str:
        return f"G-{self.grant_id} {self.get_kind_display()} ({self.get_state_display()})"

    @property
    def accepts_evidence(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def reason(self) -> str:
        """The reason in the current language (the founder's page and e-mails)."""
        language = get_language() or ""
        if language.startswith("en"):
            return self.reason_en or self.reason_zh
        return self.reason_zh or self.reason_en


class EvidenceCheck(models.Model):
    """What one check of a milestone's evidence saw and decided: the audit trail for staff."""

    class Verdict(models.TextChoices):
        PASS = "pass", _("Pass")
        FAIL = "fail", _("Fail")
        UNCERTAIN = "uncertain", _("Uncertain")

    milestone = models.ForeignKey(
        Milestone, verbose_name=_("milestone"), on_delete=models.PROTECT, related_name="checks"
    )
    evidence_url = models.URLField(_("evidence link"), max_length=2000)
    evidence_revision = models.PositiveIntegerField(_("evidence revision"))
    checker = models.CharField(_("checker"), max_length=40)
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    verdict = models.CharField(_("verdict"), max_length=10, choices=Verdict.choices)
    transient = models.BooleanField(
        _("transient"),
        default=False,
        help_text=_("Worth retrying later (rate limit, timeout, outage)."),
    )
    reason_en = models.TextField(_("reason (English)"))
    reason_zh = models.TextField(_("reason (Chinese)"))
    observed = models.JSONField(
        _("observed"),
        default=dict,
        help_text=_("Requests made, statuses, and the fields the verdict used."),
    )
    applied = models.BooleanField(
        _("applied"),
        default=False,
        help_text=_("False when the milestone had moved on (newer evidence, decided by staff)."),
    )
    outcome = models.CharField(_("outcome"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("evidence check")
        verbose_name_plural = _("evidence checks")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["milestone", "-started_at"], name="evidence_check_recent")]

    def __str__(self) -> str:
        return f"{self.checker} {self.verdict} at {self.started_at:%Y-%m-%d %H:%M}"
