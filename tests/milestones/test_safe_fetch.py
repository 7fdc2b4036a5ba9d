"""The evidence fetcher refuses internal targets and bounds hostile servers.

Every refusal is proved in production mode (allow_private=False) against a
real local server that would have answered had the request been sent: the
tests assert the server saw nothing.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import subprocess
import time
from dataclasses import replace

import pytest

from milestones.safe_fetch import (
    FetchPolicy,
    FetchRefused,
    FetchTimeout,
    FetchTooLarge,
    FetchUnreachable,
    address_refusal,
    fetch,
)

from .conftest import RecordedServer

PRODUCTION = FetchPolicy(allow_private=False, timeout=2.0, max_bytes=64 * 1024)


def resolver_for(mapping: dict[str, list[str]]):
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return mapping[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def test_fetches_a_page_from_the_local_server_in_test_mode(server, local_policy):
    """With private addresses allowed, the local server's answer comes back intact."""
    server.add("/launch", recorded="web/product_page.html")
    response = fetch(f"{server.url}/launch", policy=local_policy)
    assert response.status == 200
    assert response.content_type.startswith("text/html")
    assert "灵犀推理云".encode() in response.body
    assert response.address == "127.0.0.1"
    assert len(response.sha256) == 64


@pytest.mark.parametrize(
    "url_template, why",
    [
        ("http://127.0.0.1:{port}/", "loopback"),
        ("http://localhost:{port}/", "loopback"),
        ("http://127.1:{port}/", "loopback"),
        ("http://2130706433:{port}/", "loopback"),
        ("http://[::1]:{port}/", "loopback"),
        ("http://[::ffff:127.0.0.1]:{port}/", "loopback"),
        ("http://0.0.0.0:{port}/", "unspecified"),
    ],
)
def test_loopback_in_every_spelling_is_refused_before_any_request(server, url_template, why):
    """Loopback, however written, is refused after resolution and never contacted."""
    server.add("/", body="secret admin console")
    url = url_template.format(port=server.port)
    with pytest.raises(FetchRefused) as refused:
        fetch(url, policy=PRODUCTION)
    assert refused.value.code == "address"
    assert why in str(refused.value)
    assert server.requests == []


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://10.23.0.5/", "private"),
        ("http://192.168.1.1/admin", "private"),
        ("http://172.16.8.9:8080/", "private"),
        ("http://169.254.169.254/latest/meta-data/iam/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fd00::5]/", "private"),
        ("http://100.64.1.1/", "not globally routable"),
        ("http://224.0.0.1/", "multicast"),
    ],
)
def test_private_link_local_and_reserved_addresses_are_refused(url, why):
    """Internal address ranges are refused without a connection attempt (so it is instant)."""
    started = time.monotonic()
    with pytest.raises(FetchRefused) as refused:
        fetch(url, policy=PRODUCTION)
    assert refused.value.code == "address"
    assert why in str(refused.value)
    assert time.monotonic() - started < 0.5


def test_a_hostname_resolving_to_a_private_address_is_refused():
    """The check is on the resolved address, not on how the URL looks."""
    resolve = resolver_for({"intranet.example.com": ["192.168.10.20"]})
    with pytest.raises(FetchRefused) as refused:
        fetch("https://intranet.example.com/report", policy=PRODUCTION, resolver=resolve)
    assert refused.value.code == "address"
    assert "192.168.10.20" in str(refused.value)


def test_one_private_answer_among_public_ones_is_enough_to_refuse():
    """Mixing a public and a private answer must not reach the private one."""
    resolve = resolver_for({"mixed.example.com": ["93.184.215.14", "10.0.0.7"]})
    with pytest.raises(FetchRefused):
        fetch("https://mixed.example.com/", policy=PRODUCTION, resolver=resolve)


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8:6379/",
        "http://127.0.0.2:{port}/",
        "http://[::1]:{port}/",
    ],
)
def test_a_redirect_to_a_private_address_is_refused(server, production_policy_for, target):
    """Each redirect is checked like the first URL; the internal target is never contacted."""
    server.add("/evidence", status=302, headers={"Location": target.format(port=server.port)})
    server.add("/", body="internal")
    with pytest.raises(FetchRefused) as refused:
        fetch(f"{server.url}/evidence", policy=production_policy_for)
    assert refused.value.code == "address"
    assert [seen.path for seen in server.requests] == ["/evidence"]


