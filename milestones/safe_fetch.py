"""SSRF-safe HTTP fetching of untrusted evidence URLs.

Evidence URLs come from founders, so a URL may point at the portal's own
network (databases, cloud metadata at 169.254.169.254, admin consoles).  This
module refuses such targets and bounds what a hostile server can make a
worker do:

* only ``http``/``https`` (optionally only ``https``), no ``user:pass@``;
* the host is resolved ONCE per hop, every resolved address is checked, and
  the connection is made to the checked address (pinned), so a DNS answer
  that changes between check and connect (rebinding) cannot swap it.  The
  ``Host`` header and TLS SNI/certificate check still use the hostname;
* redirects are followed by hand, each one checked the same way, at most
  ``max_redirects`` of them, never from https down to http when https is
  required, and credentials headers are dropped when the origin changes;
* the body is streamed and abandoned past ``max_bytes``;
* the whole exchange (all hops, headers and body) has one deadline enforced
  by a watchdog that shuts the socket down, so a server that drips a byte a
  second cannot hold a worker.

Pure Python (no Django) so it can be tested and reused on its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

__all__ = [
    "FetchError",
    "FetchPolicy",
    "FetchRefused",
    "FetchResponse",
    "FetchTimeout",
    "FetchTooLarge",
    "FetchUnreachable",
    "address_refusal",
    "fetch",
]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that must not follow a redirect to another origin.
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})

Resolver = Callable[[str, int], list[str]]


class FetchError(Exception):
    """Base class: the fetch did not produce a response we can use.

    ``code`` is a stable machine-readable reason stored with the evidence check.
    """

    code = "error"

    def __init__(self, message: str, *, url: str = "", code: str | None = None):
        super().__init__(message)
        self.url = url
        if code is not None:
            self.code = code


class FetchRefused(FetchError):
    """The URL (or a redirect) is not allowed by policy; nothing was sent to it."""

    code = "refused"


class FetchTooLarge(FetchError):
    code = "too_large"


class FetchTimeout(FetchError):
    code = "timeout"


class FetchUnreachable(FetchError):
    """DNS failure, connection refused or reset, broken HTTP: possibly transient."""

    code = "unreachable"


@dataclass(frozen=True)
class FetchPolicy:
    allow_private: bool = False
    require_https: bool = False
    max_redirects: int = 5
    max_bytes: int = 2 * 1024 * 1024
    timeout: float = 10.0
    # Networks allowed even when allow_private is False (an internal mirror,
    # or a test's loopback server while proving the other refusals).
    allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    user_agent: str = "Suanli-evidence-checker/1.0 (+https://suanli.example/milestones)"
    ssl_context: ssl.SSLContext | None = None


@dataclass
class FetchResponse:
    url: str  # final URL after redirects
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    redirects: list[str] = field(default_factory=list)  # URLs redirected FROM, in order
    address: str = ""  # the IP address the final hop connected to
    elapsed: float = 0.0

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


def address_refusal(
    address: str, *, allow_networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network] = ()
) -> str | None:
    """Why ``address`` may not be contacted in production mode, or None if it may.

    Works on the resolved address, so numeric tricks (``127.1``, ``2130706433``,
    ``::ffff:10.0.0.1``) are caught by whatever they resolve to.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for network in allow_networks:
        if ip.version == network.version and ip in network:
            return None
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("not globally routable", not ip.is_global),
    )
    for label, hit in checks:
        if hit:
            return label
    return None


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        if sockaddr[0] not in seen:
            seen.append(sockaddr[0])
    return seen


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # IDNA/ASCII host, no brackets
    port: int
    path: str  # path + query, never empty


def _parse(url: str, policy: FetchPolicy) -> _Target:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise FetchRefused(f"malformed URL: {exc}", url=url, code="malformed_url") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchRefused(f"scheme {scheme or '(none)'!r} is not http(s)", url=url, code="scheme")
    if policy.require_https and scheme != "https":
        raise FetchRefused("only https is accepted", url=url, code="https_required")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise FetchRefused("credentials in URLs are not accepted", url=url, code="credentials")
    host = parts.hostname or ""
    if not host:
        raise FetchRefused("URL has no host", url=url, code="malformed_url")
    try:
        ascii_host = host.encode("idna").decode("ascii") if not _is_ip_literal(host) else host
    except UnicodeError as exc:
        raise FetchRefused("host name is not valid", url=url, code="malformed_url") from exc
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    if any(ch in path for ch in "\r\n\x00 "):
        raise FetchRefused("URL path contains control characters", url=url, code="malformed_url")
    return _Target(
        scheme=scheme,
        host=ascii_host,
        port=port or (443 if scheme == "https" else 80),
        path=path,
    )


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _origin(target: _Target) -> tuple[str, str, int]:
    return (target.scheme, target.host, target.port)


