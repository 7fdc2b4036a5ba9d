"""A real local HTTP server answering recorded API responses for the checkers.

Each test registers routes (path -> status, headers, body file or bytes, and
optional misbehaviour: delay, drip, endless body, redirect) and points the
checker's base URLs at ``server.url``.  No mock of any HTTP client is used.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from milestones.checkers import CheckContext
from milestones.safe_fetch import FetchPolicy

RECORDED = Path(__file__).parent / "recorded"
GRANT_STARTED = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Route:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between body bytes
    endless: bool = False  # stream body bytes forever without a length


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]


class RecordedServer:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[SeenRequest] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                return

            def do_GET(self):
                server.requests.append(
                    SeenRequest("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
                )
                route = server.match(self.path)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError):
                    server.answer(self, route)

            do_HEAD = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def add(
        self,
        path: str,
        *,
        status: int = 200,
        recorded: str | None = None,
        body: bytes | str | dict | list | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        **behaviour,
    ) -> Route:
        if recorded is not None:
            payload = (RECORDED / recorded).read_bytes()
            guess = "application/atom+xml; charset=utf-8" if recorded.endswith(".xml") else None
            guess = guess or (
                "application/json; charset=utf-8" if recorded.endswith(".json") else None
            )
            content_type = content_type or guess or "text/html; charset=utf-8"
        elif isinstance(body, (dict, list)):
            payload = json.dumps(body).encode()
            content_type = content_type or "application/json; charset=utf-8"
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = body or b""
        all_headers = {"Content-Type": content_type or "text/html; charset=utf-8"}
        all_headers.update(headers or {})
        route = Route(status=status, headers=all_headers, body=payload, **behaviour)
        self.routes[path] = route
        return route

    def match(self, raw_path: str) -> Route:
        if raw_path in self.routes:
            return self.routes[raw_path]
        path = urlsplit(raw_path).path
        if path in self.routes:
            return self.routes[path]
        return Route(
            status=404,
            headers={"Content-Type": "application/json; charset=utf-8"},
            body=b'{"message": "Not Found"}',
        )

    def answer(self, handler: BaseHTTPRequestHandler, route: Route) -> None:
        if route.delay:
            time.sleep(route.delay)
        handler.send_response(route.status)
        for name, value in route.headers.items():
            handler.send_header(name, value.replace("{base}", self.url))
        if route.endless:
            handler.send_header("Connection", "close")
            handler.end_headers()
            block = b"x" * 16384
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                handler.wfile.write(block)
            return
        handler.send_header("Content-Length", str(len(route.body)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        if handler.command == "HEAD":
            return
        if route.drip:
            for index in range(len(route.body)):
                handler.wfile.write(route.body[index : index + 1])
                handler.wfile.flush()
                time.sleep(route.drip)
        else:
            handler.wfile.write(route.body)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = RecordedServer()
    yield running
    running.close()


@pytest.fixture
def local_policy() -> FetchPolicy:
    """Test mode: the local server is on loopback, so private addresses are allowed."""
    return FetchPolicy(allow_private=True, timeout=2.0, max_bytes=256 * 1024)


@pytest.fixture
def production_policy_for(server):
    """Production mode, except this one loopback server is allowed.

    Lets a test reach the local server while every OTHER internal address
    (10/8, 169.254/16, 127.0.0.2, ...) is still refused, e.g. after a redirect.
    """
    return FetchPolicy(
        allow_private=False,
        timeout=2.0,
        max_bytes=256 * 1024,
        allow_networks=(ipaddress.ip_network("127.0.0.1/32"),),
    )


@pytest.fixture
def context(server, local_policy) -> CheckContext:
    return CheckContext(
        grant_started_at=GRANT_STARTED,
        policy=local_policy,
        github_api=server.url,
        huggingface_api=server.url,
        arxiv_api=server.url,
        company_names=("Shanshui AI Technology Co., Ltd.", "山水智能科技有限公司", "Shanshui AI"),
        founder_names=("Li Wei", "李伟"),
    )


@pytest.fixture
def checker_settings(settings, server):
    """Point the portal's checkers at the local server (test mode: loopback allowed)."""
    settings.MILESTONES_GITHUB_API = server.url
    settings.MILESTONES_HUGGINGFACE_API = server.url
    settings.MILESTONES_ARXIV_API = server.url
    settings.MILESTONES_FETCH_ALLOW_PRIVATE = True
    settings.MILESTONES_REQUIRE_HTTPS = False
    settings.MILESTONES_FETCH_TIMEOUT_SECONDS = 2.0
    settings.MILESTONES_CHECK_MAX_ATTEMPTS = 3
    settings.MILESTONES_CHECK_BACKOFF_SECONDS = 60
    return settings


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_superuser("clerk", "clerk@example.cn", "pw")


@pytest.fixture
def capacity_with_endpoint(db):
    """A center capacity and the center's billing endpoint (deliveries are only recorded)."""
    from tests.grants.factories import CenterCapacityFactory, WebhookEndpointFactory

    capacity = CenterCapacityFactory()
    endpoint = WebhookEndpointFactory(center=capacity.gpu_type.center)
    return capacity, endpoint
