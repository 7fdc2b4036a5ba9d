"""Drill 4 (issue 9): PostgreSQL restarted while founders submit.

Set up: a private PostgreSQL cluster (initdb in a temporary folder, run as `postgres` on a free
port: the machine's own server is never stopped), a private redis-server, and gunicorn with the
production settings (README "Deploying": 4 sync workers, persistent connections with health
checks).
Break: locust founders (bench/locustfile_rush.py, the browser's requests) submit applications;
midway PostgreSQL is stopped (`pg_ctl stop -m fast`: open transactions are rolled back, as in a
restart or failover), kept down a few seconds, and started again. gunicorn is left alone.
Check:
  - while the database is down, founders get the portal's bilingual error page: a 5xx status,
    no traceback, no database error text (the locust clients classify every 5xx page they get).
    The drill also asks for the form itself: at once it may still be the form (its rounds and
    centers are read at most every OFFER_MAX_AGE_SECONDS, so a page read just before the stop
    is still true), but once that age has passed it must be the error page, in both languages;
  - no partial application: every application row has its preferred center, its commitments and
    its e-mail (one transaction), and every confirmation a founder saw is in the database;
  - the portal recovers without a restart: after PostgreSQL is back, new submissions succeed,
    served by the same gunicorn worker processes as before the outage.

Usage: .venv/bin/python drills/postgres_restart.py          # 16 founders, 15 s / 10 s down / 15 s
       .venv/bin/python drills/postgres_restart.py --short  # CI: 8 founders, 5 s / 4 s down / 5 s
       --mode immediate  stops PostgreSQL as a crash would (recovery replays the WAL)
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.load_rush import (  # noqa: E402
    create_rush_round,
    database_check,
    locust_result,
    run_locust,
    start_locust,
)
from drills.harness import (  # noqa: E402
    POSTGRES_SERVER_URL,
    Drill,
    database_create,
    database_drop,
    migrated_template,
    wait_for,
)
from drills.private_services import (  # noqa: E402
    GUNICORN_WORKERS,
    PROXY_HEADERS,
    PrivatePostgres,
    collected_static,
    free_port,
    gunicorn_worker_pids,
    http_status,
)

SCHEMA_SOURCE = "suanli_drill_postgres_restart_schema"
TRACEBACK_MARKS = ("Traceback", 'File "', "psycopg", "OperationalError", "django.db")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--mode", choices=["fast", "immediate"], default="fast")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args()
    founders = 8 if args.short else 16
    before, down, after = (5, 4, 5) if args.short else (15, 10, 15)

    # Not inside the drill's own folder: that one is private to root, and postgres must enter.
    pg_folder = Path(tempfile.mkdtemp(prefix="suanli-drill-pg-"))
    pg_folder.chmod(0o755)
    postgres = PrivatePostgres(pg_folder)
    try:
        postgres.init()
        postgres.start()
        database_url = postgres.create_database("suanli_drill_postgres_restart")
        # The schema comes from the migrated template on the machine's server (no migrate run).
        source = database_create(
            SCHEMA_SOURCE,
            server_url=POSTGRES_SERVER_URL,
            template=migrated_template(server_url=POSTGRES_SERVER_URL),
        )
        try:
            postgres.load_schema_from(source, database_url)
        finally:
            database_drop(SCHEMA_SOURCE, server_url=POSTGRES_SERVER_URL)
        return _drill(args, postgres, database_url, founders, before, down, after)
    finally:
        postgres.destroy()
        if args.keep:
            print(f"  kept {pg_folder}")
        else:
            shutil.rmtree(pg_folder, ignore_errors=True)


def _drill(args, postgres: PrivatePostgres, database_url: str, founders, before, down, after):
    with Drill(
        "drill 4: PostgreSQL restarted while founders submit",
        database=None,
        settings_module="portal.settings.production",
        keep=args.keep,
        extra_env={
            "DATABASE_URL": database_url,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # All founders come from 127.0.0.1; the per-address limit is not what is tested.
            "SUANLI_APPLICATION_RATE_LIMIT_PER_HOUR": "1000000000",
            "SUANLI_SITE_URL": "https://127.0.0.1",
        },
    ) as drill:
        report = drill.report
        drill.django_setup(migrate=False)
        # Production serves collected static files (the pages' {% static %} need the manifest).
        drill.env["DJANGO_STATIC_ROOT"] = collected_static(drill.env)
        round_settings = create_rush_round()
        from django.db import connections

        from applications.selectors import OFFER_MAX_AGE_SECONDS

        connections.close_all()  # this process holds no connection across the restart
        port = free_port()
        gunicorn = drill.spawn(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "portal.wsgi", "--workers",
             str(GUNICORN_WORKERS), "--bind", f"127.0.0.1:{port}"],
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_for(
            lambda: http_status(f"{base}/healthz", PROXY_HEADERS) == 200,
            timeout=60,
            what="gunicorn (production settings)",
        )
        workers_before = gunicorn_worker_pids(gunicorn.process)
        locust, result_path = start_locust(
            user="ApplicantUser",
            clients=founders,
            seconds=before + down + after,
            port=port,
            folder=drill.tmp,
            extra={**round_settings, "RUSH_USCC_START": "1"},
        )
        time.sleep(before)
        postgres.stop(args.mode)
        stopped_at = time.time()
        probes_at_once = [_probe(f"{base}/en/apply/"), _probe(f"{base}/zh-hans/apply/")]
        # Past the offer's age limit every worker must read the database again, and fail cleanly.
        time.sleep(max(0.0, OFFER_MAX_AGE_SECONDS + 0.5 - (time.time() - stopped_at)))
        probes_later = [_probe(f"{base}/{lang}/apply/") for lang in ("en", "zh-hans")
                        for _ in range(GUNICORN_WORKERS)]  # fmt: skip
        time.sleep(max(0.0, down - (time.time() - stopped_at)))
        postgres.start()
        back_at = time.time()
        report.figure("PostgreSQL stopped", f"-m {args.mode}, after {before} s of submissions")
        report.figure(
            "PostgreSQL down for", f"{back_at - stopped_at:.1f} s (until it accepts connections)"
        )
        outcome = locust_result(locust, result_path)

        # A fresh run once it is all over: the same gunicorn must take new submissions.
        recovery = run_locust(
            user="ApplicantUser",
            clients=4,
            seconds=3,
            port=port,
            folder=drill.tmp,
            extra={**round_settings, "RUSH_USCC_START": "50000000"},
        )
        workers_after = gunicorn_worker_pids(gunicorn.process)
        # After a crash (--mode immediate) recovery may outlast the load; then the first
        # confirmation after the restart comes from the fresh run.
        after_back = sorted(
            when for *_ids, when in outcome["confirmed"] + recovery["confirmed"] if when > back_at
        )
        first_success = after_back[0] - back_at if after_back else None
        confirmed = outcome["confirmed"] + recovery["confirmed"]
        counts = database_check(confirmed)
        pages = outcome["error_pages"]

        report.figure("submissions confirmed", len(outcome["confirmed"]))
        report.figure("journeys refused while down", len(outcome["journey_failures"]))
        report.figure("5xx pages seen by founders", f"{pages['count']} {pages['statuses']}")
        report.figure(
            "first confirmation after restart",
            f"{first_success:.1f} s" if first_success is not None else "none",
        )
        report.figure("applications in the database", counts["rows"])
        report.figure("committed but not seen confirmed", counts["unconfirmed rows"])
        report.figure("submissions after recovery", len(recovery["confirmed"]))
        report.figure("gunicorn workers before", sorted(workers_before))
        report.figure("gunicorn workers after", sorted(workers_after))

        report.check(
            "the outage was felt (founders got error pages)", pages["count"] > 0, pages["count"]
        )
        report.check(
            "error pages are clean: 5xx, bilingual, no traceback",
            pages["with_traceback"] == 0 and pages["not_bilingual"] == 0,
            f"{pages['with_traceback']} with traceback, {pages['not_bilingual']} not bilingual",
        )
        report.check(
            "the form at once: still the form, or the bilingual error page",
            all(clean for _status, clean in probes_at_once),
            probes_at_once,
        )
        report.check(
            f"the form after {OFFER_MAX_AGE_SECONDS:g} s down is the bilingual error page",
            all(status >= 500 and clean for status, clean in probes_later),
            probes_later,
        )
        report.check(
            "no partial application (center, commitments, e-mail in every row)",
            counts["incomplete rows"] == 0,
            f"{counts['incomplete rows']} incomplete of {counts['rows']}",
        )
        report.check(
            "every confirmation is in the database",
            counts["lost"] == 0 and counts["duplicate USCC"] == 0,
            f"lost {counts['lost']}, duplicate USCC {counts['duplicate USCC']}",
        )
        report.check(
            "new submissions succeed after the restart, no error",
            len(recovery["confirmed"]) > 0 and not recovery["errors"],
            f"{len(recovery['confirmed'])} confirmed, {len(recovery['errors'])} errors",
        )
        report.check(
            "same gunicorn processes (no restart)",
            gunicorn.alive() and workers_before and workers_after == workers_before,
        )
    return drill.report.verdict()


def _probe(url: str) -> tuple[int, bool]:
    """(status, clean) of the form asked for while the database is down.

    Clean is the whole form (200) or the bilingual error page with no traceback (5xx).
    """
    request = urllib.request.Request(url, headers=PROXY_HEADERS)  # noqa: S310 - local URL
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            text = response.read().decode(errors="replace")
            whole_form = 'name="uscc"' in text and "</form>" in text
            return response.status, whole_form
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        clean = "抱歉" in text and "Sorry" in text and not any(m in text for m in TRACEBACK_MARKS)
        return error.code, clean


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
