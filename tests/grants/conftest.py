from __future__ import annotations

import pytest

from centers.models import WebhookEndpoint
from grants.webhook_signing import generate_secret
from receiver import ReceiverServer


@pytest.fixture
def receiver(tmp_path):
    """The reference center receiver, for real, on a loopback port."""
    secret = generate_secret()
    server = ReceiverServer(secrets=[secret], db_path=str(tmp_path / "receiver.sqlite3"))
    server.secret = secret
    server.start()
    yield server
    server.stop()


@pytest.fixture
def capacity(db):
    from tests.grants.factories import CenterCapacityFactory

    return CenterCapacityFactory()


@pytest.fixture
def endpoint(capacity, receiver):
    """The capacity's center billing endpoint, pointing at the receiver with its secret."""
    return WebhookEndpoint.objects.create(
        center=capacity.gpu_type.center, url=receiver.url, secret=receiver.secret
    )


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_superuser("staff", "staff@example.cn", "pw")
