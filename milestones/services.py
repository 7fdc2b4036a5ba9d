"""Business actions on milestones: create, submit evidence, check, decide, remind, overdue.

Every change to a milestone happens here (the status page view, the admin, the Celery tasks
and the demo all call these functions), inside ``transaction.atomic`` with the milestone row
locked, and leaves an audit event.  Releasing and forfeiting compute is the grants app's
business: this module only calls ``grants.services.tranche_release`` / ``tranches_forfeit``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from core.services import audit_record

from . import checkers
from .models import EvidenceCheck, Milestone
from .safe_fetch import FetchPolicy

logger = logging.getLogger(__name__)

# The checker used for each milestone kind (see milestones.checkers.CHECKERS).
CHECKER_FOR_KIND = {
    Milestone.Kind.OPEN_WEIGHTS: "open_weights",
    Milestone.Kind.OPEN_CODE: "open_code",
    Milestone.Kind.PAPER: "paper",
    Milestone.Kind.PRODUCT_LAUNCH: "product_launch",
    Milestone.Kind.USAGE_REPORT: "usage_report",
}
MAX_BACKOFF = dt.timedelta(hours=6)
# Grants whose milestones can still release compute (grants.Grant.Status values).
LIVE_GRANT_STATUSES = ("accepted", "active")
EVIDENCE_URL_MAX_LENGTH = 2000
EVIDENCE_NOTE_MAX_LENGTH = 500


class MilestoneError(ValueError):
    """An action that the milestone's current state does not allow."""


# --- creation ----------------------------------------------------------------


def milestones_create_for_grant(*, grant) -> list[Milestone]:
    """One milestone per commitment tranche of ``grant`` (+ a usage report); idempotent.

    Called by the grants app when a grant is created; calling it again creates nothing new.
    """
    created: list[Milestone] = []
    with transaction.atomic():
        existing = {m.tranche_id: m for m in Milestone.objects.filter(grant=grant)}
        for tranche in grant.tranches.select_related("commitment").order_by("number"):
            commitment = tranche.commitment
            if commitment is None:
                continue  # the acceptance tranche needs no outcome
            milestone = existing.get(tranche.pk)
            if milestone is None:
                milestone, made = Milestone.objects.get_or_create(
                    grant=grant,
                    kind=commitment.kind,
                    defaults={
                        "tranche": tranche,
                        "commitment": commitment,
                        "target_date": commitment.target_date,
                        "original_target_date": commitment.target_date,
                    },
                )
                if made:
                    audit_record(
                        actor=None,
                        action="milestone.created",
                        target=milestone,
                        detail={"kind": milestone.kind, "tranche": tranche.number},
                    )
            created.append(milestone)
        if settings.MILESTONES_USAGE_REPORT:
            usage, made = Milestone.objects.get_or_create(
                grant=grant,
                kind=Milestone.Kind.USAGE_REPORT,
                defaults={
                    "target_date": grant.expires_at,
                    "original_target_date": grant.expires_at,
                },
            )
            if made:
                audit_record(
                    actor=None,
                    action="milestone.created",
                    target=usage,
                    detail={"kind": usage.kind},
                )
            created.append(usage)
    return created


# --- evidence ----------------------------------------------------------------


def evidence_url_problem(url: str) -> str | None:
    """A cheap shape check before anything is stored; the fetcher re-checks at check time."""
    from urllib.parse import urlsplit

    if len(url) > EVIDENCE_URL_MAX_LENGTH:
        return "too_long"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "malformed"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "scheme"
    if settings.MILESTONES_REQUIRE_HTTPS and parts.scheme != "https":
        return "https"
    if parts.username is not None or parts.password is not None:
        return "credentials"
    if not settings.MILESTONES_FETCH_ALLOW_PRIVATE:
        try:
            address = ipaddress.ip_address(parts.hostname)
        except ValueError:
            return None
        if not address.is_global:
            return "private"
    return None


