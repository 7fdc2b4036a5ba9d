"""A completed draw can never be re-run or edited: the database itself refuses, not only
the services and the admin."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from lottery import services
from lottery.models import Draw, DrawEntry, DrawEvent, DrawRanking
from tests.factories import ApplicationFactory
from tests.lottery.conftest import add_entrants, make_round, results_of
from tests.lottery.flow import completed_declared_draw

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed():
    round_ = make_round(winners=2)
    add_entrants(round_, 6)
    return completed_declared_draw(round_)


def _refused(action):
    with pytest.raises(IntegrityError, match="suanli"), transaction.atomic():
        action()


@pytest.mark.parametrize(
    "changes",
    [
        {"seed": "0" * 64},
        {"entrants_digest": "0" * 64},
        {"beacon_value": "another value"},
        {"winners_drawn": 1},
        {"state": "frozen"},
        {"winners": 5},
    ],
    ids=lambda c: next(iter(c)),
)
def test_published_values_of_a_completed_draw_cannot_be_updated(completed, changes):
    _refused(lambda: Draw.objects.filter(pk=completed.pk).update(**changes))
    completed.refresh_from_db()
    assert completed.state == Draw.State.COMPLETED


@pytest.mark.parametrize(
    "changes",
    [{"rank": 999}, {"ticket": "f" * 64}, {"drawn_outcome": "waitlist", "waitlist_position": 1}],
    ids=lambda c: next(iter(c)),
)
def test_drawn_results_cannot_be_updated(completed, changes):
    entry = DrawEntry.objects.filter(draw=completed, drawn_outcome="winner").first()
    _refused(lambda: DrawEntry.objects.filter(pk=entry.pk).update(**changes))


def test_the_published_ranking_cannot_be_changed_or_added_to(completed):
    block = DrawRanking.objects.filter(draw=completed).first()
    _refused(lambda: DrawRanking.objects.filter(pk=block.pk).update(lines=block.lines[::-1]))
    _refused(
        lambda: DrawRanking.objects.create(
            draw=completed, first_rank=9000, last_rank=9000, first_ticket="f" * 64, lines="\n"
        )
    )
    if transaction.get_connection().vendor == "postgresql":
        _refused(lambda: DrawRanking.objects.filter(pk=block.pk).delete())
    assert DrawRanking.objects.get(pk=block.pk).lines == block.lines


def test_a_kept_entry_is_exactly_its_line_of_the_ranking(completed):
    """A waitlisted entrant's result becomes an entry when it changes: the database takes it
    only as the draw published it."""
    waiting = next(e for e in results_of(completed) if e.drawn_outcome == "waitlist")
    for wrong in [{"ticket": "f" * 64}, {"rank": waiting.rank + 1}, {"waitlist_position": 9}]:
        forged = DrawEntry(**{**_fields(waiting), **wrong})
        _refused(lambda forged=forged: forged.save(force_insert=True))
    kept = DrawEntry(**_fields(waiting))
    kept.save(force_insert=True)
    assert DrawEntry.objects.get(pk=kept.pk).ticket == waiting.ticket


def test_a_kept_entry_is_checked_against_the_block_of_its_rank(monkeypatch):
    """Ranking blocks of two ranks: an entry in the third block is taken as published, and
    one claiming another block's rank is refused."""
    monkeypatch.setattr(services, "RANKING_BLOCK", 2)
    round_ = make_round(winners=1)
    add_entrants(round_, 7)
    draw = completed_declared_draw(round_)
    assert DrawRanking.objects.filter(draw=draw).count() == 4
    waiting = next(e for e in results_of(draw) if e.rank == 5)
    _refused(lambda: DrawEntry(**{**_fields(waiting), "rank": 3}).save(force_insert=True))
    _refused(lambda: DrawEntry(**{**_fields(waiting), "rank": 7}).save(force_insert=True))
    DrawEntry(**_fields(waiting)).save(force_insert=True)
    assert DrawEntry.objects.get(draw=draw, rank=5).reference == waiting.reference


def _fields(entry: DrawEntry) -> dict:
    names = ["draw_id", "application_id", "reference", "stratum", "ticket", "rank"]
    names += ["drawn_outcome", "waitlist_position", "outcome"]
    return {name: getattr(entry, name) for name in names}


def test_no_entry_can_be_added_to_a_completed_draw(completed):
    application = ApplicationFactory(round=completed.round)
    _refused(
        lambda: DrawEntry.objects.create(
            draw=completed,
            application=application,
            reference=application.reference,
            stratum="",
            ticket="0" * 64,
            rank=7,
            drawn_outcome="winner",
            outcome="winner",
        )
    )


