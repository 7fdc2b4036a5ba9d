"""Reminders before the date, overdue after the grace period, extension and forfeit."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.utils import timezone

from centers.models import CapacityEntry
from core.models import AuditEvent
from grants.models import OutboxEvent, WebhookDelivery
from milestones import services
from milestones.models import Milestone
from milestones.tasks import milestones_mark_overdue, milestones_remind
from notifications.models import Notification

from .factories import accepted_grant

pytestmark = pytest.mark.django_db


def sent(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind).order_by("pk"))


def test_reminders_go_once_per_step_before_the_date(settings, django_capture_on_commit_callbacks):
    settings.MILESTONES_REMINDER_DAYS = [30, 7, 1]
    grant = accepted_grant(kinds=("paper",), target_in_days=20, language="en")
    milestone = grant.milestones.get(kind="paper")
    today = timezone.localdate()

    with django_capture_on_commit_callbacks(execute=True):
        assert milestones_remind.delay().get() == 1  # within 30 days
    assert services.milestones_remind(today=today) == 0  # same step: not again
    assert services.milestones_remind(today=milestone.target_date - dt.timedelta(days=8)) == 0
    assert services.milestones_remind(today=milestone.target_date - dt.timedelta(days=7)) == 1
    assert services.milestones_remind(today=milestone.target_date - dt.timedelta(days=1)) == 1
    assert services.milestones_remind(today=milestone.target_date) == 0

    reminders = sent("milestone_reminder")
    assert len(reminders) == 3
    assert reminders[0].to_email == grant.application.email
    assert reminders[0].language == "en"
    assert "Paper or technical report" in reminders[0].body
    assert any(grant.application.email in message.to for message in mail.outbox)


def test_no_reminder_for_evidence_already_submitted(settings):
    settings.MILESTONES_REMINDER_DAYS = [30]
    grant = accepted_grant(kinds=("open_code",), target_in_days=10)
    milestone = grant.milestones.get(kind="open_code")
    settings.MILESTONES_REQUIRE_HTTPS = True
    services.milestone_evidence_submit(
        milestone=milestone, url="https://github.com/shanshui-ai/lingxi-infer"
    )
    assert services.milestones_remind() == 0


def test_milestone_becomes_overdue_only_after_date_plus_grace(settings):
    settings.MILESTONES_GRACE_DAYS = 14
    grant = accepted_grant(kinds=("open_weights",), target_in_days=10)
    milestone = grant.milestones.get(kind="open_weights")
    on_grace_end = milestone.target_date + dt.timedelta(days=14)
    assert services.milestones_mark_overdue(today=on_grace_end) == []
    after = on_grace_end + dt.timedelta(days=1)
    assert services.milestones_mark_overdue(today=after) == [milestone.pk]
    assert services.milestones_mark_overdue(today=after) == []  # idempotent

    milestone.refresh_from_db()
    assert milestone.state == "overdue"
    assert [n.related_id for n in sent("milestone_overdue")] == [str(milestone.pk)]
    assert AuditEvent.objects.filter(
        action="milestone.overdue", target_id=str(milestone.pk)
    ).exists()


def test_beat_task_marks_overdue(settings):
    settings.MILESTONES_GRACE_DAYS = 0
    grant = accepted_grant(kinds=("open_weights",), target_in_days=-3)
    assert milestones_mark_overdue.delay().get() == 1
    assert grant.milestones.get(kind="open_weights").state == "overdue"


def test_submitted_evidence_is_never_marked_overdue(settings):
    settings.MILESTONES_GRACE_DAYS = 0
    grant = accepted_grant(kinds=("open_code",), target_in_days=-5)
    milestone = grant.milestones.get(kind="open_code")
    services.milestone_evidence_submit(milestone=milestone, url="https://github.com/a/b")
    assert services.milestones_mark_overdue() == []


def test_staff_extend_reopens_an_overdue_milestone_with_a_reason(settings, staff_user):
    settings.MILESTONES_GRACE_DAYS = 0
    grant = accepted_grant(kinds=("paper",), target_in_days=-2)
    milestone = grant.milestones.get(kind="paper")
    services.milestones_mark_overdue()
    with pytest.raises(services.MilestoneError):
        services.milestone_extend(
            milestone=milestone, actor=staff_user, target_date=milestone.target_date, reason="x"
        )
    new_date = timezone.localdate() + dt.timedelta(days=60)
    services.milestone_extend(
        milestone=milestone, actor=staff_user, target_date=new_date, reason="conference moved"
    )
    milestone.refresh_from_db()
    assert milestone.state == "pending"
    assert milestone.target_date == new_date
    assert milestone.original_target_date != new_date
    event = AuditEvent.objects.get(action="milestone.extended")
    assert event.actor == staff_user
    assert event.detail["reason"] == "conference moved"


def test_forfeit_returns_remaining_compute_to_the_pool_and_announces_it(
    settings, staff_user, capacity_with_endpoint
):
    """Forfeit: ledger RETURN of every unreleased milestone tranche, grant.amended in the
    outbox (one delivery per center endpoint), milestones closed; released ones untouched."""
    capacity, endpoint = capacity_with_endpoint
    settings.MILESTONES_GRACE_DAYS = 0
    grant = accepted_grant(kinds=("open_code", "paper"), target_in_days=-1, capacity=capacity)
    code = grant.milestones.get(kind="open_code")
    paper = grant.milestones.get(kind="paper")
    services.milestone_waive(milestone=code, actor=staff_user, reason="shipped early")
    services.milestones_mark_overdue()
    capacity.refresh_from_db()
    allocated_before = capacity.allocated
    version_before = grant.__class__.objects.get(pk=grant.pk).version

    services.grant_milestones_forfeit(grant=grant, actor=staff_user, reason="paper never came")

    paper.refresh_from_db()
    code.refresh_from_db()
    assert paper.state == "forfeited"
    assert paper.tranche.state == "forfeited"
    assert code.state == "waived"
    assert code.tranche.state == "released"
    returned = CapacityEntry.objects.get(grant=grant, kind="return")
    assert returned.amount == paper.tranche.amount
    capacity.refresh_from_db()
    assert capacity.allocated == allocated_before - paper.tranche.amount
    grant.refresh_from_db()
    assert grant.version == version_before + 1
    event = OutboxEvent.objects.get(grant=grant, grant_version=grant.version)
    assert event.event_type == "grant.amended"
    body = json.loads(event.body)
    states = {t["number"]: t["state"] for t in body["data"]["tranches"]}
    assert states[paper.tranche.number] == "forfeited"
    assert WebhookDelivery.objects.filter(event=event, endpoint=endpoint).count() == 1
    # The usage report milestone (no tranche) closes too.
    assert grant.milestones.get(kind="usage_report").state == "forfeited"
    with pytest.raises(services.MilestoneError):
        services.grant_milestones_forfeit(grant=grant, actor=staff_user, reason="again")


def test_forfeited_milestone_takes_no_evidence(staff_user):
    grant = accepted_grant(kinds=("paper",))
    services.grant_milestones_forfeit(grant=grant, actor=staff_user, reason="company closed")
    with pytest.raises(services.MilestoneError):
        services.milestone_evidence_submit(
            milestone=grant.milestones.get(kind="paper"), url="https://arxiv.org/abs/2605.08123"
        )
    assert Milestone.objects.filter(grant=grant, state="forfeited").count() == 2


def test_a_revoked_grant_gets_no_reminders_overdue_marks_or_checks(settings, staff_user):
    from grants.services import grant_revoke

    settings.MILESTONES_GRACE_DAYS = 0
    settings.MILESTONES_REMINDER_DAYS = [30]
    grant = accepted_grant(kinds=("open_code", "paper"), target_in_days=-3)
    code = grant.milestones.get(kind="open_code")
    services.milestone_evidence_submit(milestone=code, url="https://github.com/a/b")
    grant_revoke(grant=grant, actor=staff_user, reason="company dissolved")
    assert services.milestones_mark_overdue() == []
    assert services.milestones_remind(today=timezone.localdate() - dt.timedelta(days=10)) == 0
    assert services.milestones_check_due(now=timezone.now() + dt.timedelta(days=1)) == []
    assert sent("milestone_overdue") == []
    assert sent("milestone_reminder") == []