@pytest.mark.parametrize(
    "url",
    [
        "http://user:hunter2@127.0.0.1:{port}/",
        "http://token@127.0.0.1:{port}/",
        "https://:password@example.com/",
    ],
)
def test_credentials_in_the_url_are_refused(server, local_policy, url):
    """Userinfo in a URL is refused even in test mode, and nothing is sent."""
    with pytest.raises(FetchRefused) as refused:
        fetch(url.format(port=server.port), policy=local_policy)
    assert refused.value.code == "credentials"
    assert server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/pub/model.bin",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "javascript:alert(1)",
        "dict://127.0.0.1:11211/",
        "//example.com/no-scheme",
    ],
)
def test_only_http_and_https_schemes_are_fetched(local_policy, url):
    with pytest.raises(FetchRefused) as refused:
        fetch(url, policy=local_policy)
    assert refused.value.code == "scheme"


def test_https_is_required_in_production_mode(server):
    """With require_https, a plain http evidence URL is refused before resolution."""
    policy = replace(PRODUCTION, require_https=True)
    with pytest.raises(FetchRefused) as refused:
        fetch("http://example.com/launch", policy=policy)
    assert refused.value.code == "https_required"


def test_five_redirects_are_followed_and_a_sixth_is_refused(server, local_policy):
    for hop in range(6):
        server.add(f"/hop{hop}", status=301, headers={"Location": f"/hop{hop + 1}"})
    server.add("/hop6", body="arrived")
    response = fetch(f"{server.url}/hop1", policy=local_policy)
    assert response.body == b"arrived"
    assert len(response.redirects) == 5
    server.requests.clear()
    with pytest.raises(FetchRefused) as refused:
        fetch(f"{server.url}/hop0", policy=local_policy)
    assert refused.value.code == "too_many_redirects"
    assert len(server.requests) == 6  # hop0..hop5 answered, hop6 never requested


def test_a_response_declaring_a_large_length_is_refused_without_reading_it(server, local_policy):
    server.add("/big", body=b"x" * (local_policy.max_bytes + 1))
    with pytest.raises(FetchTooLarge):
        fetch(f"{server.url}/big", policy=local_policy)


def test_an_endless_response_without_length_is_cut_at_the_limit(server, local_policy):
    """A streamed body is abandoned as soon as it passes max_bytes."""
    server.add("/endless", endless=True)
    started = time.monotonic()
    with pytest.raises(FetchTooLarge):
        fetch(f"{server.url}/endless", policy=local_policy)
    assert time.monotonic() - started < 1.5


def test_a_server_that_never_answers_hits_the_time_limit(server):
    policy = FetchPolicy(allow_private=True, timeout=0.5)
    server.add("/slow", body="late", delay=3)
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        fetch(f"{server.url}/slow", policy=policy)
    assert time.monotonic() - started < 1.5


def test_a_server_dripping_bytes_hits_the_total_time_limit(server):
    """A byte every 50 ms never trips a per-read timeout; the total deadline still ends it."""
    policy = FetchPolicy(allow_private=True, timeout=0.6)
    server.add("/drip", body=b"y" * 200, drip=0.05)
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        fetch(f"{server.url}/drip", policy=policy)
    assert time.monotonic() - started < 1.5


