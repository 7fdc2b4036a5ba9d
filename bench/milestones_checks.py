"""What the SSRF-safe evidence fetcher costs, and how fast the checkers decide.

Against a local http.server in the same run, prints:
- median time of one fetch of a 20 kB page: ``requests.get`` (baseline, no checks) vs
  ``milestones.safe_fetch.fetch`` (resolve once, check every address, pin, stream with a size
  cap and a watchdog), and their ratio (target: within 1.5x of the baseline);
- code-repository checks per second (two API requests each, one thread);
- how the limits hold against hostile servers: bytes read before an endless body is cut, and
  seconds until a byte-a-tick drip is stopped, against the configured limits.

    .venv/bin/python bench/milestones_checks.py            # 300 fetches of each kind
    .venv/bin/python bench/milestones_checks.py --short    # the form CI runs (30)

With --strict the exit status is 1 when the ratio misses the target.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from milestones.checkers import CheckContext, Evidence, Verdict, checker_for
from milestones.safe_fetch import FetchPolicy, FetchTimeout, FetchTooLarge, fetch

TARGET_RATIO = 1.5
RECORDED = Path(__file__).resolve().parent.parent / "tests" / "milestones" / "recorded"
PAGE = (
    b"<html><head><title>Lingxi launch</title></head><body>" + b"x" * 20_000
) + b"</body></html>"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        return

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        try:
            if path == "/endless":
                self._head(200, "application/octet-stream", None)
                while True:
                    self.wfile.write(b"z" * 65536)
            if path == "/drip":
                self._head(200, "text/plain", 10_000)
                for _ in range(10_000):
                    self.wfile.write(b"d")
                    self.wfile.flush()
                    time.sleep(0.05)
                return
            if path == "/repos/shanshui-ai/lingxi-infer":
                body = (RECORDED / "github" / "repo_ok.json").read_bytes()
            elif path == "/repos/shanshui-ai/lingxi-infer/commits":
                body = (RECORDED / "github" / "commits_since.json").read_bytes()
            else:
                body = PAGE
            kind = "text/html" if body is PAGE else "application/json"
            self._head(200, kind, len(body))
            self.wfile.write(body)
        except OSError:
            return

    def _head(self, status: int, content_type: str, length: int | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()


def timed(function, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="fetches of each kind")
    parser.add_argument("--short", action="store_true", help="CI form: 30 of each kind")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the ratio misses")
    args = parser.parse_args()
    count = 30 if args.short else args.count

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    policy = FetchPolicy(allow_private=True, timeout=10.0, max_bytes=1_000_000)

    for _ in range(5):  # warm both paths
        requests.get(f"{base}/page", timeout=10)
        fetch(f"{base}/page", policy=policy)
    baseline, safe = [], []
    for _ in range(count):  # alternate so drift hits both equally
        baseline += timed(lambda: requests.get(f"{base}/page", timeout=10).content, 1)
        safe += timed(lambda: fetch(f"{base}/page", policy=policy).body, 1)
    base_median, safe_median = statistics.median(baseline), statistics.median(safe)
    ratio = safe_median / base_median

    context = CheckContext(
        grant_started_at=datetime(2026, 3, 1, tzinfo=UTC), policy=policy, github_api=base
    )
    checker = checker_for("open_code")
    evidence = Evidence("https://github.com/shanshui-ai/lingxi-infer")
    checks = max(count // 3, 10)
    started = time.perf_counter()
    for _ in range(checks):
        assert checker.check(evidence, context).verdict is Verdict.PASS
    checks_per_second = checks / (time.perf_counter() - started)

    capped = FetchPolicy(allow_private=True, timeout=5.0, max_bytes=2_000_000)
    started = time.perf_counter()
    try:
        fetch(f"{base}/endless", policy=capped)
        endless = "NOT CUT"
    except FetchTooLarge:
        endless = (
            f"cut after {time.perf_counter() - started:.3f} s at the {capped.max_bytes:,}-byte cap"
        )
    drip_policy = FetchPolicy(allow_private=True, timeout=1.0)
    started = time.perf_counter()
    try:
        fetch(f"{base}/drip", policy=drip_policy)
        drip = "NOT STOPPED"
    except FetchTimeout:
        drip = (
            f"stopped after {time.perf_counter() - started:.2f} s (limit {drip_policy.timeout} s)"
        )
    server.shutdown()

    figures = {
        "fetches_each": count,
        "requests_get_median_ms": round(base_median * 1000, 3),
        "safe_fetch_median_ms": round(safe_median * 1000, 3),
        "ratio_safe_vs_requests": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "open_code_checks_per_second": round(checks_per_second, 1),
        "endless_body": endless,
        "drip_body": drip,
    }
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if "NOT" in endless or "NOT" in drip:
        return 1
    if args.strict and ratio > TARGET_RATIO:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
