"""Reads for the grants app: what staff and the founder see."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Grant, Tranche


def grant_for_application(*, application) -> Grant | None:
    """The founder's live grant if any, else the most recent ended one."""
    grants = Grant.objects.filter(application=application).select_related("center", "gpu_type")
    return grants.filter(status__in=Grant.LIVE_STATUSES).first() or grants.first()


def grants_idle(*, days: int | None = None, now: datetime | None = None) -> QuerySet[Grant]:
    """Running grants with compute released but no usage reported for ``days`` days: the
    compute may be idle or hoarded, so staff should ask."""
    limit = (now or timezone.now()) - timedelta(days=days or settings.GRANTS_IDLE_DAYS)
    return (
        Grant.objects.filter(status__in=[Grant.Status.ACCEPTED, Grant.Status.ACTIVE])
        .annotate(last_seen=Coalesce("last_usage_at", "accepted_at"))
        .filter(Q(last_seen__lt=limit))
    )


def grant_is_idle(grant: Grant, *, days: int | None = None) -> bool:
    return grants_idle(days=days).filter(pk=grant.pk).exists()


def grant_usage_summary(*, grant: Grant) -> dict[str, Decimal]:
    released = grant.tranches.filter(state=Tranche.State.RELEASED).aggregate(s=Sum("amount"))[
        "s"
    ] or Decimal(0)
    used = grant.usage_reports.aggregate(s=Sum("used"))["s"] or Decimal(0)
    share = (used / released * 100).quantize(Decimal("1")) if released else Decimal(0)
    return {"granted": grant.amount, "released": released, "used": used, "used_percent": share}
