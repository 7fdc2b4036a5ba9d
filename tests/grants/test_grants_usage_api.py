"""Usage reported back by centers: signed like our webhooks, idempotent by report id."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from centers.services import center_usage_secret_rotate
from grants.models import UsageReport
from grants.selectors import grant_usage_summary, grants_idle
from grants.services import grant_accept
from grants.webhook_signing import generate_secret, sign_headers
from tests.grants.factories import offered_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def accepted(capacity):
    grant = offered_grant(capacity=capacity, amount="1000")
    grant_accept(grant=grant)
    return grant


@pytest.fixture
def usage_secret(capacity):
    return center_usage_secret_rotate(center=capacity.gpu_type.center, actor=None)


def post_report(client, grant, secret, *, report_id="r-1", used="120.5", tamper=False):
    body = json.dumps(
        {
            "report_id": report_id,
            "grant_id": grant.pk,
            "period_start": "2026-12-01",
            "period_end": "2026-12-07",
            "gpu_hours_used": used,
        }
    )
    headers = sign_headers(msg_id=f"usage_{report_id}", body=body, secrets=[secret])
    if tamper:
        body = body.replace(used, "1")
    return client.post(
        f"/api/centers/{grant.center.code}/usage-reports/",
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )


def test_signed_report_is_stored_and_shown_as_used(client, accepted, usage_secret):
    response = post_report(client, accepted, usage_secret)
    assert response.status_code == 201
    assert response.json()["gpu_hours_used"] == "120.50"
    summary = grant_usage_summary(grant=accepted)
    assert summary["used"] == Decimal("120.5")
    assert summary["released"] == Decimal("400")
    accepted.refresh_from_db()
    assert accepted.last_usage_at is not None


def test_same_report_id_again_changes_nothing(client, accepted, usage_secret):
    assert post_report(client, accepted, usage_secret).status_code == 201
    again = post_report(client, accepted, usage_secret, used="999")
    assert again.status_code == 200
    assert again.json()["gpu_hours_used"] == "120.50"
    assert UsageReport.objects.count() == 1


@pytest.mark.parametrize("case", ["tampered", "wrong_secret", "unsigned"])
def test_bad_signature_is_401_and_stores_nothing(client, accepted, usage_secret, case):
    if case == "tampered":
        response = post_report(client, accepted, usage_secret, tamper=True)
    elif case == "wrong_secret":
        response = post_report(client, accepted, generate_secret())
    else:
        response = client.post(
            f"/api/centers/{accepted.center.code}/usage-reports/",
            data={"report_id": "x"},
            content_type="application/json",
        )
    assert response.status_code == 401
    assert UsageReport.objects.count() == 0


def test_previous_secret_works_during_the_overlap(client, accepted, usage_secret, capacity):
    center_usage_secret_rotate(center=capacity.gpu_type.center, actor=None)
    assert post_report(client, accepted, usage_secret).status_code == 201


def test_grant_of_another_center_is_refused(client, accepted, usage_secret):
    from tests.factories import CenterFactory

    other = CenterFactory(code="qingyang", name_en="Qingyang")
    other.usage_secret = usage_secret
    other.save()
    body = json.dumps(
        {
            "report_id": "r-9",
            "grant_id": accepted.pk,
            "period_start": "2026-12-01",
            "period_end": "2026-12-07",
            "gpu_hours_used": "1",
        }
    )
    headers = sign_headers(msg_id="u", body=body, secrets=[usage_secret])
    response = client.post(
        "/api/centers/qingyang/usage-reports/",
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )
    assert response.status_code == 404
    assert UsageReport.objects.count() == 0


def test_grant_without_usage_for_the_configured_days_is_flagged_idle(
    client, accepted, usage_secret, settings
):
    from datetime import timedelta

    from django.utils import timezone

    settings.GRANTS_IDLE_DAYS = 10
    type(accepted).objects.filter(pk=accepted.pk).update(
        accepted_at=timezone.now() - timedelta(days=11)
    )
    assert list(grants_idle()) == [accepted]
    post_report(client, accepted, usage_secret)
    assert list(grants_idle()) == []