def test_a_second_result_set_collides_with_the_first(completed):
    """Even with the state check bypassed, rank 1 of the draw is taken."""
    entry = results_of(completed)[0]
    application = ApplicationFactory(round=completed.round)
    with pytest.raises(IntegrityError), transaction.atomic():
        DrawEntry.objects.bulk_create(
            [
                DrawEntry(
                    draw=completed,
                    application=application,
                    reference=application.reference,
                    stratum="",
                    ticket=entry.ticket,
                    rank=1,
                    drawn_outcome="winner",
                    outcome="winner",
                )
            ]
        )


def test_published_entrants_cannot_change_before_the_draw_either():
    round_ = make_round()
    add_entrants(round_, 3)
    draw = services.draw_announce(
        round=round_, beacon_source="declared", beacon_description="x", now=round_.opens_at
    )
    services.draw_freeze(draw=draw, now=round_.closes_at)
    _refused(lambda: Draw.objects.filter(pk=draw.pk).update(entrants_lines="A\t\n"))
    _refused(lambda: Draw.objects.filter(pk=draw.pk).update(state="announced"))


def test_a_beacon_value_once_set_cannot_be_replaced():
    round_ = make_round()
    draw = services.draw_announce(
        round=round_, beacon_source="declared", beacon_description="x", now=round_.opens_at
    )
    services.draw_freeze(draw=draw, now=round_.closes_at)
    services.draw_declared_value_enter(draw=draw, value="first", actor=None, now=round_.closes_at)
    _refused(lambda: Draw.objects.filter(pk=draw.pk).update(beacon_value="second"))


def test_entrants_per_day_once_counted_cannot_be_replaced():
    round_ = make_round()
    add_entrants(round_, 2)
    draw = services.draw_announce(round=round_, now=round_.opens_at)
    services.draw_freeze(draw=draw, now=round_.closes_at)
    assert services.draw_entrant_days_count(draw=draw)
    _refused(lambda: Draw.objects.filter(pk=draw.pk).update(entrant_days={"2026-01-01": 9}))
    _refused(lambda: Draw.objects.filter(pk=draw.pk).update(entrant_days=None))
    assert services.draw_entrant_days_count(draw=draw) is False


def test_draw_events_are_append_only(completed):
    event = DrawEvent.objects.filter(draw=completed).first()
    _refused(lambda: DrawEvent.objects.filter(pk=event.pk).update(kind="withdrawal"))


def test_withdrawal_still_updates_the_current_outcome(completed):
    """The guards leave the current outcome free: that is how withdrawals are recorded."""
    winner = DrawEntry.objects.filter(draw=completed, outcome="winner").first()
    services.entry_withdraw(entry=winner, reason="declined")
    winner.refresh_from_db()
    assert winner.outcome == "withdrawn"
    assert winner.drawn_outcome == "winner"


def test_an_entry_must_point_at_an_existing_application_and_draw():
    round_ = make_round()
    add_entrants(round_, 2)
    draw = services.draw_announce(
        round=round_, beacon_source="declared", beacon_description="x", now=round_.opens_at
    )
    real = ApplicationFactory(round=round_)
    other = ApplicationFactory(round=round_)
    for draw_id, application_id, reference in [
        (draw.pk, 987654, "ORPHAN-1"),  # no such application
        (987654, real.pk, real.reference),  # no such draw
        (draw.pk, real.pk, other.reference),  # another application's reference
    ]:
        with pytest.raises(IntegrityError, match="suanli"), transaction.atomic():
            DrawEntry.objects.bulk_create(
                [
                    DrawEntry(
                        draw_id=draw_id,
                        application_id=application_id,
                        reference=reference,
                        stratum="",
                        ticket="0" * 64,
                        rank=1,
                        drawn_outcome="winner",
                        outcome="winner",
                    )
                ]
            )


def test_an_application_with_a_draw_entry_cannot_be_deleted(completed):
    from django.db.models import ProtectedError

    entry = DrawEntry.objects.filter(draw=completed).first()
    with pytest.raises(ProtectedError), transaction.atomic():
        entry.application.delete()
    if transaction.get_connection().vendor == "postgresql":
        from applications.models import Application

        _refused(lambda: Application.objects.filter(pk=entry.application_id)._raw_delete("default"))
        # A waitlisted entrant has no entry, only a line in the ranking: still kept.
        waiting = next(e for e in results_of(completed) if e.drawn_outcome == "waitlist")
        _refused(
            lambda: Application.objects.filter(pk=waiting.application_id)._raw_delete("default")
        )
