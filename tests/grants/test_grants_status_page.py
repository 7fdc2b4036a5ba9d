"""The founder answers the offer on the private status page (POST, with the terms shown)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from applications.services import status_token_make
from grants.models import Grant
from tests.grants.factories import offered_grant

pytestmark = pytest.mark.django_db


def status_url(application, language="en"):
    with translation.override(language):
        return reverse("applications:status", kwargs={"token": status_token_make(application)})


def respond_url(application, language="en"):
    with translation.override(language):
        return reverse("grants:offer_respond", kwargs={"token": status_token_make(application)})


def test_status_page_shows_the_offer_with_terms_and_a_post_form(client, capacity):
    grant = offered_grant(capacity=capacity, amount="1000", commitments=2)
    page = client.get(status_url(grant.application)).content.decode()
    assert "Your compute grant" in page
    assert "Terms of the grant" in page
    assert 'method="post"' in page
    assert "Accept the grant" in page and "Decline the offer" in page
    assert "400" in page  # the acceptance tranche is shown


def test_status_page_in_chinese(client, capacity):
    grant = offered_grant(capacity=capacity)
    response = client.get(status_url(grant.application, "zh-hans"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "您的算力资助" in page
    assert "接受资助" in page and "资助条款" in page


def test_accepting_needs_the_terms_confirmed(client, capacity):
    grant = offered_grant(capacity=capacity)
    response = client.post(respond_url(grant.application), {"decision": "accept"}, follow=True)
    assert "Confirm that you have read the terms" in response.content.decode()
    grant.refresh_from_db()
    assert grant.status == "offered"


def test_accepting_from_the_status_page_releases_the_first_tranche(client, capacity):
    grant = offered_grant(capacity=capacity, amount="1000")
    response = client.post(
        respond_url(grant.application), {"decision": "accept", "confirm_terms": "on"}
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.status == "active"
    assert grant.tranches.get(number=1).state == "released"
    page = client.get(response["Location"]).content.decode()
    assert "Used / released" in page
    assert "Accept the grant" not in page


def test_declining_from_the_status_page(client, capacity):
    grant = offered_grant(capacity=capacity)
    client.post(respond_url(grant.application), {"decision": "decline"})
    grant.refresh_from_db()
    assert grant.status == Grant.Status.DECLINED


def test_get_does_not_change_anything_and_bad_tokens_are_refused(client, capacity):
    grant = offered_grant(capacity=capacity)
    assert client.get(respond_url(grant.application)).status_code == 405
    bad = reverse("grants:offer_respond", kwargs={"token": "nope"})
    assert client.post(bad, {"decision": "decline"}).status_code == 404
    grant.refresh_from_db()
    assert grant.status == "offered"
