"""A founder can still apply while the shared cache (Redis when deployed) is down."""

import socket

from django.test import override_settings

from applications.models import Application

from .conftest import answers


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def test_the_application_is_accepted_when_the_rate_limit_cache_is_down(client, open_round):
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/1",
        }
    }
    with override_settings(CACHES=unreachable):
        posted = client.post("/en/apply/", answers())
        assert posted.status_code == 302
        confirmation = client.post("/en/apply/check/", follow=True)
    assert confirmation.status_code == 200
    application = Application.objects.get()
    assert application.reference in confirmation.content.decode()
