"""Demo grants: capacity for every demo round and grants for the completed demo draw.

The demo centers' billing endpoints point at the reference receiver (centers/demo.py), so when
``manage.py runportal`` starts the worker and the receiver, these grants' webhooks arrive and
the receiver's page shows the credits. Idempotent: a round that has grants is left alone.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model

from applications.models import Round
from centers.models import CenterCapacity, GpuType

from .models import Grant
from .services import (
    grant_accept,
    grant_decline,
    grants_allocate_confirmed,
    grants_allocation_propose,
    usage_report_record,
)

GPU_HOURS_PER_TYPE = Decimal("20000")
TOKENS_PER_TYPE = Decimal("2000000000")


def _capacities() -> int:
    created = 0
    for round_ in Round.objects.all():
        for gpu_type in GpuType.objects.filter(center__is_active=True):
            _, made = CenterCapacity.objects.get_or_create(
                gpu_type=gpu_type,
                round=round_,
                defaults={
                    "capacity": TOKENS_PER_TYPE
                    if gpu_type.unit == GpuType.Unit.TOKENS
                    else GPU_HOURS_PER_TYPE
                },
            )
            created += made
    return created


def _allocate(round_, actor) -> list[Grant]:
    proposal = grants_allocation_propose(round=round_)
    choices = [(p.entry.pk, p.capacity.pk, p.amount) for p in proposal if p.capacity is not None]
    if not choices:
        return []
    return grants_allocate_confirmed(round=round_, choices=choices, actor=actor)


def load_demo(stdout) -> None:
    created = _capacities()
    actor = get_user_model().objects.filter(username="allocator").first()
    made = 0
    for round_ in Round.objects.filter(draw__state="completed"):
        if Grant.objects.filter(capacity__round=round_).exists():
            continue
        grants = _allocate(round_, actor)
        made += len(grants)
        # Show the whole life of a grant: accepted, accepted with usage reported, declined
        # (the seat goes to the waitlist, whose promoted entrant is offered in turn).
        if grants:
            grant_accept(grant=grants[0])
        if len(grants) > 1:
            grant_accept(grant=grants[1])
            usage_report_record(
                center=grants[1].center,
                report_id=f"demo-{grants[1].pk}-week-1",
                grant_id=grants[1].pk,
                period_start=date.today() - timedelta(days=7),
                period_end=date.today(),
                used=Decimal("150"),
            )
        if len(grants) > 2:
            grant_decline(grant=grants[2])
            made += len(_allocate(round_, actor))
    stdout.write(
        f"grants: {Grant.objects.count()} grants ({made} new), "
        f"{CenterCapacity.objects.count()} capacities per round ({created} new)"
    )
