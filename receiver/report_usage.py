"""``python -m receiver.report_usage``: a center reports consumption against a grant.

Signs the report like Suanli signs its webhooks (Standard Webhooks, the center's own usage-report
secret) and POSTs it to ``/api/centers/<code>/usage-reports/``. The report id makes it
idempotent: sending the same report again changes nothing on Suanli's side.

    python -m receiver.report_usage --portal http://127.0.0.1:8000 --center wuhan-ai \\
        --secret whsec_... --grant 1 --used 120.5 --start 2026-12-01 --end 2026-12-07
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime

from standardwebhooks import Webhook


def signed_request(
    *, portal: str, center: str, secret: str, report: dict, msg_id: str | None = None
) -> urllib.request.Request:
    body = json.dumps(report, separators=(",", ":"))
    msg_id = msg_id or f"usage_{report['report_id']}"
    now = datetime.now(tz=UTC)
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
    }
    url = f"{portal.rstrip('/')}/api/centers/{center}/usage-reports/"
    if not url.startswith(("http://", "https://")):
        raise ValueError("the portal address must be http(s)")
    return urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")  # noqa: S310


def send(request: urllib.request.Request, timeout: float = 15) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m receiver.report_usage")
    parser.add_argument("--portal", default="http://127.0.0.1:8000")
    parser.add_argument("--center", required=True, help="center code, e.g. wuhan-ai")
    parser.add_argument("--secret", required=True, help="the center's usage-report whsec_ secret")
    parser.add_argument("--grant", type=int, required=True)
    parser.add_argument("--used", required=True, help="GPU-hours (or tokens) used, e.g. 120.5")
    parser.add_argument("--start", required=True, help="period start, YYYY-MM-DD")
    parser.add_argument("--end", required=True, help="period end, YYYY-MM-DD")
    parser.add_argument("--report-id", default="", help="idempotency key (default: random)")
    args = parser.parse_args(argv)
    report = {
        "report_id": args.report_id or uuid.uuid4().hex,
        "grant_id": args.grant,
        "period_start": args.start,
        "period_end": args.end,
        "gpu_hours_used": args.used,
    }
    status, answer = send(
        signed_request(portal=args.portal, center=args.center, secret=args.secret, report=report)
    )
    print(status, json.dumps(answer, ensure_ascii=False))
    return 0 if status in (200, 201) else 1


if __name__ == "__main__":
    sys.exit(main())
