"""Business actions on grants: allocation, the founder's answer, tranches, amendments, the
transactional outbox of webhooks and its delivery, and usage reported back by centers.

Every change to a grant locks its row, raises ``version`` by one and writes exactly one
``OutboxEvent`` in the same transaction (docs/webhooks.md: "nothing lost", "full state, versioned").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from centers.models import CapacityEntry, Center, CenterCapacity, WebhookEndpoint
from centers.services import capacity_ledger_post, endpoint_disable
from core.services import audit_record
from notifications.services import notification_send

from . import allocation
from . import webhook_signing as signing
from .models import DeliveryAttempt, Grant, OutboxEvent, Tranche, UsageReport, WebhookDelivery

logger = logging.getLogger(__name__)


class GrantError(Exception):
    """A grant action whose preconditions do not hold (shown to staff or the founder)."""


# --- payload and outbox ---------------------------------------------------------------------


def _money(value: Decimal) -> str:
    """Amounts travel as decimal strings with two places ("400.00")."""
    return str(Decimal(value).quantize(allocation.CENT))


def grant_payload(grant: Grant) -> dict[str, Any]:
    """The grant's whole current state as the contract's ``data`` object."""
    application = grant.application
    tranches = list(grant.tranches.select_related("commitment").order_by("number"))
    released = sum((t.amount for t in tranches if t.state == Tranche.State.RELEASED), Decimal(0))
    recipient: dict[str, str] = {
        "reference": application.reference,
        "company_name": application.company_legal_name,
        "uscc": application.uscc,
    }
    if grant.billing_account:
        recipient["billing_account"] = grant.billing_account
    return {
        "grant_id": grant.pk,
        "version": grant.version,
        "center": grant.center.code,
        "gpu_type": grant.gpu_type.code,
        "recipient": recipient,
        "unit": grant.unit,
        "total_granted": _money(grant.amount),
        "released": _money(released),
        "tranches": [
            {
                "number": t.number,
                "amount": _money(t.amount),
                "state": t.state,
                "milestone": (
                    {"kind": t.commitment.kind, "target_date": t.commitment.target_date.isoformat()}
                    if t.commitment_id
                    else None
                ),
            }
            for t in tranches
        ],
        "valid_from": grant.valid_from.isoformat(),
        "expires_at": grant.expires_at.isoformat(),
        "status": grant.status,
    }


def _nudge(event_id: int) -> None:
    from .tasks import webhooks_deliver_event_task

    # robust: with the broker down the change still stands and the periodic sweep (or the next
    # nudge) delivers the event later; an enqueue failure must not turn into an error page.
    transaction.on_commit(lambda: webhooks_deliver_event_task.delay(event_id), robust=True)


def outbox_event_record(
    *,
    event_type: str,
    grant: Grant | None = None,
    data: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    endpoints: Iterable[WebhookEndpoint] | None = None,
    also_centers: Sequence[Center] = (),
) -> OutboxEvent:
    """Write the event and one delivery per endpoint, inside the caller's transaction.

    Outside a transaction this refuses: an event committed apart from its change is exactly
    what the outbox exists to prevent.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox events are written inside the transaction of their change")
    now = timezone.now()
    document = dict(data) if data is not None else grant_payload(grant)  # type: ignore[arg-type]
    document.update(extra or {})
    event = OutboxEvent.objects.create(
        webhook_id=signing.new_message_id(),
        event_type=event_type,
        grant=grant,
        grant_version=grant.version if grant is not None else None,
        body=signing.event_body(event_type=event_type, occurred_at=now, data=document),
        occurred_at=now,
    )
    if endpoints is None:
        centers = {grant.center_id} if grant is not None else set()
        centers |= {center.pk for center in also_centers}
        endpoints = WebhookEndpoint.objects.filter(center_id__in=centers)
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                event=event,
                endpoint=endpoint,
                grant=grant,
                grant_version=event.grant_version,
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint in endpoints
        ]
    )
    if deliveries:
        _nudge(event.pk)
    return event


def _lock(grant: Grant) -> Grant:
    return Grant.objects.select_for_update().get(pk=grant.pk)


def _changed(
    grant: Grant,
    *,
    event_type: str,
    extra: dict[str, Any] | None = None,
    also_centers: Sequence[Center] = (),
) -> OutboxEvent:
    """Save a locked grant one version up and announce it."""
    grant.version += 1
    grant.save()
    return outbox_event_record(
        event_type=event_type, grant=grant, extra=extra, also_centers=also_centers
    )


