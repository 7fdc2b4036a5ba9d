"""``python -m receiver``: run the reference center receiver."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from receiver.server import DEFAULT_TOLERANCE_SECONDS, ReceiverServer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m receiver",
        description="Reference center receiver for Suanli grant webhooks (Standard Webhooks v1).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        help="whsec_ secret; repeat to accept an old and a new secret during a rotation "
        "(default: $RECEIVER_SECRETS, space-separated)",
    )
    parser.add_argument(
        "--db", default="var/receiver.sqlite3", help="SQLite file (':memory:' for none)"
    )
    parser.add_argument(
        "--tolerance",
        type=int,
        default=DEFAULT_TOLERANCE_SECONDS,
        help="timestamp tolerance in seconds, at most 300 (the standardwebhooks library's own)",
    )
    parser.add_argument(
        "--no-control", action="store_true", help="disable the /_control failure endpoint"
    )
    parser.add_argument(
        "--fail", type=int, default=0, metavar="N", help="answer the next N webhooks with an error"
    )
    parser.add_argument(
        "--fail-status", type=int, default=500, help="status used by --fail (default 500)"
    )
    parser.add_argument(
        "--timeout", type=int, default=0, metavar="N", help="hang on the next N webhooks"
    )
    parser.add_argument(
        "--timeout-seconds", type=float, default=20.0, help="how long --timeout hangs"
    )
    parser.add_argument("--gone", action="store_true", help="answer 410 Gone to every webhook")
    parser.add_argument(
        "--throttle", type=int, default=0, metavar="N", help="answer 429 to the next N webhooks"
    )
    parser.add_argument(
        "--retry-after", type=int, default=5, help="Retry-After seconds sent with 429"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 < args.tolerance <= DEFAULT_TOLERANCE_SECONDS:
        print("error: --tolerance must be between 1 and 300 seconds", file=sys.stderr)
        return 2
    secrets = args.secret or os.environ.get("RECEIVER_SECRETS", "").split()
    if not secrets:
        print(
            "error: give at least one --secret whsec_... (or set RECEIVER_SECRETS)", file=sys.stderr
        )
        return 2
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(message)s"
    )
    server = ReceiverServer(
        secrets=secrets,
        db_path=args.db,
        host=args.host,
        port=args.port,
        tolerance_seconds=args.tolerance,
        allow_control=not args.no_control,
    )
    if args.gone:
        server.failures.configure(mode="gone", count=-1)
    elif args.fail:
        server.failures.configure(mode="fail", count=args.fail, status=args.fail_status)
    elif args.timeout:
        server.failures.configure(mode="timeout", count=args.timeout, seconds=args.timeout_seconds)
    elif args.throttle:
        server.failures.configure(
            mode="throttle", count=args.throttle, retry_after=args.retry_after
        )
    print(
        f"receiver listening on {server.url} (db {args.db}); balances: {server.url} (page), "
        f"{server.url}balances (JSON)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
        server.store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
