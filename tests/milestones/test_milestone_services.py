"""Milestones from commitments, checks that release tranches exactly once, staff decisions."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from centers.models import CapacityEntry
from core.models import AuditEvent
from grants.models import OutboxEvent, Tranche
from milestones import checkers, services
from milestones.models import EvidenceCheck, Milestone
from milestones.selectors import milestones_review_queue
from milestones.tasks import milestone_check, milestones_check_due
from notifications.models import Notification

from .factories import accepted_grant

pytestmark = pytest.mark.django_db

REPO = "/repos/shanshui-ai/lingxi-infer"
REPO_URL = "https://github.com/shanshui-ai/lingxi-infer"


def code_milestone(grant) -> Milestone:
    return grant.milestones.get(kind="open_code")


def serve_good_repository(server) -> None:
    server.add(REPO, recorded="github/repo_ok.json")
    server.add(f"{REPO}/commits", recorded="github/commits_since.json")


def release_entries(tranche) -> int:
    return CapacityEntry.objects.filter(tranche=tranche, kind="release").count()


def submit(milestone, url=REPO_URL, *, capture, **kwargs) -> Milestone:
    with capture(execute=True):
        return services.milestone_evidence_submit(milestone=milestone, url=url, **kwargs)


# --- creation ---------------------------------------------------------------------


def test_one_milestone_per_commitment_tranche_plus_a_usage_report():
    grant = accepted_grant(kinds=("open_code", "paper"))
    milestones = {m.kind: m for m in grant.milestones.all()}
    assert set(milestones) == {"open_code", "paper", "usage_report"}
    for kind in ("open_code", "paper"):
        milestone = milestones[kind]
        assert milestone.tranche.commitment == milestone.commitment
        assert milestone.commitment.kind == kind
        assert milestone.target_date == milestone.commitment.target_date
        assert milestone.state == "pending"
    assert milestones["usage_report"].tranche is None
    assert milestones["usage_report"].target_date == grant.expires_at


def test_creating_milestones_again_creates_nothing_new():
    grant = accepted_grant()
    before = sorted(grant.milestones.values_list("pk", flat=True))
    again = services.milestones_create_for_grant(grant=grant)
    assert sorted(m.pk for m in again) == before
    assert grant.milestones.count() == 3


# --- the check releases exactly one tranche -------------------------------------------


def test_passing_check_verifies_and_releases_the_tranche(
    checker_settings, server, django_capture_on_commit_callbacks
):
    serve_good_repository(server)
    grant = accepted_grant()
    milestone = code_milestone(grant)
    released_before = grant.released
    version_before = grant.version
    submit(milestone, capture=django_capture_on_commit_callbacks)

    milestone.refresh_from_db()
    grant.refresh_from_db()
    assert milestone.state == "verified"
    assert milestone.tranche.state == "released"
    assert grant.released == released_before + milestone.tranche.amount
    assert grant.version == version_before + 1
    event = OutboxEvent.objects.get(
        grant=grant, event_type="grant.tranche_released", grant_version=grant.version
    )
    data = json.loads(event.body)["data"]
    assert Decimal(data["released"]) == grant.released
    states = {t["number"]: t["state"] for t in data["tranches"]}
    assert states[milestone.tranche.number] == "released"
    assert (
        Notification.objects.filter(
            kind="grant_tranche_released", to_email=grant.application.email
        ).count()
        == 2
    )
    check = EvidenceCheck.objects.get(milestone=milestone)
    assert check.verdict == "pass"
    assert check.applied is True
    assert check.observed["fields"]["license"] == "Apache-2.0"
    assert [r["status"] for r in check.observed["requests"]] == [200, 200]


def test_check_task_run_twice_releases_exactly_one_tranche(
    checker_settings, server, django_capture_on_commit_callbacks
):
    """A redelivered task (or beat plus the on-commit nudge) changes nothing the second time."""
    serve_good_repository(server)
    grant = accepted_grant()
    milestone = code_milestone(grant)
    submit(milestone, capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        milestone_check.delay(milestone.pk)
        milestone_check.delay(milestone.pk)

    assert release_entries(milestone.tranche) == 1
    assert (
        OutboxEvent.objects.filter(grant=grant, event_type="grant.tranche_released").count() == 2
    )  # acceptance + this one
    assert Tranche.objects.get(pk=milestone.tranche_id).state == "released"


def test_two_checks_racing_on_the_same_evidence_release_once(checker_settings, server):
    """Both workers fetched and passed before either applied: the row lock and state check
    let only the first release; the second check is recorded as stale."""
    serve_good_repository(server)
    grant = accepted_grant()
    milestone = code_milestone(grant)
    services.milestone_evidence_submit(milestone=milestone, url=REPO_URL)
    milestone.refresh_from_db()
    context = services.check_context_for(milestone)
    results = [
        checkers.checker_for("open_code").check(checkers.Evidence(REPO_URL), context)
        for _ in range(2)
    ]
    outcomes = [
        services.milestone_check_apply(
            milestone_id=milestone.pk,
            revision=milestone.evidence_revision,
            checker_kind="open_code",
            result=result,
            started_at=timezone.now(),
        )
        for result in results
    ]
    assert [o.released for o in outcomes] == [True, False]
    assert [o.check.outcome for o in outcomes] == ["verified", "stale"]
    assert release_entries(milestone.tranche) == 1
    grant.refresh_from_db()
    assert grant.released == sum(t.amount for t in grant.tranches.filter(state="released"))


def test_check_of_replaced_evidence_is_not_applied(checker_settings, server):
    serve_good_repository(server)
    grant = accepted_grant()
    milestone = code_milestone(grant)
    services.milestone_evidence_submit(milestone=milestone, url=REPO_URL)
    services.milestone_evidence_submit(milestone=milestone, url="https://github.com/a/b")
    passing = checkers.CheckResult(checkers.Verdict.PASS, "ok", "好", {})
    outcome = services.milestone_check_apply(
        milestone_id=milestone.pk,
        revision=1,
        checker_kind="open_code",
        result=passing,
        started_at=timezone.now(),
    )
    assert outcome.check.applied is False
    milestone.refresh_from_db()
    assert milestone.state == "submitted"
    assert release_entries(milestone.tranche) == 0


# --- fail and uncertain -------------------------------------------------------------


def test_failing_check_rejects_with_reasons_and_the_founder_can_resubmit(
    checker_settings, server, django_capture_on_commit_callbacks
):
    server.add(REPO, recorded="github/repo_fork.json")
    grant = accepted_grant()
    milestone = code_milestone(grant)
    submit(milestone, capture=django_capture_on_commit_callbacks)
    milestone.refresh_from_db()
    assert milestone.state == "rejected"
    assert "fork" in milestone.reason_en
    assert "复刻" in milestone.reason_zh
    assert milestone.tranche.state == "pending"
    from notifications.models import Notification

    told = Notification.objects.filter(kind="milestone_rejected", related_id=str(milestone.pk))
    assert told.count() == 1
    assert told.get().to_email == grant.application.email

    serve_good_repository(server)
    submit(milestone, capture=django_capture_on_commit_callbacks)
    milestone.refresh_from_db()
    assert milestone.state == "verified"
    assert milestone.evidence_revision == 2
    assert milestone.reason_en == ""


def test_rate_limited_check_is_retried_with_backoff_then_goes_to_staff(
    checker_settings, server, django_capture_on_commit_callbacks
):
    server.add(
        REPO,
        status=403,
        recorded="github/rate_limited.json",
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1779948000"},
    )
    grant = accepted_grant()
    milestone = code_milestone(grant)
    before = timezone.now()
    submit(milestone, capture=django_capture_on_commit_callbacks)
    milestone.refresh_from_db()
    assert milestone.state == "submitted"
    assert milestone.needs_review is False
    assert milestone.check_attempts == 1
    assert milestone.next_check_at >= before + dt.timedelta(seconds=60)

    # Not due yet: the sweep leaves it alone.
    assert services.milestones_check_due() == []
    # Later sweeps retry with doubling delays until the attempts run out.
    delays = []
    for _ in range(2):
        due_at = Milestone.objects.get(pk=milestone.pk).next_check_at
        with django_capture_on_commit_callbacks(execute=True):
            assert services.milestones_check_due(now=due_at) == [milestone.pk]
        milestone.refresh_from_db()
        if milestone.next_check_at:
            last = milestone.checks.order_by("-started_at").first()
            delays.append((milestone.next_check_at - last.finished_at).total_seconds())
    assert milestone.needs_review is True
    assert milestone.next_check_at is None
    assert milestone.check_attempts == 3
    assert list(milestones_review_queue()) == [milestone]
    assert [c.outcome for c in milestone.checks.order_by("started_at")] == [
        "retry",
        "retry",
        "staff_review",
    ]
    assert len(delays) == 1 and 119 <= delays[0] <= 121  # 60 s, then 120 s, then staff


def test_the_same_due_check_queued_twice_counts_one_attempt(
    checker_settings, server, django_capture_on_commit_callbacks
):
    """Two beats running by mistake (or a redelivered task) queue the check of one due
    milestone twice: the second finds that attempt already counted and changes nothing, so a
    rate-limited check is not pushed to staff review after one real attempt."""
    server.add(
        REPO,
        status=403,
        recorded="github/rate_limited.json",
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1779948000"},
    )
    grant = accepted_grant()
    milestone = code_milestone(grant)
    services.milestone_evidence_submit(milestone=milestone, url=REPO_URL)  # nudge lost
    with django_capture_on_commit_callbacks(execute=True):
        assert services.milestones_check_due() == [milestone.pk]  # beat one
        assert services.milestones_check_due() == [milestone.pk]  # beat two, same cycle
    milestone.refresh_from_db()
    assert milestone.check_attempts == 1
    assert milestone.needs_review is False
    assert milestone.next_check_at is not None
    assert [c.outcome for c in milestone.checks.filter(applied=True)] == ["retry"]


def test_uncertain_but_not_transient_goes_straight_to_staff(
    checker_settings, server, django_capture_on_commit_callbacks
):
    server.add("/api/models/shanshui-ai/Lingxi-7B-Chat", recorded="huggingface/model_gated.json")
    grant = accepted_grant()
    milestone = grant.milestones.get(kind="open_weights")
    submit(
        milestone,
        "https://huggingface.co/shanshui-ai/Lingxi-7B-Chat",
        capture=django_capture_on_commit_callbacks,
    )
    milestone.refresh_from_db()
    assert milestone.state == "submitted"
    assert milestone.needs_review is True
    assert "gated" in milestone.reason_en


def test_evidence_at_an_internal_address_is_rejected_in_production_mode(
    checker_settings, server, django_capture_on_commit_callbacks, settings
):
    """With private addresses refused, a hostname that resolves to loopback never gets a request."""
    settings.MILESTONES_FETCH_ALLOW_PRIVATE = False
    server.add("/launch", recorded="web/product_page.html")
    grant = accepted_grant(kinds=("product_launch",))
    milestone = grant.milestones.get(kind="product_launch")
    submit(
        milestone,
        f"http://localhost:{server.port}/launch",
        capture=django_capture_on_commit_callbacks,
    )
    milestone.refresh_from_db()
    assert milestone.state == "rejected"
    assert "private or internal" in milestone.reason_en
    assert server.requests == []


def test_evidence_is_refused_for_a_grant_not_yet_accepted(checker_settings):
    from tests.grants.factories import offered_grant

    grant = offered_grant()
    milestone = grant.milestones.exclude(tranche=None).first()
    with pytest.raises(services.MilestoneError):
        services.milestone_evidence_submit(milestone=milestone, url=REPO_URL)


# --- staff decisions ------------------------------------------------------------------


def test_staff_verify_from_the_review_queue_releases_once(staff_user, checker_settings):
    grant = accepted_grant()
    milestone = code_milestone(grant)
    services.milestone_evidence_submit(milestone=milestone, url="https://gitee.com/shanshui/lingxi")
    assert services.milestone_verify(milestone=milestone, actor=staff_user, reason="checked Gitee")
    with pytest.raises(services.MilestoneError):
        services.milestone_verify(milestone=milestone, actor=staff_user, reason="again")
    assert release_entries(milestone.tranche) == 1
    milestone.refresh_from_db()
    assert milestone.decided_by == staff_user
    assert AuditEvent.objects.filter(
        action="milestone.verified_by_staff", actor=staff_user
    ).exists()


def test_staff_reject_needs_a_reason_that_the_founder_sees(staff_user, checker_settings):
    grant = accepted_grant()
    milestone = code_milestone(grant)
    services.milestone_evidence_submit(milestone=milestone, url=REPO_URL)
    with pytest.raises(services.MilestoneError):
        services.milestone_reject(milestone=milestone, actor=staff_user, reason="  ")
    services.milestone_reject(
        milestone=milestone, actor=staff_user, reason="The repository is empty."
    )
    milestone.refresh_from_db()
    assert milestone.state == "rejected"
    assert milestone.reason == "The repository is empty."


def test_waiving_releases_the_tranche_with_the_reason(staff_user):
    grant = accepted_grant()
    milestone = code_milestone(grant)
    assert services.milestone_waive(
        milestone=milestone, actor=staff_user, reason="merged into paper"
    )
    milestone.refresh_from_db()
    assert milestone.state == "waived"
    assert milestone.tranche.state == "released"
    assert "merged into paper" in milestone.tranche.reason


# --- beat: the sweep ---------------------------------------------------------------------


def test_beat_sweep_task_checks_what_is_due(
    checker_settings, server, django_capture_on_commit_callbacks
):
    """A check lost with the broker is picked up by the sweep (next_check_at is in the DB)."""
    serve_good_repository(server)
    grant = accepted_grant()
    milestone = code_milestone(grant)
    services.milestone_evidence_submit(milestone=milestone, url=REPO_URL)  # nudge never ran
    assert Milestone.objects.get(pk=milestone.pk).state == "submitted"
    with django_capture_on_commit_callbacks(execute=True):
        assert milestones_check_due.delay().get() == 1
    assert Milestone.objects.get(pk=milestone.pk).state == "verified"
    assert release_entries(milestone.tranche) == 1
    grant.refresh_from_db()
    assert grant.released == sum(
        (t.amount for t in grant.tranches.filter(state="released")), Decimal(0)
    )