def _founder_notify(grant: Grant, kind: str, context: dict[str, Any] | None = None) -> None:
    from applications.services import status_url_for

    application = grant.application
    notification_send(
        kind=kind,
        to_email=application.email,
        language=application.language,
        context={
            "application": application,
            "grant": grant,
            "status_url": status_url_for(application),
            **(context or {}),
        },
        related=grant,
    )


def _staff_alert(kind: str, context: dict[str, Any], related) -> None:
    for address in settings.STAFF_ALERT_EMAILS:
        notification_send(
            kind=kind,
            to_email=address,
            language=settings.LANGUAGE_CODE,
            context=context,
            related=related,
        )


# --- allocation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposedGrant:
    entry: Any  # lottery.DrawEntry
    application: Any
    capacity: CenterCapacity | None
    amount: Decimal
    preference: int | None
    note: str = ""


def _winners_without_grant(round) -> list:
    from lottery.selectors import draw_winners

    draw = getattr(round, "draw", None)
    if draw is None:
        return []
    live = Grant.objects.filter(status__in=Grant.LIVE_STATUSES)
    return [
        entry
        for entry in draw_winners(draw=draw).select_related("application")
        if not live.filter(application_id=entry.application_id).exists()
    ]


def grants_allocation_propose(*, round) -> list[ProposedGrant]:
    """Who goes where: each winner without a grant, in rank order, at the first preferred
    center with room, else the center with most room left. Nothing is written."""
    entries = _winners_without_grant(round)
    capacities = {
        c.pk: c
        for c in CenterCapacity.objects.filter(
            round=round, gpu_type__center__is_active=True, gpu_type__unit="gpu_hours"
        ).select_related("gpu_type__center")
    }
    needs = []
    for entry in entries:
        application = entry.application
        preferred = tuple(
            application.center_preferences.order_by("position").values_list(
                "center__code", flat=True
            )
        )
        needs.append(
            allocation.Need(
                key=entry.pk,
                rank=entry.rank,
                amount=allocation.grant_amount(
                    requested=application.gpu_hours_requested,
                    minimum=round.grant_min_gpu_hours,
                    maximum=round.grant_max_gpu_hours,
                ),
                preferred_centers=preferred,
            )
        )
    pools = [
        allocation.Pool(key=c.pk, center=c.gpu_type.center.code, available=c.available)
        for c in capacities.values()
    ]
    by_key = {entry.pk: entry for entry in entries}
    proposal = allocation.propose(needs, pools)
    return [
        ProposedGrant(
            entry=by_key[a.need.key],
            application=by_key[a.need.key].application,
            capacity=capacities.get(a.pool) if a.pool is not None else None,
            amount=a.amount,
            preference=a.preference,
            note=a.note,
        )
        for a in proposal.assignments
    ]


