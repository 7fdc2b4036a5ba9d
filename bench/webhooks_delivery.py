"""Benchmark of webhook delivery to the reference center receiver (issue 4).

Runs the real pipeline: outbox rows written in transactions, on-commit nudges through the broker,
a Celery worker with its default settings (one process per CPU) plus beat, signing with
standardwebhooks, HTTP POSTs to `python -m receiver` in its own process, attempts recorded.

Prints
  floor       signed POSTs per second from one Python loop straight to the receiver (no
              database, no broker): the ceiling a single sender reaches in this run
  steady      deliveries per second while events are being written one transaction each
  drain       seconds to deliver N events that piled up while the receiver was out (it answered
              410 Gone, the endpoint was disabled), from the moment staff enable it again
  delivered / lost / applied twice   counted on both sides: Suanli's delivery rows and the
              receiver's own SQLite (lost and applied twice must be 0)

Uses DATABASE_URL / CELERY_BROKER_URL when they point at PostgreSQL / Redis (a scratch database
`suanli_bench_webhooks` is created and dropped); otherwise the embedded SQLite file and
file-system broker in a temporary directory.

Usage: .venv/bin/python bench/webhooks_delivery.py [--events 10000] [--steady-events 2000]
CI short form: --events 300 --steady-events 100
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drills.harness import (  # noqa: E402 - the path above makes the repository importable
    Child,
    database_create,
    database_drop,
    free_port,
    http_ok,
    wait_for,
)

BENCH_DB = "suanli_bench_webhooks"
SECRET = "whsec_YmVuY2gtd2ViaG9va3MtZGVsaXZlcnktc2VjcmV0LTA="  # noqa: S105 - bench only


def _server_url(database: str) -> str:
    return urlsplit(database)._replace(path="/postgres").geturl()


def prepare_environment(tmp: Path) -> str:
    """Point Django at a scratch database before it is imported; return a description."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.base"
    os.environ["SUANLI_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    os.environ["SUANLI_STAFF_ALERT_EMAILS"] = "bench@localhost"
    database = os.environ.get("DATABASE_URL", "")
    if database.startswith("postgres"):
        os.environ["DATABASE_URL"] = database_create(BENCH_DB, server_url=_server_url(database))
        db = "PostgreSQL"
    else:
        os.environ.pop("DATABASE_URL", None)
        db = "SQLite (embedded)"
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis"):
        os.environ.pop("CELERY_BROKER_URL", None)
        broker = "file-system broker (embedded)"
    else:
        broker = "Redis"
    return f"{db}, {broker}"


def drop_database() -> None:
    database = os.environ.get("DATABASE_URL", "")
    if database.startswith("postgres"):
        database_drop(BENCH_DB, server_url=_server_url(database))


def start_celery(tmp: Path, *args: str) -> tuple[Child, Path]:
    log = tmp / f"celery-{args[0]}.log"
    child = Child(
        name=f"celery {args[0]}",
        argv=[sys.executable, "-m", "celery", "-A", "portal", *args, "--loglevel=INFO"],
        env=os.environ.copy(),
        log=log,
    )
    return child.start(), log


def receiver_counts(path: Path, ids: list[str]) -> tuple[int, int]:
    """(ids the receiver recorded, ids it applied more than once), read from its own file."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TEMP TABLE wanted (webhook_id TEXT PRIMARY KEY)")
        conn.executemany("INSERT INTO wanted VALUES (?)", [(i,) for i in ids])
        seen = conn.execute(
            "SELECT COUNT(*) FROM messages JOIN wanted USING (webhook_id)"
        ).fetchone()[0]
        twice = conn.execute(
            "SELECT COUNT(*) FROM (SELECT webhook_id FROM applications JOIN wanted"
            " USING (webhook_id) GROUP BY webhook_id HAVING COUNT(*) > 1)"
        ).fetchone()[0]
    return seen, twice


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="events piled up in the outage")
    parser.add_argument("--steady-events", type=int, default=2_000)
    parser.add_argument("--floor-posts", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="suanli-bench-webhooks-"))
    setup = prepare_environment(tmp)

    import django

    django.setup()
    import requests
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from centers.models import Center, WebhookEndpoint
    from centers.services import endpoint_enable
    from grants.models import WebhookDelivery
    from grants.services import outbox_event_record
    from grants.webhook_signing import event_body, new_message_id, sign_headers

    call_command("migrate", verbosity=0)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    receiver_db = tmp / "receiver.sqlite3"
    receiver = Child(
        name="receiver",
        argv=[sys.executable, "-m", "receiver", "--port", str(port), "--secret", SECRET,
              "--db", str(receiver_db)],
        env=os.environ.copy(),
        log=tmp / "receiver.log",
    ).start()  # fmt: skip
    processes = [receiver]
    try:
        wait_for(lambda: http_ok(url + "stats"), timeout=30, what="the receiver")
        center = Center.objects.create(
            code="bench", name_zh="基准", name_en="Bench", city_zh="武汉", city_en="Wuhan"
        )
        endpoint = WebhookEndpoint.objects.create(center=center, url=url, secret=SECRET)

        # Floor: one loop of signed POSTs straight to the receiver.
        session = requests.Session()
        start = time.perf_counter()
        for number in range(args.floor_posts):
            body = event_body(
                event_type="grant.amended",
                occurred_at=timezone.now(),
                data=_data(-1 - number),
            )
            headers = sign_headers(msg_id=new_message_id(), body=body, secrets=[SECRET])
            session.post(url, data=body.encode(), headers=headers, timeout=15).raise_for_status()
        floor = args.floor_posts / (time.perf_counter() - start)

        worker, worker_log = start_celery(tmp, "worker", "--without-gossip", "--without-mingle")
        beat, _ = start_celery(tmp, "beat", "--schedule", str(tmp / "beat-schedule"))
        processes += [worker, beat]
        wait_for(lambda: b"ready." in worker_log.read_bytes(), timeout=60, what="the worker")
        concurrency = _concurrency(worker_log)

        # Steady: events written one transaction each while the worker delivers.
        start = time.perf_counter()
        steady_ids = []
        for number in range(args.steady_events):
            with transaction.atomic():
                event = outbox_event_record(
                    event_type="grant.amended", data=_data(number), endpoints=[endpoint]
                )
            steady_ids.append(event.webhook_id)
        written = time.perf_counter() - start
        wait_for(
            lambda: _delivered(WebhookDelivery) >= args.steady_events,
            timeout=args.timeout,
            what="steady deliveries",
        )
        steady_rate = args.steady_events / (time.perf_counter() - start)

        # Outage: the receiver answers 410 Gone; the worker disables the endpoint; events pile up.
        requests.post(url + "_control", json={"mode": "gone", "count": -1}, timeout=5)
        outage_ids = []
        base = 1_000_000
        for chunk in range(0, args.events, 500):
            with transaction.atomic():
                for number in range(chunk, min(chunk + 500, args.events)):
                    event = outbox_event_record(
                        event_type="grant.amended", data=_data(base + number), endpoints=[endpoint]
                    )
                    outage_ids.append(event.webhook_id)
        wait_for(
            lambda: not WebhookEndpoint.objects.get(pk=endpoint.pk).is_active,
            timeout=120,
            what="the endpoint to be disabled by a 410",
        )
        # A real outage outlasts the nudges written during it: let the worker consume them and
        # finish what it claimed (leased rows have a future retry time), so no late 410
        # disables the endpoint again after staff enable it.
        wait_for(
            lambda: _quiet(WebhookDelivery, timezone.now()),
            timeout=args.timeout,
            what="the worker to finish its claimed deliveries",
            interval=1.0,
        )
        requests.post(url + "_control/reset", timeout=5)
        pending = WebhookDelivery.objects.filter(status="pending").count()

        start = time.perf_counter()
        endpoint_enable(endpoint=endpoint, actor=None)
        total = args.steady_events + args.events
        wait_for(
            lambda: _delivered(WebhookDelivery) >= total,
            timeout=args.timeout,
            what="the backlog to drain",
            interval=0.5,
        )
        drain = time.perf_counter() - start

        delivered = _delivered(WebhookDelivery)
        seen, twice = receiver_counts(receiver_db, steady_ids + outage_ids)
        lost = total - seen
        failed = WebhookDelivery.objects.filter(status="failed").count()
        print(f"setup:           {setup}; worker concurrency {concurrency} (Celery default), beat")
        print(f"floor:           {floor:8.0f} signed POSTs/s (one loop, no DB, no broker)")
        print(
            f"steady:          {steady_rate:8.0f} deliveries/s for {args.steady_events} events "
            f"({args.steady_events / written:.0f} events/s written) = "
            f"{steady_rate / floor:.2f} x floor"
        )
        print(
            f"drain:           {drain:8.1f} s for {pending} events piled up in the outage "
            f"({pending / drain:.0f} deliveries/s = {pending / drain / floor:.2f} x floor)"
        )
        print(f"delivered:       {delivered} of {total}")
        print(f"lost:            {lost}")
        print(f"applied twice:   {twice}")
        print(f"failed:          {failed}")
        return 0 if lost == 0 and twice == 0 and delivered == total else 1
    finally:
        for process in reversed(processes):
            process.stop()
        drop_database()


def _data(grant_id: int) -> dict:
    return {
        "grant_id": grant_id,
        "version": 1,
        "center": "bench",
        "recipient": {"reference": f"BENCH-{grant_id}", "company_name": "Bench", "uscc": "-"},
        "unit": "gpu_hours",
        "total_granted": "100.00",
        "released": "40.00",
        "tranches": [],
        "valid_from": "2026-12-01",
        "expires_at": "2027-11-30",
        "status": "active",
    }


def _queue_length() -> int:
    """Tasks waiting in the broker (nudges written during the outage)."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if broker.startswith("redis"):
        import redis

        return int(redis.Redis.from_url(broker).llen("celery"))
    folder = Path(os.environ["SUANLI_VAR_DIR"]) / "celery-broker"
    return len(list(folder.glob("*"))) if folder.exists() else 0


def _quiet(model, now) -> bool:
    leased = model.objects.filter(status="pending", next_attempt_at__gt=now).exists()
    if leased or _queue_length():
        return False
    time.sleep(2)
    return not model.objects.filter(status="pending", next_attempt_at__gt=now).exists()


def _delivered(model) -> int:
    return model.objects.filter(status="succeeded").count()


def _concurrency(log: Path) -> str:
    for line in log.read_text(errors="replace").splitlines():
        if "concurrency:" in line:
            return line.split("concurrency:")[1].strip().split()[0]
    return "?"


if __name__ == "__main__":
    raise SystemExit(main())
