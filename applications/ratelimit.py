"""Per-client rate limits kept in the shared cache (Redis when deployed), so every web process
counts the same requests. A fixed window per hour: simple, and enough to stop a script."""

import logging
import time

from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by whoever sends the request. Behind proxies,
    # portal/wsgi.py has already put the client's address there (SUANLI_PROXY_COUNT).
    return request.META.get("REMOTE_ADDR") or "unknown"


def rate_limit_exceeded(
    *, request: HttpRequest, scope: str, limit: int, window_seconds: int = 3600
) -> bool:
    """Count one request of `scope` from this client; True once it is over `limit` this window."""
    window = int(time.time() // window_seconds)
    key = f"suanli:ratelimit:{scope}:{client_address(request)}:{window}"
    try:
        # Count first, create the counter only when it is missing: one cache call fewer on every
        # request than adding it each time (at the deadline every form POST and submit counts).
        try:
            count = cache.incr(key)
        except ValueError:  # the client's first request of this window (or another process's)
            created = cache.add(key, 1, timeout=window_seconds + 60)
            count = 1 if created else cache.incr(key)
    except Exception as error:
        # The limit only slows scripts down; with the cache out, refusing every founder (an
        # error page, hours before a round closes) would be worse than not counting for a while.
        logger.warning("rate limit %s not counted, the cache is unavailable: %s", scope, error)
        return False
    return count > limit


def retry_after_seconds(window_seconds: int = 3600) -> int:
    return window_seconds - int(time.time()) % window_seconds
