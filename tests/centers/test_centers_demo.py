"""The demo wires every center's billing to the local reference receiver, idempotently."""

from __future__ import annotations

import io

import pytest
from django.conf import settings

from centers import demo
from centers.models import Center, WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_demo_centers_post_to_the_reference_receiver_and_rerun_adds_nothing():
    demo.load_demo(io.StringIO())
    demo.load_demo(io.StringIO())
    assert Center.objects.count() == 3
    endpoints = WebhookEndpoint.objects.all()
    assert endpoints.count() == 3
    assert {e.url for e in endpoints} == {settings.RECEIVER_URL}
    assert {e.secret for e in endpoints} == {settings.DEMO_RECEIVER_SECRET}
    assert all(c.usage_secret.startswith("whsec_") for c in Center.objects.all())
    assert Center.objects.get(code="qingyang-dc").gpu_types.filter(unit="tokens").exists()
