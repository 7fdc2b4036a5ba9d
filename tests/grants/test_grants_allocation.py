"""Allocating a completed draw's winners to centers: the pure proposal, the service and the
Allocators' admin action with its confirmation page; declines hand the seat to the waitlist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from applications.models import PreferredCenter
from grants import allocation
from grants.models import Grant
from grants.services import (
    grant_decline,
    grants_allocate_confirmed,
    grants_allocation_propose,
    grants_lifecycle_sweep,
)
from lottery.models import DrawEntry
from tests.factories import ApplicationFactory, GpuTypeFactory, RoundFactory
from tests.grants.factories import CenterCapacityFactory
from tests.lottery.flow import completed_declared_draw

# --- pure proposal -------------------------------------------------------------------------


def test_proposal_follows_preference_then_room_in_rank_order():
    needs = [
        allocation.Need(key=1, rank=1, amount=Decimal(600), preferred_centers=("wuhan",)),
        allocation.Need(key=2, rank=2, amount=Decimal(600), preferred_centers=("wuhan", "gy")),
        allocation.Need(key=3, rank=3, amount=Decimal(600), preferred_centers=()),
        allocation.Need(key=4, rank=4, amount=Decimal(5000), preferred_centers=("wuhan",)),
    ]
    pools = [
        allocation.Pool(key=10, center="wuhan", available=Decimal(1000)),
        allocation.Pool(key=20, center="gy", available=Decimal(1500)),
    ]
    proposal = allocation.propose(needs, pools)
    placed = {a.need.key: (a.center, a.preference) for a in proposal.assignments}
    assert placed[1] == ("wuhan", 1)
    assert placed[2] == ("gy", 2)  # first choice has only 400 left
    assert placed[3] == ("gy", None)  # no preference: the center with most room
    assert placed[4] == (None, None)
    assert proposal.unplaced[0].note == "no center has enough capacity left"


def test_tranches_are_40_percent_then_even_and_always_add_up():
    assert allocation.tranche_amounts(Decimal(1000), 2) == [Decimal("400.00"), 300, 300]
    amounts = allocation.tranche_amounts(Decimal("1000.01"), 3)
    assert sum(amounts) == Decimal("1000.01")
    assert amounts[0] == Decimal("400.00")
    assert allocation.tranche_amounts(Decimal(500), 0) == [Decimal(500)]


def test_grant_size_respects_round_limits():
    assert allocation.grant_amount(requested=50, minimum=100, maximum=5000) == 100
    assert allocation.grant_amount(requested=9000, minimum=100, maximum=5000) == 5000


# --- with a real completed draw ---------------------------------------------------------------


@pytest.fixture
def drawn_round(db):
    """A closed round with five entrants, three winners, and two centers' capacities."""
    now = timezone.now()
    round_ = RoundFactory(
        opens_at=now - dt.timedelta(days=30),
        closes_at=now - dt.timedelta(days=2),
        winners=3,
        grant_min_gpu_hours=100,
        grant_max_gpu_hours=2000,
    )
    wuhan = CenterCapacityFactory(round=round_, capacity=Decimal("2500"))
    guiyang_type = GpuTypeFactory(
        center__code="guiyang", center__name_en="Guiyang", code="a800", name="A800"
    )
    guiyang = CenterCapacityFactory(round=round_, gpu_type=guiyang_type, capacity=Decimal("9000"))
    for index in range(5):
        application = ApplicationFactory(
            round=round_,
            gpu_hours_requested=1500,
            submitted_at=round_.opens_at + dt.timedelta(hours=index + 1),
        )
        PreferredCenter.objects.create(
            application=application, center=wuhan.gpu_type.center, position=1
        )
    completed_declared_draw(round_)
    return round_, wuhan, guiyang


def test_service_proposes_each_winner_once_and_creates_on_confirm(drawn_round):
    round_, wuhan, guiyang = drawn_round
    proposal = grants_allocation_propose(round=round_)
    assert [p.entry.rank for p in proposal] == sorted(p.entry.rank for p in proposal)
    assert len(proposal) == 3
    centers = [p.capacity.gpu_type.center.code for p in proposal]
    assert centers == ["wuhan-ai", "guiyang", "guiyang"]  # 2,500 fits one 1,500 at Wuhan
    assert proposal[0].preference == 1 and proposal[1].preference is None
    grants = grants_allocate_confirmed(
        round=round_,
        choices=[(p.entry.pk, p.capacity.pk, p.amount) for p in proposal],
        actor=None,
    )
    assert len(grants) == 3
    assert all(g.draw_entry_id for g in grants)
    assert grants_allocation_propose(round=round_) == []
    wuhan.refresh_from_db()
    guiyang.refresh_from_db()
    assert wuhan.allocated == Decimal("1500") and guiyang.allocated == Decimal("3000")


