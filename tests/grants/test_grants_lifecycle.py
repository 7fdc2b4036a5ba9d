"""Grant lifecycle: offer, accept (first tranche), decline/expiry (capacity back), amend,
revoke, tranche release and forfeit, each recorded with who and why."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from centers.models import CapacityEntry
from centers.services import CapacityExceeded
from core.models import AuditEvent
from grants.models import Grant, OutboxEvent, Tranche
from grants.services import (
    GrantError,
    grant_accept,
    grant_amend,
    grant_decline,
    grant_revoke,
    grants_lifecycle_sweep,
    tranche_release,
    tranches_forfeit,
)
from notifications.models import Notification
from tests.factories import GpuTypeFactory
from tests.grants.factories import CenterCapacityFactory, offered_grant

pytestmark = pytest.mark.django_db


def test_allocation_reserves_capacity_and_splits_tranches_40_then_milestones(capacity):
    grant = offered_grant(capacity=capacity, amount="1000", commitments=3)
    assert grant.status == "offered" and grant.version == 1
    assert [t.amount for t in grant.tranches.order_by("number")] == [
        Decimal("400.00"),
        Decimal("200.00"),
        Decimal("200.00"),
        Decimal("200.00"),
    ]
    assert grant.tranches.filter(commitment__isnull=True).count() == 1
    capacity.refresh_from_db()
    assert capacity.allocated == Decimal("1000")
    entry = CapacityEntry.objects.get(grant=grant)
    assert (entry.kind, entry.amount) == ("allocation", Decimal("1000"))
    assert grant.milestones.filter(tranche__isnull=False).count() == 3
    offer = Notification.objects.get(kind="grant_offered")
    assert offer.to_email == grant.application.email
    assert grant.offer_expires_at > timezone.now() + timedelta(days=13)


def test_allocation_beyond_remaining_capacity_is_refused_and_leaves_nothing(capacity):
    capacity.capacity = Decimal("1500")
    capacity.save()
    offered_grant(capacity=capacity, amount="1000")
    with pytest.raises(CapacityExceeded):
        offered_grant(capacity=capacity, amount="600")
    assert Grant.objects.count() == 1
    assert OutboxEvent.objects.count() == 1


def test_accepting_releases_the_first_tranche(capacity):
    grant = offered_grant(capacity=capacity, amount="1000", commitments=2)
    grant_accept(grant=grant)
    assert grant.status == "active"
    assert grant.accepted_at is not None
    first = grant.tranches.get(number=1)
    assert first.state == "released" and first.released_at
    assert grant.released == Decimal("400.00")
    assert grant.version == 2
    assert CapacityEntry.objects.filter(grant=grant, kind="release").get().amount == Decimal("400")
    assert Notification.objects.filter(kind="grant_tranche_released").exists()
    with pytest.raises(GrantError):
        grant_accept(grant=grant)


def test_expired_offer_cannot_be_accepted(capacity):
    grant = offered_grant(capacity=capacity)
    Grant.objects.filter(pk=grant.pk).update(offer_expires_at=timezone.now() - timedelta(1))
    grant.refresh_from_db()
    with pytest.raises(GrantError):
        grant_accept(grant=grant)


def test_declining_returns_capacity(capacity):
    grant = offered_grant(capacity=capacity, amount="1000")
    grant_decline(grant=grant)
    assert grant.status == "declined"
    capacity.refresh_from_db()
    assert capacity.allocated == 0
    assert CapacityEntry.objects.filter(grant=grant, kind="return").get().amount == Decimal("1000")
    assert set(grant.tranches.values_list("state", flat=True)) == {"forfeited"}
    event = OutboxEvent.objects.get(grant=grant, grant_version=2)
    assert event.event_type == "grant.revoked"
    assert '"status":"declined"' in event.body


def test_sweep_expires_unanswered_offers_and_returns_capacity(capacity):
    grant = offered_grant(capacity=capacity, amount="1000")
    Grant.objects.filter(pk=grant.pk).update(offer_expires_at=timezone.now() - timedelta(1))
    counts = grants_lifecycle_sweep()
    assert counts["expired"] == 1
    grant.refresh_from_db()
    assert grant.status == "expired"
    assert OutboxEvent.objects.get(grant=grant, grant_version=2).event_type == "grant.expired"
    capacity.refresh_from_db()
    assert capacity.allocated == 0
    assert Notification.objects.filter(kind="grant_offer_expired").exists()
    assert grants_lifecycle_sweep()["expired"] == 0


def test_tranche_release_is_idempotent(capacity):
    grant = offered_grant(capacity=capacity, amount="1000", commitments=2)
    grant_accept(grant=grant)
    second = grant.tranches.get(number=2)
    assert tranche_release(tranche=second, reason="milestone verified") is True
    assert tranche_release(tranche=second, reason="milestone verified") is False
    grant.refresh_from_db()
    assert grant.version == 3
    assert grant.released == Decimal("700.00")
    assert CapacityEntry.objects.filter(grant=grant, kind="release").count() == 2


def test_offered_grant_releases_nothing(capacity):
    grant = offered_grant(capacity=capacity, commitments=1)
    with pytest.raises(GrantError):
        tranche_release(tranche=grant.tranches.get(number=2), reason="x")


def test_forfeit_returns_unreleased_compute(capacity, staff_user):
    grant = offered_grant(capacity=capacity, amount="1000", commitments=2)
    grant_accept(grant=grant)
    tranches_forfeit(
        grant=grant,
        tranches=[grant.tranches.get(number=3)],
        actor=staff_user,
        reason="milestone missed",
    )
    grant.refresh_from_db()
    assert grant.version == 3
    capacity.refresh_from_db()
    assert capacity.allocated == Decimal("700")
    assert OutboxEvent.objects.get(grant=grant, grant_version=3).event_type == "grant.amended"


def test_amend_amount_rescales_pending_tranches_and_moves_the_ledger(capacity, staff_user):
    grant = offered_grant(capacity=capacity, amount="1000", commitments=2)
    grant_accept(grant=grant)
    grant_amend(grant=grant, actor=staff_user, reason="scope grew", amount=Decimal("1600"))
    assert grant.amount == Decimal("1600.00")
    assert [t.amount for t in grant.tranches.order_by("number")] == [
        Decimal("400.00"),
        Decimal("600.00"),
        Decimal("600.00"),
    ]
    capacity.refresh_from_db()
    assert capacity.allocated == Decimal("1600")
    audit = AuditEvent.objects.get(action="grant.amended")
    assert audit.actor == staff_user and audit.detail["reason"] == "scope grew"
    with pytest.raises(GrantError):
        grant_amend(grant=grant, actor=staff_user, reason="too low", amount=Decimal("300"))
    with pytest.raises(GrantError):
        grant_amend(grant=grant, actor=staff_user, reason=" ", amount=Decimal("1700"))


def test_amend_moves_an_offer_to_another_center_and_tells_both(capacity, staff_user):
    from centers.models import WebhookEndpoint

    grant = offered_grant(capacity=capacity, amount="1000")
    other_type = GpuTypeFactory(
        center__code="guiyang", center__name_en="Guiyang", code="a800", name="A800"
    )
    other = CenterCapacityFactory(gpu_type=other_type, round=capacity.round)
    WebhookEndpoint.objects.create(center=capacity.gpu_type.center, url="http://127.0.0.1:9/a")
    WebhookEndpoint.objects.create(center=other_type.center, url="http://127.0.0.1:9/b")
    grant_amend(grant=grant, actor=staff_user, reason="preferred center full", capacity=other)
    assert grant.center.code == "guiyang"
    capacity.refresh_from_db()
    other.refresh_from_db()
    assert capacity.allocated == 0 and other.allocated == Decimal("1000")
    event = OutboxEvent.objects.get(grant=grant, grant_version=2)
    assert {d.endpoint.center.code for d in event.deliveries.all()} == {
        capacity.gpu_type.center.code,
        "guiyang",
    }


def test_revoke_returns_unreleased_compute_with_a_revocation_entry(capacity, staff_user):
    grant = offered_grant(capacity=capacity, amount="1000", commitments=2)
    grant_accept(grant=grant)
    grant_revoke(grant=grant, actor=staff_user, reason="terms broken")
    assert grant.status == "revoked"
    revocation = CapacityEntry.objects.get(grant=grant, kind="revocation")
    assert revocation.amount == Decimal("600")
    capacity.refresh_from_db()
    assert capacity.allocated == Decimal("400")
    assert grant.tranches.filter(state=Tranche.State.FORFEITED).count() == 2
    assert AuditEvent.objects.get(action="grant.revoked").actor == staff_user
    with pytest.raises(GrantError):
        grant_revoke(grant=grant, actor=staff_user, reason="again")


def test_one_live_grant_per_application(capacity):
    from django.db import IntegrityError, transaction

    from grants.services import grant_allocate

    grant = offered_grant(capacity=capacity)
    with pytest.raises(IntegrityError), transaction.atomic():
        grant_allocate(
            application=grant.application, capacity=capacity, amount=Decimal("10"), actor=None
        )


def test_sweep_activates_and_completes_grants_by_their_dates(capacity):
    """An accepted grant starts when its validity begins; at its end unreleased compute
    returns to the pool and the grant is completed, each a new version for the center."""
    later = offered_grant(capacity=capacity, amount="1000", commitments=2)
    Grant.objects.filter(pk=later.pk).update(
        valid_from=timezone.localdate() + timedelta(days=3),
        expires_at=timezone.localdate() + timedelta(days=300),
    )
    later.refresh_from_db()
    grant_accept(grant=later)
    assert later.status == "accepted"
    Grant.objects.filter(pk=later.pk).update(valid_from=timezone.localdate())
    assert grants_lifecycle_sweep()["activated"] == 1
    later.refresh_from_db()
    assert later.status == "active" and later.version == 3

    Grant.objects.filter(pk=later.pk).update(
        valid_from=timezone.localdate() - timedelta(days=10),
        expires_at=timezone.localdate() - timedelta(days=1),
    )
    assert grants_lifecycle_sweep()["completed"] == 1
    later.refresh_from_db()
    assert later.status == "completed" and later.version == 4
    assert set(later.tranches.exclude(number=1).values_list("state", flat=True)) == {"forfeited"}
    capacity.refresh_from_db()
    assert capacity.allocated == Decimal("400")