def milestone_evidence_submit(
    *,
    milestone: Milestone,
    url: str,
    note: str = "",
    actor: AbstractBaseUser | None = None,
) -> Milestone:
    """Store evidence (founder on the status page, or staff in admin) and queue its check.

    Allowed while the milestone is open (pending, submitted, rejected, overdue): a founder
    whose evidence was rejected simply submits again.
    """
    url = url.strip()
    note = note.strip()[:EVIDENCE_NOTE_MAX_LENGTH]
    problem = evidence_url_problem(url)
    if problem is not None:
        raise MilestoneError(f"evidence link not accepted: {problem}")
    with transaction.atomic():
        milestone = (
            Milestone.objects.select_for_update().select_related("grant").get(pk=milestone.pk)
        )
        if not milestone.accepts_evidence:
            raise MilestoneError(f"a {milestone.state} milestone takes no more evidence")
        if milestone.grant.status not in LIVE_GRANT_STATUSES:
            raise MilestoneError("evidence is taken once the grant is accepted")
        previous = {"url": milestone.evidence_url, "state": milestone.state}
        milestone.evidence_url = url
        milestone.evidence_note = note
        milestone.evidence_submitted_at = timezone.now()
        milestone.evidence_submitted_by = actor if _is_user(actor) else None
        milestone.evidence_revision += 1
        milestone.state = Milestone.State.SUBMITTED
        milestone.check_attempts = 0
        milestone.next_check_at = timezone.now()
        milestone.needs_review = False
        milestone.reason_en = milestone.reason_zh = ""
        milestone.decided_at = None
        milestone.decided_by = None
        milestone.save()
        audit_record(
            actor=actor,
            action="milestone.evidence_submitted",
            target=milestone,
            detail={
                "url": url,
                "revision": milestone.evidence_revision,
                "by": "staff" if _is_user(actor) else "founder",
                "previous": previous,
            },
            actor_label="" if _is_user(actor) else "founder",
        )
        _enqueue_check(milestone.pk, attempts=0)
    return milestone


def _enqueue_check(milestone_id: int, attempts: int) -> None:
    """Queue the check of one slot: the milestone's ``attempts`` so far. A second task for the
    same slot (two beats, a redelivery) finds the attempt already counted and does nothing."""
    from .tasks import milestone_check

    transaction.on_commit(lambda: milestone_check.delay(milestone_id, attempts))


# --- automatic checks ----------------------------------------------------------


def check_context_for(milestone: Milestone) -> checkers.CheckContext:
    grant = milestone.grant
    application = grant.application
    started = grant.accepted_at or dt.datetime.combine(
        grant.valid_from, dt.time.min, tzinfo=timezone.get_current_timezone()
    )
    policy = FetchPolicy(
        allow_private=settings.MILESTONES_FETCH_ALLOW_PRIVATE,
        require_https=settings.MILESTONES_REQUIRE_HTTPS,
        timeout=settings.MILESTONES_FETCH_TIMEOUT_SECONDS,
        max_bytes=settings.MILESTONES_FETCH_MAX_BYTES,
    )
    return checkers.CheckContext(
        grant_started_at=started,
        policy=policy,
        github_api=settings.MILESTONES_GITHUB_API,
        huggingface_api=settings.MILESTONES_HUGGINGFACE_API,
        arxiv_api=settings.MILESTONES_ARXIV_API,
        github_token=settings.MILESTONES_GITHUB_TOKEN,
        huggingface_token=settings.MILESTONES_HUGGINGFACE_TOKEN,
        company_names=(application.company_legal_name,),
        founder_names=(application.founder_name,),
        usage_used=_grant_figure(grant, "used"),
        usage_released=_grant_figure(grant, "released"),
    )


def _grant_figure(grant, name: str) -> Decimal | None:
    value = getattr(grant, name, None)
    return Decimal(value) if value is not None else None


@dataclass(frozen=True)
class CheckOutcome:
    check: EvidenceCheck | None
    released: bool = False


