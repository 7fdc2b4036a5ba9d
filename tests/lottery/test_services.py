"""The draw lifecycle through the services: announce, freeze, beacon, execute."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core import mail
from django.utils import timezone, translation

from applications.models import Application
from core.models import AuditEvent
from lottery import cross_check, ranking, selectors, services
from lottery import draw as pure
from lottery import verify_draw as verifier
from lottery.beacon import BeaconVerificationError
from lottery.models import Draw, DrawEntry, DrawEvent, DrawRanking
from notifications.models import Notification
from tests.lottery.conftest import add_entrants, make_round, results_of
from tests.lottery.drand_server import QUICKNET, ROUND_123, drand_server
from tests.lottery.flow import completed_declared_draw

pytestmark = pytest.mark.django_db


def _verify(draw: Draw) -> verifier.Report:
    report = verifier.Report(0)
    verifier.verify(selectors.draw_record(draw=draw), report)
    return report


# --- announce ---------------------------------------------------------------------------


def test_announce_publishes_rules_and_default_drand_round_ten_minutes_after_close():
    round_ = make_round(winners=4, strata=[("first-time", 2, None), ("returning", 0, 3)])
    draw = services.draw_announce(round=round_, now=round_.opens_at)
    assert draw.draw_id == round_.code
    assert draw.winners == 4
    assert draw.quotas == {
        "first-time": {"reserved": 2, "cap": None},
        "returning": {"reserved": 0, "cap": 3},
    }
    assert draw.beacon_chain_hash == QUICKNET
    beacon_time = pure.drand_round_time(draw.beacon_round)
    assert beacon_time >= round_.closes_at + dt.timedelta(minutes=10)
    assert beacon_time - dt.timedelta(seconds=3) < round_.closes_at + dt.timedelta(minutes=10)
    assert list(draw.events.values_list("kind", flat=True)) == ["announced"]
    # Announcing again changes nothing.
    assert services.draw_announce(round=round_) == draw
    assert Draw.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "strata", "field"),
    [
        ({}, [("a", 5, None)], "quotas"),
        ({}, [("a", 1, None), ("b", 1, None), ("c", 2, None)], "quotas"),
        ({"beacon_round": 123}, [], "beacon.round"),
        ({"beacon_source": "declared", "beacon_description": ""}, [], "beacon.description"),
        ({"beacon_source": "coin"}, [], "beacon.source"),
    ],
)
def test_announce_refuses_configuration_outside_the_spec_naming_the_field(kwargs, strata, field):
    round_ = make_round(winners=3, strata=strata, closes_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    with pytest.raises(pure.DrawInputError) as caught:
        services.draw_announce(round=round_, **kwargs)
    assert caught.value.field == field
    assert not Draw.objects.exists()


def test_announce_refuses_a_round_code_that_is_not_a_valid_draw_id():
    round_ = make_round(code="Wuhan_2026")
    with pytest.raises(pure.DrawInputError) as caught:
        services.draw_announce(round=round_)
    assert caught.value.field == "draw_id"


def test_beacon_can_change_only_before_entries_close_and_the_change_is_public():
    round_ = make_round()
    draw = services.draw_announce(round=round_, now=round_.opens_at)
    services.draw_beacon_change(
        draw=draw,
        beacon_source="declared",
        beacon_description="Welfare lottery",
        actor=None,
        now=round_.closes_at - dt.timedelta(days=1),
    )
    draw.refresh_from_db()
    assert draw.beacon_source == "declared"
    assert draw.events.filter(kind="beacon_changed").count() == 1
    with pytest.raises(services.DrawError):
        services.draw_beacon_change(
            draw=draw, beacon_source="drand", actor=None, now=round_.closes_at
        )


# --- freeze -------------------------------------------------------------------------------


def test_freeze_publishes_eligible_entrants_digest_and_emails_each_entrant(
    django_capture_on_commit_callbacks,
):
    round_ = make_round(strata=[("first-time", 1, None)])
    eligible = add_entrants(round_, 5, stratum_of=lambda i: "first-time" if i % 2 else "")
    add_entrants(round_, 2, status=Application.Status.INELIGIBLE)
    add_entrants(round_, 1, status=Application.Status.WITHDRAWN)
    draw = services.draw_announce(round=round_, now=round_.opens_at)
    with pytest.raises(services.DrawNotReadyError):
        services.draw_freeze(draw=draw, now=round_.closes_at - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.draw_freeze(draw=draw, now=round_.closes_at)
    draw.refresh_from_db()
    assert draw.state == Draw.State.FROZEN
    pairs = sorted((a.reference, a.stratum) for a in eligible)
    expected = hashlib.sha256("".join(f"{r}\t{s}\n" for r, s in pairs).encode()).hexdigest()
    assert draw.entrants_digest == expected
    assert draw.entrants_count == 5
    record = selectors.draw_record(draw=draw)
    assert record["entrants"] == [{"ref": r, "stratum": s} for r, s in pairs]
    assert record["seed"] is None and record["results"] is None
    # Every entrant is e-mailed the digest with their own reference, and nobody else is.
    digest_mails = [m for m in mail.outbox if draw.entrants_digest in m.body]
    assert sorted(m.to[0] for m in digest_mails) == sorted(a.email for a in eligible)
    for application in eligible:
        message = next(m for m in digest_mails if m.to == [application.email])
        assert application.reference in message.body
    # Freezing again changes nothing.
    assert services.draw_freeze(draw=draw, now=round_.closes_at) is False


def test_needs_review_blocks_freeze_until_decided_or_deadline_then_excluded_publicly():
    deadline_round = make_round(review_deadline=CLOSE_PLUS(days=2))
    add_entrants(deadline_round, 3)
    add_entrants(deadline_round, 2, status=Application.Status.NEEDS_REVIEW)
    draw = services.draw_announce(round=deadline_round, now=deadline_round.opens_at)
    assert services.draw_freeze(draw=draw, now=CLOSE_PLUS(days=1)) is False
    draw.refresh_from_db()
    assert draw.state == Draw.State.ANNOUNCED
    assert services.draw_needs_review_count(draw=draw) == 2
    assert services.draw_freeze(draw=draw, now=CLOSE_PLUS(days=2))
    draw.refresh_from_db()
    assert (draw.entrants_count, draw.excluded_count) == (3, 2)
    excluded = draw.events.get(kind="excluded")
    assert excluded.detail["count"] == 2
    assert "review" in excluded.detail["reason_en"]
    record = selectors.draw_record(draw=draw)
    assert record["excluded_under_review"] == 2


def test_needs_review_without_deadline_blocks_until_staff_decide():
    round_ = make_round()
    add_entrants(round_, 2)
    [pending] = add_entrants(round_, 1, status=Application.Status.NEEDS_REVIEW)
    draw = services.draw_announce(round=round_, now=round_.opens_at)
    assert services.draw_freeze(draw=draw, now=CLOSE_PLUS(days=30)) is False
    Application.objects.filter(pk=pending.pk).update(status=Application.Status.ELIGIBLE)
    assert services.draw_freeze(draw=draw, now=CLOSE_PLUS(days=30))
    draw.refresh_from_db()
    assert draw.entrants_count == 3 and draw.excluded_count == 0


def test_entrants_per_day_are_counted_after_the_freeze_from_the_frozen_entrants(
    django_capture_on_commit_callbacks,
):
    round_ = make_round()
    entrants = add_entrants(round_, 4)
    # Two on the round's first day, one on the next, one four days later (local dates).
    for application, days_later in zip(entrants, (0, 0, 1, 4), strict=True):
        Application.objects.filter(pk=application.pk).update(
            submitted_at=round_.opens_at + dt.timedelta(days=days_later, hours=1)
        )
    first_day = timezone.localdate(round_.opens_at + dt.timedelta(hours=1))
    draw = services.draw_announce(round=round_, now=round_.opens_at)
    # The count is not part of the freeze: it is a task the freeze enqueues as it commits.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert services.draw_freeze(draw=draw, now=round_.closes_at)
    draw.refresh_from_db()
    assert draw.entrant_days is None
    # What happens to the applications after the freeze does not change who entered.
    Application.objects.filter(pk=entrants[0].pk).update(status=Application.Status.WITHDRAWN)
    add_entrants(round_, 1)
    for callback in callbacks:
        callback()
    draw.refresh_from_db()
    assert draw.entrant_days == {
        first_day.isoformat(): 2,
        (first_day + dt.timedelta(days=1)).isoformat(): 1,
        (first_day + dt.timedelta(days=4)).isoformat(): 1,
    }
    assert services.draw_entrant_days_count(draw=draw) is False  # counted once


def test_beat_counts_entrants_per_day_when_the_freeze_task_was_lost(
    django_capture_on_commit_callbacks,
):
    round_ = make_round()
    add_entrants(round_, 3)
    draw = services.draw_announce(round=round_, now=round_.opens_at)
    with django_capture_on_commit_callbacks(execute=False):  # its tasks never reach a worker
        services.draw_freeze(draw=draw, now=round_.closes_at)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.draws_advance(now=CLOSE_PLUS(minutes=2))["days"] == 1
    draw.refresh_from_db()
    assert sum(draw.entrant_days.values()) == 3
    assert services.draws_advance(now=CLOSE_PLUS(minutes=3))["days"] == 0


def CLOSE_PLUS(**delta):
    from tests.lottery.conftest import CLOSE_BEFORE_ROUND_123

    return CLOSE_BEFORE_ROUND_123 + dt.timedelta(**delta)


# --- beacon -------------------------------------------------------------------------------


def _frozen_drand_draw(entrants=5, winners=2):
    round_ = make_round(winners=winners)
    add_entrants(round_, entrants)
    draw = services.draw_announce(round=round_, beacon_round=123, now=round_.opens_at)
    services.draw_freeze(draw=draw, now=round_.closes_at)
    return round_, Draw.objects.get(pk=draw.pk)


def test_beacon_round_is_fetched_verified_and_published(drand):
    _, draw = _frozen_drand_draw()
    assert services.draw_beacon_fetch(draw=draw, now=CLOSE_PLUS(hours=1))
    draw.refresh_from_db()
    assert draw.beacon_randomness == ROUND_123["randomness"]
    assert draw.beacon_signature == ROUND_123["signature"]
    assert draw.events.filter(kind="beacon_value").exists()
    assert drand == [f"/{QUICKNET}/public/123"]


def test_beacon_is_not_fetched_before_its_round_time(drand):
    _, draw = _frozen_drand_draw()
    with pytest.raises(services.DrawNotReadyError):
        services.draw_beacon_fetch(draw=draw, now=CLOSE_PLUS(minutes=5))
    assert drand == []


def test_a_round_failing_verification_is_never_used_and_alerts_staff(settings):
    _, draw = _frozen_drand_draw()
    signature = "a" + ROUND_123["signature"][1:]
    forged = {
        "round": 123,
        "signature": signature,
        "randomness": hashlib.sha256(bytes.fromhex(signature)).hexdigest(),
    }
    with drand_server({123: forged}) as (base, _):
        settings.LOTTERY_DRAND_BASE_URL = base
        with pytest.raises(BeaconVerificationError):
            services.draw_beacon_fetch(draw=draw, now=CLOSE_PLUS(hours=1))
    draw.refresh_from_db()
    assert draw.beacon_randomness == "" and draw.beacon_signature == ""
    assert "BLS" in draw.beacon_problem
    assert draw.events.filter(kind="beacon_rejected").exists()
    alerts = Notification.objects.filter(kind="draw_alert")
    assert sorted(alerts.values_list("to_email", flat=True)) == sorted(settings.STAFF_ALERT_EMAILS)
    with pytest.raises(services.DrawNotReadyError):
        services.draw_execute(draw=draw)


def test_declared_value_is_entered_once_after_close_with_an_audit_record():
    round_ = make_round()
    add_entrants(round_, 3)
    draw = services.draw_announce(
        round=round_, beacon_source="declared", beacon_description="Lottery", now=round_.opens_at
    )
    with pytest.raises(services.DrawError):
        services.draw_declared_value_enter(
            draw=draw, value="7 4 1", actor=None, now=round_.closes_at - dt.timedelta(hours=1)
        )
    with pytest.raises(pure.DrawInputError) as caught:
        services.draw_declared_value_enter(
            draw=draw, value="7\n4", actor=None, now=CLOSE_PLUS(hours=1)
        )
    assert caught.value.field == "beacon.value"
    services.draw_declared_value_enter(
        draw=draw, value="7 4 1", actor=None, now=CLOSE_PLUS(hours=1)
    )
    # Staff read it in their language (the portal's default is Chinese).
    with translation.override("en"), pytest.raises(services.DrawError, match="already"):
        services.draw_declared_value_enter(
            draw=draw, value="9 9 9", actor=None, now=CLOSE_PLUS(hours=2)
        )
    with translation.override("zh-hans"), pytest.raises(services.DrawError, match="已经录入"):
        services.draw_declared_value_enter(
            draw=draw, value="9 9 9", actor=None, now=CLOSE_PLUS(hours=2)
        )
    draw.refresh_from_db()
    assert draw.beacon_value == "7 4 1"
    assert (
        AuditEvent.objects.filter(action="draw.beacon_value", target_id=str(draw.pk)).count() == 1
    )


# --- execute ------------------------------------------------------------------------------


def test_execute_stores_every_result_identical_to_the_spec_and_the_verifier(drand):
    _, draw = _frozen_drand_draw(entrants=12, winners=4)
    services.draw_beacon_fetch(draw=draw, now=CLOSE_PLUS(hours=1))
    draw = services.draw_execute(draw=draw, now=CLOSE_PLUS(hours=1))
    assert draw.state == Draw.State.COMPLETED
    refs, strata = services.entrants_of(draw)
    expected = pure.run_draw(
        pure.DrawInput(draw.draw_id, 4, {}, refs, strata, services.beacon_of(draw))
    )
    stored = list(selectors.draw_result_rows(draw=draw))
    assert stored == list(expected.rows())
    assert draw.seed == expected.seed
    assert draw.winners_drawn == 4
    assert _verify(draw).total == 0
    # Every result links to its application; each winner also has an entry of its own.
    references = dict(Application.objects.values_list("id", "reference"))
    for entry in results_of(draw):
        assert references[entry.application_id] == entry.reference
    kept = DrawEntry.objects.filter(draw=draw).order_by("rank")
    assert [e.reference for e in kept] == [r[0] for r in stored if r[4] == "winner"]


def test_execute_twice_changes_nothing():
    round_ = make_round()
    add_entrants(round_, 6)
    draw = completed_declared_draw(round_)
    before = list(DrawEntry.objects.values_list("id", "ticket", "rank", "outcome"))
    again = services.draw_execute(draw=draw, now=CLOSE_PLUS(days=3))
    assert again.completed_at == draw.completed_at
    assert list(DrawEntry.objects.values_list("id", "ticket", "rank", "outcome")) == before
    assert DrawEvent.objects.filter(kind="results_published").count() == 1


def test_execute_refuses_to_publish_when_the_independent_recomputation_disagrees(
    monkeypatch, settings
):
    """Fault injection: a draw function that swaps two ranks must be caught before
    anything is stored, and staff alerted."""
    round_ = make_round()
    add_entrants(round_, 6)
    draw = services.draw_announce(
        round=round_, beacon_source="declared", beacon_description="Lottery", now=round_.opens_at
    )
    services.draw_freeze(draw=draw, now=CLOSE_PLUS(hours=1))
    services.draw_declared_value_enter(
        draw=draw, value="1 2 3", actor=None, now=CLOSE_PLUS(hours=1)
    )
    honest = pure.run_draw

    def broken(data):
        result = honest(data)
        result.refs[0], result.refs[1] = result.refs[1], result.refs[0]
        result.strata[0], result.strata[1] = result.strata[1], result.strata[0]
        return result

    monkeypatch.setattr(pure, "run_draw", broken)
    with pytest.raises(services.FairnessCheckError, match="tickets"):
        services.draw_execute(draw=draw, now=CLOSE_PLUS(hours=2))
    draw.refresh_from_db()
    assert draw.state == Draw.State.FROZEN
    assert not DrawEntry.objects.exists()
    assert Notification.objects.filter(kind="draw_alert").count() == len(
        settings.STAFF_ALERT_EMAILS
    )
    assert AuditEvent.objects.filter(action="draw.fairness_check_failed").exists()
    monkeypatch.setattr(pure, "run_draw", honest)
    assert services.draw_execute(draw=draw, now=CLOSE_PLUS(hours=3)).state == Draw.State.COMPLETED


def _declared_draw_ready(entrants: int = 6):
    round_ = make_round()
    add_entrants(round_, entrants)
    draw = services.draw_announce(
        round=round_, beacon_source="declared", beacon_description="Lottery", now=round_.opens_at
    )
    services.draw_freeze(draw=draw, now=CLOSE_PLUS(hours=1))
    services.draw_declared_value_enter(
        draw=draw, value="4 5 6", actor=None, now=CLOSE_PLUS(hours=1)
    )
    return draw


def test_execute_refuses_a_ranking_whose_stored_text_differs_from_the_recomputation(monkeypatch):
    """Fault injection below the columns the draw computes: two winners' application ids
    swapped in the stored ranking. Only the recomputation of the exact text (in its own
    process) can see it; nothing is stored."""
    draw = _declared_draw_ready()
    honest = ranking.blocks_text

    def swapped(refs, strata, tickets, ids, positions, size):
        ids = list(ids)
        ids[0], ids[1] = ids[1], ids[0]
        return honest(refs, strata, tickets, ids, positions, size)

    monkeypatch.setattr(ranking, "blocks_text", swapped)
    with pytest.raises(services.FairnessCheckError, match="application ids or layout"):
        services.draw_execute(draw=draw, now=CLOSE_PLUS(hours=2))
    draw.refresh_from_db()
    assert draw.state == Draw.State.FROZEN
    assert not DrawRanking.objects.exists() and not DrawEntry.objects.exists()


def test_execute_refuses_a_draw_hashed_from_other_entrants_than_those_published(monkeypatch):
    """Fault injection: the draw's digest of the entrants text is wrong (so are its seed and
    tickets); the recomputation, which hashes the published text itself, refuses it."""
    draw = _declared_draw_ready()
    monkeypatch.setattr(pure, "text_digest", lambda text: "0" * 64)
    with pytest.raises(services.FairnessCheckError, match="entrants digest"):
        services.draw_execute(draw=draw, now=CLOSE_PLUS(hours=2))
    draw.refresh_from_db()
    assert draw.state == Draw.State.FROZEN
    assert not DrawRanking.objects.exists()


def test_execute_checks_in_its_own_process_when_the_recomputation_process_fails(
    monkeypatch, caplog
):
    draw = _declared_draw_ready()
    monkeypatch.setattr(cross_check.Recomputation, "result", lambda self: None)
    honest = pure.run_draw

    def broken(data):
        result = honest(data)
        result.tickets[0] = "0" * 64
        return result

    monkeypatch.setattr(pure, "run_draw", broken)
    with pytest.raises(services.FairnessCheckError, match="tickets"):
        services.draw_execute(draw=draw, now=CLOSE_PLUS(hours=2))
    assert "recomputation process failed" in caplog.text
    monkeypatch.setattr(pure, "run_draw", honest)
    assert services.draw_execute(draw=draw, now=CLOSE_PLUS(hours=3)).is_completed


def test_the_recomputation_process_makes_exactly_the_stored_ranking_text():
    draw = services.draw_execute(draw=_declared_draw_ready(entrants=9), now=CLOSE_PLUS(hours=2))
    stored = "".join(DrawRanking.objects.filter(draw=draw).values_list("lines", flat=True))
    header = {
        "draw_id": draw.draw_id,
        "winners": draw.winners,
        "quotas": {},
        "beacon_line": services.beacon_of(draw).line(),
        "block": 4,  # three blocks of 4, 4 and 1 ranks
    }
    answer = cross_check.Recomputation(
        header, draw.entrants_lines, draw.entrant_application_ids, timeout=60
    ).result()
    assert answer["seed"] == draw.seed and answer["entrants_digest"] == draw.entrants_digest
    blocks = [line for line in stored.split("\n") if line]
    expected = hashlib.sha256()
    for start in range(0, len(blocks), 4):
        expected.update(("\n" + "\n".join(blocks[start : start + 4]) + "\n").encode())
    assert answer["ranking_sha256"] == expected.hexdigest()


def test_execute_refuses_to_publish_a_result_whose_stratum_differs_from_the_entrant(monkeypatch):
    """Fault injection: a draw function that files one waitlisted entrant under another
    stratum (which could change who wins a reserved seat) is caught before anything is
    stored."""
    round_ = make_round(winners=2, strata=[("first-time", 1, None)])
    add_entrants(round_, 8, stratum_of=lambda i: "first-time" if i % 2 else "")
    draw = services.draw_announce(
        round=round_, beacon_source="declared", beacon_description="Lottery", now=round_.opens_at
    )
    services.draw_freeze(draw=draw, now=CLOSE_PLUS(hours=1))
    services.draw_declared_value_enter(
        draw=draw, value="5 6 7", actor=None, now=CLOSE_PLUS(hours=1)
    )
    honest = pure.run_draw

    def mislabelled(data):
        result = honest(data)
        last = len(result) - 1
        result.strata[last] = "returning" if result.strata[last] != "returning" else ""
        return result

    monkeypatch.setattr(pure, "run_draw", mislabelled)
    with pytest.raises(services.FairnessCheckError, match="strata"):
        services.draw_execute(draw=draw, now=CLOSE_PLUS(hours=2))
    draw.refresh_from_db()
    assert draw.state == Draw.State.FROZEN
    assert not DrawEntry.objects.exists()


def test_execute_with_strata_follows_reserved_seats_and_caps():
    round_ = make_round(winners=5, strata=[("first-time", 3, None), ("returning", 0, 1)])
    add_entrants(round_, 30, stratum_of=lambda i: ("first-time", "returning", "")[i % 3])
    draw = completed_declared_draw(round_)
    winners = list(selectors.draw_winners(draw=draw))
    assert len(winners) == 5
    assert sum(w.stratum == "first-time" for w in winners) >= 3
    assert sum(w.stratum == "returning" for w in winners) <= 1
    assert _verify(draw).total == 0


def test_execute_with_no_entrants_completes_with_empty_results():
    round_ = make_round()
    draw = completed_declared_draw(round_)
    assert draw.state == Draw.State.COMPLETED and draw.entrants_count == 0
    record = selectors.draw_record(draw=draw)
    assert record["results"] == []
    assert record["entrants_digest"] == hashlib.sha256(b"").hexdigest()
    assert _verify(draw).total == 0


def test_results_are_emailed_to_every_entrant(django_capture_on_commit_callbacks, settings):
    settings.LOTTERY_NOTIFY_BATCH = 4  # several batches, each task enqueuing the next
    round_ = make_round(winners=2)
    applications = add_entrants(round_, 9)
    draw = services.draw_announce(
        round=round_, beacon_source="declared", beacon_description="Lottery", now=round_.opens_at
    )
    services.draw_freeze(draw=draw, now=CLOSE_PLUS(hours=1))
    services.draw_declared_value_enter(draw=draw, value="5", actor=None, now=CLOSE_PLUS(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.draw_execute(draw=draw, now=CLOSE_PLUS(hours=1))
    results = Notification.objects.filter(kind="draw_result")
    assert sorted(results.values_list("to_email", flat=True)) == sorted(
        a.email for a in applications
    )
    # Running the notifier again sends nothing twice.
    services.draw_results_notify(draw=draw, after_rank=0, batch=100)
    assert Notification.objects.filter(kind="draw_result").count() == 9


def test_beat_advance_runs_the_whole_lifecycle(django_capture_on_commit_callbacks):
    round_ = make_round(winners=2)
    add_entrants(round_, 5)
    services.draw_announce(
        round=round_, beacon_source="declared", beacon_description="Lottery", now=round_.opens_at
    )
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.draws_advance(now=CLOSE_PLUS(minutes=1))
    assert counts["freeze"] == 1
    draw = Draw.objects.get()
    assert draw.state == Draw.State.FROZEN
    assert sum(draw.entrant_days.values()) == 5  # counted by the task the freeze enqueued
    with django_capture_on_commit_callbacks(execute=True):
        services.draw_declared_value_enter(
            draw=draw, value="8 8", actor=None, now=CLOSE_PLUS(hours=1)
        )
    draw.refresh_from_db()
    assert draw.state == Draw.State.COMPLETED
    with django_capture_on_commit_callbacks(execute=True):
        assert services.draws_advance(now=CLOSE_PLUS(hours=2)) == {
            "announced": 0,
            "freeze": 0,
            "beacon": 0,
            "execute": 0,
            "days": 0,
        }


def test_beat_announces_draws_for_rounds_that_opened():
    round_ = make_round(closes_at=dt.datetime(2031, 1, 1, tzinfo=dt.UTC))
    counts = services.draws_advance(now=round_.opens_at + dt.timedelta(minutes=1))
    assert counts["announced"] == 1
    assert Draw.objects.get().round == round_


def test_beat_fetches_a_due_drand_round_then_runs_the_draw(
    drand, django_capture_on_commit_callbacks
):
    _, draw = _frozen_drand_draw(entrants=6, winners=2)
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.draws_advance(now=CLOSE_PLUS(hours=1))
    assert counts["beacon"] == 1
    draw.refresh_from_db()
    assert draw.state == Draw.State.COMPLETED
    assert draw.beacon_randomness == ROUND_123["randomness"]


def test_beat_does_not_refetch_a_round_that_failed_verification(settings):
    _, draw = _frozen_drand_draw()
    Draw.objects.filter(pk=draw.pk).update(beacon_problem="BLS signature does not verify")
    assert services.draws_advance(now=CLOSE_PLUS(hours=1))["beacon"] == 0


def test_digest_emails_go_out_in_batches_and_never_twice(settings):
    settings.LOTTERY_NOTIFY_BATCH = 3
    round_ = make_round()
    applications = add_entrants(round_, 7)
    draw = services.draw_announce(round=round_, now=round_.opens_at)
    services.draw_freeze(draw=draw, now=round_.closes_at)
    draw.refresh_from_db()
    cursor, batches = 0, 0
    while cursor is not None:
        cursor = services.draw_entrants_notify(draw=draw, start=cursor)
        batches += 1
    assert batches == 3
    sent = Notification.objects.filter(kind="draw_entrants_digest")
    assert sorted(sent.values_list("to_email", flat=True)) == sorted(a.email for a in applications)
    assert services.draw_entrants_notify(draw=draw, start=0) == 3  # a retried batch...
    assert sent.count() == 7  # ...sends nothing twice
