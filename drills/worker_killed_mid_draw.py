"""Drill 1: the Celery worker running a draw is killed (SIGKILL) in the middle of it.

Sets up a round of N eligible applications (default 100,000) on a scratch PostgreSQL database,
freezes the entrants and announces a declared beacon; a real Celery worker and beat run on a
private Redis. Entering the beacon value queues the draw. As soon as the worker's database
session holds the draw row (and, if it gets there within a moment, is writing the entries),
the whole worker process group gets SIGKILL: no acknowledgement, no cleanup.

Then a fresh worker is started; the beat (running throughout, as in a deployment) queues the
due draw again. Checks, as a member of the public would:

  - nothing was published by the killed run (no entries while the draw stayed frozen);
  - the draw completes, with exactly one result set (N entries, one rank each, one
    "results published" event, one audit record of the execution);
  - the standalone verifier (`lottery/verify_draw.py`, its own process, standard library
    only) agrees with the record served at `/draws/<id>.json`.

Usage: .venv/bin/python drills/worker_killed_mid_draw.py [--entrants 100000]
CI short form: --short (20,000 entrants)
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drills.harness import ROOT, Drill, eligible_applications_insert, wait_for

DATABASE = "suanli_drill_worker_killed"
ADVANCE_SECONDS = 3  # the beat's "what is due" pass; 60 s in production


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entrants", type=int, default=100_000)
    parser.add_argument("--winners", type=int, default=1_000)
    parser.add_argument("--short", action="store_true", help="CI form: 20,000 entrants")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and logs")
    args = parser.parse_args()
    if args.short:
        args.entrants = min(args.entrants, 20_000)
        args.winners = min(args.winners, 200)

    with Drill(
        f"drill 1: worker killed mid-draw ({args.entrants:,} entrants)",
        database=DATABASE,
        keep=args.keep,
        extra_env={
            "SUANLI_LOTTERY_ADVANCE_SECONDS": str(ADVANCE_SECONDS),
            "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
            # Entrant e-mails are not what this drill is about; few per task keeps the
            # worker's queue short once the draw is done.
            "SUANLI_LOTTERY_NOTIFY_BATCH": "50",
        },
    ) as drill:
        drill.django_setup()
        report = drill.report
        draw = _frozen_draw(args.entrants, args.winners)
        # The freeze queued the digest e-mails to 100,000 entrants; they are not this drill's
        # subject, and a worker busy with them would delay the draw by minutes.
        drill.broker_purge()

        from django.db import connection

        from lottery import selectors, services
        from lottery.models import Draw, DrawEntry, DrawEvent, DrawRanking

        worker = drill.start_worker("worker-1", concurrency=2)
        drill.start_beat()
        started = time.monotonic()
        services.draw_declared_value_enter(
            draw=draw, value="drill 1 · 7 4 1", actor=None, now=draw.entries_close_at
        )

        wait_for(
            lambda: _draw_row_held_by_another_session(connection),
            timeout=120,
            what="a worker to start the draw (its session locking the draw row)",
            interval=0.02,
        )
        phase = "computing the draw"
        # Kill while the entries are being written if that happens within a few seconds
        # (the worst moment: rows half in the table); otherwise kill in the computation.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if _entries_being_written(connection):
                phase = "writing the entries"
                break
            if not _draw_row_held_by_another_session(connection):
                break
            time.sleep(0.01)
        held = _draw_row_held_by_another_session(connection)
        worker.kill()
        killed_at = time.monotonic() - started
        report.figure("killed after", f"{killed_at:.2f} s, while {phase}")
        report.check("the draw was still running when the worker died", held)

        after_kill = Draw.objects.get(pk=draw.pk)
        entries_after_kill = DrawEntry.objects.filter(draw=draw).count()
        blocks_after_kill = DrawRanking.objects.filter(draw=draw).count()
        report.check(
            "the killed run published nothing",
            after_kill.state == Draw.State.FROZEN
            and entries_after_kill == 0
            and blocks_after_kill == 0,
            f"state {after_kill.state}, {entries_after_kill} entries, "
            f"{blocks_after_kill} ranking blocks",
        )

        restarted = time.monotonic()
        drill.start_worker("worker-2", concurrency=2)
        wait_for(
            lambda: Draw.objects.get(pk=draw.pk).state == Draw.State.COMPLETED,
            timeout=max(300, args.entrants / 200),
            what="the draw to complete after the restart",
            interval=0.5,
        )
        report.figure("restart to completed", f"{time.monotonic() - restarted:.1f} s")

        completed = Draw.objects.get(pk=draw.pk)
        # Every entrant's result is a line of the ranking blocks; each winner also an entry.
        stored = [row[3] for row in selectors.draw_result_rows(draw=completed)]
        total, ranks = len(stored), len(set(stored))
        if stored != list(range(1, total + 1)):
            ranks = -1  # not exactly ranks 1..n in order
        winners = DrawEntry.objects.filter(draw=completed, outcome="winner").count()
        published = DrawEvent.objects.filter(
            draw=completed, kind=DrawEvent.Kind.RESULTS_PUBLISHED
        ).count()
        executions = _audit_count("draw.executed", completed)
        report.figure("results stored", f"{total:,} (ranks {ranks:,})")
        report.figure("winners drawn", completed.winners_drawn)
        report.check(
            "exactly one result set",
            total == args.entrants and ranks == args.entrants and published == 1,
            f"{total} results, {ranks} ranks, {published} results-published events",
        )
        report.check("one execution in the audit log", executions == 1, executions)
        report.check(
            "winners stored match the draw",
            winners == completed.winners_drawn == args.winners,
            f"{winners} winners stored",
        )

        record_path = drill.tmp / f"{completed.draw_id}.json"
        fetched = time.monotonic()
        _save_published_record(completed.draw_id, record_path)
        verified = subprocess.run(
            ["python3", str(ROOT / "lottery" / "verify_draw.py"), str(record_path)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        report.figure("record size", f"{record_path.stat().st_size / 1e6:.1f} MB")
        report.figure("record + verifier", f"{time.monotonic() - fetched:.1f} s")
        last_line = (verified.stdout.strip().splitlines() or [""])[-1]
        report.check(
            "the standalone verifier agrees with /draws/<id>.json",
            verified.returncode == 0 and last_line.startswith("OK"),
            last_line or verified.stderr[-300:],
        )
    return drill.report.verdict()


def _frozen_draw(entrants: int, winners: int):
    """A closed round with ``entrants`` eligible applications, its draw frozen."""
    from django.db import connection
    from django.utils import timezone

    from applications.models import CityProgram, Round, Stratum
    from lottery import services

    now = timezone.now()
    program = CityProgram.objects.create(
        code="drill",
        name_zh="演练",
        name_en="Drill",
        city_zh="武汉",
        city_en="Wuhan",
        contact_email="drill@example.cn",
    )
    round_ = Round.objects.create(
        program=program,
        code="drill-2026-r1",
        title_zh="演练",
        title_en="Drill",
        opens_at=now - dt.timedelta(days=30),
        closes_at=now - dt.timedelta(minutes=5),
        winners=winners,
    )
    Stratum.objects.create(
        round=round_, code="first-time", name_zh="首次", name_en="First", reserved=winners // 5
    )
    eligible_applications_insert(round_, entrants, prefix="DR", strata=("first-time", ""))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE applications_application")
    draw = services.draw_announce(
        round=round_,
        beacon_source="declared",
        beacon_description="drill 1: a value staff type in",
        now=round_.opens_at,
    )
    services.draw_freeze(draw=draw, now=now)
    return type(draw).objects.get(pk=draw.pk)


def _draw_row_held_by_another_session(connection) -> bool:
    """Another session of this database holds a transaction with a lock on the draws table
    (the draw service locks the draw row for the whole run)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
            WHERE c.relname = 'lottery_draw' AND l.mode = 'RowShareLock'
              AND l.pid <> pg_backend_pid() AND l.granted
            LIMIT 1
            """
        )
        return cursor.fetchone() is not None


def _entries_being_written(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
            WHERE c.relname IN ('lottery_drawranking', 'lottery_drawentry')
              AND l.mode = 'RowExclusiveLock'
              AND l.pid <> pg_backend_pid() AND l.granted
            LIMIT 1
            """
        )
        return cursor.fetchone() is not None


def _audit_count(action: str, target) -> int:
    from core.models import AuditEvent

    return AuditEvent.objects.filter(action=action, target_id=str(target.pk)).count()


def _save_published_record(draw_id: str, path: Path) -> None:
    """What anyone downloads from /draws/<id>.json, saved for the verifier."""
    from django.test import Client

    response = Client().get(f"/draws/{draw_id}.json")
    if response.status_code != 200:
        raise SystemExit(f"/draws/{draw_id}.json answered {response.status_code}")
    with path.open("wb") as output:
        if response.streaming:
            for chunk in response.streaming_content:
                output.write(chunk)
        else:
            output.write(response.content)


if __name__ == "__main__":
    raise SystemExit(main())