def milestone_check_run(*, milestone_id: int, attempts: int | None = None) -> CheckOutcome:
    """Run the checker for a submitted milestone and apply its verdict.

    The network work happens outside any transaction (no row lock held while waiting on
    GitHub); the verdict is then applied by :func:`milestone_check_apply`, which locks the
    row and re-reads the state, so running this twice (a redelivered task, beat and an
    on-commit nudge at once) releases the tranche exactly once. With ``attempts`` (the slot
    the task was queued for) a duplicate of an already counted attempt checks nothing.
    """
    pending = Milestone.objects.select_related("grant__application").filter(
        pk=milestone_id, state=Milestone.State.SUBMITTED, needs_review=False
    )
    if attempts is not None:
        pending = pending.filter(check_attempts=attempts)
    milestone = pending.first()
    if milestone is None:
        return CheckOutcome(check=None)
    revision = milestone.evidence_revision
    checker_kind = CHECKER_FOR_KIND[milestone.kind]
    started = timezone.now()
    try:
        result = checkers.checker_for(checker_kind).check(
            checkers.Evidence(milestone.evidence_url, milestone.evidence_note),
            check_context_for(milestone),
        )
    except Exception as error:  # a checker bug must not lose the evidence: staff look
        logger.exception("checker %s crashed on milestone %s", checker_kind, milestone_id)
        result = checkers.CheckResult(
            checkers.Verdict.UNCERTAIN,
            f"The automatic check failed ({type(error).__name__}); staff must review.",
            f"自动核验出错（{type(error).__name__}），需人工审核。",
            {"error": f"{type(error).__name__}: {error}"[:500]},
        )
    return milestone_check_apply(
        milestone_id=milestone_id,
        revision=revision,
        checker_kind=checker_kind,
        result=result,
        started_at=started,
        attempts=milestone.check_attempts,
    )


def milestone_check_apply(
    *,
    milestone_id: int,
    revision: int,
    checker_kind: str,
    result: checkers.CheckResult,
    started_at: dt.datetime,
    attempts: int | None = None,
) -> CheckOutcome:
    """Record a check and, if the milestone is still waiting on that evidence, act on it.

    ``attempts`` is the count the check started from: if another check of the same slot
    was applied meanwhile (it ran at the same time), this one is stale."""
    with transaction.atomic():
        milestone = (
            Milestone.objects.select_for_update().select_related("grant").get(pk=milestone_id)
        )
        current = (
            milestone.state == Milestone.State.SUBMITTED
            and milestone.evidence_revision == revision
            and not milestone.needs_review
            and milestone.grant.status in LIVE_GRANT_STATUSES
            and (attempts is None or milestone.check_attempts == attempts)
        )
        check = EvidenceCheck(
            milestone=milestone,
            evidence_url=milestone.evidence_url,
            evidence_revision=revision,
            checker=checker_kind,
            attempt=milestone.check_attempts + 1,
            started_at=started_at,
            finished_at=timezone.now(),
            verdict=result.verdict.value,
            transient=result.transient,
            reason_en=result.reason_en,
            reason_zh=result.reason_zh,
            observed=_json_safe(result.observed),
            applied=current,
        )
        if not current:
            check.outcome = "stale"
            check.save()
            if milestone.grant.status not in LIVE_GRANT_STATUSES and milestone.next_check_at:
                # The grant ended (revoked, expired): stop checking; nothing can be released.
                milestone.next_check_at = None
                milestone.save(update_fields=["next_check_at", "updated_at"])
            return CheckOutcome(check=check)
        released = False
        if result.verdict is checkers.Verdict.PASS:
            released = _verify(milestone, actor=None)
            check.outcome = "verified"
        elif result.verdict is checkers.Verdict.FAIL:
            _decide(milestone, Milestone.State.REJECTED, None, result.reason_en, result.reason_zh)
            milestone.save()
            _notify(milestone, "milestone_rejected")
            check.outcome = "rejected"
        else:
            milestone.check_attempts += 1
            if (
                result.transient
                and milestone.check_attempts < settings.MILESTONES_CHECK_MAX_ATTEMPTS
            ):
                delay = dt.timedelta(
                    seconds=settings.MILESTONES_CHECK_BACKOFF_SECONDS
                    * 2 ** (milestone.check_attempts - 1)
                )
                milestone.next_check_at = timezone.now() + min(delay, MAX_BACKOFF)
                check.outcome = "retry"
            else:
                milestone.next_check_at = None
                milestone.needs_review = True
                milestone.reason_en, milestone.reason_zh = result.reason_en, result.reason_zh
                check.outcome = "staff_review"
            milestone.save()
        check.save()
        audit_record(
            actor=None,
            action=f"milestone.check_{check.outcome}",
            target=milestone,
            detail={"verdict": check.verdict, "check": check.pk, "released": released},
            actor_label="evidence checker",
        )
    return CheckOutcome(check=check, released=released)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _decide(
    milestone: Milestone,
    state: str,
    actor: AbstractBaseUser | None,
    reason_en: str,
    reason_zh: str,
) -> None:
    milestone.state = state
    milestone.reason_en = reason_en
    milestone.reason_zh = reason_zh
    milestone.decided_at = timezone.now()
    milestone.decided_by = actor if _is_user(actor) else None
    milestone.needs_review = False
    milestone.next_check_at = None


