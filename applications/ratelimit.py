"""Per-client rate limits kept in the shared cache (Redis when deployed), so every web process
counts the same requests. A fixed window per hour: simple, and enough to stop a script."""

import logging
import time

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)

REDIS_CACHE_BACKEND = "django.core.cache.backends.redis.RedisCache"
# One client per Redis address, kept for the process: Django's cache builds a new client object
# on every call, and its incr() asks Redis twice (EXISTS, then INCRBY). A count took 243-317 us
# that way, 102-115 us this way (bench/README.md, session 6).
_redis_clients: dict[str, redis.Redis] = {}


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
    timeout = window_seconds + 60
    try:
        client = _shared_redis()
        if client is not None:
            # make_key, not make_and_validate_key: validation only warns about keys memcached
            # would refuse, and this key's shape is fixed here (12 us a request saved).
            count = _count_in_redis(client, cache.make_key(key), timeout)
        else:
            count = _count_in_cache(key, timeout)
    except Exception as error:
        # The limit only slows scripts down; with the cache out, refusing every founder (an
        # error page, hours before a round closes) would be worse than not counting for a while.
        logger.warning("rate limit %s not counted, the cache is unavailable: %s", scope, error)
        return False
    return count > limit


def _shared_redis() -> redis.Redis | None:
    """The process's client of the cache's Redis, or None when the cache is not one Redis
    server (the embedded default keeps it in files; tests keep it in memory)."""
    configured = settings.CACHES["default"]
    location = configured.get("LOCATION")
    if configured["BACKEND"] != REDIS_CACHE_BACKEND or not isinstance(location, str):
        return None
    if "," in location or ";" in location:  # several servers: Django's cache picks among them
        return None
    client = _redis_clients.get(location)
    if client is None:
        # The cache's own connection options (timeouts), so an unreachable Redis fails as fast
        # here as there; the ones that choose Django's classes are not Redis's to read.
        options = {
            name: value
            for name, value in configured.get("OPTIONS", {}).items()
            if name not in {"pool_class", "parser_class", "serializer"}
        }
        client = _redis_clients[location] = redis.Redis.from_url(location, **options)
    return client


def _count_in_redis(client: redis.Redis, key: str, timeout: int) -> int:
    # One round trip at the deadline rush, when every form POST and submit counts: create the
    # counter with its expiry if it is missing, then add this request. SET NX cannot reset a
    # counter another process has started; it needs no newer Redis than 2.6.
    pipeline = client.pipeline(transaction=False)
    pipeline.set(key, 0, ex=timeout, nx=True)
    pipeline.incr(key)
    _created, count = pipeline.execute()
    return count


def _count_in_cache(key: str, timeout: int) -> int:
    # Count first, create the counter only when it is missing: one cache call fewer on every
    # request than adding it each time.
    try:
        return cache.incr(key)
    except ValueError:  # the client's first request of this window (or another process's)
        created = cache.add(key, 1, timeout=timeout)
        return 1 if created else cache.incr(key)


def retry_after_seconds(window_seconds: int = 3600) -> int:
    return window_seconds - int(time.time()) % window_seconds