def test_the_connection_goes_to_the_checked_address_with_the_original_host_header(
    server, production_policy_for
):
    """Resolution happens once per hop and the socket is pinned to the checked answer.

    The resolver answers loopback first and a private address afterwards (DNS
    rebinding); the request still reaches the checked address, with the
    hostname in the Host header.
    """
    answers = iter([["127.0.0.1"], ["10.0.0.9"], ["10.0.0.9"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    server.add("/page", body="<title>ok</title>")
    response = fetch(
        f"http://evidence.example.com:{server.port}/page",
        policy=production_policy_for,
        resolver=rebinding,
    )
    assert response.status == 200
    assert calls == ["evidence.example.com"]
    assert server.requests[0].headers["host"] == f"evidence.example.com:{server.port}"


def test_a_redirect_back_to_a_rebound_host_is_checked_again(server, production_policy_for):
    """The second hop resolves again; its now-private answer is refused."""
    answers = iter([["127.0.0.1"], ["10.0.0.9"]])
    server.add("/start", status=302, headers={"Location": "/next"})
    server.add("/next", body="internal")
    with pytest.raises(FetchRefused) as refused:
        fetch(
            f"http://evidence.example.com:{server.port}/start",
            policy=production_policy_for,
            resolver=lambda host, port: next(answers),
        )
    assert "10.0.0.9" in str(refused.value)
    assert [seen.path for seen in server.requests] == ["/start"]


def test_credentials_headers_are_not_forwarded_to_another_origin(server, local_policy):
    other = RecordedServer()
    try:
        other.add("/landing", body="other origin")
        server.add("/go", status=307, headers={"Location": f"{other.url}/landing"})
        fetch(f"{server.url}/go", policy=local_policy, headers={"Authorization": "Bearer t0ken"})
        assert server.requests[0].headers["authorization"] == "Bearer t0ken"
        assert "authorization" not in other.requests[0].headers
    finally:
        other.close()


def test_a_refused_port_is_reported_as_unreachable(local_policy):
    probe = RecordedServer()
    port = probe.port
    probe.close()
    with pytest.raises(FetchUnreachable):
        fetch(f"http://127.0.0.1:{port}/", policy=local_policy)


def test_address_refusal_names_each_range():
    assert address_refusal("8.8.8.8") is None
    assert address_refusal("2606:4700:4700::1111") is None
    assert address_refusal("127.0.0.1") == "loopback"
    assert address_refusal("::ffff:10.1.2.3") == "private"
    assert address_refusal("169.254.169.254") == "link-local"
    assert address_refusal("240.0.0.1") in ("private", "reserved")
    allowed = (ipaddress.ip_network("127.0.0.1/32"),)
    assert address_refusal("127.0.0.1", allow_networks=allowed) is None
    assert address_refusal("127.0.0.2", allow_networks=allowed) == "loopback"


# --- TLS: the pinned connection still checks the certificate for the hostname ---


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=evidence.example.com",
            "-addext", "subjectAltName=DNS:evidence.example.com",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key, cert


@pytest.fixture
def tls_server(certificate):
    key, cert = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    running = RecordedServer(tls=context)
    yield running
    running.close()


def _client_context(cert) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    return context


def test_https_to_a_pinned_address_verifies_the_certificate_for_the_hostname(
    tls_server, certificate
):
    """SNI and hostname verification use the URL's host while the socket goes to the IP."""
    _key, cert = certificate
    tls_server.add("/launch", recorded="web/product_page.html")
    policy = FetchPolicy(allow_private=True, require_https=True, ssl_context=_client_context(cert))
    resolve = resolver_for(
        {"evidence.example.com": ["127.0.0.1"], "other.example.com": ["127.0.0.1"]}
    )
    response = fetch(
        f"https://evidence.example.com:{tls_server.port}/launch", policy=policy, resolver=resolve
    )
    assert response.status == 200
    assert tls_server.requests[0].headers["host"] == f"evidence.example.com:{tls_server.port}"
    with pytest.raises(FetchUnreachable) as failed:
        fetch(
            f"https://other.example.com:{tls_server.port}/launch", policy=policy, resolver=resolve
        )
    assert failed.value.code == "tls"


def test_a_redirect_from_https_down_to_http_is_refused(tls_server, server, certificate):
    _key, cert = certificate
    tls_server.add(
        "/go", status=302, headers={"Location": f"http://evidence.example.com:{server.port}/"}
    )
    policy = FetchPolicy(allow_private=True, ssl_context=_client_context(cert))
    resolve = resolver_for({"evidence.example.com": ["127.0.0.1"]})
    with pytest.raises(FetchRefused) as refused:
        fetch(f"https://evidence.example.com:{tls_server.port}/go", policy=policy, resolver=resolve)
    assert refused.value.code == "https_downgrade"
    assert server.requests == []


def test_a_stalled_dns_answer_is_bounded_by_the_time_limit():
    def stalled(host: str, port: int) -> list[str]:
        time.sleep(3)
        return ["93.184.215.14"]

    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        fetch(
            "https://slow-dns.example.com/",
            policy=replace(PRODUCTION, timeout=0.3),
            resolver=stalled,
        )
    assert time.monotonic() - started < 1.0


def test_a_name_that_does_not_resolve_is_unreachable_not_refused(local_policy):
    """NXDOMAIN may be a passing outage: reported as unreachable (retried), not refused."""

    def nxdomain(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(FetchUnreachable) as failed:
        fetch("http://no-such-host.invalid/", policy=local_policy, resolver=nxdomain)
    assert failed.value.code == "dns"