def grant_allocate(
    *,
    application,
    capacity: CenterCapacity,
    amount: Decimal,
    actor: AbstractBaseUser | None,
    draw_entry=None,
    valid_from: date | None = None,
    expires_at: date | None = None,
    billing_account: str = "",
) -> Grant:
    """Offer compute to a winner: reserve it in the ledger, create grant and tranches, write
    ``grant.created`` and tell the founder. Raises ``CapacityExceeded`` if the room is gone."""
    amount = Decimal(amount).quantize(allocation.CENT)
    round = application.round
    now = timezone.now()
    start = valid_from or timezone.localdate()
    with transaction.atomic():
        grant = Grant.objects.create(
            application=application,
            draw_entry=draw_entry,
            center=capacity.gpu_type.center,
            gpu_type=capacity.gpu_type,
            capacity=capacity,
            unit=capacity.gpu_type.unit,
            amount=amount,
            status=Grant.Status.OFFERED,
            version=1,
            valid_from=start,
            expires_at=expires_at or start + timedelta(days=settings.GRANTS_VALIDITY_DAYS),
            offer_expires_at=now + timedelta(days=round.acceptance_window_days),
            offered_at=now,
            billing_account=billing_account,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        commitments = list(application.commitments.order_by("target_date", "kind"))
        amounts = allocation.tranche_amounts(amount, len(commitments))
        Tranche.objects.bulk_create(
            [
                Tranche(
                    grant=grant,
                    number=number,
                    amount=tranche_amount,
                    commitment=commitments[number - 2] if number > 1 else None,
                )
                for number, tranche_amount in enumerate(amounts, start=1)
            ]
        )
        capacity_ledger_post(
            capacity=capacity,
            kind=CapacityEntry.Kind.ALLOCATION,
            amount=amount,
            grant=grant,
            actor=actor,
            reason=f"offer to {application.reference}",
        )
        from milestones.services import milestones_create_for_grant

        milestones_create_for_grant(grant=grant)
        outbox_event_record(event_type="grant.created", grant=grant)
        audit_record(
            actor=actor,
            action="grant.allocated",
            target=grant,
            detail={"amount": str(amount), "center": grant.center.code, "capacity": capacity.pk},
        )
        _founder_notify(grant, "grant_offered")
    return grant


def grants_allocate_confirmed(
    *, round, choices: Sequence[tuple[int, int, Decimal]], actor: AbstractBaseUser | None
) -> list[Grant]:
    """Create the grants staff confirmed: ``(draw_entry_id, capacity_id, amount)`` each.

    All or nothing: if another allocator took the room meanwhile, ``CapacityExceeded`` rolls
    the whole batch back and staff look at a fresh proposal.
    """
    from lottery.models import DrawEntry

    created = []
    with transaction.atomic():
        for entry_id, capacity_id, amount in choices:
            entry = (
                DrawEntry.objects.select_related("application")
                .filter(pk=entry_id, draw__round=round, outcome=DrawEntry.Outcome.WINNER)
                .first()
            )
            if entry is None:
                raise GrantError("An entrant in this proposal is no longer a winner.")
            capacity = CenterCapacity.objects.select_related("gpu_type__center").get(
                pk=capacity_id, round=round
            )
            created.append(
                grant_allocate(
                    application=entry.application,
                    capacity=capacity,
                    amount=amount,
                    actor=actor,
                    draw_entry=entry,
                )
            )
    return created


# --- the founder's answer and expiry ----------------------------------------------------------


def grant_accept(*, grant: Grant, actor: AbstractBaseUser | None = None) -> Grant:
    """The founder accepts the offer: the acceptance tranche is released at once."""
    with transaction.atomic():
        locked = _lock(grant)
        if locked.status != Grant.Status.OFFERED:
            raise GrantError("This offer is no longer open.")
        now = timezone.now()
        if locked.offer_expires_at <= now:
            raise GrantError("The time to accept this offer has passed.")
        locked.status = (
            Grant.Status.ACTIVE
            if locked.valid_from <= timezone.localdate()
            else Grant.Status.ACCEPTED
        )
        locked.accepted_at = now
        locked.save()
        audit_record(actor=actor, action="grant.accepted", target=locked, actor_label="founder")
        first = locked.tranches.filter(state=Tranche.State.PENDING).order_by("number").first()
        if first is not None:
            tranche_release(tranche=first, actor=actor, reason="accepted")
        else:
            _changed(locked, event_type="grant.amended", extra={"reason": "accepted"})
        locked.refresh_from_db()
        from letters.services import letter_schedule

        letter_schedule(grant=locked)
    grant.refresh_from_db()
    return grant


def _end_offer(
    grant: Grant, *, status: str, event_type: str, reason: str, withdraw_reason: str, actor
) -> Grant:
    locked = _lock(grant)
    if locked.status != Grant.Status.OFFERED:
        raise GrantError("This offer is no longer open.")
    unreleased = locked.unreleased
    locked.tranches.filter(state=Tranche.State.PENDING).update(
        state=Tranche.State.FORFEITED, forfeited_at=timezone.now(), reason=reason
    )
    if unreleased > 0:
        capacity_ledger_post(
            capacity=locked.capacity,
            kind=CapacityEntry.Kind.RETURN,
            amount=unreleased,
            grant=locked,
            actor=actor,
            reason=reason,
        )
    locked.status = status
    locked.ended_at = timezone.now()
    locked.end_reason = reason
    _changed(locked, event_type=event_type, extra={"reason": reason})
    audit_record(
        actor=actor,
        action=f"grant.{status}",
        target=locked,
        detail={"reason": reason, "returned": str(unreleased)},
        actor_label="" if actor else ("founder" if status == "declined" else "worker"),
    )
    if locked.draw_entry_id:
        from lottery.services import entry_withdraw

        entry_withdraw(entry=locked.draw_entry, reason=withdraw_reason, actor=actor)
    return locked


def grant_decline(*, grant: Grant, actor: AbstractBaseUser | None = None) -> Grant:
    """The founder declines: capacity returns to the pool and the seat goes to the waitlist."""
    with transaction.atomic():
        _end_offer(
            grant,
            status=Grant.Status.DECLINED,
            event_type="grant.revoked",
            reason="declined by the founder",
            withdraw_reason="declined",
            actor=actor,
        )
    grant.refresh_from_db()
    return grant


def grant_expire(*, grant: Grant) -> bool:
    """An offer left unanswered past the acceptance window expires (idempotent)."""
    with transaction.atomic():
        locked = _lock(grant)
        if locked.status != Grant.Status.OFFERED or locked.offer_expires_at > timezone.now():
            return False
        _end_offer(
            locked,
            status=Grant.Status.EXPIRED,
            event_type="grant.expired",
            reason="not accepted within the acceptance window",
            withdraw_reason="not_accepted",
            actor=None,
        )
        _founder_notify(locked, "grant_offer_expired")
    return True


def grants_lifecycle_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Expire unanswered offers, activate accepted grants whose validity began, complete
    grants whose validity ended (their unreleased compute returns to the pool)."""
    moment = now or timezone.now()
    today = timezone.localdate(moment)
    counts = {"expired": 0, "activated": 0, "completed": 0}
    for grant in Grant.objects.filter(status=Grant.Status.OFFERED, offer_expires_at__lte=moment):
        counts["expired"] += grant_expire(grant=grant)
    for grant in Grant.objects.filter(status=Grant.Status.ACCEPTED, valid_from__lte=today):
        with transaction.atomic():
            locked = _lock(grant)
            if locked.status == Grant.Status.ACCEPTED:
                locked.status = Grant.Status.ACTIVE
                _changed(locked, event_type="grant.amended", extra={"reason": "validity began"})
                counts["activated"] += 1
    for grant in Grant.objects.filter(status=Grant.Status.ACTIVE, expires_at__lt=today):
        with transaction.atomic():
            locked = _lock(grant)
            if locked.status != Grant.Status.ACTIVE:
                continue
            pending = list(locked.tranches.filter(state=Tranche.State.PENDING))
            _forfeit(locked, pending, actor=None, reason="validity ended")
            locked.status = Grant.Status.COMPLETED
            locked.ended_at = moment
            _changed(locked, event_type="grant.amended", extra={"reason": "validity ended"})
            audit_record(actor=None, action="grant.completed", target=locked, actor_label="worker")
            counts["completed"] += 1
    return counts


# --- tranches ---------------------------------------------------------------------------------


def tranche_release(
    *, tranche: Tranche, actor: AbstractBaseUser | None = None, reason: str
) -> bool:
    """Release one tranche to the founder (idempotent: False if it was already released)."""
    with transaction.atomic():
        grant = _lock(tranche.grant)
        locked = Tranche.objects.select_for_update().get(pk=tranche.pk)
        if locked.state == Tranche.State.RELEASED:
            return False
        if locked.state != Tranche.State.PENDING:
            raise GrantError("A forfeited tranche cannot be released.")
        if grant.status not in (Grant.Status.ACCEPTED, Grant.Status.ACTIVE):
            raise GrantError("Only an accepted grant releases compute.")
        locked.state = Tranche.State.RELEASED
        locked.released_at = timezone.now()
        locked.reason = reason[:300]
        locked.save()
        capacity_ledger_post(
            capacity=grant.capacity,
            kind=CapacityEntry.Kind.RELEASE,
            amount=locked.amount,
            grant=grant,
            tranche=locked,
            actor=actor,
            reason=reason,
        )
        _changed(
            grant,
            event_type="grant.tranche_released",
            extra={
                "tranche": {"number": locked.number, "amount": _money(locked.amount)},
                "reason": reason,
            },
        )
        audit_record(
            actor=actor,
            action="tranche.released",
            target=locked,
            detail={"grant": grant.pk, "amount": str(locked.amount), "reason": reason},
            actor_label="" if actor else "worker",
        )
        _founder_notify(grant, "grant_tranche_released", {"tranche": locked})
    tranche.refresh_from_db()
    return True


def _forfeit(grant: Grant, tranches: Sequence[Tranche], *, actor, reason: str) -> Decimal:
    total = Decimal(0)
    now = timezone.now()
    for tranche in tranches:
        locked = Tranche.objects.select_for_update().get(pk=tranche.pk)
        if locked.state != Tranche.State.PENDING:
            continue
        locked.state = Tranche.State.FORFEITED
        locked.forfeited_at = now
        locked.reason = reason[:300]
        locked.save()
        total += locked.amount
    if total > 0:
        capacity_ledger_post(
            capacity=grant.capacity,
            kind=CapacityEntry.Kind.RETURN,
            amount=total,
            grant=grant,
            actor=actor,
            reason=reason,
        )
    return total


def tranches_forfeit(
    *, grant: Grant, tranches: Sequence[Tranche], actor: AbstractBaseUser | None, reason: str
) -> None:
    """Give up unreleased tranches (a missed milestone): compute returns to the pool."""
    with transaction.atomic():
        locked = _lock(grant)
        returned = _forfeit(locked, tranches, actor=actor, reason=reason)
        if returned == 0:
            return
        _changed(locked, event_type="grant.amended", extra={"reason": reason})
        audit_record(
            actor=actor,
            action="tranches.forfeited",
            target=locked,
            detail={"returned": str(returned), "tranches": [t.number for t in tranches]},
            actor_label="" if actor else "worker",
        )


# --- staff changes ----------------------------------------------------------------------------


def grant_amend(
    *,
    grant: Grant,
    actor: AbstractBaseUser | None,
    reason: str,
    amount: Decimal | None = None,
    capacity: CenterCapacity | None = None,
) -> Grant:
    """Change the amount and/or move the grant to another center's capacity, with a reason.

    Pending tranches are rescaled in proportion; released compute is never taken back. A move
    to another center is possible only while nothing has been released there.
    """
    if not reason.strip():
        raise GrantError("Say why the grant changes.")
    with transaction.atomic():
        locked = _lock(grant)
        if locked.status not in (Grant.Status.OFFERED, Grant.Status.ACCEPTED, Grant.Status.ACTIVE):
            raise GrantError("Only an open or running grant can be amended.")
        released = locked.released
        new_amount = (
            Decimal(amount).quantize(allocation.CENT) if amount is not None else locked.amount
        )
        if new_amount < released or new_amount <= 0:
            raise GrantError(f"The amount cannot go below what is already released ({released}).")
        old_capacity = locked.capacity
        new_capacity = capacity or old_capacity
        moving = new_capacity.pk != old_capacity.pk
        if moving and released > 0:
            raise GrantError("Compute was already released at this center; revoke and reallocate.")
        if moving and new_capacity.gpu_type.unit != old_capacity.gpu_type.unit:
            raise GrantError("The new capacity is counted in another unit.")
        old_reserved = locked.amount - released
        new_reserved = new_amount - released
        # Lock both capacity rows in id order so two amendments cannot deadlock.
        list(
            CenterCapacity.objects.select_for_update()
            .filter(pk__in={old_capacity.pk, new_capacity.pk})
            .order_by("pk")
        )
        if moving:
            if old_reserved > 0:
                capacity_ledger_post(
                    capacity=old_capacity,
                    kind="return",
                    amount=old_reserved,
                    grant=locked,
                    actor=actor,
                    reason=f"moved: {reason}",
                )
            if new_reserved > 0:
                capacity_ledger_post(
                    capacity=new_capacity,
                    kind="allocation",
                    amount=new_reserved,
                    grant=locked,
                    actor=actor,
                    reason=f"moved: {reason}",
                )
        elif new_reserved > old_reserved:
            capacity_ledger_post(
                capacity=new_capacity,
                kind="allocation",
                amount=new_reserved - old_reserved,
                grant=locked,
                actor=actor,
                reason=reason,
            )
        elif new_reserved < old_reserved:
            capacity_ledger_post(
                capacity=new_capacity,
                kind="return",
                amount=old_reserved - new_reserved,
                grant=locked,
                actor=actor,
                reason=reason,
            )
        pending = list(locked.tranches.filter(state=Tranche.State.PENDING).order_by("number"))
        for tranche, value in zip(
            pending,
            allocation.rescale_pending([t.amount for t in pending], new_reserved),
            strict=True,
        ):
            tranche.amount = value
            tranche.save()
        old_center = locked.center
        detail = {
            "reason": reason,
            "amount": [str(locked.amount), str(new_amount)],
            "center": [old_center.code, new_capacity.gpu_type.center.code],
        }
        locked.amount = new_amount
        locked.capacity = new_capacity
        locked.gpu_type = new_capacity.gpu_type
        locked.center = new_capacity.gpu_type.center
        locked.unit = new_capacity.gpu_type.unit
        _changed(
            locked,
            event_type="grant.amended",
            extra={"reason": reason},
            also_centers=[old_center] if moving else (),
        )
        audit_record(actor=actor, action="grant.amended", target=locked, detail=detail)
        from letters.services import letter_schedule

        letter_schedule(grant=locked)
    grant.refresh_from_db()
    return grant


def grant_revoke(*, grant: Grant, actor: AbstractBaseUser | None, reason: str) -> Grant:
    """Take back a grant: unreleased compute returns to the pool, the center is told."""
    if not reason.strip():
        raise GrantError("Say why the grant is revoked.")
    with transaction.atomic():
        locked = _lock(grant)
        if locked.status in Grant.ENDED_STATUSES:
            raise GrantError("This grant has already ended.")
        now = timezone.now()
        pending = list(locked.tranches.filter(state=Tranche.State.PENDING))
        unreleased = sum((t.amount for t in pending), Decimal(0))
        locked.tranches.filter(state=Tranche.State.PENDING).update(
            state=Tranche.State.FORFEITED, forfeited_at=now, reason=f"revoked: {reason}"[:300]
        )
        if unreleased > 0:
            capacity_ledger_post(
                capacity=locked.capacity,
                kind=CapacityEntry.Kind.REVOCATION,
                amount=unreleased,
                grant=locked,
                actor=actor,
                reason=reason,
            )
        locked.status = Grant.Status.REVOKED
        locked.ended_at = now
        locked.end_reason = reason[:300]
        _changed(locked, event_type="grant.revoked", extra={"reason": reason})
        audit_record(
            actor=actor,
            action="grant.revoked",
            target=locked,
            detail={"reason": reason, "returned": str(unreleased)},
        )
        from letters.services import letter_schedule

        letter_schedule(grant=locked)
    grant.refresh_from_db()
    return grant


# --- usage reported by centers ----------------------------------------------------------------


def usage_report_record(
    *,
    center: Center,
    report_id: str,
    grant_id: int,
    period_start: date,
    period_end: date,
    used: Decimal,
) -> tuple[UsageReport, bool]:
    """Store one usage report; the same report id again changes nothing (returns created=False)."""
    with transaction.atomic():
        existing = UsageReport.objects.filter(center=center, report_id=report_id).first()
        if existing is not None:
            return existing, False
        grant = Grant.objects.select_for_update().filter(pk=grant_id, center=center).first()
        if grant is None:
            raise GrantError("No grant with this id at this center.")
        report = UsageReport.objects.create(
            center=center,
            grant=grant,
            report_id=report_id,
            period_start=period_start,
            period_end=period_end,
            used=Decimal(used),
        )
        Grant.objects.filter(pk=grant.pk).update(last_usage_at=timezone.now())
        audit_record(
            actor=None,
            action="usage.reported",
            target=grant,
            detail={"report_id": report_id, "used": str(used)},
            actor_label=f"center {center.code}",
        )
    return report, True


# --- webhook delivery -------------------------------------------------------------------------

_http = threading.local()
LEASE = timedelta(seconds=60)  # longer than the 15 s timeout: a dead worker's claim runs out


def _session() -> requests.Session:
    session = getattr(_http, "session", None)
    if session is None:
        session = _http.session = requests.Session()
    return session


def deliveries_claim(
    *,
    now: datetime | None = None,
    limit: int = 50,
    event_id: int | None = None,
    endpoint_id: int | None = None,
    grant_id: int | None = None,
    exclude: Iterable[int] = (),
) -> list[int]:
    """Claim due deliveries for this worker: rows are locked with SKIP LOCKED so concurrent
    workers take different ones, then leased by moving ``next_attempt_at`` a minute ahead.

    A delivery waits while an earlier version of the same grant is still pending for the
    same endpoint, so a center receives each grant's versions in order.
    """
    moment = now or timezone.now()
    earlier_pending = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        grant_id=OuterRef("grant_id"),
        grant_version__lt=OuterRef("grant_version"),
        status=WebhookDelivery.Status.PENDING,
    )
    due = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=moment,
        endpoint__is_active=True,
    ).filter(~Exists(earlier_pending))
    if event_id is not None:
        due = due.filter(event_id=event_id)
    if endpoint_id is not None:
        due = due.filter(endpoint_id=endpoint_id, grant_id=grant_id)
    excluded = list(exclude)
    if excluded:
        due = due.exclude(pk__in=excluded)
    with transaction.atomic():
        ids = list(
            due.select_for_update(skip_locked=True, of=("self",))
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=moment + LEASE)
    return ids


def delivery_send(*, delivery_id: int) -> DeliveryAttempt | None:
    """One signed POST of a claimed delivery, then its outcome recorded."""
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    if delivery.status != WebhookDelivery.Status.PENDING:
        return None
    event, endpoint = delivery.event, delivery.endpoint
    started = timezone.now()
    headers = signing.sign_headers(
        msg_id=event.webhook_id, body=event.body, secrets=endpoint.signing_secrets(now=started)
    )
    status_code: int | None = None
    excerpt = error = ""
    retry_after: timedelta | None = None
    clock = time.monotonic()
    try:
        response = _session().post(
            endpoint.url,
            data=event.body.encode("utf-8"),
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        status_code = response.status_code
        excerpt = response.text[:500]
        if status_code in (429, 503):
            retry_after = signing.parse_retry_after(response.headers.get("Retry-After"))
    except requests.Timeout:
        error = f"no answer within {settings.WEBHOOK_TIMEOUT_SECONDS} s"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    duration_ms = int((time.monotonic() - clock) * 1000)
    return delivery_attempt_record(
        delivery_id=delivery_id,
        started_at=started,
        duration_ms=duration_ms,
        status_code=status_code,
        error=error,
        response_excerpt=excerpt,
        retry_after=retry_after,
    )


def delivery_attempt_record(
    *,
    delivery_id: int,
    started_at: datetime,
    duration_ms: int,
    status_code: int | None,
    error: str = "",
    response_excerpt: str = "",
    retry_after: timedelta | None = None,
) -> DeliveryAttempt:
    """Record one attempt and decide what happens next, per the contract's retry rules."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint", "event")
            .get(pk=delivery_id)
        )
        now = timezone.now()
        number = delivery.attempts + 1
        succeeded = status_code is not None and 200 <= status_code < 300
        next_at: datetime | None = None
        delivery.attempts = number
        delivery.last_attempt_at = started_at
        delivery.last_status_code = status_code
        if succeeded:
            delivery.status = WebhookDelivery.Status.SUCCEEDED
            delivery.delivered_at = now
        elif status_code == 410:
            # The center says this URL is gone: stop sending there; deliveries wait for staff.
            # Staff hear it once, from the attempt that disabled it (others may be in flight).
            was_active = (
                WebhookEndpoint.objects.select_for_update()
                .filter(pk=delivery.endpoint_id, is_active=True)
                .exists()
            )
            endpoint_disable(endpoint=delivery.endpoint, actor=None, reason="410 Gone from center")
            next_at = now
            if was_active:
                _staff_alert(
                    "webhook_endpoint_gone",
                    {"endpoint": delivery.endpoint, "delivery": delivery},
                    delivery.endpoint,
                )
        else:
            delay = signing.retry_delay(number + 1, scale=settings.WEBHOOK_RETRY_SCALE)
            if delay is None:
                delivery.status = WebhookDelivery.Status.FAILED
                delivery.failed_at = now
                _staff_alert(
                    "webhook_delivery_failed",
                    {
                        "delivery": delivery,
                        "event": delivery.event,
                        "endpoint": delivery.endpoint,
                        "last_error": error or f"HTTP {status_code}",
                    },
                    delivery,
                )
            else:
                if retry_after is not None:
                    # Honour the center's Retry-After, but never sooner than the schedule says.
                    delay = max(delay, min(retry_after, timedelta(hours=24)))
                next_at = now + delay
        delivery.next_attempt_at = next_at
        delivery.save()
        attempt = DeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=started_at,
            duration_ms=duration_ms,
            status_code=status_code,
            error=error,
            response_excerpt=response_excerpt,
            succeeded=succeeded,
            next_attempt_at=next_at,
        )
    return attempt


