"""Drill 6: the clock edge of a round's close, over real HTTP.

The portal runs under gunicorn on a scratch PostgreSQL database. Two rounds close at whole
seconds a few seconds from now, one per language. For each, two founders fill in the form and
reach "check your answers" while the round is open; then one presses "submit" one second
before the close and the other one second after, timed on the machine's clock (the one
gunicorn reads). Checks:

  - close - 1 s: accepted (redirect to the confirmation), stored with a submission time
    before the close;
  - close + 1 s: refused on the page with "This round has closed" in the founder's language
    (English, Simplified Chinese), and nothing stored for that founder.

Usage: .venv/bin/python drills/clock_edge.py   (the short form is the same: --short accepted)
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drills.harness import Drill

DATABASE = "suanli_drill_clock_edge"
CLOSED = {
    "en": "This round has closed. Select a round that is open",
    "zh-hans": "该轮次已截止，请选择正在开放的轮次",
}
USCC = {"before": "91230184MA1BUFLT44", "after": "91310110666007217T"}
LEAD_SECONDS = 9  # time to fill in four forms before the first close


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--short", action="store_true", help="same as the full form")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and logs")
    args = parser.parse_args()

    with Drill(
        "drill 6: a submission 1 s before and 1 s after a round's close",
        database=DATABASE,
        private_redis=False,
        keep=args.keep,
    ) as drill:
        drill.django_setup()
        report = drill.report
        _, base = drill.start_gunicorn(workers=2)
        from django.utils import timezone

        from applications.models import Application
        from tests.factories import CenterFactory, RoundFactory

        CenterFactory(code="wuhan-ai", name_zh="武汉人工智能计算中心", name_en="Wuhan AI")
        first_close = (timezone.now() + dt.timedelta(seconds=LEAD_SECONDS)).replace(microsecond=0)
        rounds = {
            language: RoundFactory(
                code=f"drill-clock-{language}",
                opens_at=timezone.now() - dt.timedelta(days=1),
                closes_at=first_close + dt.timedelta(seconds=4 * number),
            )
            for number, language in enumerate(CLOSED)
        }
        sessions = {
            (language, side): _fill_in(base, language, rounds[language].code, USCC[side])
            for language in CLOSED
            for side in ("before", "after")
        }
        late = timezone.now() >= first_close - dt.timedelta(seconds=1.5)
        report.check("the forms were filled in before the first close", not late)

        for language, round_ in rounds.items():
            for side, offset in (("before", -1), ("after", +1)):
                moment = round_.closes_at + dt.timedelta(seconds=offset)
                _sleep_until(moment)
                session, token = sessions[(language, side)]
                sent = timezone.now()
                response = session.post(
                    f"{base}{language}/apply/check/",
                    data={"csrfmiddlewaretoken": token},
                    headers={"Referer": f"{base}{language}/apply/check/"},
                    allow_redirects=False,
                    timeout=30,
                )
                answered = timezone.now()
                stored = Application.objects.filter(round=round_, uscc=USCC[side]).first()
                label = f"{language}, close {offset:+d} s"
                report.figure(
                    f"{label} sent at",
                    f"close {(sent - round_.closes_at).total_seconds():+.3f} s, answered in "
                    f"{(answered - sent).total_seconds() * 1000:.0f} ms: {response.status_code}",
                )
                if side == "before":
                    accepted = response.status_code == 302 and "/apply/submitted/" in (
                        response.headers.get("Location", "")
                    )
                    report.check(
                        f"{label}: accepted and stored before the close",
                        accepted and stored is not None and stored.submitted_at < round_.closes_at,
                        f"stored {(stored.submitted_at - round_.closes_at).total_seconds():+.3f} s"
                        if stored
                        else "not stored",
                    )
                else:
                    report.check(
                        f"{label}: refused with '{CLOSED[language]}'",
                        response.status_code == 400 and CLOSED[language] in response.text,
                        response.status_code,
                    )
                    report.check(f"{label}: nothing stored", stored is None)
    return drill.report.verdict()


def _fill_in(base: str, language: str, round_code: str, uscc: str):
    """A founder's browser: the form, then "continue" to check your answers. Returns the
    session and the CSRF token of the check page."""
    import requests

    session = requests.Session()
    page = session.get(f"{base}{language}/apply/", timeout=30)
    target = (dt.date.today() + dt.timedelta(days=180)).isoformat()
    answers = {
        "csrfmiddlewaretoken": _csrf(page.text),
        "company_legal_name": f"武汉时钟{uscc[-4:]}科技有限公司",
        "uscc": uscc,
        "registration_city": "wuhan",
        "founded_on": "2024-03-01",
        "employees": "12",
        "revenue_band": "pre_revenue",
        "founder_name": "张伟",
        "email": f"clock.{uscc[-4:].lower()}@example.cn",
        "mobile": "138 0013 8000",
        "round": round_code,
        "center_1": "wuhan-ai",
        "gpu_hours_requested": "1000",
        "purpose": "训练一个面向中文法律文书的开源小模型。",
        "commit_open_weights": "on",
        "commit_open_weights_date": target,
        "consent_terms": "on",
        "company_fax": "",
    }
    referer = {"Referer": f"{base}{language}/apply/"}
    response = session.post(
        f"{base}{language}/apply/", data=answers, headers=referer, allow_redirects=False
    )
    if response.status_code != 302:
        raise SystemExit(f"the form was not accepted ({response.status_code}):\n{response.text}")
    check = session.get(f"{base}{language}/apply/check/", timeout=30)
    return session, _csrf(check.text)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not found:
        raise SystemExit("no CSRF token on the page")
    return found.group(1)


def _sleep_until(moment: dt.datetime) -> None:
    from django.utils import timezone

    while (left := (moment - timezone.now()).total_seconds()) > 0:
        time.sleep(min(left, 0.05) if left < 0.5 else left - 0.4)


if __name__ == "__main__":
    raise SystemExit(main())
