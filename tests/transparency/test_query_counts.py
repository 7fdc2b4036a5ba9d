"""The transparency dashboard page, cold (figures recomputed) and warm (from the cache), takes
the same number of queries however many grants there are."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import RoundFactory

from .factories import capacity_for, grant_made

pytestmark = pytest.mark.django_db

# Measured when these tests were written (SQLite, default lane).
DASHBOARD_COLD = 45  # the completed draws, then their winners per stratum and per day
DASHBOARD_WARM = 0  # straight from the cache


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_dashboard_does_not_grow_with_grants(
    client, scenario, django_capture_on_commit_callbacks, django_assert_max_num_queries, language
):
    url = f"/{language}/transparency/"
    cache.clear()
    cold_few = queries(client, url)
    warm_few = queries(client, url)

    capacity = capacity_for(RoundFactory(code="wuhan-2026-more"), center_code="qingyang-dc")
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(8):
            grant_made(capacity=capacity, amount="400", verify=("open_weights",), used="20")
    cache.clear()
    assert queries(client, url) == cold_few
    assert queries(client, url) == warm_few
    cache.clear()
    with django_assert_max_num_queries(DASHBOARD_COLD):
        client.get(url)
    with django_assert_max_num_queries(DASHBOARD_WARM):
        client.get(url)
