"""A grant with tranches behind commitments, made directly (the grants services are tested there)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test import TestCase
from django.utils import timezone

from centers.models import CenterCapacity
from grants.models import Grant, Tranche
from tests.factories import ApplicationFactory, CommitmentFactory, GpuTypeFactory

LEGAL_NAME = "武汉星河智算科技有限公司"


def make_grant(
    *,
    legal_name: str = LEGAL_NAME,
    amount: str = "12000",
    status: str = "accepted",
    application=None,
    draw_entry=None,
) -> Grant:
    if application is None:
        application = ApplicationFactory(company_legal_name=legal_name, uscc="91310110666007217T")
    weights = CommitmentFactory(
        application=application, kind="open_weights", target_date=dt.date(2027, 4, 30)
    )
    paper = CommitmentFactory(
        application=application, kind="paper", target_date=dt.date(2027, 9, 30)
    )
    gpu_type = GpuTypeFactory()
    capacity = CenterCapacity.objects.create(
        gpu_type=gpu_type, round=application.round, capacity=Decimal("100000")
    )
    grant = Grant.objects.create(
        application=application,
        center=gpu_type.center,
        gpu_type=gpu_type,
        capacity=capacity,
        unit="gpu_hours",
        amount=Decimal(amount),
        status=status,
        draw_entry=draw_entry,
        version=1,
        valid_from=dt.date(2026, 12, 1),
        expires_at=dt.date(2027, 11, 30),
        offer_expires_at=timezone.now() + dt.timedelta(days=14),
    )
    third = (Decimal(amount) / 3).quantize(Decimal("0.01"))
    Tranche.objects.create(grant=grant, number=1, amount=Decimal(amount) - 2 * third)
    Tranche.objects.create(grant=grant, number=2, amount=third, commitment=weights)
    Tranche.objects.create(grant=grant, number=3, amount=third, commitment=paper)
    return grant


def completed_draw():
    """A closed round of four eligible applications drawn for two winners, through the lottery
    services with a declared beacon value (the eager task runs the draw)."""
    from lottery import services as lottery_services
    from lottery.models import Draw
    from tests.factories import RoundFactory

    now = timezone.now()
    draw_round = RoundFactory(
        code="wuhan-2026-letters",
        opens_at=now - dt.timedelta(days=30),
        closes_at=now - dt.timedelta(days=1),
        winners=2,
    )
    for _ in range(4):
        ApplicationFactory(round=draw_round)
    draw = lottery_services.draw_announce(
        round=draw_round,
        beacon_source=Draw.BeaconSource.DECLARED,
        beacon_description="SSE Composite Index close on the first trading day after entries close",
        now=now - dt.timedelta(days=29),
    )
    # The draw runs in a task enqueued on commit; in a test transaction, run it explicitly.
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert lottery_services.draw_freeze(draw=draw)
        lottery_services.draw_declared_value_enter(draw=draw, value="3412.56", actor=None)
    draw.refresh_from_db()
    assert draw.state == Draw.State.COMPLETED
    return draw
