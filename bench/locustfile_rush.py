"""Locust users for the deadline rush (issue 9), driven by bench/load_rush.py.

Each user behaves as a browser behind the production TLS proxy (the proxy adds
X-Forwarded-Proto: https, so secure cookies, CSRF origin checks and the HTTPS redirect run as
deployed). By default no think time: every user sends its next request as soon as the last one
answered (the capacity runs). With RUSH_THINK_SECONDS set, every user of every kind waits after
each answer before its next request, as a person reading a page does (the latency run): a random
time between half and one and a half times that, so that the users do not move in lockstep (with a
constant wait all 32 would send their next request in the same instant, every time); for the
same reason each user also waits that long before its first request.

  ApplicantUser  one founder per journey, with a fresh cookie jar, exactly the requests a browser
                 makes: GET the form (CSRF cookie and token), POST it, follow the redirect to the
                 check-your-answers page, POST confirm, follow the redirect to the confirmation.
                 Each USCC is new and valid; a journey counts as accepted only when the
                 confirmation page shows a reference.
  TrivialUser    GET /healthz (the baseline: the whole middleware stack and one `SELECT 1`).
  FindReferenceUser  "find my reference" on the public draw page, a random entrant each time.

Settings come from the environment (load_rush.py sets them): RUSH_ROUND, RUSH_CENTER,
RUSH_USCC_START (first serial of this run's USCCs), RUSH_DRAW_ID, RUSH_ENTRANTS,
RUSH_THINK_SECONDS (default 0), and RUSH_RESULT_PATH, where the figures and the confirmations are
written when the test stops.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import re
import sys
import time
from http.cookiejar import DefaultCookiePolicy
from http.cookies import SimpleCookie
from pathlib import Path

import gevent
from locust import FastHttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from applications.uscc import ALPHABET, make_valid
from drills.harness import founder_answers

PROXY = {"X-Forwarded-Proto": "https"}
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REFERENCE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b")
serials = itertools.count(int(os.environ.get("RUSH_USCC_START", "0")))
confirmed: list[tuple[str, str, float]] = []  # (uscc, reference, unix time) of each confirmation
journey_failures: list[str] = []
# What the error pages looked like (the drills need a clean page, never a traceback).
error_pages = {"count": 0, "with_traceback": 0, "not_bilingual": 0, "statuses": {}}
THINK_SECONDS = float(os.environ.get("RUSH_THINK_SECONDS", "0"))
TRACEBACK_MARKS = ("Traceback", 'File "', "psycopg", "OperationalError", "django.db")
FRIENDLY_MARKS = ("抱歉", "Sorry")


def uscc_for(serial: int) -> str:
    """A valid code per serial: '91' + region '420100' + the serial in the code's own alphabet."""
    digits = []
    for _position in range(9):
        serial, remainder = divmod(serial, len(ALPHABET))
        digits.append(ALPHABET[remainder])
    return make_valid("91420100" + "".join(reversed(digits)))


class NoCookies(DefaultCookiePolicy):
    def set_ok(self, cookie, request) -> bool:
        return False


