"""Delivery of the outbox to a real reference receiver on loopback: retries from the database,
Retry-After, 410, failure alerts, resend with the same webhook-id, rotation, ordering."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests
from django.core import mail
from django.utils import timezone

from centers.services import endpoint_enable, endpoint_rotate_secret
from core.models import AuditEvent
from grants.models import DeliveryAttempt, OutboxEvent, WebhookDelivery
from grants.services import (
    deliveries_claim,
    deliveries_recover_failed,
    deliveries_send_due,
    delivery_resend,
    endpoint_ping,
    grant_accept,
)
from grants.webhook_signing import MAX_ATTEMPTS
from notifications.models import Notification
from tests.grants.factories import offered_grant

pytestmark = pytest.mark.django_db


def later(**delta):
    """A moment in the future: the sweep sees deliveries whose retry time has come."""
    return timezone.now() + timedelta(**delta)


def receiver_balance(receiver, grant):
    response = requests.get(f"{receiver.url}balances/{grant.pk}", timeout=5)
    return response.json() if response.ok else None


def receiver_stats(receiver):
    return requests.get(receiver.url + "stats", timeout=5).json()


def test_event_reaches_the_receiver_signed_and_is_applied(capacity, endpoint, receiver):
    grant = offered_grant(capacity=capacity, amount="1000")
    assert deliveries_send_due() == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded"
    attempt = delivery.attempt_log.get()
    assert attempt.status_code == 200 and attempt.succeeded
    assert '"applied"' in attempt.response_excerpt
    balance = receiver_balance(receiver, grant)
    assert balance["total_granted"] == "1000.00"
    assert balance["released"] == "0.00"
    assert balance["version"] == 1


def test_receiver_down_for_several_attempts_then_recovers_applies_each_event_once(
    capacity, endpoint, receiver
):
    """Three 500s, then success: every event arrives, each applied exactly once, and every
    attempt is recorded with the schedule's next time."""
    grant = offered_grant(capacity=capacity, amount="1000")
    grant_accept(grant=grant)
    requests.post(receiver.url + "_control", json={"mode": "fail", "count": 3, "status": 500})

    before = timezone.now()
    deliveries_send_due()  # v1 fails; v2 waits behind it (order per endpoint and grant)
    first = WebhookDelivery.objects.get(grant_version=1)
    assert first.status == "pending" and first.attempts == 1
    # The second attempt is due after 5 s ± 10 %, recorded in the database.
    wait = first.next_attempt_at - before
    assert timedelta(seconds=4.4) <= wait <= timedelta(seconds=6)
    assert WebhookDelivery.objects.get(grant_version=2).attempts == 0

    for _ in range(4):
        deliveries_send_due(now=later(days=2))
    deliveries = WebhookDelivery.objects.order_by("grant_version")
    assert [d.status for d in deliveries] == ["succeeded", "succeeded"]
    assert [d.attempts for d in deliveries] == [4, 1]
    assert list(
        DeliveryAttempt.objects.filter(delivery=deliveries[0])
        .order_by("number")
        .values_list("status_code", flat=True)
    ) == [500, 500, 500, 200]
    stats = receiver_stats(receiver)
    assert stats["applications"] == 2
    assert stats["applied_twice"] == 0
    assert receiver_balance(receiver, grant)["released"] == "400.00"


def test_later_version_waits_while_an_earlier_one_is_pending(capacity, endpoint, receiver):
    grant = offered_grant(capacity=capacity)
    grant_accept(grant=grant)
    v1 = WebhookDelivery.objects.get(grant_version=1)
    v2 = WebhookDelivery.objects.get(grant_version=2)
    claimed = deliveries_claim(limit=10)
    assert claimed == [v1.pk]
    assert v2.pk not in deliveries_claim(now=later(minutes=5), limit=10, exclude=[v1.pk])


def test_out_of_order_arrival_does_not_regress_the_grant(capacity, endpoint, receiver):
    """A resend of version 1 after version 2 was applied is acknowledged and ignored."""
    grant = offered_grant(capacity=capacity)
    grant_accept(grant=grant)
    deliveries_send_due()
    assert receiver_balance(receiver, grant)["version"] == 2
    old = WebhookDelivery.objects.get(grant_version=1)
    # A second endpoint-level copy of v1 with a fresh id, as a misordered network would bring it.
    stale = OutboxEvent.objects.get(grant_version=1)
    from grants.webhook_signing import new_message_id, sign_headers

    headers = sign_headers(msg_id=new_message_id(), body=stale.body, secrets=[receiver.secret])
    answer = requests.post(receiver.url, data=stale.body.encode(), headers=headers, timeout=5)
    assert answer.json()["outcome"] == "stale"
    delivery_resend(delivery=old, actor=None)
    deliveries_send_due()
    assert receiver_balance(receiver, grant)["version"] == 2
    assert receiver_balance(receiver, grant)["released"] == "400.00"