def _verify(
    milestone: Milestone,
    *,
    actor,
    state: str = "verified",
    reason_en: str = "",
    reason_zh: str = "",
) -> bool:
    """Mark verified (or waived) and release its tranche exactly once. Row already locked."""
    from grants.models import Tranche
    from grants.services import tranche_release

    _decide(milestone, state, actor, reason_en, reason_zh)
    milestone.save()
    if milestone.tranche_id is None:
        return False
    # Lock the tranche too: tranche_release is idempotent, and the lock makes the state check
    # and the release one step even against the grants app's own actions.
    tranche = Tranche.objects.select_for_update().get(pk=milestone.tranche_id)
    if tranche.state != Tranche.State.PENDING:
        return False
    why = f"milestone {state}: {milestone.kind}"
    if reason_en:
        why = f"{why} ({reason_en})"
    return bool(
        tranche_release(tranche=tranche, actor=actor if _is_user(actor) else None, reason=why)
    )


def milestones_check_due(*, now: dt.datetime | None = None, limit: int = 200) -> list[int]:
    """Queue a check for every submitted milestone whose next check is due (beat, 5 min)."""
    now = now or timezone.now()
    due = list(
        Milestone.objects.filter(
            state=Milestone.State.SUBMITTED,
            needs_review=False,
            next_check_at__lte=now,
            grant__status__in=LIVE_GRANT_STATUSES,
        )
        .order_by("next_check_at")
        .values_list("pk", "check_attempts")[:limit]
    )
    with transaction.atomic():
        for milestone_id, attempts in due:
            _enqueue_check(milestone_id, attempts)
    return [milestone_id for milestone_id, _ in due]


# --- staff decisions -----------------------------------------------------------


def milestone_recheck(*, milestone: Milestone, actor: AbstractBaseUser | None) -> Milestone:
    """Staff run the automatic check again (e.g. after a rate limit cleared)."""
    with transaction.atomic():
        milestone = _locked_open(milestone, "submitted")
        milestone.needs_review = False
        milestone.check_attempts = 0
        milestone.next_check_at = timezone.now()
        milestone.save()
        audit_record(actor=actor, action="milestone.recheck", target=milestone)
        _enqueue_check(milestone.pk, attempts=0)
    return milestone


def _locked_open(milestone: Milestone, *allowed: str) -> Milestone:
    locked = Milestone.objects.select_for_update().get(pk=milestone.pk)
    if locked.state not in allowed:
        raise MilestoneError(f"not allowed while the milestone is {locked.state}")
    return locked


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise MilestoneError("a reason is required")
    return reason


