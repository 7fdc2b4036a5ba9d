"""Drill 3 (issue 9): Redis stops while founders submit.

Set up: a production deploy on this machine (gunicorn with the production settings, a Celery
worker and beat) on a scratch PostgreSQL database and a private redis-server (broker and cache;
the machine's own Redis is never touched), e-mail written to files.
Break: locust founders (bench/locustfile_rush.py, the browser's requests) submit applications;
midway the private Redis is stopped, which also loses every message it held (no persistence,
like a crashed Redis), and started again empty after the outage.
Check:
  - every submission that got a confirmation is in the database, complete (lost = 0);
  - founders kept getting confirmations while Redis was down (the rate limit's cache and the
    e-mail's enqueue are both Redis; neither may turn a committed application into an error);
  - once Redis is back, every queued e-mail goes out: the ones whose enqueue failed during the
    outage, and the ones lost with Redis' memory, are queued again by the beat sweep of stale
    pending messages;
  - nothing is sent twice: one "application received" e-mail per application, counted in the
    mail files the worker wrote.

The sweep's timing is shortened for the drill through its settings (SUANLI_NOTIFICATIONS_STALE
_SECONDS, SUANLI_NOTIFICATIONS_REQUEUE_SECONDS; 600 s and 300 s when deployed).

Usage: .venv/bin/python drills/redis_outage.py            # 16 founders, 20 s / 30 s down / 20 s
       .venv/bin/python drills/redis_outage.py --short    # CI: 8 founders, 6 s / 8 s down / 6 s
"""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.load_rush import (  # noqa: E402
    create_rush_round,
    database_check,
    locust_result,
    start_locust,
)
from drills.harness import (  # noqa: E402
    POSTGRES_SERVER_URL,
    Drill,
    DrillTimeout,
    database_create,
    database_drop,
    migrated_template,
    wait_for,
)
from drills.private_services import (  # noqa: E402
    GUNICORN_WORKERS,
    PROXY_HEADERS,
    collected_static,
    free_port,
    http_status,
)

DATABASE = "suanli_drill_redis_outage"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    founders = 8 if args.short else 16
    before, outage, after = (6, 8, 6) if args.short else (20, 30, 20)
    stale_seconds = 10 if args.short else 30

    database_url = database_create(
        DATABASE,
        server_url=POSTGRES_SERVER_URL,
        template=migrated_template(server_url=POSTGRES_SERVER_URL),
    )
    try:
        return _drill(args, database_url, founders, before, outage, after, stale_seconds)
    finally:
        database_drop(DATABASE, server_url=POSTGRES_SERVER_URL)


