"""Behind the TLS proxy every request comes from the proxy's address. Founders must still be
counted one by one by the per-client limits, and a client must not dodge its limit by
sending its own X-Forwarded-For."""

import re

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from werkzeug.test import Client

from portal.wsgi import behind_proxies

PROXY = "10.0.0.2"
FOUNDER_A = "203.0.113.5"
FOUNDER_B = "198.51.100.7"


def resend_link(client: Client, forwarded_for: str) -> int:
    """One "send me my status link again" request as the proxy forwards it; its status code."""
    environ = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded_for}
    form = client.get("/en/status/resend/", environ_overrides=environ)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.data).group(1)
    response = client.post(
        "/en/status/resend/",
        data={
            "csrfmiddlewaretoken": token.decode(),
            "reference": "SL-2026-ABCDE",
            "email": "someone@example.cn",
        },
        environ_overrides=environ,
    )
    return response.status_code


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """A real WSGI handler closes the database connection when each request ends, which would
    close the test's own transaction on PostgreSQL; Django's test client stops that the same
    way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def proxied_portal(db, settings):
    from django.core.cache import cache

    settings.APPLICATION_RATE_LIMIT_PER_HOUR = 2
    cache.clear()
    return Client(behind_proxies(WSGIHandler(), proxy_count=1), use_cookies=True)


def test_founders_behind_the_proxy_are_limited_one_by_one(proxied_portal):
    assert [resend_link(proxied_portal, FOUNDER_A) for _ in range(3)] == [302, 302, 429]
    # Another founder, through the same proxy, is not refused because of the first one.
    assert resend_link(proxied_portal, FOUNDER_B) == 302


def test_a_forged_forwarded_for_does_not_escape_the_limit(proxied_portal):
    assert [resend_link(proxied_portal, FOUNDER_A) for _ in range(2)] == [302, 302]
    # The client sent "X-Forwarded-For: 192.0.2.99"; the proxy appended the address it saw.
    assert resend_link(proxied_portal, f"192.0.2.99, {FOUNDER_A}") == 429


def test_without_a_proxy_setting_the_connection_address_counts(db, settings):
    from django.core.cache import cache

    settings.APPLICATION_RATE_LIMIT_PER_HOUR = 1
    cache.clear()
    client = Client(behind_proxies(WSGIHandler(), proxy_count=0), use_cookies=True)
    assert resend_link(client, FOUNDER_A) == 302
    # Direct clients cannot pick a new address by sending the header themselves.
    assert resend_link(client, FOUNDER_B) == 429
