"""Service lane (real PostgreSQL, Redis and a Celery worker): the capacity race and the whole
chain from allocation to the center's balance. These fail, never skip, without the services."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import requests
from django.db import connection

from centers.models import CapacityEntry, WebhookEndpoint
from centers.services import CapacityExceeded
from grants.models import Grant, WebhookDelivery
from grants.services import grant_accept, grant_allocate
from tests.conftest import wait_until
from tests.factories import ApplicationFactory, CommitmentFactory
from tests.grants.factories import CenterCapacityFactory

pytestmark = pytest.mark.services


def require_postgres():
    if connection.vendor != "postgresql":
        pytest.fail("DATABASE_URL must point at PostgreSQL for the capacity race test")


@pytest.mark.django_db(transaction=True)
def test_two_allocators_at_once_cannot_exceed_capacity_on_postgresql():
    """Eight staff allocate 200 GPU-hours each from 1,000 at the same instant, each in its
    own connection: exactly five succeed, the rest are refused, and the ledger adds up."""
    require_postgres()
    capacity = CenterCapacityFactory(capacity=Decimal("1000"))
    applications = [ApplicationFactory(round=capacity.round) for _ in range(8)]
    start = threading.Barrier(len(applications))
    outcomes: list[str] = []
    lock = threading.Lock()

    def allocate(application):
        try:
            start.wait()
            grant_allocate(
                application=application, capacity=capacity, amount=Decimal("200"), actor=None
            )
            result = "ok"
        except CapacityExceeded:
            result = "refused"
        except Exception as exc:  # pragma: no cover - shown in the assertion below
            result = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=allocate, args=(a,)) for a in applications]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ok"] * 5 + ["refused"] * 3, outcomes
    capacity.refresh_from_db()
    assert capacity.allocated == Decimal("1000")
    assert capacity.available == 0
    assert Grant.objects.count() == 5
    assert CapacityEntry.objects.filter(capacity=capacity, kind="allocation").count() == 5


@pytest.mark.django_db(transaction=True)
def test_allocation_reaches_the_receiver_balance_through_a_real_worker(
    celery_worker_process, receiver
):
    """Offer and acceptance commit; the on-commit nudge goes through Redis to a real Celery
    worker, which signs and posts both events; the receiver shows the released balance."""
    capacity = CenterCapacityFactory(capacity=Decimal("10000"))
    WebhookEndpoint.objects.create(
        center=capacity.gpu_type.center, url=receiver.url, secret=receiver.secret
    )
    application = ApplicationFactory(round=capacity.round)
    CommitmentFactory(application=application)
    grant = grant_allocate(
        application=application, capacity=capacity, amount=Decimal("1000"), actor=None
    )
    grant_accept(grant=grant)

    def balance():
        answer = requests.get(f"{receiver.url}balances/{grant.pk}", timeout=5)
        return answer.json() if answer.ok and answer.json()["version"] == 2 else None

    shown = wait_until(balance, timeout=60)
    assert shown["released"] == "400.00"
    assert shown["total_granted"] == "1000.00"
    assert shown["status"] == "active"
    wait_until(lambda: WebhookDelivery.objects.filter(status="succeeded").count() == 2, timeout=30)
    stats = requests.get(receiver.url + "stats", timeout=5).json()
    assert stats["applications"] == 2
    assert stats["applied_twice"] == 0
