"""Letters follow the grant through the grants services: accept issues one, revoke another."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from grants.services import grant_accept, grant_revoke
from letters.models import GrantLetter
from tests.grants.factories import offered_grant
from tests.letters.pdftools import pdftotext, squeeze

pytestmark = pytest.mark.django_db


def test_accept_then_revoke_issues_two_letters_and_the_first_shows_revoked(
    settings, tmp_path, client, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    grant = offered_grant(amount="3000", company_legal_name="上海灵犀智能科技有限公司")
    assert not GrantLetter.objects.exists()  # an offer has no letter yet

    with django_capture_on_commit_callbacks(execute=True):
        grant_accept(grant=grant)
    accepted = GrantLetter.objects.get(grant=grant)
    assert accepted.state == GrantLetter.State.CURRENT
    assert accepted.version == grant.version
    with accepted.file.open("rb") as stored:
        text = squeeze(pdftotext(stored.read()))
    assert "上海灵犀智能科技有限公司" in text
    assert "3,000" in text
    assert "已发放" in text  # the acceptance tranche is released on the letter

    with django_capture_on_commit_callbacks(execute=True):
        grant_revoke(grant=grant, actor=None, reason="founder asked to withdraw")
    grant.refresh_from_db()
    revocation = GrantLetter.objects.get(grant=grant, version=grant.version)
    accepted.refresh_from_db()
    assert revocation.kind == GrantLetter.Kind.REVOCATION
    assert accepted.state == GrantLetter.State.REVOKED

    with translation.override("en"):
        url = reverse("letters:verify")
    page = client.get(url, {"code": accepted.verification_code}).content.decode()
    assert 'data-state="revoked"' in page
    assert revocation.sha256 in page
