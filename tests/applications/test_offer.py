"""The rounds and centers the form offers are read once per process for a moment
(applications.selectors.offer_read): what may be kept, and what is read again."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications.models import Application, Stratum
from applications.selectors import offer_load
from tests.factories import RoundFactory

from .conftest import answers

pytestmark = pytest.mark.django_db


def stratum(round_, code: str, cities: list[str]) -> Stratum:
    return Stratum.objects.create(
        round=round_, code=code, name_zh=code, name_en=code, match_cities=cities
    )


def test_only_the_strata_of_rounds_already_open_are_kept(open_round):
    """Staff may change the strata of a round until it opens: a round that opens while the offer
    is kept has its strata read at submission, not taken from before it opened."""
    upcoming = RoundFactory(opens_at=timezone.now() + dt.timedelta(seconds=30))
    stratum(open_round, "wuhan", ["wuhan"])
    stratum(upcoming, "wuhan", ["wuhan"])
    kept = {item.code: item for item in offer_load().rounds}
    with CaptureQueriesContext(connection) as open_strata:
        assert [item.code for item in kept[open_round.code].strata.all()] == ["wuhan"]
    assert len(open_strata.captured_queries) == 0
    with CaptureQueriesContext(connection) as upcoming_strata:
        assert [item.code for item in kept[upcoming.code].strata.all()] == ["wuhan"]
    assert len(upcoming_strata.captured_queries) == 1


def test_a_closed_round_is_not_offered_and_a_submission_goes_to_the_stratum_it_matches(
    client, open_round
):
    RoundFactory(
        code="closed-round",
        opens_at=timezone.now() - dt.timedelta(days=3),
        closes_at=timezone.now() - dt.timedelta(days=1),
    )
    assert "closed-round" not in [item.code for item in offer_load().rounds]
    stratum(open_round, "from-wuhan", ["wuhan"])
    assert client.post("/en/apply/", answers(registration_city="wuhan")).status_code == 302
    assert client.post("/en/apply/check/").status_code == 302
    assert Application.objects.get().stratum == "from-wuhan"