def milestone_verify(*, milestone: Milestone, actor: AbstractBaseUser, reason: str = "") -> bool:
    """Staff accept the evidence (e.g. an uncertain check): verified, tranche released."""
    with transaction.atomic():
        milestone = _locked_open(milestone, "submitted")
        released = _verify(milestone, actor=actor)
        audit_record(
            actor=actor,
            action="milestone.verified_by_staff",
            target=milestone,
            detail={"reason": reason, "released": released},
        )
    return released


def milestone_reject(*, milestone: Milestone, actor: AbstractBaseUser, reason: str) -> Milestone:
    """Staff reject the evidence; the founder sees the reason and may submit again."""
    reason = _require_reason(reason)
    with transaction.atomic():
        milestone = _locked_open(milestone, "submitted")
        _decide(milestone, Milestone.State.REJECTED, actor, reason, reason)
        milestone.save()
        _notify(milestone, "milestone_rejected")
        audit_record(
            actor=actor,
            action="milestone.rejected_by_staff",
            target=milestone,
            detail={"reason": reason},
        )
    return milestone


def milestone_waive(*, milestone: Milestone, actor: AbstractBaseUser, reason: str) -> bool:
    """Staff drop the requirement (with a reason); its tranche is released as if verified."""
    reason = _require_reason(reason)
    with transaction.atomic():
        milestone = _locked_open(milestone, *Milestone.OPEN_STATES)
        released = _verify(
            milestone, actor=actor, state=Milestone.State.WAIVED, reason_en=reason, reason_zh=reason
        )
        audit_record(
            actor=actor,
            action="milestone.waived",
            target=milestone,
            detail={"reason": reason, "released": released},
        )
    return released


def milestone_extend(
    *, milestone: Milestone, actor: AbstractBaseUser, target_date: dt.date, reason: str
) -> Milestone:
    """Staff move the target date (with a reason); an overdue milestone becomes open again."""
    reason = _require_reason(reason)
    with transaction.atomic():
        milestone = _locked_open(milestone, *Milestone.OPEN_STATES)
        if target_date <= milestone.target_date:
            raise MilestoneError("the new date must be later than the current one")
        previous = milestone.target_date
        milestone.target_date = target_date
        milestone.last_reminder_days = None
        if milestone.state == Milestone.State.OVERDUE:
            milestone.state = Milestone.State.PENDING
            milestone.overdue_at = None
        milestone.save()
        audit_record(
            actor=actor,
            action="milestone.extended",
            target=milestone,
            detail={"from": previous.isoformat(), "to": target_date.isoformat(), "reason": reason},
        )
    return milestone


def grant_milestones_forfeit(*, grant, actor: AbstractBaseUser, reason: str) -> list[Milestone]:
    """Staff take back the compute of every milestone not yet verified or waived.

    The grants app returns it to the center's pool (ledger entries) and announces the change
    (``grant.amended`` through its outbox); the milestones are closed as forfeited.
    """
    from grants.models import Grant, Tranche
    from grants.services import tranches_forfeit

    reason = _require_reason(reason)
    with transaction.atomic():
        open_milestones = list(
            Milestone.objects.select_for_update()
            .filter(grant=grant, state__in=Milestone.OPEN_STATES)
            .order_by("pk")
        )
        if not open_milestones:
            raise MilestoneError("no open milestone left to forfeit")
        # Lock order everywhere here: milestone, then grant, then tranche (the grants app
        # locks grant before tranche), so a forfeit and a release cannot deadlock.
        Grant.objects.select_for_update().get(pk=grant.pk)
        tranche_ids = [m.tranche_id for m in open_milestones if m.tranche_id is not None]
        tranches = list(
            Tranche.objects.filter(pk__in=tranche_ids, state=Tranche.State.PENDING).order_by(
                "number"
            )
        )
        if tranches:
            tranches_forfeit(grant=grant, tranches=tranches, actor=actor, reason=reason)
        for milestone in open_milestones:
            _decide(milestone, Milestone.State.FORFEITED, actor, reason, reason)
            milestone.save()
            audit_record(
                actor=actor,
                action="milestone.forfeited",
                target=milestone,
                detail={"reason": reason, "tranche": milestone.tranche_id},
            )
    return open_milestones


