"""Realistic public data for the transparency tests, made through the real services where
there is one (grants, tranches, usage, milestones) and as rows where the service needs the
outside world (a draw needs a randomness beacon)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from applications.models import Application, Round
from centers.models import CenterCapacity
from grants.models import Grant
from lottery import ranking
from lottery.models import RANKING_BLOCK, Draw, DrawEntry, DrawRanking
from milestones.models import Milestone
from tests.factories import ApplicationFactory, CommitmentFactory, GpuTypeFactory


def staff_user():
    user, _created = get_user_model().objects.get_or_create(
        username="transparency-staff", defaults={"is_staff": True}
    )
    return user


def capacity_for(round_: Round, *, center_code: str = "wuhan-ai", amount="1000000"):
    from tests.factories import CenterFactory

    center = CenterFactory(code=center_code, name_zh=f"{center_code}中心", name_en=center_code)
    gpu_type = GpuTypeFactory(center=center)
    capacity, _created = CenterCapacity.objects.get_or_create(
        gpu_type=gpu_type, round=round_, defaults={"capacity": Decimal(amount)}
    )
    return capacity


def grant_made(
    *,
    capacity: CenterCapacity,
    application: Application | None = None,
    amount: str = "1000",
    kinds=("open_weights", "paper"),
    accept: bool = True,
    verify: tuple[str, ...] = (),
    used: str | None = None,
    draw_entry: DrawEntry | None = None,
    **application_fields,
) -> Grant:
    """A grant offered through grants.services; accepted (first tranche released), with the
    milestones in ``verify`` verified by staff (their tranches released) and usage reported."""
    from grants.services import grant_accept, grant_allocate, usage_report_record
    from milestones.services import milestone_evidence_submit, milestone_verify

    if application is None:
        application = ApplicationFactory(round=capacity.round, **application_fields)
    for kind in kinds:
        CommitmentFactory(
            application=application,
            kind=kind,
            target_date=timezone.localdate() + dt.timedelta(days=90),
        )
    grant = grant_allocate(
        application=application,
        capacity=capacity,
        amount=Decimal(amount),
        actor=None,
        draw_entry=draw_entry,
    )
    if accept:
        grant = grant_accept(grant=grant)
    for kind in verify:
        milestone = Milestone.objects.get(grant=grant, kind=kind)
        milestone = milestone_evidence_submit(
            milestone=milestone, url=f"https://github.com/example/{grant.pk}-{kind}"
        )
        milestone_verify(milestone=milestone, actor=staff_user(), reason="checked by hand")
    if used is not None:
        usage_report_record(
            center=grant.center,
            report_id=f"usage-{grant.pk}",
            grant_id=grant.pk,
            period_start=timezone.localdate() - dt.timedelta(days=30),
            period_end=timezone.localdate(),
            used=Decimal(used),
        )
    grant.refresh_from_db()
    return grant


def draw_made(
    round_: Round, entrants: list[tuple[Application, str, str]], *, days_counted: bool = True
) -> Draw:
    """A completed draw with the given (application, stratum, drawn outcome) entrants, in rank
    order, stored as the real draw stores them (ranking blocks, an entry per winner). Rows
    only: running the real draw needs a beacon, tested in tests/lottery."""
    now = timezone.now()
    winners = sum(1 for _a, _s, outcome in entrants if outcome == "winner")
    draw = Draw.objects.create(
        round=round_,
        draw_id=round_.code,
        state=Draw.State.FROZEN,
        winners=max(winners, 1),
        entries_close_at=round_.closes_at,
        beacon_source=Draw.BeaconSource.DECLARED,
        beacon_description="test value",
        announced_at=now,
        entrants_digest="a" * 64,
        entrants_count=len(entrants),
        entrant_counts={"strata": dict(Counter(stratum for _a, stratum, _o in entrants))},
        entrant_days=dict(
            Counter(timezone.localdate(a.submitted_at).isoformat() for a, _s, _o in entrants)
        )
        if days_counted
        else None,
        frozen_at=now,
    )
    positions, waitlist = [], 0
    for _application, _stratum, outcome in entrants:
        waitlist += outcome == "waitlist"
        positions.append(waitlist if outcome == "waitlist" else None)
    tickets = [f"{rank:064x}" for rank in range(1, len(entrants) + 1)]
    for first, last, first_ticket, lines in ranking.blocks_text(
        [a.reference for a, _s, _o in entrants],
        [stratum for _a, stratum, _o in entrants],
        tickets,
        [str(a.pk) for a, _s, _o in entrants],
        positions,
        RANKING_BLOCK,
    ):
        DrawRanking.objects.create(
            draw=draw, first_rank=first, last_rank=last, first_ticket=first_ticket, lines=lines
        )
    for rank, (application, stratum, outcome) in enumerate(entrants, start=1):
        if outcome == "winner":
            DrawEntry.objects.create(
                draw=draw,
                application=application,
                reference=application.reference,
                stratum=stratum,
                ticket=tickets[rank - 1],
                rank=rank,
                drawn_outcome=outcome,
                waitlist_position=None,
                outcome=outcome,
            )
    # Completed after the entries, as the real draw does (the database refuses entries after).
    Draw.objects.filter(pk=draw.pk).update(
        state=Draw.State.COMPLETED,
        beacon_value="test",
        seed="b" * 64,
        winners_drawn=winners,
        completed_at=now,
    )
    draw.refresh_from_db()
    return draw