class BrowserUser(FastHttpUser):
    """The portal's cookies are Secure (production settings). The browser talks HTTPS to the
    proxy, so it sends them; the client library sees plain HTTP to gunicorn and would not.
    So cookies are kept here as the browser keeps them, and the library's own jar stays empty."""

    abstract = True
    # After each task; inside a journey, _request waits the same time between pages.
    wait_time = between(THINK_SECONDS / 2, THINK_SECONDS * 3 / 2)

    def on_start(self) -> None:
        self.client.cookiejar.set_policy(NoCookies())
        self.cookies: dict[str, str] = {}
        self.origin = f"https://{self.host.split('://', 1)[1]}"
        if THINK_SECONDS:
            # Paced runs: arrive as if the others were already reading. Locust starts every user
            # at the same instant, so without this all 32 first requests (32 form GETs) queue
            # together and the p99 measures that one burst, as a constant think time would.
            gevent.sleep(self.wait_time())

    def browser_headers(self, *, post: bool = False) -> dict[str, str]:
        headers = dict(PROXY)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if post:
            headers["Origin"] = self.origin  # what a browser sends with a form POST
        return headers

    def remember_cookies(self, response) -> None:
        for header in response.headers.get_all("set-cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


class ApplicantUser(BrowserUser):
    @task
    def apply(self) -> None:
        # A new founder: a browser that has never seen the portal.
        self.cookies.clear()
        serial = next(serials)
        uscc = uscc_for(serial)
        try:
            reference = self._journey(uscc, serial)
        except JourneyFailed as failure:
            journey_failures.append(f"{uscc}: {failure}")
            return
        confirmed.append((uscc, reference, time.time()))

    def _request(self, method: str, path: str, name: str, expected: int, **kwargs) -> object:
        if THINK_SECONDS and not name.startswith("1 "):
            gevent.sleep(self.wait_time())  # reading the last page (the first follows wait_time)
        with self.client.request(
            method,
            path,
            name=name,
            allow_redirects=False,
            catch_response=True,
            headers=self.browser_headers(post=method == "POST"),
            **kwargs,
        ) as response:
            self.remember_cookies(response)
            if response.status_code != expected:
                _note_error_page(response)
                detail = f"{name}: HTTP {response.status_code}, expected {expected}"
                response.failure(detail)
                raise JourneyFailed(detail)
            response.success()
            return response

    def _journey(self, uscc: str, serial: int) -> str:
        form_page = self._request("GET", "/en/apply/", "1 form GET", 200)
        token = _csrf_token(form_page.text)
        target = (dt.date.today() + dt.timedelta(days=200)).isoformat()
        answers = founder_answers(
            csrf_token=token,
            uscc=uscc,
            serial=serial,
            round_code=os.environ["RUSH_ROUND"],
            center_code=os.environ["RUSH_CENTER"],
            commit_by=target,
        )
        posted = self._request("POST", "/en/apply/", "2 form POST", 302, data=answers)
        check_path = _location(posted)
        check_page = self._request("GET", check_path, "3 check GET", 200)
        confirm = {"csrfmiddlewaretoken": _csrf_token(check_page.text)}
        submitted = self._request("POST", check_path, "4 confirm POST", 302, data=confirm)
        confirmation = self._request("GET", _location(submitted), "5 confirmation GET", 200)
        match = REFERENCE.search(confirmation.text)
        if match is None:
            raise JourneyFailed("the confirmation page shows no reference")
        return match.group(0)


class TrivialUser(BrowserUser):
    @task
    def healthz(self) -> None:
        self.client.get("/healthz", name="healthz", headers=PROXY)


class FindReferenceUser(BrowserUser):
    @task
    def find(self) -> None:
        entrants = int(os.environ["RUSH_ENTRANTS"])
        reference = f"RU-{random.randint(1, entrants):07d}"
        with self.client.get(
            f"/en/draws/{os.environ['RUSH_DRAW_ID']}/?ref={reference}",
            name="find my reference",
            headers=PROXY,
            catch_response=True,
        ) as response:
            # The ticket's check command is printed only when the reference was found.
            if response.status_code != 200 or f":{reference}' | sha256sum" not in response.text:
                response.failure(f"HTTP {response.status_code} or {reference} not found")


class JourneyFailed(Exception):
    pass


def _note_error_page(response) -> None:
    status = response.status_code
    if status < 500:
        return
    text = response.text or ""
    error_pages["count"] += 1
    error_pages["statuses"][str(status)] = error_pages["statuses"].get(str(status), 0) + 1
    error_pages["with_traceback"] += any(mark in text for mark in TRACEBACK_MARKS)
    error_pages["not_bilingual"] += not all(mark in text for mark in FRIENDLY_MARKS)


def _csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    if match is None:
        raise JourneyFailed("no CSRF token in the form")
    return match.group(1)


def _location(response) -> str:
    location = response.headers.get("Location", "")
    if not location.startswith("/"):
        raise JourneyFailed(f"unexpected redirect to {location!r}")
    return location


@events.quitting.add_listener
def write_results(environment, **_kwargs) -> None:
    path = os.environ.get("RUSH_RESULT_PATH")
    if not path:
        return
    stats = environment.stats
    entries = {}
    for entry in [*stats.entries.values(), stats.total]:
        entries[entry.name] = {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "rps": entry.total_rps,
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
            "max": entry.max_response_time,
            # Requests per rounded response time (ms), so that load_rush.py can merge the
            # percentiles of several runs of one scenario.
            "histogram": {str(ms): count for ms, count in entry.response_times.items()},
        }
    errors = [
        f"{error.name}: {error.error} x{error.occurrences}" for error in stats.errors.values()
    ]
    duration = (stats.total.last_request_timestamp or 0) - (stats.total.start_time or 0)
    Path(path).write_text(
        json.dumps(
            {
                "entries": entries,
                "errors": errors,
                "duration": duration,
                "confirmed": confirmed,
                "journey_failures": journey_failures,
                "error_pages": error_pages,
            }
        )
    )
