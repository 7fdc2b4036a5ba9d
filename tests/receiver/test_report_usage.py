"""A center reports usage with the reference tool over real HTTP to a live portal."""

from __future__ import annotations

import pytest

from centers.services import center_usage_secret_rotate
from grants.models import UsageReport
from grants.services import grant_accept
from grants.webhook_signing import generate_secret
from receiver.report_usage import send, signed_request
from tests.grants.factories import CenterCapacityFactory, offered_grant


@pytest.mark.django_db(transaction=True)
def test_center_tool_reports_usage_once_and_bad_secrets_are_refused(live_server):
    grant = offered_grant(capacity=CenterCapacityFactory(), amount="1000")
    grant_accept(grant=grant)
    secret = center_usage_secret_rotate(center=grant.center, actor=None)
    report = {
        "report_id": "wk-49",
        "grant_id": grant.pk,
        "period_start": "2026-11-30",
        "period_end": "2026-12-06",
        "gpu_hours_used": "88.25",
    }

    def post(with_secret):
        request = signed_request(
            portal=live_server.url, center=grant.center.code, secret=with_secret, report=report
        )
        return send(request)

    assert post(generate_secret())[0] == 401
    assert UsageReport.objects.count() == 0
    status, answer = post(secret)
    assert status == 201 and answer["gpu_hours_used"] == "88.25"
    assert post(secret)[0] == 200
    assert UsageReport.objects.get().used == 88.25
