"""Capacity is a ledger: every movement is an entry and available capacity is derived."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from centers.models import CapacityEntry, CenterCapacity
from centers.selectors import capacity_allocated_from_ledger, capacity_available
from centers.services import CapacityExceeded, capacity_ledger_post, capacity_set
from tests.grants.factories import CenterCapacityFactory

pytestmark = pytest.mark.django_db


def test_allocation_and_return_move_available_and_leave_entries():
    capacity = CenterCapacityFactory(capacity=Decimal("1000"))
    capacity_ledger_post(capacity=capacity, kind="allocation", amount=Decimal("600"))
    capacity_ledger_post(capacity=capacity, kind="release", amount=Decimal("240"))
    capacity_ledger_post(capacity=capacity, kind="return", amount=Decimal("100"))
    capacity.refresh_from_db()
    assert capacity.allocated == Decimal("500")
    assert capacity.available == Decimal("500")
    assert capacity_available(capacity=capacity) == Decimal("500")
    assert list(capacity.entries.values_list("kind", flat=True)) == [
        "allocation",
        "release",
        "return",
    ]


def test_allocating_beyond_capacity_is_refused_and_writes_nothing():
    capacity = CenterCapacityFactory(capacity=Decimal("1000"))
    capacity_ledger_post(capacity=capacity, kind="allocation", amount=Decimal("900"))
    with pytest.raises(CapacityExceeded):
        capacity_ledger_post(capacity=capacity, kind="allocation", amount=Decimal("101"))
    capacity.refresh_from_db()
    assert capacity.allocated == Decimal("900")
    assert capacity.entries.count() == 1


def test_database_refuses_allocated_above_capacity_even_without_the_service():
    """The CheckConstraint is the last line: a raw update past capacity fails."""
    capacity = CenterCapacityFactory(capacity=Decimal("100"))
    with pytest.raises(IntegrityError), transaction.atomic():
        CenterCapacity.objects.filter(pk=capacity.pk).update(allocated=Decimal("100.01"))


def test_ledger_entries_must_be_positive():
    capacity = CenterCapacityFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CapacityEntry.objects.create(capacity=capacity, kind="allocation", amount=Decimal("-1"))


def test_capacity_cannot_shrink_below_allocated():
    capacity = CenterCapacityFactory(capacity=Decimal("1000"))
    capacity_ledger_post(capacity=capacity, kind="allocation", amount=Decimal("700"))
    with pytest.raises(CapacityExceeded):
        capacity_set(capacity=capacity, new_capacity=Decimal("600"), actor=None, reason="x")
    capacity_set(capacity=capacity, new_capacity=Decimal("800"), actor=None, reason="cut")
    capacity.refresh_from_db()
    assert capacity.available == Decimal("100")


def test_denormalised_total_matches_the_ledger():
    capacity = CenterCapacityFactory(capacity=Decimal("5000"))
    for kind, amount in [
        ("allocation", "1000"),
        ("allocation", "700"),
        ("revocation", "300"),
        ("release", "400"),
        ("return", "50"),
    ]:
        capacity_ledger_post(capacity=capacity, kind=kind, amount=Decimal(amount))
    capacity.refresh_from_db()
    assert capacity.allocated == capacity_allocated_from_ledger(capacity=capacity)
    assert capacity.allocated == Decimal("1350")