def test_decline_hands_the_seat_to_the_waitlist_and_the_promoted_is_proposed(drawn_round):
    round_, _, _ = drawn_round
    proposal = grants_allocation_propose(round=round_)
    grants = grants_allocate_confirmed(
        round=round_,
        choices=[(p.entry.pk, p.capacity.pk, p.amount) for p in proposal],
        actor=None,
    )
    declined = grants[0]
    grant_decline(grant=declined)
    entry = DrawEntry.objects.get(pk=declined.draw_entry_id)
    assert entry.outcome == "withdrawn" and entry.withdrawal_reason == "declined"
    again = grants_allocation_propose(round=round_)
    assert len(again) == 1
    assert again[0].entry.promoted_at is not None
    # The returned capacity is available again: the promoted winner gets the first choice.
    assert again[0].capacity.gpu_type.center.code == "wuhan-ai"


def test_expiry_withdraws_the_entry_as_not_accepted(drawn_round):
    round_, _, _ = drawn_round
    proposal = grants_allocation_propose(round=round_)
    grants = grants_allocate_confirmed(
        round=round_,
        choices=[(p.entry.pk, p.capacity.pk, p.amount) for p in proposal[:1]],
        actor=None,
    )
    Grant.objects.filter(pk=grants[0].pk).update(
        offer_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert grants_lifecycle_sweep()["expired"] == 1
    entry = DrawEntry.objects.get(pk=grants[0].draw_entry_id)
    assert entry.withdrawal_reason == "not_accepted"


# --- the admin action ---------------------------------------------------------------------------


@pytest.fixture
def allocator(django_user_model):
    user = django_user_model.objects.create_user("alloc", "a@example.cn", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Allocators"))
    return user


def test_allocators_see_the_proposal_and_create_grants_on_confirm(client, allocator, drawn_round):
    round_, _, _ = drawn_round
    client.force_login(allocator)
    page = client.get(f"/en/admin/grants/grant/allocate/?round={round_.code}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Confirm and create the grants" in html
    assert Grant.objects.count() == 0  # a proposal writes nothing
    proposal = grants_allocation_propose(round=round_)
    shown = [f"{p.entry.pk}:{p.capacity.pk}:{p.amount}" for p in proposal]
    assert all(f'value="{choice}"' in html for choice in shown)
    response = client.post(
        "/en/admin/grants/grant/allocate/",
        {"round": round_.code, "confirm": "yes", "choice": shown[:2]},
    )
    assert response.status_code == 302
    assert Grant.objects.count() == 2
    assert set(Grant.objects.values_list("created_by", flat=True)) == {allocator.pk}
    from core.models import AuditEvent

    assert AuditEvent.objects.filter(action="grant.allocated", actor=allocator).count() == 2


def test_confirming_a_stale_proposal_creates_nothing(client, allocator, drawn_round):
    """Two allocators confirm the same proposal: the second finds the seats taken and the
    page says so; nothing is created twice."""
    round_, _, _ = drawn_round
    client.force_login(allocator)
    shown = [
        f"{p.entry.pk}:{p.capacity.pk}:{p.amount}" for p in grants_allocation_propose(round=round_)
    ]
    form = {"round": round_.code, "confirm": "yes", "choice": shown}
    client.post("/en/admin/grants/grant/allocate/", form)
    assert Grant.objects.count() == 3
    response = client.post("/en/admin/grants/grant/allocate/", form, follow=True)
    assert "nothing was created" in response.content.decode()
    assert Grant.objects.count() == 3


def test_staff_outside_allocators_cannot_allocate(client, django_user_model, drawn_round):
    round_, _, _ = drawn_round
    reviewer = django_user_model.objects.create_user("rev", "r@example.cn", "pw", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    client.force_login(reviewer)
    assert client.get(f"/en/admin/grants/grant/allocate/?round={round_.code}").status_code == 403
