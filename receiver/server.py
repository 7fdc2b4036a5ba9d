"""HTTP side of the reference receiver (stdlib ``http.server``, one thread per request).

Routes
  POST /  (any path outside /_control)  a signed webhook
  GET  /                                 balances as a small HTML page
  GET  /balances, /balances/<grant_id>   balances as JSON
  GET  /messages, /stats                 what arrived (JSON)
  GET  /_control                         failure plan and counters
  POST /_control                         set a failure plan (JSON, see FailurePlan.configure)
  POST /_control/reset                   back to normal
"""

from __future__ import annotations

import html
import json
import logging
import threading
import time
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from receiver.store import PayloadError, ReceiverStore

logger = logging.getLogger("receiver")

MAX_BODY_BYTES = 1024 * 1024
DEFAULT_TOLERANCE_SECONDS = 300
FAILURE_MODES = ("fail", "timeout", "gone", "throttle")


class FailurePlan:
    """Tells the receiver to misbehave for the next ``count`` webhooks (-1: until reset).

    Modes: ``fail`` answers ``status`` (500 by default), ``timeout`` sleeps
    ``seconds`` before answering 504, ``gone`` answers 410, ``throttle`` answers
    429 with ``Retry-After: retry_after``. Injected failures happen before the
    body is verified or stored, like a center that is down.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.mode: str | None = None
        self.remaining = 0
        self.status = 500
        self.seconds = 20.0
        self.retry_after = 5
        self.injected = 0

    def configure(
        self,
        *,
        mode: str | None,
        count: int = 1,
        status: int = 500,
        seconds: float = 20.0,
        retry_after: int = 5,
    ) -> None:
        if mode is not None and mode not in FAILURE_MODES:
            raise ValueError(f"mode must be one of {FAILURE_MODES}")
        with self._lock:
            self.mode = mode
            self.remaining = count if mode else 0
            self.status = status
            self.seconds = seconds
            self.retry_after = retry_after

    def reset(self) -> None:
        self.configure(mode=None)

    def take(self) -> dict[str, Any] | None:
        """Consume one planned failure, or ``None`` to behave normally."""
        with self._lock:
            if self.mode is None or self.remaining == 0:
                return None
            if self.remaining > 0:
                self.remaining -= 1
            self.injected += 1
            return {
                "mode": self.mode,
                "status": self.status,
                "seconds": self.seconds,
                "retry_after": self.retry_after,
            }

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "mode": self.mode,
                "remaining": self.remaining,
                "status": self.status,
                "seconds": self.seconds,
                "retry_after": self.retry_after,
                "injected": self.injected,
            }


class _Handler(BaseHTTPRequestHandler):
    server: _ReceiverHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; without TCP_NODELAY a keep-alive client waits
    # for the delayed ACK (~40 ms) on every request.
    disable_nagle_algorithm = True

    # --- plumbing -----------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                # The sender gave up (its timeout), which is what a timeout plan simulates.
                self.close_connection = True

    def _json(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8", headers)

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True  # the unread body would be taken for the next request
            self._json(HTTPStatus.LENGTH_REQUIRED, {"error": "Content-Length required"})
            return None
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
            return None
        return self.rfile.read(length)

    # --- routes -------------------------------------------------------------------

    def do_GET(self) -> None:
        state = self.server.receiver
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        if path == "/":
            self._send(
                HTTPStatus.OK, _render_html(state.store.balances()), "text/html; charset=utf-8"
            )
        elif path == "/balances":
            self._json(HTTPStatus.OK, {"grants": state.store.balances()})
        elif path.startswith("/balances/"):
            found = state.store.balance(path.removeprefix("/balances/"))
            if found is None:
                self._json(HTTPStatus.NOT_FOUND, {"error": "unknown grant"})
            else:
                self._json(HTTPStatus.OK, found)
        elif path == "/messages":
            self._json(HTTPStatus.OK, {"messages": state.store.messages()})
        elif path == "/stats":
            self._json(HTTPStatus.OK, state.stats())
        elif path == "/_control":
            self._json(HTTPStatus.OK, state.failures.describe())
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    do_HEAD = do_GET

    def do_POST(self) -> None:
        state = self.server.receiver
        path = self.path.split("?", 1)[0].rstrip("/")
        body = self._read_body()
        if body is None:
            return
        if path.startswith("/_control"):
            self._control(path, body)
            return
        state.count("requests")
        planned = state.failures.take()
        if planned is not None:
            self._fail(planned)
            return
        try:
            payload = state.verify(body, dict(self.headers.items()))
        except WebhookVerificationError as exc:
            state.count("rejected")
            self._json(HTTPStatus.UNAUTHORIZED, {"error": str(exc)})
            return
        try:
            outcome = state.store.handle(webhook_id=self.headers["webhook-id"], payload=payload)
        except PayloadError as exc:
            state.count("rejected")
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        self._json(
            HTTPStatus.OK,
            {"outcome": outcome.kind, "grant_id": outcome.grant_id, "version": outcome.version},
        )

    def _fail(self, planned: dict[str, Any]) -> None:
        mode = planned["mode"]
        if mode == "fail":
            self._json(planned["status"], {"error": "failure injected"})
        elif mode == "timeout":
            time.sleep(planned["seconds"])
            self._json(HTTPStatus.GATEWAY_TIMEOUT, {"error": "timeout injected"})
        elif mode == "gone":
            self._json(HTTPStatus.GONE, {"error": "endpoint gone"})
        else:
            self._json(
                HTTPStatus.TOO_MANY_REQUESTS,
                {"error": "slow down"},
                headers={"Retry-After": str(planned["retry_after"])},
            )

    def _control(self, path: str, body: bytes) -> None:
        state = self.server.receiver
        if not state.allow_control:
            self._json(HTTPStatus.FORBIDDEN, {"error": "control endpoint disabled"})
            return
        if path == "/_control/reset":
            state.failures.reset()
            self._json(HTTPStatus.OK, state.failures.describe())
            return
        try:
            document = json.loads(body or b"{}")
            state.failures.configure(
                mode=document.get("mode"),
                count=int(document.get("count", 1)),
                status=int(document.get("status", 500)),
                seconds=float(document.get("seconds", 20)),
                retry_after=int(document.get("retry_after", 5)),
            )
        except (ValueError, TypeError, AttributeError) as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        self._json(HTTPStatus.OK, state.failures.describe())


def _render_html(rows: list[dict[str, Any]]) -> bytes:
    lines = []
    for row in rows:
        cells = (
            row["center"],
            row["grant_id"],
            row["reference"],
            row["company_name"],
            row["status"],
            f"{row['released']} / {row['total_granted']} {row['unit']}",
            str(row["version"]),
            row["updated_at"][:19].replace("T", " "),
        )
        lines.append(
            "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in cells) + "</tr>"
        )
    table = "\n".join(lines) or '<tr><td colspan="8">No grants yet.</td></tr>'
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>Center billing receiver</title>
<style>body{{font-family:sans-serif;margin:2rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #b1b4b6;padding:.3rem .6rem;text-align:left}}</style></head>
<body><h1>Center billing receiver</h1>
<p>Credits granted by Suanli, as applied from signed webhooks (refreshes every 5 seconds).</p>
<table><thead><tr><th>Center</th><th>Grant</th><th>Reference</th><th>Company</th><th>Status</th>
<th>Released / granted</th><th>Version</th><th>Updated (UTC)</th></tr></thead>
<tbody>
{table}
</tbody></table></body></html>
"""
    return page.encode("utf-8")


