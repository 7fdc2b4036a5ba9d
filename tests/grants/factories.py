"""Factories and builders for grants tests: centers with capacity, endpoints, grants."""

from __future__ import annotations

from decimal import Decimal

import factory

from centers.models import CenterCapacity, WebhookEndpoint
from grants.webhook_signing import generate_secret
from tests.factories import ApplicationFactory, CommitmentFactory, GpuTypeFactory, RoundFactory


class CenterCapacityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CenterCapacity

    gpu_type = factory.SubFactory(GpuTypeFactory)
    round = factory.SubFactory(RoundFactory)
    capacity = Decimal("10000")


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    center = factory.LazyAttribute(lambda o: GpuTypeFactory().center)
    url = "http://127.0.0.1:9/"
    secret = factory.LazyFunction(generate_secret)


def offered_grant(*, capacity=None, amount="1000", commitments=2, actor=None, **application):
    """A grant offered through the real service (ledger, tranches, outbox and all)."""
    from grants.services import grant_allocate

    capacity = capacity or CenterCapacityFactory()
    app = ApplicationFactory(round=capacity.round, **application)
    for kind in ["open_weights", "paper", "open_code", "product_launch"][:commitments]:
        CommitmentFactory(application=app, kind=kind)
    return grant_allocate(application=app, capacity=capacity, amount=Decimal(amount), actor=actor)
