"""Reads of capacity; the ledger is the source of truth for what is available."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Case, DecimalField, F, QuerySet, Sum, When

from .models import CapacityEntry, CenterCapacity


def capacity_allocated_from_ledger(*, capacity: CenterCapacity) -> Decimal:
    """Σ allocation − Σ return − Σ revocation, computed from the entries alone."""
    signed = Case(
        *[
            When(kind=kind, then=F("amount") * sign)
            for kind, sign in CapacityEntry.ALLOCATED_SIGN.items()
            if sign
        ],
        default=0,
        output_field=DecimalField(max_digits=18, decimal_places=2),
    )
    total = capacity.entries.aggregate(total=Sum(signed))["total"]
    return Decimal(total or 0)


def capacity_available(*, capacity: CenterCapacity) -> Decimal:
    return capacity.capacity - capacity_allocated_from_ledger(capacity=capacity)


def capacities_for_round(*, round) -> QuerySet[CenterCapacity]:
    return (
        CenterCapacity.objects.filter(round=round, gpu_type__center__is_active=True)
        .select_related("gpu_type__center")
        .order_by("gpu_type__center__code", "gpu_type__code")
    )
