"""Grants with milestones, built through the real services (ledger, tranches, outbox)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from grants.models import Grant
from tests.factories import ApplicationFactory, CommitmentFactory
from tests.grants.factories import CenterCapacityFactory

GRANT_STARTED = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def accepted_grant(
    *,
    kinds=("open_code", "open_weights"),
    amount: str = "1000",
    target_in_days: int = 120,
    capacity=None,
    **application,
) -> Grant:
    """An accepted grant whose founder committed to ``kinds``; it started on 1 March 2026
    so the recorded API answers (May 2026) fall after the start."""
    from grants.services import grant_accept, grant_allocate

    capacity = capacity or CenterCapacityFactory()
    application.setdefault("company_legal_name", "Shanshui AI Technology Co., Ltd.")
    application.setdefault("founder_name", "Li Wei")
    app = ApplicationFactory(round=capacity.round, **application)
    for kind in kinds:
        CommitmentFactory(
            application=app,
            kind=kind,
            target_date=timezone.localdate() + dt.timedelta(days=target_in_days),
        )
    grant = grant_allocate(application=app, capacity=capacity, amount=Decimal(amount), actor=None)
    grant_accept(grant=grant)
    Grant.objects.filter(pk=grant.pk).update(accepted_at=GRANT_STARTED)
    grant.refresh_from_db()
    return grant