def deliveries_send_due(
    *, event_id: int | None = None, now: datetime | None = None, time_budget: float = 50.0
) -> int:
    """Send what is due, once each in this pass; after a success the same grant's next
    version for that endpoint follows at once. Returns the number of attempts made."""
    sent = 0
    # Only deliveries that stayed pending can come due again within this pass; delivered ones
    # leave the queue by themselves, so the exclusion list stays short on a big drain.
    retry_later: set[int] = set()
    deadline = time.monotonic() + time_budget
    batch = settings.WEBHOOK_CLAIM_BATCH

    def send(delivery_id: int) -> DeliveryAttempt | None:
        nonlocal sent
        sent += 1
        attempt = delivery_send(delivery_id=delivery_id)
        if attempt is None or not attempt.succeeded:
            retry_later.add(delivery_id)
        return attempt

    more = True
    while more and time.monotonic() < deadline:
        ids = deliveries_claim(now=now, limit=batch, event_id=event_id, exclude=retry_later)
        # An event's deliveries that fit in one claim need no second query.
        more = bool(ids) and (event_id is None or len(ids) == batch)
        for delivery_id in ids:
            attempt = send(delivery_id)
            while attempt is not None and attempt.succeeded and time.monotonic() < deadline:
                delivery = attempt.delivery
                if delivery.grant_id is None:
                    break
                follow = deliveries_claim(
                    now=now,
                    limit=1,
                    endpoint_id=delivery.endpoint_id,
                    grant_id=delivery.grant_id,
                    exclude=retry_later,
                )
                if not follow:
                    break
                attempt = send(follow[0])
    return sent


