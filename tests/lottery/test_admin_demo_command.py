"""Staff admin for draws, the offline demo, and manage.py verify_draw."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from applications.models import Application
from lottery import services
from lottery.models import Draw, DrawEntry
from tests.lottery.conftest import add_entrants, make_round, results_of
from tests.lottery.flow import completed_declared_draw

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.cn", "pw")
    client.force_login(user)
    return client


def test_admin_warns_with_the_needs_review_count(staff_client):
    round_ = make_round()
    add_entrants(round_, 2)
    add_entrants(round_, 3, status=Application.Status.NEEDS_REVIEW)
    draw = services.draw_announce(round=round_, now=round_.opens_at)
    page = staff_client.get(f"/en/admin/lottery/draw/{draw.pk}/change/").content.decode()
    assert "3 applications still need review" in page
    listing = staff_client.get("/en/admin/lottery/draw/").content.decode()
    assert draw.draw_id in listing


def test_admin_declared_value_form_records_the_value_once(staff_client):
    round_ = make_round()
    add_entrants(round_, 3)
    draw = services.draw_announce(
        round=round_, beacon_source="declared", beacon_description="3D", now=round_.opens_at
    )
    services.draw_freeze(draw=draw, now=round_.closes_at)
    url = f"/en/admin/lottery/draw/{draw.pk}/declared-value/"
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(url, {"value": "7 4 1", "confirm": "on"})
    assert response.status_code == 302
    draw.refresh_from_db()
    assert draw.beacon_value == "7 4 1"
    again = staff_client.post(url, {"value": "1 1 1", "confirm": "on"})
    assert "already been entered" in again.content.decode()
    draw.refresh_from_db()
    assert draw.beacon_value == "7 4 1"


def test_admin_cannot_edit_or_delete_a_draw(staff_client):
    round_ = make_round()
    add_entrants(round_, 2)
    draw = completed_declared_draw(round_)
    page = staff_client.get(f"/en/admin/lottery/draw/{draw.pk}/change/").content.decode()
    assert 'name="seed"' not in page
    assert staff_client.get(f"/en/admin/lottery/draw/{draw.pk}/delete/").status_code == 403


def test_admin_disqualify_action_asks_for_a_reason_and_promotes(staff_client):
    round_ = make_round(winners=1)
    add_entrants(round_, 3)
    draw = completed_declared_draw(round_)
    winner = DrawEntry.objects.get(draw=draw, outcome="winner")
    data = {"action": "disqualify_action", "_selected_action": [winner.pk]}
    asked = staff_client.post("/en/admin/lottery/drawentry/", data)
    assert "Reason for the disqualification" in asked.content.decode()
    staff_client.post("/en/admin/lottery/drawentry/", {**data, "apply": "1", "note": "Fake USCC"})
    winner.refresh_from_db()
    assert winner.outcome == "withdrawn" and winner.withdrawal_reason == "disqualified"
    assert DrawEntry.objects.get(draw=draw, waitlist_position=1).outcome == "winner"


def test_admin_finds_a_waitlisted_entrant_by_reference_and_disqualifies_them(staff_client):
    """Only winners and changed results are kept as entries: a clerk searching a waitlisted
    reference is told where it stands and offered the disqualification."""
    round_ = make_round(winners=1)
    add_entrants(round_, 4)
    draw = completed_declared_draw(round_)
    waiting = next(e for e in results_of(draw) if e.waitlist_position == 2)
    listed = staff_client.get(f"/en/admin/lottery/drawentry/?q={waiting.reference}")
    page = listed.content.decode()
    assert f"{waiting.reference} is on the waitlist of {draw.draw_id} at position 2" in page
    form_url = (
        f"/en/admin/lottery/drawentry/waitlisted/{draw.draw_id}/{waiting.reference}/disqualify/"
    )
    assert form_url in page
    assert "Reason for the disqualification" in staff_client.get(form_url).content.decode()
    refused = staff_client.post(form_url, {"note": ""})
    assert refused.status_code == 200 and not DrawEntry.objects.filter(rank=waiting.rank).exists()
    staff_client.post(form_url, {"note": "Same founder as another entrant"})
    kept = DrawEntry.objects.get(draw=draw, reference=waiting.reference)
    assert kept.outcome == "withdrawn" and kept.withdrawal_reason == "disqualified"
    assert kept.drawn_outcome == "waitlist" and kept.waitlist_position == 2
    assert DrawEntry.objects.filter(draw=draw, outcome="winner").count() == 1  # no seat freed
    other = next(e for e in results_of(draw) if e.waitlist_position == 3)
    listed = staff_client.get(f"/zh-hans/admin/lottery/drawentry/?q={other.reference}")
    assert f"{other.reference} 在 {draw.draw_id} 的候补名单第 3 位" in listed.content.decode()


def test_verify_draw_command_says_ok_and_fails_on_a_bad_record():
    round_ = make_round(winners=2)
    add_entrants(round_, 5)
    draw = completed_declared_draw(round_)
    out = io.StringIO()
    call_command("verify_draw", draw.draw_id, stdout=out)
    assert "OK: the record matches suanli-draw/1" in out.getvalue()
    with pytest.raises(CommandError, match="No draw"):
        call_command("verify_draw", "missing", stdout=io.StringIO())


def test_demo_has_a_completed_draw_and_an_open_one_offline_and_is_idempotent(settings):
    from applications.demo import load_demo as applications_demo
    from centers.demo import load_demo as centers_demo
    from lottery.demo import load_demo

    settings.LOTTERY_DRAND_BASE_URL = "http://127.0.0.1:9"  # nothing listens: must stay offline
    out = io.StringIO()
    centers_demo(out)
    applications_demo(out)
    load_demo(out)
    completed = Draw.objects.filter(state=Draw.State.COMPLETED)
    assert completed.count() == 1
    assert Draw.objects.filter(
        state=Draw.State.ANNOUNCED, round__closes_at__gt=completed[0].round.closes_at
    ).exists()
    # The dashboard's fairness test has its entrants per day at once, without a worker.
    assert sum(completed[0].entrant_days.values()) == completed[0].entrants_count
    before = list(DrawEntry.objects.values_list("id", "rank", "ticket"))
    load_demo(out)
    assert list(DrawEntry.objects.values_list("id", "rank", "ticket")) == before
    assert Draw.objects.filter(state=Draw.State.COMPLETED).count() == 1
    report = io.StringIO()
    call_command("verify_draw", completed[0].draw_id, stdout=report)
    assert "OK" in report.getvalue()