class ReceiverState:
    def __init__(
        self,
        *,
        store: ReceiverStore,
        secrets: Sequence[str],
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
        allow_control: bool = True,
    ) -> None:
        if not secrets:
            raise ValueError("the receiver needs at least one whsec_ secret")
        self.store = store
        self.webhooks = [Webhook(secret) for secret in secrets]
        self.tolerance_seconds = tolerance_seconds
        self.allow_control = allow_control
        self.failures = FailurePlan()
        self._counter_lock = threading.Lock()
        self.counters = {"requests": 0, "rejected": 0}

    def count(self, name: str) -> None:
        with self._counter_lock:
            self.counters[name] += 1

    def verify(self, body: bytes, headers: dict[str, str]) -> Any:
        """Check the timestamp window, then any configured secret against any sent signature."""
        lowered = {key.lower(): value for key, value in headers.items()}
        try:
            sent_at = int(lowered.get("webhook-timestamp", ""))
        except ValueError as exc:
            raise WebhookVerificationError("Invalid webhook-timestamp") from exc
        if abs(time.time() - sent_at) > self.tolerance_seconds:
            raise WebhookVerificationError("Message timestamp outside tolerance")
        last_error: WebhookVerificationError | None = None
        for webhook in self.webhooks:
            try:
                return webhook.verify(body, lowered)
            except WebhookVerificationError as exc:
                last_error = exc
            except (ValueError, UnicodeDecodeError) as exc:
                raise WebhookVerificationError("Malformed signature or body") from exc
        assert last_error is not None
        raise last_error

    def stats(self) -> dict[str, Any]:
        with self._counter_lock:
            counters = dict(self.counters)
        return {
            **self.store.stats(),
            **counters,
            "failures_injected": self.failures.describe()["injected"],
        }


class _ReceiverHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], receiver: ReceiverState) -> None:
        self.receiver = receiver
        super().__init__(address, _Handler)


class ReceiverServer:
    """The receiver as an object: tests and the bench start it on port 0 in a thread."""

    def __init__(
        self,
        *,
        secrets: Sequence[str],
        db_path: str = ":memory:",
        host: str = "127.0.0.1",
        port: int = 0,
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
        allow_control: bool = True,
    ) -> None:
        self.store = ReceiverStore(db_path)
        self.state = ReceiverState(
            store=self.store,
            secrets=secrets,
            tolerance_seconds=tolerance_seconds,
            allow_control=allow_control,
        )
        self.httpd = _ReceiverHTTPServer((host, port), self.state)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.httpd.server_address[0]}:{self.port}/"

    @property
    def failures(self) -> FailurePlan:
        return self.state.failures

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> ReceiverServer:
        self._thread = threading.Thread(target=self.serve_forever, name="receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.store.close()

    def __enter__(self) -> ReceiverServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
