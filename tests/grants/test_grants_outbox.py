"""Transactional outbox: an event exists exactly when its grant change committed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import transaction

from grants.models import Grant, OutboxEvent, WebhookDelivery
from grants.services import grant_accept, grant_amend, grant_revoke, outbox_event_record
from tests.grants.factories import offered_grant

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def test_rolled_back_change_leaves_no_event_and_no_delivery(capacity, endpoint):
    """If the transaction of a grant change rolls back, neither the grant nor its event exist."""
    with pytest.raises(Boom), transaction.atomic():
        offered_grant(capacity=capacity)
        assert OutboxEvent.objects.count() == 1
        raise Boom
    assert Grant.objects.count() == 0
    assert OutboxEvent.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0
    capacity.refresh_from_db()
    assert capacity.allocated == 0


def test_committed_change_has_its_event_and_one_delivery_per_endpoint(capacity, endpoint):
    grant = offered_grant(capacity=capacity)
    event = OutboxEvent.objects.get()
    assert event.event_type == "grant.created"
    assert event.grant == grant
    assert event.grant_version == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == endpoint
    assert delivery.status == "pending"


@pytest.mark.django_db(transaction=True)
def test_outbox_refuses_to_write_outside_a_transaction():
    """Outside a transaction there is no change for the event to be atomic with."""
    from tests.grants.factories import CenterCapacityFactory

    grant = offered_grant(capacity=CenterCapacityFactory())
    with pytest.raises(RuntimeError):
        outbox_event_record(event_type="grant.amended", grant=grant)


def test_every_change_raises_version_by_one_with_one_event_each(capacity, endpoint, staff_user):
    grant = offered_grant(capacity=capacity, amount="1000")
    grant_accept(grant=grant)
    grant_amend(grant=grant, actor=staff_user, reason="more compute", amount=Decimal("1500"))
    grant_revoke(grant=grant, actor=staff_user, reason="company dissolved")
    events = list(OutboxEvent.objects.filter(grant=grant).order_by("grant_version"))
    assert [(e.grant_version, e.event_type) for e in events] == [
        (1, "grant.created"),
        (2, "grant.tranche_released"),
        (3, "grant.amended"),
        (4, "grant.revoked"),
    ]
    grant.refresh_from_db()
    assert grant.version == 4


def test_payload_carries_the_whole_state_as_decimal_strings(capacity, endpoint):
    grant = offered_grant(capacity=capacity, amount="1000", commitments=2)
    grant_accept(grant=grant)
    event = OutboxEvent.objects.get(grant=grant, grant_version=2)
    body = json.loads(event.body)
    assert body["type"] == "grant.tranche_released"
    data = body["data"]
    assert data["grant_id"] == grant.pk
    assert data["version"] == 2
    assert data["center"] == grant.center.code
    assert data["recipient"]["reference"] == grant.application.reference
    assert data["recipient"]["uscc"] == grant.application.uscc
    assert data["unit"] == "gpu_hours"
    assert data["total_granted"] == "1000.00"
    assert data["released"] == "400.00"
    assert [t["amount"] for t in data["tranches"]] == ["400.00", "300.00", "300.00"]
    assert data["tranches"][0]["milestone"] is None
    assert data["tranches"][1]["milestone"]["kind"] == "open_weights"
    assert data["status"] == "active"
    assert data["tranche"] == {"number": 1, "amount": "400.00"}
    assert len(event.body.encode()) < 20 * 1024


@pytest.mark.django_db(transaction=True)
def test_broker_outage_at_commit_keeps_the_event_for_the_sweep():
    """If the nudge cannot be queued (the broker is down: a Redis port nobody listens on),
    the change still commits with its event pending in the database, for the sweep."""
    from centers.models import WebhookEndpoint
    from grants.services import endpoint_ping
    from portal.celery import app
    from tests.factories import CenterFactory

    endpoint = WebhookEndpoint.objects.create(center=CenterFactory(), url="http://127.0.0.1:9/")
    saved = (app.conf.task_always_eager, app.conf.broker_url, app.conf.task_publish_retry)
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app.conf.task_publish_retry = False
    app._pool = None
    try:
        event = endpoint_ping(endpoint=endpoint, actor=None)
    finally:
        app.conf.task_always_eager, app.conf.broker_url, app.conf.task_publish_retry = saved
        app._pool = None
    assert OutboxEvent.objects.filter(pk=event.pk).exists()
    assert WebhookDelivery.objects.get(event=event).status == "pending"
