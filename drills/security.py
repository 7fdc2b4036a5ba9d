"""Security checks in the drills' spirit: deploy settings, the API against its own schema, and
hostile input against the form and the API, on a live gunicorn and a scratch PostgreSQL.

1. `manage.py check --deploy --fail-level WARNING` with the production settings (as CI).
2. Hostile requests, each expected to end in a clean 4xx (never 5xx) with every row count of
   the portal's tables unchanged: a missing CSRF token, oversized bodies (form and API), bodies
   that are not UTF-8, script markup (the refusal page shows it escaped, never as a tag),
   SQL-looking strings in paths and fields, forged status links, letter codes and usage-report
   signatures.
3. schemathesis (v4) against `/api/schema/`: no 5xx, and every documented response matches
   its schema (`not_a_server_error`, `response_schema_conformance`), on the demo data.

Usage: .venv/bin/python drills/security.py [--max-examples 50]
CI short form: --short (5 examples per operation, no coverage phase)
"""

from __future__ import annotations

import argparse
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drills.harness import ROOT, Drill

DATABASE = "suanli_drill_security"
SCRIPT = "<script>alert('suanli')</script>"
ESCAPED = "&lt;script&gt;alert(&#x27;suanli&#x27;)&lt;/script&gt;"
# Tables whose rows are the portal's data; sessions and the cache may change on any visit.
DATA_APPS = (
    "applications",
    "centers",
    "lottery",
    "grants",
    "milestones",
    "letters",
    "notifications",
    "transparency",
    "core",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-examples", type=int, default=50, help="schemathesis, per operation")
    parser.add_argument("--short", action="store_true", help="CI form: 5 examples")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and logs")
    args = parser.parse_args()
    if args.short:
        args.max_examples = min(args.max_examples, 5)

    with Drill(
        "security: check --deploy, hostile input, schemathesis",
        database=DATABASE,
        private_redis=False,
        keep=args.keep,
        extra_env={"DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver"},
    ) as drill:
        report = drill.report
        drill.django_setup()
        started = time.monotonic()
        # The demo data loads while the deploy check runs: both take seconds, neither needs
        # the other.
        demo = subprocess.Popen(
            [sys.executable, "manage.py", "demo"],
            cwd=ROOT,
            env=drill.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deploy = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=ROOT,
            env={
                **drill.env,
                "DJANGO_SETTINGS_MODULE": "portal.settings.production",
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
                "DJANGO_ALLOWED_HOSTS": "suanli.example.cn",
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
        report.check(
            "check --deploy with production settings",
            deploy.returncode == 0,
            (deploy.stdout + deploy.stderr).strip().splitlines()[-1:],
        )

        _, errors = demo.communicate(timeout=600)
        report.figure("demo data loaded in", f"{time.monotonic() - started:.1f} s")
        report.check(
            "demo data loaded", demo.returncode == 0, errors[-300:] if demo.returncode else ""
        )
        _, base = drill.start_gunicorn(workers=2)
        _hostile(drill, base)
        # The coverage phase (boundary values of every field) is most of the run: full form only.
        phases = "examples,fuzzing" if args.short else "examples,coverage,fuzzing"
        _schemathesis(drill, base, args.max_examples, phases)
    return drill.report.verdict()


# --- hostile input ------------------------------------------------------------------------------


def _row_counts() -> dict[str, int]:
    from django.apps import apps

    counts = {}
    for label in DATA_APPS:
        for model in apps.get_app_config(label).get_models():
            counts[model._meta.label] = model._default_manager.count()
    return counts


def _hostile(drill: Drill, base: str) -> None:
    import requests
    from django.core.cache import cache

    from applications.models import Round

    report = drill.report
    round_code = Round.objects.filter(closes_at__gt=_now(), opens_at__lte=_now()).first().code
    cases = _cases(base, round_code)
    report.figure("hostile requests", len(cases))
    for name, send, expect in cases:
        cache.clear()  # the rate limits must not be what refuses these
        before = _row_counts()
        session = requests.Session()
        response = send(session)
        changed = {k: (v, after) for k, v in before.items() if (after := _row_counts()[k]) != v}
        clean = 400 <= response.status_code < 500
        problems = []
        if not clean:
            problems.append(f"HTTP {response.status_code}")
        if changed:
            problems.append(f"rows changed {changed}")
        if expect is not None and not expect(response):
            problems.append("answer not as expected")
        report.check(
            f"{name}: {response.status_code}, data unchanged", not problems, "; ".join(problems)
        )


def _now():
    from django.utils import timezone

    return timezone.now()


def _form(session, base: str, language: str = "en"):
    """A browser that has loaded the form: (CSRF token, headers a browser sends)."""
    import re

    page = session.get(f"{base}{language}/apply/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return token, {"Referer": f"{base}{language}/apply/"}


def _answers(round_code: str, **overrides) -> dict:
    data = {
        "company_legal_name": "武汉安全测试科技有限公司",
        "uscc": "91230184MA1BUFLT44",
        "registration_city": "wuhan",
        "founded_on": "2024-03-01",
        "employees": "12",
        "revenue_band": "pre_revenue",
        "founder_name": "张伟",
        "email": "security.drill@example.cn",
        "mobile": "138 0013 8000",
        "round": round_code,
        "center_1": "wuhan-ai",
        "gpu_hours_requested": "1000",
        "purpose": "训练一个小模型。",
        "commit_open_weights": "on",
        "commit_open_weights_date": "2027-06-30",
        "consent_terms": "on",
        "company_fax": "",
    }
    data.update(overrides)
    return data


def _api_payload(round_code: str, **overrides) -> dict:
    data = {
        "round": round_code,
        "company_legal_name": "武汉安全测试科技有限公司",
        "uscc": "91230184MA1BUFLT44",
        "registration_city": "wuhan",
        "founded_on": "2024-03-01",
        "employees": "12",
        "revenue_band": "pre_revenue",
        "founder_name": "张伟",
        "email": "security.drill@example.cn",
        "mobile": "13800138000",
        "preferred_centers": ["wuhan-ai"],
        "gpu_hours_requested": "1000",
        "purpose": "训练一个小模型。",
        "commitments": [{"kind": "open_weights", "target_date": "2027-06-30"}],
        "consent_terms": True,
    }
    data.update(overrides)
    return data


def _cases(base: str, round_code: str) -> list:
    """(name, send(session) -> response, extra expectation or None) for each hostile input."""
    import json
    from urllib.parse import urlencode

    big = "算" * 1_500_000  # 4.5 MB of UTF-8, above Django's 2.5 MB in-memory limit
    timeout = 60

    def form_post(session, data, *, with_token=True, raw: bytes | None = None):
        token, headers = _form(session, base)
        if raw is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = raw.replace(b"TOKEN", token.encode())
            return session.post(
                f"{base}en/apply/",
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=timeout,
            )
        if with_token:
            data = {**data, "csrfmiddlewaretoken": token}
        return session.post(
            f"{base}en/apply/", data=data, headers=headers, allow_redirects=False, timeout=timeout
        )

    def api_post(session, payload=None, *, raw: bytes | None = None, headers=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        return session.post(
            f"{base}api/applications/",
            data=body,
            headers={"Content-Type": "application/json", **(headers or {})},
            timeout=timeout,
        )

    not_utf8 = urlencode(_answers(round_code, company_legal_name="X")).encode()
    not_utf8 = not_utf8.replace(b"company_legal_name=X", b"company_legal_name=%FF%FE%FA%80")
    not_utf8 += b"&csrfmiddlewaretoken=TOKEN"

    def escaped(response) -> bool:
        return SCRIPT not in response.text and ESCAPED in response.text

    return [
        (
            "form without a CSRF token",
            lambda s: form_post(s, _answers(round_code), with_token=False),
            None,
        ),
        (
            "form with a 4.5 MB body",
            lambda s: form_post(s, _answers(round_code, purpose=big)),
            None,
        ),
        (
            "form with bytes that are not UTF-8",
            lambda s: form_post(s, {}, raw=not_utf8),
            None,
        ),
        (
            "form with script markup (shown escaped)",
            lambda s: form_post(
                s, _answers(round_code, company_legal_name=SCRIPT, founder_name=SCRIPT, uscc="1")
            ),
            escaped,
        ),
        (
            "form with an SQL-looking USCC",
            lambda s: form_post(s, _answers(round_code, uscc="' OR '1'='1' --")),
            None,
        ),
        (
            "API with a 4.5 MB body",
            lambda s: api_post(s, _api_payload(round_code, purpose=big)),
            None,
        ),
        (
            "API with bytes that are not UTF-8",
            lambda s: api_post(s, raw=b'{"round": "\xff\xfe\xfa", "uscc": "\x80"}'),
            None,
        ),
        (
            "API with script markup",
            lambda s: api_post(
                s, _api_payload(round_code, company_legal_name=SCRIPT, email=SCRIPT)
            ),
            lambda r: SCRIPT not in r.text,
        ),
        (
            "API with SQL-looking strings",
            lambda s: api_post(
                s, _api_payload("x' OR 1=1 --", uscc="'; DROP TABLE applications_application; --")
            ),
            None,
        ),
        (
            "API round path with SQL",
            lambda s: s.get(f"{base}api/rounds/' OR '1'='1/", timeout=timeout),
            None,
        ),
        (
            "forged status link",
            lambda s: s.get(f"{base}en/status/TS26-0001-AAAA-0000:forged:signature/", timeout=30),
            None,
        ),
        (
            "forged letter code",
            lambda s: s.get(f"{base}api/letters/SL-FORGED-0000/", timeout=timeout),
            None,
        ),
        (
            "usage report with a forged signature",
            lambda s: s.post(
                f"{base}api/centers/wuhan-ai/usage-reports/",
                data=b'{"report_id": "forged-1", "grant_id": 1, "used": "1"}',
                headers={
                    "Content-Type": "application/json",
                    "webhook-id": "msg_forged",
                    "webhook-timestamp": "1764300000",
                    "webhook-signature": "v1,Zm9yZ2VkIHNpZ25hdHVyZSBvZiBubyBzZWNyZXQ=",
                },
                timeout=timeout,
            ),
            None,
        ),
        (
            "status withdraw without a CSRF token",
            lambda s: s.post(f"{base}en/status/forged-token/withdraw/", timeout=timeout),
            None,
        ),
    ]


# --- schemathesis -------------------------------------------------------------------------------


def _schemathesis(drill: Drill, base: str, max_examples: int, phases: str) -> None:
    report = drill.report
    started = time.monotonic()
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{base}api/schema/",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            str(max_examples),
            "--phases",
            phases,
            "--seed",
            "20261128",
            "--request-timeout",
            "30",
            "--workers",
            "2",
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(drill.tmp / "schemathesis"),
            "--generation-database",
            "none",
        ],
        cwd=drill.tmp,
        env=drill.env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    summary = [
        line
        for line in run.stdout.splitlines()
        if any(word in line for word in ("passed", "failed", "Test cases", "API Operations"))
    ]
    for line in summary[-4:]:
        report.figure("schemathesis", line.strip())
    report.figure("schemathesis took", f"{time.monotonic() - started:.1f} s")
    if run.returncode != 0:
        print(run.stdout[-6000:])
        print(run.stderr[-2000:])
    report.check("schemathesis: no 5xx, responses match the schema", run.returncode == 0)


if __name__ == "__main__":
    raise SystemExit(main())