def deliveries_nudge(*, event_id: int) -> int:
    """After a commit: send this event's deliveries at once, then help with whatever else is
    due for a moment. Under a backlog every queued nudge thus drains many rows instead of one,
    and the nudges behind it find nothing left and finish at once."""
    sent = deliveries_send_due(event_id=event_id)
    return sent + deliveries_send_due(time_budget=settings.WEBHOOK_NUDGE_HELP_SECONDS)


def deliveries_sweep() -> int:
    """The periodic sweep: send everything due; if the time budget ran out with work left,
    queue the next sweep at once instead of waiting for the next beat."""
    sent = deliveries_send_due()
    more = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=timezone.now(),
        endpoint__is_active=True,
    ).exists()
    if more and sent:
        from .tasks import webhooks_sweep_task

        webhooks_sweep_task.delay()
    return sent


def _resend(delivery: WebhookDelivery) -> None:
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.attempts = 0
    delivery.failed_at = None
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "failed_at", "next_attempt_at"])
    _nudge(delivery.event_id)


def delivery_resend(*, delivery: WebhookDelivery, actor: AbstractBaseUser | None) -> None:
    """Send again with the same ``webhook-id`` (a center that has it answers 2xx, applies nothing)."""
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        _resend(locked)
        audit_record(
            actor=actor,
            action="delivery.resent",
            target=locked,
            detail={"webhook_id": locked.event.webhook_id},
        )