def test_resend_uses_the_same_webhook_id_and_is_not_applied_twice(
    capacity, endpoint, receiver, staff_user
):
    grant = offered_grant(capacity=capacity)
    deliveries_send_due()
    delivery = WebhookDelivery.objects.get()
    delivery_resend(delivery=delivery, actor=staff_user)
    deliveries_send_due()
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    attempts = list(delivery.attempt_log.order_by("started_at", "id"))
    assert len(attempts) == 2
    assert '"duplicate"' in attempts[1].response_excerpt
    messages = requests.get(receiver.url + "messages", timeout=5).json()["messages"]
    assert [m["webhook_id"] for m in messages] == [delivery.event.webhook_id]
    assert receiver_stats(receiver)["applications"] == 1
    assert AuditEvent.objects.filter(action="delivery.resent", actor=staff_user).exists()
    assert receiver_balance(receiver, grant)["version"] == 1


def test_retry_after_from_a_429_is_honoured(capacity, endpoint, receiver):
    offered_grant(capacity=capacity)
    requests.post(
        receiver.url + "_control", json={"mode": "throttle", "count": 1, "retry_after": 120}
    )
    before = timezone.now()
    deliveries_send_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code == 429
    # The schedule alone would retry after ~5 s; the center asked for 120 s.
    assert delivery.next_attempt_at - before >= timedelta(seconds=120)
    assert delivery.next_attempt_at - before < timedelta(seconds=130)


def test_410_disables_the_endpoint_alerts_staff_and_enable_resumes(
    capacity, endpoint, receiver, staff_user, django_capture_on_commit_callbacks
):
    grant = offered_grant(capacity=capacity)
    requests.post(receiver.url + "_control", json={"mode": "gone", "count": 1})
    with django_capture_on_commit_callbacks(execute=True):
        deliveries_send_due()
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "410" in endpoint.disabled_reason
    assert Notification.objects.filter(kind="webhook_endpoint_gone").count() == 1
    assert any("410" in message.subject for message in mail.outbox)
    # Nothing is sent while disabled, nothing is lost either.
    assert deliveries_send_due(now=later(days=1)) == 0
    assert WebhookDelivery.objects.get().status == "pending"
    endpoint_enable(endpoint=endpoint, actor=staff_user)
    deliveries_send_due()
    assert WebhookDelivery.objects.get().status == "succeeded"
    assert receiver_balance(receiver, grant)["version"] == 1
    assert AuditEvent.objects.filter(action="endpoint.enabled", actor=staff_user).exists()


def test_failure_after_the_last_attempt_alerts_staff_and_stays_resendable(
    capacity, endpoint, receiver, staff_user, django_capture_on_commit_callbacks
):
    grant = offered_grant(capacity=capacity)
    requests.post(receiver.url + "_control", json={"mode": "fail", "count": -1, "status": 503})
    moment = timezone.now()
    for step in range(MAX_ATTEMPTS):
        with django_capture_on_commit_callbacks(execute=True):
            deliveries_send_due(now=later(days=3 * (step + 1)))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.attempts == MAX_ATTEMPTS == 8
    assert delivery.attempt_log.count() == 8
    assert Notification.objects.filter(kind="webhook_delivery_failed").count() == 1
    assert any(delivery.event.webhook_id in message.body for message in mail.outbox)

    requests.post(receiver.url + "_control/reset")
    assert deliveries_recover_failed(since=moment, actor=staff_user) == 1
    deliveries_send_due()
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert receiver_balance(receiver, grant)["version"] == 1


def test_timeout_is_recorded_as_an_attempt(capacity, endpoint, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    offered_grant(capacity=capacity)
    requests.post(receiver.url + "_control", json={"mode": "timeout", "count": 1, "seconds": 3})
    deliveries_send_due()
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None
    assert "no answer within 1 s" in attempt.error
    assert attempt.delivery.status == "pending"


def test_rotation_sends_both_signatures_for_a_day(capacity, endpoint, receiver, staff_user):
    """After a rotation the receiver still holding only the old secret keeps accepting."""
    offered_grant(capacity=capacity)
    new_secret = endpoint_rotate_secret(endpoint=endpoint, actor=staff_user)
    endpoint.refresh_from_db()
    assert endpoint.signing_secrets() == [new_secret, receiver.secret]
    deliveries_send_due()
    assert WebhookDelivery.objects.get().status == "succeeded"
    assert endpoint.signing_secrets(now=later(hours=25)) == [new_secret]
    audit = AuditEvent.objects.get(action="endpoint.secret_rotated")
    assert audit.actor == staff_user
    assert new_secret not in json.dumps(audit.detail)


def test_ping_is_delivered_to_one_endpoint(capacity, endpoint, receiver, staff_user):
    event = endpoint_ping(endpoint=endpoint, actor=staff_user)
    deliveries_send_due()
    assert event.deliveries.get().status == "succeeded"
    messages = requests.get(receiver.url + "messages", timeout=5).json()["messages"]
    assert messages[0]["outcome"] == "ping"


def test_the_drills_retry_scale_shortens_the_wait_after_a_failure(
    capacity, endpoint, receiver, settings
):
    """With SUANLI_WEBHOOK_RETRY_SCALE=0.01 (fault drills) the third attempt waits about 3 s,
    not 5 min; the default keeps the contract's schedule."""
    settings.WEBHOOK_RETRY_SCALE = 0.01
    offered_grant(capacity=capacity)
    requests.post(receiver.url + "_control", json={"mode": "fail", "count": -1, "status": 500})
    deliveries_send_due()
    deliveries_send_due(now=later(seconds=1))
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 2
    wait = (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()
    assert 2.5 <= wait <= 3.5
