"""Staff tools in admin: each webhook action works and is recorded with who did it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from centers.models import WebhookEndpoint
from core.models import AuditEvent
from grants.models import OutboxEvent, WebhookDelivery
from tests.grants.factories import offered_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def action(client, url, name, ids):
    return client.post(url, {"action": name, "_selected_action": [str(i) for i in ids]})


def test_endpoint_actions_ping_rotate_disable_enable_are_recorded(
    admin_client, staff_user, endpoint
):
    url = "/en/admin/centers/webhookendpoint/"
    old_secret = endpoint.secret
    action(admin_client, url, "send_ping", [endpoint.pk])
    assert OutboxEvent.objects.filter(event_type="endpoint.ping").count() == 1
    response = action(admin_client, url, "rotate_secret", [endpoint.pk])
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret and endpoint.previous_secret == old_secret
    shown = admin_client.get(response["Location"]).content.decode()
    assert endpoint.secret in shown  # shown once, right after the rotation
    assert endpoint.secret not in admin_client.get(url).content.decode()
    action(admin_client, url, "disable", [endpoint.pk])
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    action(admin_client, url, "enable", [endpoint.pk])
    endpoint.refresh_from_db()
    assert endpoint.is_active
    recorded = set(AuditEvent.objects.filter(actor=staff_user).values_list("action", flat=True))
    assert {
        "endpoint.pinged",
        "endpoint.secret_rotated",
        "endpoint.disabled",
        "endpoint.enabled",
    } <= recorded


def test_new_endpoint_gets_a_secret_shown_once(admin_client, capacity):
    center = capacity.gpu_type.center
    response = admin_client.post(
        "/en/admin/centers/webhookendpoint/add/",
        {"center": center.pk, "url": "https://billing.example.cn/hooks", "description": "x"},
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get(url="https://billing.example.cn/hooks")
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()
    assert AuditEvent.objects.filter(action="endpoint.created").exists()


def test_resend_action_and_recover_view(admin_client, staff_user, capacity, endpoint, receiver):
    from grants.services import deliveries_send_due

    offered_grant(capacity=capacity)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", failed_at=timezone.now())
    response = admin_client.post(
        "/en/admin/grants/webhookdelivery/recover/",
        {"since": (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")},
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    deliveries_send_due()
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    action(admin_client, "/en/admin/grants/webhookdelivery/", "resend_selected", [delivery.pk])
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert AuditEvent.objects.filter(action="delivery.resent", actor=staff_user).exists()
    assert AuditEvent.objects.filter(action="delivery.recovered", actor=staff_user).exists()
    page = admin_client.get(f"/en/admin/grants/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200
    assert "200" in page.content.decode()  # the recorded attempt's status code


def test_amend_and_revoke_pages_require_a_reason(admin_client, staff_user, capacity):
    grant = offered_grant(capacity=capacity, amount="1000")
    page = admin_client.get(f"/en/admin/grants/grant/{grant.pk}/revoke/")
    assert page.status_code == 200
    admin_client.post(f"/en/admin/grants/grant/{grant.pk}/revoke/", {"reason": ""})
    grant.refresh_from_db()
    assert grant.status == "offered"
    admin_client.post(
        f"/en/admin/grants/grant/{grant.pk}/amend/",
        {"reason": "more", "amount": "1200", "capacity": capacity.pk},
    )
    grant.refresh_from_db()
    assert grant.amount == 1200 and grant.version == 2
    admin_client.post(f"/en/admin/grants/grant/{grant.pk}/revoke/", {"reason": "fraud"})
    grant.refresh_from_db()
    assert grant.status == "revoked"
    assert AuditEvent.objects.get(action="grant.revoked").actor == staff_user


def test_grant_changelist_shows_released_used_and_idle(admin_client, capacity, settings):
    from grants.models import Grant
    from grants.services import grant_accept

    settings.GRANTS_IDLE_DAYS = 10
    quiet = offered_grant(capacity=capacity, amount="1000")
    grant_accept(grant=quiet)
    Grant.objects.filter(pk=quiet.pk).update(accepted_at=timezone.now() - timedelta(days=11))
    fresh = offered_grant(capacity=capacity, amount="500")
    page = admin_client.get("/en/admin/grants/grant/?idle=yes").content.decode()
    assert quiet.application.reference in page
    assert fresh.application.reference not in page
    assert "400" in page.split(quiet.application.reference)[1][:600]  # released so far
    assert 'alt="True"' in page  # the idle column
    assert admin_client.get("/en/admin/grants/grant/").status_code == 200
    assert admin_client.get("/en/admin/centers/centercapacity/").status_code == 200
    assert admin_client.get("/en/admin/grants/outboxevent/").status_code == 200
