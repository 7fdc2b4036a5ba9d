"""The rate limit's counter in a real Redis, as deployed (the service lane's CACHE_URL)."""

import os

import pytest
import redis
from django.core.cache import cache
from django.test import RequestFactory, override_settings

from applications.ratelimit import rate_limit_exceeded

pytestmark = [pytest.mark.services]


@pytest.fixture
def redis_cache():
    location = os.environ.get("CACHE_URL", "")
    if not location.startswith("redis://"):
        pytest.fail("CACHE_URL must point at Redis for the rate limit's Redis tests")
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": location,
            }
        }
    ):
        cache.clear()
        yield redis.Redis.from_url(location)
        cache.clear()


def _request_from(address: str):
    return RequestFactory().post("/en/apply/", REMOTE_ADDR=address)


def test_each_address_gets_its_limit_and_the_next_request_is_refused(redis_cache):
    founder, script = _request_from("203.0.113.7"), _request_from("198.51.100.9")
    answers = [rate_limit_exceeded(request=script, scope="apply-submit", limit=3) for _ in range(5)]
    assert answers == [False, False, False, True, True]
    # Another address has its own count.
    assert rate_limit_exceeded(request=founder, scope="apply-submit", limit=3) is False
    # So has another scope for the same address.
    assert rate_limit_exceeded(request=script, scope="resend", limit=3) is False


def test_the_counter_expires_after_its_window_and_is_the_cache_s_own_key(redis_cache):
    request = _request_from("203.0.113.7")
    for _ in range(2):
        rate_limit_exceeded(request=request, scope="apply-form", limit=10, window_seconds=600)
    keys = redis_cache.keys("*suanli:ratelimit:apply-form:203.0.113.7:*")
    assert len(keys) == 1
    # Never kept past its window (plus a minute of slack for clocks between web servers).
    assert 600 - 5 <= redis_cache.ttl(keys[0]) <= 660
    # Django's cache reads the same counter (and cache.clear() in the fixture drops it).
    unprefixed = keys[0].decode().split(":", 2)[2]
    assert cache.get(unprefixed) == 2
