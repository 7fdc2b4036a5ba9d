"""Drill 5: Celery beat started twice by mistake. No task's effect may happen twice.

Two beat processes (each with its own schedule file, as two deployments would have) and two
workers run against one scratch PostgreSQL database and a private Redis. Every periodic task
is due every 2 s (`drills/settings_fast_beat.py`), so each is sent twice a cycle, for a minute.
Meanwhile there is work of every periodic kind:

  - a lottery round past its close (declared beacon): the beats freeze it, staff enter the
    value, the draw runs; entrants get their digest and their result by e-mail;
  - webhook deliveries of grant events to the reference center receiver;
  - submitted milestone evidence due for its automatic check (a local recorded GitHub API):
    a passing one releases a tranche, a rate-limited one is retried later;
  - milestones due within 30 days: one reminder e-mail each.

Afterwards each effect is counted where a user would see it: one result set and one of each
draw event; one e-mail per entrant per kind (Notification rows and the mails written by the
file e-mail backend); one attempt per delivery and one application per event at the receiver;
one applied check and one tranche release per passing milestone; one counted attempt per
rate-limited milestone; one reminder per milestone.

Usage: .venv/bin/python drills/beat_twice.py [--seconds 60] [--entrants 60]
CI short form: --short (8 s more of double beats once the work is done, 20 entrants)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drills.harness import Drill, wait_for

DATABASE = "suanli_drill_beat_twice"
SECRET = "whsec_ZHJpbGwtYmVhdC10d2ljZS1yZWNlaXZlci1zZWNyZXQtMDA="  # noqa: S105 - drill only
REPO = "/repos/shanshui-ai/lingxi-infer"
LIMITED = "/repos/shanshui-ai/rate-limited"
BEAT_SECONDS = 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="double beats after the work")
    parser.add_argument("--entrants", type=int, default=60)
    parser.add_argument("--grants", type=int, default=6, help="grants of each milestone kind")
    parser.add_argument("--short", action="store_true", help="CI form")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and logs")
    args = parser.parse_args()
    if args.short:
        args.seconds, args.entrants, args.grants = 8, 20, 3

    from tests.milestones.conftest import RecordedServer

    evidence = RecordedServer()
    evidence.add(REPO, recorded="github/repo_ok.json")
    evidence.add(f"{REPO}/commits", recorded="github/commits_since.json")
    evidence.add(
        LIMITED,
        status=403,
        recorded="github/rate_limited.json",
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1779948000"},
        # Slower than a beat interval: both beats queue the due check before the first
        # one records its attempt, which is when a duplicate could count twice.
        delay=BEAT_SECONDS + 0.5,
    )
    with Drill(
        "drill 5: celery beat run twice",
        database=DATABASE,
        keep=args.keep,
        settings_module="drills.settings_fast_beat",
        extra_env={
            "SUANLI_DRILL_BEAT_SECONDS": str(BEAT_SECONDS),
            "SUANLI_MILESTONES_GITHUB_API": evidence.url,
            "SUANLI_MILESTONES_FETCH_ALLOW_PRIVATE": "true",
            "SUANLI_MILESTONES_REQUIRE_HTTPS": "false",
            "SUANLI_MILESTONES_FETCH_TIMEOUT": "5",
            # One retry slot for the whole drill: a second counted attempt can only be a
            # duplicate, not the schedule.
            "SUANLI_MILESTONES_CHECK_BACKOFF_SECONDS": "3600",
            "SUANLI_MILESTONES_REMINDER_DAYS": "30,7,1",
            "SUANLI_LOTTERY_NOTIFY_BATCH": "7",
        },
    ) as drill:
        drill.django_setup()
        report = drill.report
        _, receiver_url, receiver_db = drill.start_receiver(secret=SECRET)
        work = _set_up_work(args, receiver_url)
        # As if the broker had lost the on-commit nudges of the set-up: every first check and
        # delivery is then found by the beats' sweeps, both beats in the same cycle.
        drill.broker_purge()

        workers = [
            drill.start_worker(name, concurrency=2, wait=False) for name in ("worker-a", "worker-b")
        ]
        for worker in workers:
            worker.wait_log("ready.", timeout=90)
        beat_a = drill.start_beat("beat-a")
        beat_b = drill.start_beat("beat-b")
        started = time.monotonic()

        from lottery import services as lottery
        from lottery.models import Draw

        draw = work["draw"]
        wait_for(
            lambda: Draw.objects.get(pk=draw.pk).state != Draw.State.ANNOUNCED,
            timeout=120,
            what="the beats to freeze the draw",
            interval=0.5,
        )
        lottery.draw_declared_value_enter(draw=draw, value="drill 5 · 3 1 4", actor=None)
        wait_for(
            lambda: _all_done(work), timeout=300, what="every kind of work to finish", interval=1
        )
        report.figure("work done after", f"{time.monotonic() - started:.1f} s")
        time.sleep(args.seconds)  # the duplicates' chance: many more double beats
        sent_a = beat_a.log_text().count("Sending due task")
        sent_b = beat_b.log_text().count("Sending due task")
        report.figure("tasks sent by beat a / beat b", f"{sent_a} / {sent_b}")
        report.check("both beats were sending", sent_a > 10 and sent_b > 10)
        _check(drill, work, receiver_db)
    evidence.close()
    return drill.report.verdict()


def _set_up_work(args, receiver_url: str) -> dict:
    import datetime as dt

    from django.utils import timezone

    from centers.models import WebhookEndpoint
    from lottery import services as lottery
    from milestones import services as milestones
    from tests.factories import ApplicationFactory, RoundFactory
    from tests.grants.factories import CenterCapacityFactory
    from tests.milestones.factories import accepted_grant

    now = timezone.now()
    round_ = RoundFactory(
        code="drill-beat-twice",
        opens_at=now - dt.timedelta(days=10),
        closes_at=now - dt.timedelta(seconds=30),
        winners=max(1, args.entrants // 4),
    )
    for number in range(args.entrants):
        ApplicationFactory(round=round_, email=f"entrant{number}@example.cn")
    draw = lottery.draw_announce(
        round=round_, beacon_source="declared", beacon_description="drill 5", now=round_.opens_at
    )

    capacity = CenterCapacityFactory(capacity=Decimal("1000000"))
    WebhookEndpoint.objects.create(center=capacity.gpu_type.center, url=receiver_url, secret=SECRET)
    passing, limited, reminded = [], [], []
    for number in range(args.grants):
        grant = accepted_grant(capacity=capacity, kinds=("open_code",), email=f"p{number}@ex.cn")
        passing.append(grant.milestones.get(kind="open_code"))
        grant = accepted_grant(capacity=capacity, kinds=("open_code",), email=f"l{number}@ex.cn")
        limited.append(grant.milestones.get(kind="open_code"))
        grant = accepted_grant(
            capacity=capacity, kinds=("paper",), target_in_days=20, email=f"r{number}@ex.cn"
        )
        reminded.append(grant.milestones.get(kind="paper"))
    for milestone in passing:
        milestones.milestone_evidence_submit(
            milestone=milestone, url="http://github.com/shanshui-ai/lingxi-infer"
        )
    for milestone in limited:
        milestones.milestone_evidence_submit(
            milestone=milestone, url="http://github.com/shanshui-ai/rate-limited"
        )
    return {
        "draw": draw,
        "entrants": args.entrants,
        "passing": [m.pk for m in passing],
        "limited": [m.pk for m in limited],
        "reminded": [m.pk for m in reminded],
    }


def _all_done(work: dict) -> bool:
    from grants.models import WebhookDelivery
    from lottery.models import Draw
    from milestones.models import Milestone
    from notifications.models import Notification

    draw = Draw.objects.get(pk=work["draw"].pk)
    if draw.state != Draw.State.COMPLETED:
        return False
    if Milestone.objects.filter(pk__in=work["passing"], state="verified").count() < len(
        work["passing"]
    ):
        return False
    if Milestone.objects.filter(pk__in=work["limited"], check_attempts__gte=1).count() < len(
        work["limited"]
    ):
        return False
    if Milestone.objects.filter(
        pk__in=work["reminded"], last_reminder_days__isnull=False
    ).count() < len(work["reminded"]):
        return False
    for kind in ("draw_entrants_digest", "draw_result"):
        if Notification.objects.filter(kind=kind, state="sent").count() < work["entrants"]:
            return False
    return not WebhookDelivery.objects.filter(status="pending").exists()


def _check(drill: Drill, work: dict, receiver_db: Path) -> None:
    import sqlite3

    from django.db.models import Count

    from centers.models import CapacityEntry
    from core.models import AuditEvent
    from grants.models import DeliveryAttempt, WebhookDelivery
    from lottery import selectors
    from lottery.models import Draw, DrawEvent
    from milestones.models import EvidenceCheck, Milestone
    from notifications.models import Notification

    report = drill.report
    draw = Draw.objects.get(pk=work["draw"].pk)
    ranks = [row[3] for row in selectors.draw_result_rows(draw=draw)]
    entries = len(ranks) if ranks == list(range(1, len(ranks) + 1)) else -1
    events = Counter(DrawEvent.objects.filter(draw=draw).values_list("kind", flat=True))
    report.figure("draw events", dict(events))
    report.check(
        "one draw result set",
        draw.state == Draw.State.COMPLETED and entries == work["entrants"],
        f"{entries} results in rank order",
    )
    report.check("each draw event once", all(count == 1 for count in events.values()))
    for action in ("draw.entrants_frozen", "draw.executed"):
        count = AuditEvent.objects.filter(action=action, target_id=str(draw.pk)).count()
        report.check(f"{action} once", count == 1, count)

    # The same message twice has the same body; two tranche releases of one grant do not.
    notifications = list(
        Notification.objects.values_list("kind", "to_email", "related_type", "related_id", "body")
    )
    repeated = {key: n for key, n in Counter(notifications).items() if n > 1}
    kinds = Counter(kind for kind, *_ in notifications)
    report.figure("notifications by kind", dict(kinds))
    report.check(
        "no notification recorded twice", not repeated, [key[:4] for key in list(repeated)[:3]]
    )
    sent = Notification.objects.filter(state="sent").count()
    mails = drill.mails()
    mail_keys = Counter((m["To"], m["Subject"], m.get_payload()) for m in mails)
    report.figure("e-mails written", f"{len(mails)} ({sent} notifications sent)")
    report.check(
        "each e-mail sent once",
        len(mails) == sent and all(n == 1 for n in mail_keys.values()),
        f"{len(mails)} mails for {sent} sent notifications",
    )

    deliveries = WebhookDelivery.objects.count()
    attempts = DeliveryAttempt.objects.count()
    doubled = (
        DeliveryAttempt.objects.values("delivery_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    succeeded = WebhookDelivery.objects.filter(status="succeeded").count()
    report.figure("deliveries / attempts", f"{deliveries} / {attempts}")
    report.check(
        "each delivery attempted once and succeeded",
        doubled == 0 and succeeded == deliveries,
        f"{doubled} attempted twice",
    )
    with sqlite3.connect(receiver_db) as conn:
        applied_twice = conn.execute(
            "SELECT COUNT(*) FROM (SELECT webhook_id FROM applications GROUP BY webhook_id"
            " HAVING COUNT(*) > 1)"
        ).fetchone()[0]
        messages = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    report.check(
        "each event applied once at the receiver",
        applied_twice == 0 and messages == deliveries,
        f"{messages} messages, {applied_twice} applied twice",
    )

    passing = Milestone.objects.filter(pk__in=work["passing"])
    applied_checks = EvidenceCheck.objects.filter(milestone__in=passing, applied=True).count()
    releases = CapacityEntry.objects.filter(
        tranche__in=[m.tranche_id for m in passing], kind="release"
    ).count()
    report.check(
        "each passing milestone checked and released once",
        applied_checks == len(work["passing"]) == releases,
        f"{applied_checks} applied checks, {releases} releases",
    )
    limited = Milestone.objects.filter(pk__in=work["limited"])
    counted = sorted(limited.values_list("check_attempts", flat=True))
    retries = EvidenceCheck.objects.filter(milestone__in=limited, applied=True).count()
    report.check(
        "each rate-limited milestone's attempt counted once",
        all(n == 1 for n in counted) and retries == len(work["limited"]),
        f"attempts {counted}, {retries} applied checks",
    )
    reminders = Counter(
        Notification.objects.filter(kind="milestone_reminder").values_list("related_id", flat=True)
    )
    report.check(
        "each reminder sent once",
        sorted(reminders) == sorted(str(pk) for pk in work["reminded"])
        and all(n == 1 for n in reminders.values()),
        dict(reminders),
    )


if __name__ == "__main__":
    raise SystemExit(main())