# --- reminders and overdue -------------------------------------------------------


def _notify(milestone: Milestone, kind: str) -> None:
    from applications.services import status_url_for
    from notifications.services import notification_send

    application = milestone.grant.application
    notification_send(
        kind=kind,
        to_email=application.email,
        language=application.language,
        context={
            "application": application,
            "milestone": milestone,
            "status_url": status_url_for(application),
            "grace_days": settings.MILESTONES_GRACE_DAYS,
        },
        related=milestone,
    )


def milestones_remind(*, today: dt.date | None = None) -> int:
    """Remind founders of milestones due within each configured number of days; each once."""
    today = today or timezone.localdate()
    offsets = sorted({int(days) for days in settings.MILESTONES_REMINDER_DAYS if int(days) >= 0})
    if not offsets:
        return 0
    horizon = today + dt.timedelta(days=max(offsets))
    candidates = Milestone.objects.filter(
        state__in=[Milestone.State.PENDING, Milestone.State.REJECTED],
        grant__status__in=LIVE_GRANT_STATUSES,
        target_date__gte=today,
        target_date__lte=horizon,
    ).values_list("pk", flat=True)
    sent = 0
    for milestone_id in candidates:
        with transaction.atomic():
            milestone = Milestone.objects.select_for_update().get(pk=milestone_id)
            if milestone.state not in (Milestone.State.PENDING, Milestone.State.REJECTED):
                continue
            days_left = (milestone.target_date - today).days
            due = [days for days in offsets if days >= days_left]
            if not due:
                continue
            step = min(due)
            if milestone.last_reminder_days is not None and milestone.last_reminder_days <= step:
                continue  # this reminder (or a later one) was already sent
            milestone.last_reminder_days = step
            milestone.save(update_fields=["last_reminder_days", "updated_at"])
            _notify(milestone, "milestone_reminder")
            audit_record(
                actor=None,
                action="milestone.reminded",
                target=milestone,
                detail={"days_left": days_left},
                actor_label="scheduler",
            )
            sent += 1
    return sent


def milestones_mark_overdue(*, today: dt.date | None = None) -> list[int]:
    """Milestones past their date plus the grace period without evidence become overdue.

    Evidence already submitted (waiting for its check or for staff) is not overdue: the
    founder did their part in time.
    """
    today = today or timezone.localdate()
    cutoff = today - dt.timedelta(days=settings.MILESTONES_GRACE_DAYS)
    candidates = list(
        Milestone.objects.filter(
            state__in=[Milestone.State.PENDING, Milestone.State.REJECTED],
            grant__status__in=LIVE_GRANT_STATUSES,
            target_date__lt=cutoff,
        ).values_list("pk", flat=True)
    )
    marked: list[int] = []
    for milestone_id in candidates:
        with transaction.atomic():
            milestone = Milestone.objects.select_for_update().get(pk=milestone_id)
            if milestone.state not in (Milestone.State.PENDING, Milestone.State.REJECTED):
                continue
            if milestone.target_date >= cutoff:
                continue
            milestone.state = Milestone.State.OVERDUE
            milestone.overdue_at = timezone.now()
            milestone.save(update_fields=["state", "overdue_at", "updated_at"])
            _notify(milestone, "milestone_overdue")
            audit_record(
                actor=None,
                action="milestone.overdue",
                target=milestone,
                detail={"target_date": milestone.target_date.isoformat()},
                actor_label="scheduler",
            )
            marked.append(milestone.pk)
    return marked


def _is_user(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)