class _Deadline:
    """One time budget for a whole fetch, with a watchdog that cuts the socket."""

    def __init__(self, seconds: float):
        self.expires = time.monotonic() + seconds
        self.fired = False
        self._timer: threading.Timer | None = None

    def remaining(self) -> float:
        return self.expires - time.monotonic()

    def check(self, url: str) -> float:
        left = self.remaining()
        if left <= 0:
            raise FetchTimeout("time limit exceeded", url=url)
        return left

    def arm(self, sock: socket.socket) -> None:
        self.disarm()

        def cut() -> None:
            self.fired = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        self._timer = threading.Timer(max(self.remaining(), 0.0), cut)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _connection(target: _Target, address: str, timeout: float, policy: FetchPolicy):
    """An http.client connection whose socket goes to ``address`` (already checked)."""

    def create_connection(_address, timeout=timeout, source_address=None):
        return socket.create_connection((address, target.port), timeout, source_address)

    if target.scheme == "https":
        context = policy.ssl_context or ssl.create_default_context()
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=context
        )
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    # http.client connects through this attribute; TLS wrapping (SNI and the
    # hostname check) still uses target.host, and so does the Host header.
    conn._create_connection = create_connection  # type: ignore[attr-defined]
    return conn


def _resolve_within(resolver: Resolver, host: str, port: int, seconds: float) -> list[str]:
    """Resolve in a helper thread so a stalled DNS server cannot outlast the deadline."""
    answer: list[list[str]] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            answer.append(resolver(host, port))
        except BaseException as exc:  # handed to the caller below
            failure.append(exc)

    worker = threading.Thread(target=run, daemon=True, name=f"resolve {host}")
    worker.start()
    worker.join(max(seconds, 0.0))
    if worker.is_alive():
        raise TimeoutError(f"resolving {host} took longer than the time limit")
    if failure:
        raise failure[0]
    return answer[0]


def _resolve_checked(
    target: _Target,
    policy: FetchPolicy,
    resolver: Resolver,
    url: str,
    deadline: _Deadline,
) -> list[str]:
    if _is_ip_literal(target.host):
        addresses = [target.host]
    else:
        try:
            addresses = _resolve_within(resolver, target.host, target.port, deadline.check(url))
        except TimeoutError as exc:
            raise FetchTimeout(f"resolving {target.host} timed out", url=url) from exc
        except (OSError, UnicodeError) as exc:
            raise FetchUnreachable(
                f"host {target.host} does not resolve", url=url, code="dns"
            ) from exc
        if not addresses:
            raise FetchUnreachable(f"host {target.host} does not resolve", url=url, code="dns")
    if not policy.allow_private:
        for address in addresses:
            why = address_refusal(address, allow_networks=policy.allow_networks)
            if why is not None:
                # Refuse if ANY answer is internal: mixing one public and one
                # private address is a classic way to reach the private one.
                raise FetchRefused(
                    f"{target.host} resolves to a {why} address ({address})",
                    url=url,
                    code="address",
                )
    return addresses