def deliveries_recover_failed(*, since: datetime, actor: AbstractBaseUser | None) -> int:
    """Resend every delivery that failed since ``since`` (after an outage at a center)."""
    count = 0
    with transaction.atomic():
        for delivery in WebhookDelivery.objects.select_for_update().filter(
            status=WebhookDelivery.Status.FAILED, failed_at__gte=since
        ):
            _resend(delivery)
            audit_record(
                actor=actor,
                action="delivery.recovered",
                target=delivery,
                detail={"since": since.isoformat()},
            )
            count += 1
    return count


def deliveries_resume_for_endpoint(*, endpoint: WebhookEndpoint) -> int:
    """A re-enabled endpoint gets its waiting deliveries at once (called by endpoint_enable)."""
    updated = WebhookDelivery.objects.filter(
        endpoint=endpoint, status=WebhookDelivery.Status.PENDING
    ).update(next_attempt_at=timezone.now())
    from .tasks import webhooks_sweep_task

    # Several sweeps at once so every worker process helps drain the backlog; SKIP LOCKED
    # keeps them on different rows.
    for _ in range(settings.WEBHOOK_SWEEP_FANOUT):
        transaction.on_commit(webhooks_sweep_task.delay, robust=True)
    return updated


def endpoint_ping(*, endpoint: WebhookEndpoint, actor: AbstractBaseUser | None) -> OutboxEvent:
    """Send ``endpoint.ping`` to one endpoint, to test its URL and secret."""
    with transaction.atomic():
        event = outbox_event_record(
            event_type="endpoint.ping",
            data={"center": endpoint.center.code, "endpoint_id": endpoint.pk},
            endpoints=[endpoint],
        )
        audit_record(
            actor=actor, action="endpoint.pinged", target=endpoint, detail={"event": event.pk}
        )
    return event


def webhook_delivery_stats() -> dict[str, int]:
    stats = dict.fromkeys(WebhookDelivery.Status.values, 0)
    for row in WebhookDelivery.objects.values("status").annotate(n=Count("id")):
        stats[row["status"]] = row["n"]
    return stats


__all__ = [
    "GrantError",
    "ProposedGrant",
    "deliveries_claim",
    "deliveries_recover_failed",
    "deliveries_send_due",
    "delivery_resend",
    "delivery_send",
    "endpoint_ping",
    "grant_accept",
    "grant_allocate",
    "grant_amend",
    "grant_decline",
    "grant_expire",
    "grant_payload",
    "grant_revoke",
    "grants_allocate_confirmed",
    "grants_allocation_propose",
    "grants_lifecycle_sweep",
    "outbox_event_record",
    "tranche_release",
    "tranches_forfeit",
    "usage_report_record",
]
