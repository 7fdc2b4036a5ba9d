"""Business actions on centers: the capacity ledger and the billing webhook endpoints."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.services import audit_record
from grants.webhook_signing import generate_secret

from .models import CapacityEntry, Center, CenterCapacity, WebhookEndpoint

SECRET_OVERLAP = timedelta(hours=24)


class CapacityExceeded(Exception):
    """Allocating this much would take the GPU type beyond what it offers to the round."""

    def __init__(self, capacity: CenterCapacity, requested: Decimal) -> None:
        self.capacity = capacity
        self.requested = requested
        super().__init__(f"{capacity}: {requested} requested, only {capacity.available} available")


def capacity_ledger_post(
    *,
    capacity: CenterCapacity,
    kind: str,
    amount: Decimal,
    grant=None,
    tranche=None,
    actor: AbstractBaseUser | None = None,
    reason: str = "",
) -> CapacityEntry:
    """Append one ledger entry and move the reserved total, with the capacity row locked.

    The lock makes two staff allocating at once take turns, so the second sees the first's
    allocation and gets ``CapacityExceeded``; the CheckConstraint ``allocated_within_capacity``
    refuses the write even if a caller forgot the lock.
    """
    amount = Decimal(amount)
    if amount <= 0:
        raise ValueError("ledger amounts are positive; the kind gives the direction")
    sign = CapacityEntry.ALLOCATED_SIGN[kind]
    with transaction.atomic():
        locked = CenterCapacity.objects.select_for_update().get(pk=capacity.pk)
        if sign > 0 and amount > locked.available:
            raise CapacityExceeded(locked, amount)
        if sign:
            CenterCapacity.objects.filter(pk=locked.pk).update(
                allocated=F("allocated") + sign * amount
            )
        entry = CapacityEntry.objects.create(
            capacity=locked,
            kind=kind,
            amount=amount,
            grant=grant,
            tranche=tranche,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            reason=reason[:300],
        )
        locked.refresh_from_db(fields=["allocated"])
        capacity.allocated = locked.allocated
    return entry


def capacity_set(
    *, capacity: CenterCapacity, new_capacity: Decimal, actor: AbstractBaseUser | None, reason: str
) -> CenterCapacity:
    """Change what a GPU type offers to a round; never below what is already allocated."""
    with transaction.atomic():
        locked = CenterCapacity.objects.select_for_update().get(pk=capacity.pk)
        if Decimal(new_capacity) < locked.allocated:
            raise CapacityExceeded(locked, locked.allocated - Decimal(new_capacity))
        old = locked.capacity
        locked.capacity = Decimal(new_capacity)
        locked.save(update_fields=["capacity"])
        audit_record(
            actor=actor,
            action="capacity.set",
            target=locked,
            detail={"from": str(old), "to": str(locked.capacity), "reason": reason},
        )
    return locked


def endpoint_create(
    *, center: Center, url: str, actor: AbstractBaseUser | None, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new billing endpoint with a fresh secret; the secret is returned to be shown once."""
    secret = generate_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            center=center, url=url, description=description, secret=secret
        )
        audit_record(actor=actor, action="endpoint.created", target=endpoint, detail={"url": url})
    return endpoint, secret


def endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, actor: AbstractBaseUser | None, new_secret: str | None = None
) -> str:
    """Replace the secret; the old one stays valid (both signatures sent) for 24 hours."""
    now = timezone.now()
    secret = new_secret or generate_secret()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.previous_secret = locked.secret
        locked.previous_secret_until = now + SECRET_OVERLAP
        locked.secret = secret
        locked.secret_rotated_at = now
        locked.save(
            update_fields=[
                "secret",
                "previous_secret",
                "previous_secret_until",
                "secret_rotated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="endpoint.secret_rotated",
            target=locked,
            detail={"previous_valid_until": locked.previous_secret_until.isoformat()},
        )
    endpoint.refresh_from_db()
    return secret


def endpoint_disable(
    *, endpoint: WebhookEndpoint, actor: AbstractBaseUser | None, reason: str
) -> WebhookEndpoint:
    """Stop sending to an endpoint; its deliveries wait, none are dropped."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.is_active:
            locked.is_active = False
            locked.disabled_at = timezone.now()
            locked.disabled_reason = reason[:300]
            locked.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
            audit_record(
                actor=actor,
                action="endpoint.disabled",
                target=locked,
                detail={"reason": reason},
                actor_label="" if actor else "delivery worker",
            )
    endpoint.refresh_from_db()
    return endpoint


def endpoint_enable(
    *, endpoint: WebhookEndpoint, actor: AbstractBaseUser | None
) -> WebhookEndpoint:
    """Resume an endpoint: its waiting deliveries become due at once."""
    from grants.services import deliveries_resume_for_endpoint

    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if not locked.is_active:
            locked.is_active = True
            locked.disabled_at = None
            locked.disabled_reason = ""
            locked.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
            deliveries_resume_for_endpoint(endpoint=locked)
            audit_record(actor=actor, action="endpoint.enabled", target=locked)
    endpoint.refresh_from_db()
    return endpoint


def center_usage_secret_rotate(*, center: Center, actor: AbstractBaseUser | None) -> str:
    """New secret for the center's usage reports; the old one is accepted for 24 hours."""
    now = timezone.now()
    secret = generate_secret()
    with transaction.atomic():
        locked = Center.objects.select_for_update().get(pk=center.pk)
        if locked.usage_secret:
            locked.usage_secret_previous = locked.usage_secret
            locked.usage_secret_previous_until = now + SECRET_OVERLAP
        locked.usage_secret = secret
        locked.save(
            update_fields=["usage_secret", "usage_secret_previous", "usage_secret_previous_until"]
        )
        audit_record(actor=actor, action="center.usage_secret_rotated", target=locked)
    center.refresh_from_db()
    return secret
