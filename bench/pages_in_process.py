"""Per page, in one process: where the milliseconds of the deadline-rush pages go (issue 9).

The load test (load_rush.py) tells how many requests per second gunicorn serves; this tells what
each page costs in Django alone, quickly and with little noise, so a change can be judged in a
minute before the load test confirms it. Production settings (DEBUG off, cached templates,
hashed static files, secure cookies behind the TLS proxy), a scratch PostgreSQL database copied
from the migrated template, a private redis-server as the cache and broker: as load_rush.py
deploys it, but with Django's test client in this process instead of gunicorn and locust.

Each journey is the browser's five requests of a submission (form GET, POST, check GET, confirm
POST, confirmation GET) with CSRF checks enforced, then `/healthz` and "find my reference" on a
completed draw; the journeys are interleaved, so a busy moment of the machine touches every page
alike. Prints the median and minimum milliseconds per page, its ratio to `/healthz`, and the
queries each page makes (counted in a separate, untimed journey).

Usage: .venv/bin/python bench/pages_in_process.py                  # 60 journeys, 20,000 entrants
       .venv/bin/python bench/pages_in_process.py --profile "4 confirm POST"   # + cProfile of it
       BENCH_SHOW_SQL=1 .venv/bin/python bench/pages_in_process.py   # + every query of one journey
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from drills.harness import (  # noqa: E402
    PrivateRedis,
    database_create,
    database_drop,
    founder_answers,
    load_average,
    migrated_template,
)
from drills.private_services import collected_static, production_environment  # noqa: E402

DATABASE = "suanli_bench_pages"
PROXY = {"X-Forwarded-Proto": "https"}  # what the TLS proxy adds (load_rush.py sends it too)
ORIGIN = {**PROXY, "Origin": "https://127.0.0.1"}  # what a browser adds to a form POST
FORM = "application/x-www-form-urlencoded"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PAGES = (
    "healthz",
    "1 form GET",
    "2 form POST",
    "3 check GET",
    "4 confirm POST",
    "5 confirmation GET",
    "find my reference",
)


def uscc_for(serial: int) -> str:
    """A valid code per serial, as locustfile_rush.py makes them (importing that file would
    start locust's gevent patching in this process)."""
    from applications.uscc import ALPHABET, make_valid

    digits = []
    for _position in range(9):
        serial, remainder = divmod(serial, len(ALPHABET))
        digits.append(ALPHABET[remainder])
    return make_valid("91420100" + "".join(reversed(digits)))


class Journeys:
    """The requests of load_rush.py's locust users, through Django's test client."""

    def __init__(self, *, round_code: str, center_code: str, draw_id: str, entrants: int):
        self.round_code, self.center_code = round_code, center_code
        self.draw_id, self.entrants = draw_id, entrants
        self.serial = 0
        self.browser = None

    def one(self, timed: dict[str, list[float]] | None, profiles: dict | None = None) -> None:
        import random
        from http.cookies import SimpleCookie

        from django.test import Client

        def request(name: str, call, *args, expected: int, **kwargs):
            profile = profiles.get(name) if profiles else None
            started = time.perf_counter()
            if profile is not None:
                profile.enable()
            response = call(*args, **kwargs)
            if profile is not None:
                profile.disable()
            if timed is not None:
                timed[name].append((time.perf_counter() - started) * 1000)
            if response.status_code != expected:
                raise SystemExit(f"{name}: HTTP {response.status_code}, expected {expected}")
            return response

        self.serial += 1
        uscc = uscc_for(self.serial)
        # One client for every journey: a new one would load the middleware again on its first
        # request (gunicorn's workers load it once). A new founder is an empty cookie jar.
        if self.browser is None:
            self.browser = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
        browser = self.browser
        browser.cookies = SimpleCookie()
        request("healthz", browser.get, "/healthz", headers=PROXY, expected=200)
        form = request("1 form GET", browser.get, "/en/apply/", headers=PROXY, expected=200)
        answers = founder_answers(
            csrf_token=CSRF_INPUT.search(form.content.decode()).group(1),
            uscc=uscc,
            serial=self.serial,
            round_code=self.round_code,
            center_code=self.center_code,
            commit_by="2027-06-30",
        )
        # Encoded as browsers and locust send a form (the test client's default is multipart).
        posted = request(
            "2 form POST",
            browser.post,
            "/en/apply/",
            urlencode(answers),
            content_type=FORM,
            headers=ORIGIN,
            expected=302,
        )
        check_page = request(
            "3 check GET", browser.get, posted["Location"], headers=PROXY, expected=200
        )
        token = CSRF_INPUT.search(check_page.content.decode()).group(1)
        submitted = request(
            "4 confirm POST",
            browser.post,
            posted["Location"],
            urlencode({"csrfmiddlewaretoken": token}),
            content_type=FORM,
            headers=ORIGIN,
            expected=302,
        )
        request(
            "5 confirmation GET", browser.get, submitted["Location"], headers=PROXY, expected=200
        )
        reference = f"RU-{random.randint(1, self.entrants):07d}"
        browser.cookies = SimpleCookie()  # a visitor who never applied
        found = request(
            "find my reference",
            browser.get,
            f"/en/draws/{self.draw_id}/?ref={reference}",
            headers=PROXY,
            expected=200,
        )
        if f":{reference}' | sha256sum" not in found.content.decode():
            raise SystemExit(f"find my reference: {reference} not found")


def queries_per_page(journeys: Journeys) -> dict[str, int]:
    """One untimed journey with every query counted (counting slows the cursor down)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, int] = {}

    class QueriesSinceLastPage(dict):
        """Stands in for the timings: read right after each request, it notes the queries
        made since the previous request as that page's."""

        def __getitem__(self, name: str) -> list:
            counts[name] = len(captured.captured_queries) - sum(counts.values())
            return []

    with CaptureQueriesContext(connection) as captured:
        journeys.one(QueriesSinceLastPage())
    if os.environ.get("BENCH_SHOW_SQL"):
        for query in captured.captured_queries:
            # A server-bound cursor's query (core.db) is logged without its parameters bound.
            print("SQL", str(query["sql"])[:160])
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=60, help="timed journeys")
    parser.add_argument("--entrants", type=int, default=20_000, help="entrants of the draw")
    parser.add_argument(
        "--profile", nargs="*", default=[], help="pages to cProfile", metavar="PAGE"
    )
    parser.add_argument("--top", type=int, default=25, help="lines of each profile")
    parser.add_argument(
        "--profile-dump",
        type=Path,
        help="folder to write each profile to (pstats files, for callers and callees)",
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="suanli-pages-"))
    redis = PrivateRedis(folder)
    try:
        redis.start()
        environment = production_environment(
            folder=folder,
            database_url="",
            redis=redis,
            extra={"SUANLI_APPLICATION_RATE_LIMIT_PER_HOUR": "1000000000"},
        )
        environment["DATABASE_URL"] = database_create(DATABASE, template=migrated_template())
        environment["DJANGO_STATIC_ROOT"] = collected_static(environment)
        os.environ.update(environment)
        import load_rush

        round_settings = load_rush.create_rush_round()
        draw_id = load_rush.create_draw(args.entrants)
        journeys = Journeys(
            round_code=round_settings["RUSH_ROUND"],
            center_code=round_settings["RUSH_CENTER"],
            draw_id=draw_id,
            entrants=args.entrants,
        )
        for _warm in range(5):
            journeys.one(None)
        queries = queries_per_page(journeys)
        print(f"load before: {load_average()}")
        timed: dict[str, list[float]] = {name: [] for name in PAGES}
        for _journey in range(args.journeys):
            journeys.one(timed)
        profiles = {name: cProfile.Profile() for name in args.profile}
        if profiles:
            for _journey in range(args.journeys):
                journeys.one(None, profiles)
        print(f"load after: {load_average()}")
        base = statistics.median(timed["healthz"])
        print(
            f"\n{args.journeys} journeys, production settings, PostgreSQL, private Redis; "
            f"draw of {args.entrants:,} entrants\n"
        )
        print(f"{'request':<20} {'median ms':>9} {'min ms':>7} {'x healthz':>9} {'queries':>7}")
        for name in PAGES:
            median = statistics.median(timed[name])
            print(
                f"{name:<20} {median:9.1f} {min(timed[name]):7.1f} {median / base:9.1f}"
                f" {queries.get(name, 0):7d}"
            )
        journey = sum(statistics.median(timed[name]) for name in PAGES[1:6])
        print(
            f"\nsubmission, five requests: {journey:.1f} ms = {journey / 5 / base:.1f}x healthz "
            f"per request (25% of /healthz's throughput needs <= 4x); find "
            f"{statistics.median(timed['find my reference']) / base:.1f}x (50% needs <= 2x)"
        )
        for name, profile in profiles.items():
            if args.profile_dump:
                args.profile_dump.mkdir(parents=True, exist_ok=True)
                profile.dump_stats(args.profile_dump / (re.sub(r"\W+", "-", name) + ".pstats"))
            text = io.StringIO()
            stats = pstats.Stats(profile, stream=text).strip_dirs()
            print(f"\n--- cProfile of {name}, {args.journeys} requests: by own time ---")
            stats.sort_stats("tottime").print_stats(args.top)
            print(text.getvalue())
            text.seek(0)
            text.truncate()
            print(f"--- cProfile of {name}: by cumulative time ---")
            stats.sort_stats("cumulative").print_stats(args.top * 2)
            print(text.getvalue())
        return 0
    finally:
        redis.stop()
        database_drop(DATABASE)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
