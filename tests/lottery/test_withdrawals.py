"""Withdrawals and promotions follow the spec, are published in the record and notified."""

from __future__ import annotations

import pytest
from django.utils import translation

from core.models import AuditEvent
from lottery import selectors, services
from lottery import verify_draw as verifier
from notifications.models import Notification
from tests.lottery.conftest import add_entrants, make_round, results_of
from tests.lottery.flow import completed_declared_draw

pytestmark = pytest.mark.django_db


def _verified(draw):
    report = verifier.Report(0)
    verifier.verify(selectors.draw_record(draw=draw), report)
    assert report.total == 0, report.problems
    return selectors.draw_record(draw=draw)


def test_declined_winner_is_replaced_by_first_waitlisted_who_is_notified():
    round_ = make_round(winners=2)
    add_entrants(round_, 6)
    draw = completed_declared_draw(round_)
    winner = selectors.draw_winners(draw=draw).first()
    first_waiting = next(e for e in results_of(draw) if e.waitlist_position == 1)
    promoted = services.entry_withdraw(entry=winner, reason="declined")
    assert promoted.reference == first_waiting.reference
    promoted.refresh_from_db()
    assert promoted.outcome == "winner" and promoted.promoted_at is not None
    assert promoted.drawn_outcome == "waitlist" and promoted.waitlist_position == 1
    assert promoted in selectors.draw_winners(draw=draw)
    assert winner not in selectors.draw_winners(draw=draw)
    note = Notification.objects.get(kind="waitlist_promoted")
    assert note.to_email == promoted.application.email
    assert promoted.reference in note.body
    record = _verified(draw)
    assert record["withdrawals"] == [
        {"ref": winner.reference, "reason": "declined", "at": record["withdrawals"][0]["at"]}
    ]
    assert record["promotions"][0]["ref"] == promoted.reference
    assert record["promotions"][0]["replaces"] == winner.reference
    # The results published by the draw never change.
    assert next(r for r in record["results"] if r["ref"] == winner.reference)["outcome"] == "winner"


def test_withdrawing_twice_changes_nothing():
    round_ = make_round(winners=1)
    add_entrants(round_, 3)
    draw = completed_declared_draw(round_)
    winner = selectors.draw_winners(draw=draw).first()
    assert services.entry_withdraw(entry=winner, reason="not_accepted") is not None
    assert services.entry_withdraw(entry=winner, reason="not_accepted") is None
    assert len(_verified(draw)["withdrawals"]) == 1


def test_vacated_reserved_seat_goes_to_the_same_stratum_even_further_down():
    round_ = make_round(winners=2, strata=[("first-time", 1, 1)])
    add_entrants(round_, 12, stratum_of=lambda i: "first-time" if i < 3 else "")
    draw = completed_declared_draw(round_)
    reserved_winner = next(
        e for e in selectors.draw_winners(draw=draw) if e.stratum == "first-time"
    )
    promoted = services.entry_withdraw(entry=reserved_winner, reason="disqualified")
    assert promoted.stratum == "first-time"
    expected = next(
        e for e in results_of(draw) if e.drawn_outcome == "waitlist" and e.stratum == "first-time"
    )
    assert promoted.reference == expected.reference
    _verified(draw)


def test_waitlisted_entrant_withdrawing_frees_no_seat():
    round_ = make_round(winners=1)
    add_entrants(round_, 4)
    draw = completed_declared_draw(round_)
    waiting = next(e for e in results_of(draw) if e.waitlist_position == 1)
    assert services.entry_withdraw(entry=waiting, reason="declined") is None
    winner = selectors.draw_winners(draw=draw).first()
    promoted = services.entry_withdraw(entry=winner, reason="declined")
    assert promoted.waitlist_position == 2
    _verified(draw)


def test_no_one_left_means_no_promotion():
    round_ = make_round(winners=2)
    add_entrants(round_, 2)
    draw = completed_declared_draw(round_)
    assert (
        services.entry_withdraw(entry=selectors.draw_winners(draw=draw).first(), reason="declined")
        is None
    )
    assert selectors.draw_winners(draw=draw).count() == 1
    _verified(draw)


def test_reason_outside_the_spec_is_refused_and_staff_disqualification_needs_a_note(
    django_user_model,
):
    round_ = make_round(winners=1)
    add_entrants(round_, 2)
    draw = completed_declared_draw(round_)
    winner = selectors.draw_winners(draw=draw).first()
    with pytest.raises(services.DrawError):
        services.entry_withdraw(entry=winner, reason="bored")
    staff = django_user_model.objects.create_user("reviewer", is_staff=True)
    # The refusal is shown to staff in their language (zh-hans by default): read it in English.
    with translation.override("en"), pytest.raises(services.DrawError, match="reason"):
        services.entry_withdraw(entry=winner, reason="disqualified", actor=staff, note=" ")
    services.entry_withdraw(entry=winner, reason="disqualified", actor=staff, note="False USCC")
    audit = AuditEvent.objects.get(action="draw.entry_withdrawn")
    assert audit.actor == staff and audit.detail["note"] == "False USCC"
