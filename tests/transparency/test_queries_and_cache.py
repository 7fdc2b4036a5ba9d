"""Figures take a fixed number of queries whatever the volume, and stay cached until a grant,
draw or milestone changes."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ApplicationFactory, RoundFactory
from transparency.selectors import figures_cached, figures_compute
from transparency.services import figures_invalidate

from .factories import capacity_for, grant_made

# A fixed budget: about nine grouped queries per breakdown, none per row.
MAX_QUERIES = 48


def _queries(function) -> int:
    with CaptureQueriesContext(connection) as context:
        function()
    return len(context.captured_queries)


def test_query_count_does_not_grow_with_the_number_of_grants(
    scenario, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with django_assert_max_num_queries(MAX_QUERIES):
        figures_compute()
    few = _queries(figures_compute)

    other_round = RoundFactory(code="wuhan-2026-2")
    capacity = capacity_for(other_round, center_code="qingyang-dc")
    with django_capture_on_commit_callbacks(execute=False):
        for index in range(8):
            grant_made(
                capacity=capacity,
                amount="500",
                verify=("paper",) if index % 2 else (),
                used="50",
                employees=3 + index * 5,
                registration_city=["wuhan", "guiyang", "chengdu"][index % 3],
            )
        for _ in range(10):
            ApplicationFactory(round=other_round)
    many = _queries(figures_compute)
    assert many == few
    assert figures_compute()["scopes"]["all"]["funnel"]["granted"] == 10


def test_register_page_query_count_does_not_grow_with_the_page(
    client, scenario, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    few = _queries(lambda: client.get("/en/transparency/grants/"))
    capacity = capacity_for(scenario["round"])
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(6):
            grant_made(capacity=capacity, amount="300", verify=("open_weights",), used="10")
    many = _queries(lambda: client.get("/en/transparency/grants/"))
    assert many == few
    with django_assert_max_num_queries(12):
        client.get("/en/transparency/grants.json?page=1")


def test_figures_are_cached_until_a_grant_changes(
    client, scenario, django_capture_on_commit_callbacks
):
    first = figures_cached()
    assert _queries(figures_cached) == 0
    assert _queries(lambda: client.get("/en/transparency/")) == 0
    # A grant offered through the service moves the figures, and the next read sees it.
    capacity = capacity_for(scenario["round"])
    with django_capture_on_commit_callbacks(execute=True):
        grant_made(capacity=capacity, amount="700", accept=False)
    second = figures_cached()
    assert second["scopes"]["all"]["funnel"]["granted"] == (
        first["scopes"]["all"]["funnel"]["granted"] + 1
    )
    assert second["scopes"]["all"]["compute"]["gpu_hours"]["allocated"] == 3700


def test_a_milestone_change_and_the_explicit_call_both_invalidate(scenario):
    figures_cached()
    assert _queries(figures_cached) == 0
    milestone = scenario["grants"][1].milestones.first()
    milestone.save(update_fields=["updated_at"])
    assert _queries(figures_cached) > 0
    assert _queries(figures_cached) == 0
    figures_invalidate()
    assert _queries(figures_cached) > 0


def test_while_one_reader_recomputes_the_others_get_the_previous_figures(scenario):
    from django.core.cache import cache

    from transparency.selectors import REFRESH_LOCK_KEY

    before = figures_cached()
    figures_invalidate()
    # Another process holds the refresh lock: this reader does not recompute too.
    cache.add(REFRESH_LOCK_KEY, 1, timeout=60)
    assert _queries(figures_cached) == 0  # the previous figures, no recomputation
    assert figures_cached() == before
    cache.delete(REFRESH_LOCK_KEY)
    assert _queries(figures_cached) > 0


def test_figures_are_recomputed_after_the_cache_time_even_without_a_change(scenario, settings):
    figures_cached()
    settings.TRANSPARENCY_CACHE_SECONDS = 0
    assert _queries(figures_cached) > 0


def test_the_periodic_refresh_computes_ahead_of_readers(scenario, settings):
    from transparency.tasks import figures_refresh_task

    assert "transparency-figures-refresh" in settings.CELERY_BEAT_SCHEDULE
    figures_invalidate()
    figures_refresh_task.delay()
    assert _queries(figures_cached) == 0