def _drill(args, database_url: str, founders, before, outage, after, stale_seconds) -> int:
    with Drill(
        "drill 3: Redis stopped while founders submit",
        database=None,  # a copy of a migrated template (migrating takes 20 s), dropped after
        settings_module="portal.settings.production",
        keep=args.keep,
        extra_env={
            "DATABASE_URL": database_url,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # All founders come from 127.0.0.1; the per-address limit is not what is tested.
            "SUANLI_APPLICATION_RATE_LIMIT_PER_HOUR": "1000000000",
            "SUANLI_NOTIFICATIONS_STALE_SECONDS": str(stale_seconds),
            "SUANLI_NOTIFICATIONS_REQUEUE_SECONDS": "2",
            "SUANLI_SITE_URL": "https://127.0.0.1",
        },
    ) as drill:
        report = drill.report
        drill.django_setup(migrate=False)
        # Production serves collected static files (the pages' {% static %} need the manifest).
        drill.env["DJANGO_STATIC_ROOT"] = collected_static(drill.env)
        round_settings = create_rush_round()
        supervisor = WorkerSupervisor(drill)
        supervisor.start()
        try:
            drill.start_beat()
            port = free_port()
            drill.spawn(
                "gunicorn",
                [sys.executable, "-m", "gunicorn", "portal.wsgi", "--workers",
                 str(GUNICORN_WORKERS), "--bind", f"127.0.0.1:{port}"],
            )  # fmt: skip
            wait_for(
                lambda: _healthz(port) == 200, timeout=60, what="gunicorn (production settings)"
            )

            from notifications.models import Notification

            locust, result_path = start_locust(
                user="ApplicantUser",
                clients=founders,
                seconds=before + outage + after,
                port=port,
                folder=drill.tmp,
                extra={**round_settings, "RUSH_USCC_START": "1"},
            )
            time.sleep(before)
            assert drill.redis is not None
            drill.redis.stop()
            stopped_at, down_from = time.monotonic(), time.time()
            report.figure("Redis stopped after", f"{before} s of submissions")
            time.sleep(outage)
            drill.redis.child.start()
            wait_for(drill.redis.ping, timeout=20, what="Redis to start again")
            back_at, down_to = time.monotonic(), time.time()
            report.figure("Redis down for", f"{back_at - stopped_at:.1f} s (started again empty)")
            outcome = locust_result(locust, result_path)

            counts = database_check(outcome["confirmed"])
            total = Notification.objects.filter(kind="application_received").count()
            pending_at_end = Notification.objects.exclude(state=Notification.State.SENT).count()
            report.figure("submissions confirmed", counts["confirmed"])
            report.figure("applications in the database", counts["rows"])
            report.figure("errors seen by founders", len(outcome["errors"]))
            for line in outcome["errors"][:5]:
                report.figure("  error", line)
            report.figure("e-mails not yet sent when load stopped", pending_at_end)

            def all_sent() -> bool:
                return not Notification.objects.exclude(state=Notification.State.SENT).exists()

            try:
                drained = wait_for(
                    all_sent,
                    timeout=stale_seconds + 90,
                    what="every e-mail sent after Redis came back",
                )
            except DrillTimeout:
                states = Counter(Notification.objects.values_list("state", flat=True))
                report.figure("e-mail states at the timeout", dict(states))
                print(supervisor.worker.tail(4000))  # the worker's last words
                raise
            for when, reason in supervisor.exits:
                report.figure(
                    "worker exited, restarted",
                    f"{when - back_at:+.1f} s after Redis back: {reason}",
                )
            report.figure(
                "every e-mail sent", f"{time.monotonic() - back_at:.1f} s after Redis back"
            )
            mails = drill.mails()
            per_address = Counter(message["To"] for message in mails)
            expected = set(
                Notification.objects.filter(kind="application_received").values_list(
                    "to_email", flat=True
                )
            )
            report.figure("e-mails written by the worker", len(mails))

            report.check(
                "every confirmed submission is in the database, complete",
                counts["lost"] == 0 and counts["incomplete rows"] == 0,
                f"lost {counts['lost']}, incomplete {counts['incomplete rows']}",
            )
            report.check(
                "no application without its confirmation",
                counts["unconfirmed rows"] == 0,
                f"{counts['unconfirmed rows']} rows the founder never saw confirmed",
            )
            report.check(
                "founders got no error page while Redis was down",
                not outcome["errors"],
                f"{len(outcome['errors'])} errors",
            )
            during = sum(1 for *_ids, when in outcome["confirmed"] if down_from <= when <= down_to)
            report.figure("confirmed while Redis was down", during)
            report.check("submissions were confirmed during the outage", during > 0, during)
            report.check(
                "every e-mail queued during the outage went out once Redis was back",
                drained >= 0 and total == counts["rows"] and set(per_address) >= expected,
                f"{total} messages for {counts['rows']} applications",
            )
            twice = {address: n for address, n in per_address.items() if n > 1}
            report.check("nothing sent twice", not twice, f"{len(twice)} addresses got 2+ e-mails")
        finally:
            supervisor.stop()  # before the drill stops its processes
    return drill.report.verdict()


class WorkerSupervisor(threading.Thread):
    """Starts the Celery worker again whenever it exits, as a deployment's supervisor does
    (systemd `Restart=always`, a container restart policy). Celery 5.7 / kombu 5.7 workers can
    exit when Redis vanishes while a message is unacknowledged (an AttributeError in kombu's
    restore of unacked messages, "Unrecoverable error"); the drill reports every exit."""

    def __init__(self, drill: Drill) -> None:
        super().__init__(daemon=True)
        self.drill = drill
        self.worker = drill.start_worker("worker", concurrency=2)
        self.exits: list[tuple[float, str]] = []
        self._stopped = threading.Event()

    def run(self) -> None:
        crashed_at = None
        while not self._stopped.wait(0.5):
            log = self.worker.log_text()
            if self.worker.alive():
                # A worker that logged an unrecoverable error but hangs on its way out is dead
                # too; a supervisor's watchdog would kill it.
                if "Unrecoverable error" in log:
                    crashed_at = crashed_at or time.monotonic()
                    if time.monotonic() - crashed_at > 15:
                        self.worker.kill()
                continue
            crashed_at = None
            reason = next(
                (line.split("] ", 1)[-1] for line in log.splitlines() if "CRITICAL" in line),
                f"exit code {self.worker.process.returncode}",
            )
            self.exits.append((time.monotonic(), reason[:160]))
            name = f"worker{len(self.exits) + 1}"
            self.worker = self.drill.start_worker(name, concurrency=2, wait=False)

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)


def _healthz(port: int) -> int:
    return http_status(f"http://127.0.0.1:{port}/healthz", PROXY_HEADERS)


if __name__ == "__main__":
    sys.exit(main())