def _one_hop(
    target: _Target,
    addresses: list[str],
    *,
    method: str,
    headers: Mapping[str, str],
    policy: FetchPolicy,
    deadline: _Deadline,
    url: str,
) -> tuple[int, dict[str, str], bytes, str]:
    last_error: Exception | None = None
    for address in addresses:
        left = deadline.check(url)
        conn = _connection(target, address, left, policy)
        try:
            try:
                conn.connect()
            except ssl.SSLError as exc:
                raise FetchUnreachable(f"TLS failure: {exc}", url=url, code="tls") from exc
            except TimeoutError as exc:
                if deadline.remaining() <= 0:
                    raise FetchTimeout("time limit exceeded while connecting", url=url) from exc
                last_error = exc
                continue
            except OSError as exc:
                last_error = exc
                continue
            assert conn.sock is not None
            deadline.arm(conn.sock)
            try:
                return _exchange(
                    conn,
                    target,
                    address,
                    method=method,
                    headers=headers,
                    policy=policy,
                    deadline=deadline,
                    url=url,
                )
            except (OSError, http.client.HTTPException) as exc:
                if deadline.fired or deadline.remaining() <= 0:
                    raise FetchTimeout("time limit exceeded", url=url) from exc
                raise FetchUnreachable(
                    f"connection failed: {exc.__class__.__name__}: {exc}", url=url
                ) from exc
            finally:
                deadline.disarm()
        finally:
            conn.close()
    raise FetchUnreachable(
        f"could not connect to {target.host}: {last_error}", url=url, code="connect"
    )


def _exchange(conn, target, address, *, method, headers, policy, deadline, url):
    conn.putrequest(method, target.path, skip_accept_encoding=True)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.endheaders()
    response = conn.getresponse()
    response_headers = {name.lower(): value for name, value in response.getheaders()}
    if response.status in REDIRECT_STATUSES or method == "HEAD":
        return response.status, response_headers, b"", address
    declared = response_headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchTooLarge(
            f"response declares {declared} bytes, limit is {policy.max_bytes}", url=url
        )
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline.check(url)
        if conn.sock is not None:
            conn.sock.settimeout(left)
        chunk = response.read1(65536)
        if not chunk:
            if deadline.fired:
                raise FetchTimeout("time limit exceeded while reading the body", url=url)
            break
        size += len(chunk)
        if size > policy.max_bytes:
            raise FetchTooLarge(f"response exceeds the {policy.max_bytes}-byte limit", url=url)
        chunks.append(chunk)
    return response.status, response_headers, b"".join(chunks), address


def fetch(
    url: str,
    *,
    policy: FetchPolicy,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    resolver: Resolver | None = None,
) -> FetchResponse:
    """Fetch ``url`` under ``policy``; raise a :class:`FetchError` subclass otherwise.

    Any HTTP status is returned (404 and 500 are answers, not errors) except
    redirects, which are followed.  ``resolver(host, port) -> [ip, ...]`` is
    injectable so tests can prove rebinding and private-answer refusals.
    """
    resolver = resolver or _system_resolver
    deadline = _Deadline(policy.timeout)
    started = time.monotonic()
    request_headers = {
        "User-Agent": policy.user_agent,
        "Accept-Encoding": "identity",
        "Connection": "close",
    }
    request_headers.update(headers or {})
    redirects: list[str] = []
    current_url = url
    target = _parse(current_url, policy)
    while True:
        addresses = _resolve_checked(target, policy, resolver, current_url, deadline)
        status, response_headers, body, address = _one_hop(
            target,
            addresses,
            method=method,
            headers=request_headers,
            policy=policy,
            deadline=deadline,
            url=current_url,
        )
        if status not in REDIRECT_STATUSES:
            return FetchResponse(
                url=current_url,
                status=status,
                headers=response_headers,
                body=body,
                redirects=redirects,
                address=address,
                elapsed=time.monotonic() - started,
            )
        location = response_headers.get("location")
        if not location:
            return FetchResponse(
                url=current_url,
                status=status,
                headers=response_headers,
                body=body,
                redirects=redirects,
                address=address,
                elapsed=time.monotonic() - started,
            )
        if len(redirects) >= policy.max_redirects:
            raise FetchRefused(
                f"more than {policy.max_redirects} redirects",
                url=current_url,
                code="too_many_redirects",
            )
        redirects.append(current_url)
        next_url = urljoin(current_url, location)
        next_target = _parse(next_url, policy)
        if target.scheme == "https" and next_target.scheme == "http":
            raise FetchRefused("redirect from https to http", url=next_url, code="https_downgrade")
        if _origin(next_target) != _origin(target):
            request_headers = {
                name: value
                for name, value in request_headers.items()
                if name.lower() not in CREDENTIAL_HEADERS
            }
        if status == 303 and method != "HEAD":
            method = "GET"
        current_url, target = next_url, next_target


def redact(url: str) -> str:
    """The URL without any userinfo, for storing in evidence records."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port:
        netloc = f"{netloc}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
