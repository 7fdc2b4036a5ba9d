"""Drill 2: the center's receiver is down for several retry intervals while grant events pile up.

Real grants are offered and amended through the grant services on a scratch PostgreSQL
database (each grant: `grant.created`, then amendments, one version each), while a Celery
worker and beat on a private Redis deliver them to the reference receiver. The receiver is
killed (SIGKILL) before the first event and stays down until every grant's first pending
delivery has failed at least `--failed-attempts` times; then it starts again on the same port
and SQLite file. The retry schedule is the contract's, scaled by SUANLI_WEBHOOK_RETRY_SCALE
(default here 0.01: at once, 0.05 s, 3 s, 18 s, 72 s, ...; 0.003 in the short form) so the outage spans several retries in
seconds.

Checks, counted on both sides (Suanli's delivery rows and the receiver's own SQLite):
  - every event delivered, none failed, none lost;
  - every event applied exactly once at the receiver (no webhook-id applied twice, none
    answered "stale": each grant's versions arrived in order);
  - versions never regress: for every grant the receiver applied 1, 2, ..., V in that order
    and holds V, the grant's version in Suanli.

Usage: .venv/bin/python drills/receiver_outage.py [--events 1000]
CI short form: --short (100 events)
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drills.harness import Drill, free_port, http_ok, wait_for

DATABASE = "suanli_drill_receiver_outage"
SECRET = "whsec_ZHJpbGwtcmVjZWl2ZXItb3V0YWdlLXNlY3JldC0wMDE="  # noqa: S105 - drill only
EVENTS_PER_GRANT = 10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000)
    parser.add_argument("--failed-attempts", type=int, default=3, help="attempts to outlast")
    parser.add_argument("--retry-scale", type=float, default=None, help="0.01 (short: 0.003)")
    parser.add_argument("--short", action="store_true", help="CI form: 100 events")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and logs")
    args = parser.parse_args()
    if args.short:
        args.events = min(args.events, 100)
    # The whole schedule (8 attempts) must outlast producing the events: about 16 min at 0.01,
    # 5 min at 0.003, against 1-3 min (full) or 10-30 s (short) of production here.
    if args.retry_scale is None:
        args.retry_scale = 0.003 if args.short else 0.01
    grants_count = max(1, args.events // EVENTS_PER_GRANT)
    events = grants_count * EVENTS_PER_GRANT

    with Drill(
        f"drill 2: receiver down while {events:,} grant events are produced",
        database=DATABASE,
        keep=args.keep,
        extra_env={
            "SUANLI_WEBHOOK_RETRY_SCALE": str(args.retry_scale),
            "SUANLI_WEBHOOK_SWEEP_SECONDS": "1",
            "SUANLI_TRANSPARENCY_REFRESH_SECONDS": "0",
        },
    ) as drill:
        drill.django_setup()
        report = drill.report
        from django.db.models import Max, Min

        from centers.models import WebhookEndpoint
        from grants.models import Grant, WebhookDelivery
        from grants.services import grant_amend
        from tests.grants.factories import CenterCapacityFactory, offered_grant

        port = free_port()
        receiver, url, receiver_db = drill.start_receiver(secret=SECRET, port=port)
        capacity = CenterCapacityFactory(capacity=Decimal("100000000"))
        WebhookEndpoint.objects.create(center=capacity.gpu_type.center, url=url, secret=SECRET)
        drill.start_worker("worker", concurrency=2)
        drill.start_beat()

        receiver.kill()
        outage_started = time.monotonic()
        produced = time.monotonic()
        grants = [
            offered_grant(capacity=capacity, amount="1000", commitments=1)
            for _ in range(grants_count)
        ]
        for version in range(2, EVENTS_PER_GRANT + 1):
            for grant in grants:
                grant_amend(
                    grant=grant,
                    actor=None,
                    reason=f"drill amendment {version}",
                    amount=Decimal(1000 + version),
                )
        produced = time.monotonic() - produced
        report.figure("events produced", f"{events:,} in {produced:.1f} s (receiver down)")

        def heads_failed_enough() -> bool:
            # Later versions of a grant wait behind its first pending one, so the heads are
            # the deliveries being retried: one per grant.
            heads = (
                WebhookDelivery.objects.filter(status="pending")
                .values("grant_id")
                .annotate(first=Min("id"))
                .values_list("first", flat=True)
            )
            attempts = WebhookDelivery.objects.filter(pk__in=list(heads)).aggregate(
                least=Min("attempts")
            )["least"]
            return attempts is not None and attempts >= args.failed_attempts

        wait_for(
            heads_failed_enough,
            timeout=600,
            what=f"every grant's first delivery to fail {args.failed_attempts} times",
            interval=0.5,
        )
        failed_attempts = WebhookDelivery.objects.aggregate(most=Max("attempts"))["most"]
        outage = time.monotonic() - outage_started
        delivered_during = WebhookDelivery.objects.filter(status="succeeded").count()
        report.figure("outage", f"{outage:.1f} s, up to {failed_attempts} failed attempts each")
        report.check("nothing was delivered while the receiver was down", delivered_during == 0)

        receiver.start()
        wait_for(lambda: http_ok(url + "stats"), timeout=30, what="the receiver back up")
        back = time.monotonic()
        wait_for(
            lambda: WebhookDelivery.objects.exclude(status="pending").count() >= events,
            timeout=900,
            what="every delivery to finish",
            interval=0.5,
        )
        drained = time.monotonic() - back
        report.figure("drained after recovery", f"{drained:.1f} s ({events / drained:.0f}/s)")

        rows = list(WebhookDelivery.objects.values_list("event__webhook_id", "status", "grant_id"))
        ours = {webhook_id for webhook_id, _, _ in rows}
        succeeded = sum(1 for _, status, _ in rows if status == "succeeded")
        failed = sum(1 for _, status, _ in rows if status == "failed")
        report.figure(
            "Suanli delivery rows", f"{len(rows):,}: {succeeded:,} succeeded, {failed} failed"
        )
        report.check("one delivery row per event", len(rows) == events == len(ours), len(rows))
        report.check("every delivery succeeded", succeeded == events and failed == 0)

        applied, outcomes, twice, sequences, held = _receiver_side(receiver_db, ours)
        report.figure("receiver messages", f"{sum(outcomes.values()):,} {dict(outcomes)}")
        report.check(
            "none lost: the receiver recorded every event", sum(outcomes.values()) == events
        )
        report.check("every event applied exactly once", applied == events and twice == 0,
                     f"{applied} applied, {twice} applied twice")  # fmt: skip
        in_order = all(versions == sorted(versions) for versions in sequences.values())
        complete = all(
            sequences.get(str(grant.pk)) == list(range(1, EVENTS_PER_GRANT + 1)) for grant in grants
        )
        report.check("versions never regress (applied 1..V in order)", in_order and complete)
        final = dict(
            Grant.objects.filter(pk__in=[g.pk for g in grants]).values_list("pk", "version")
        )
        matches = all(held.get(str(pk)) == version for pk, version in final.items())
        report.check("the receiver holds each grant's current version", matches)
    return drill.report.verdict()


def _receiver_side(path: Path, ours: set[str]):
    """From the receiver's own file: (applied, outcomes by kind, ids applied twice, applied
    versions per grant in the order applied, version held per grant)."""
    with sqlite3.connect(path) as conn:
        outcomes: dict[str, int] = defaultdict(int)
        for webhook_id, outcome in conn.execute("SELECT webhook_id, outcome FROM messages"):
            if webhook_id in ours:
                outcomes[outcome] += 1
        sequences: dict[str, list[int]] = defaultdict(list)
        applications: dict[str, int] = defaultdict(int)
        for webhook_id, grant_id, version in conn.execute(
            "SELECT webhook_id, grant_id, version FROM applications ORDER BY id"
        ):
            if webhook_id in ours:
                sequences[grant_id].append(version)
                applications[webhook_id] += 1
        held = dict(conn.execute("SELECT grant_id, version FROM grants"))
    twice = sum(1 for count in applications.values() if count > 1)
    return sum(applications.values()), outcomes, twice, sequences, held


if __name__ == "__main__":
    raise SystemExit(main())
