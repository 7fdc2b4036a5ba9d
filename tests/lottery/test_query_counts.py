"""The public draw pages take the same number of queries for 5 entrants or 50: the results
table and the list of draws never query per row."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.lottery.conftest import add_entrants, make_round, results_of
from tests.lottery.flow import completed_declared_draw

pytestmark = pytest.mark.django_db

# Measured when these tests were written (SQLite, default lane).
DRAW_PAGE = 4  # the draw, its timeline, the ranking blocks of the page, the kept entries in them
DRAW_LIST = 2
# "Find my reference" once its page is kept in the process (core.page_frames): the draw with its
# round, program, timeline and the entry asked for, in one query.
FIND_FOUND = 1


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def completed(entrants: int, code: str):
    round_ = make_round(
        code=code, closes_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), winners=min(3, entrants)
    )
    add_entrants(round_, entrants)
    return completed_declared_draw(round_)


def test_the_draw_page_takes_the_same_queries_for_5_or_50_entrants(
    client, django_assert_max_num_queries
):
    small = completed(5, "draw-five")
    large = completed(50, "draw-fifty")
    for language in ("en", "zh-hans"):
        few = queries(client, f"/{language}/draws/{small.draw_id}/")
        many = queries(client, f"/{language}/draws/{large.draw_id}/")
        assert many == few
    with django_assert_max_num_queries(DRAW_PAGE):
        client.get(f"/en/draws/{large.draw_id}/")


def test_finding_a_reference_on_the_draw_page_takes_the_same_queries(client):
    small = completed(5, "draw-five")
    large = completed(50, "draw-fifty")
    for found in (True, False):
        # Found, the page answers with the entry alone; not found, it shows the results.
        small_ref, large_ref = (
            (results_of(draw)[-1].reference for draw in (small, large))
            if found
            else ("NOPE-1", "NOPE-1")
        )
        few = queries(client, f"/en/draws/{small.draw_id}/?ref={small_ref}")
        many = queries(client, f"/en/draws/{large.draw_id}/?ref={large_ref}")
        assert many == few


def test_the_list_of_draws_does_not_query_per_draw(client, django_assert_max_num_queries):
    completed(5, "draw-one")
    one = queries(client, "/en/draws/")
    for number in range(4):
        completed(5, f"draw-more-{number}")
    assert queries(client, "/en/draws/") == one
    with django_assert_max_num_queries(DRAW_LIST):
        client.get("/en/draws/")


def test_a_found_reference_takes_one_query_once_the_page_is_kept(client, django_assert_num_queries):
    draw = completed(50, "draw-fifty")
    references = [entry.reference for entry in results_of(draw)]
    # The page is kept per kind of answer: a winner's and a waitlisted entrant's.
    client.get(f"/en/draws/{draw.draw_id}/?ref={references[0]}")
    client.get(f"/en/draws/{draw.draw_id}/?ref={references[-1]}")
    for reference in (references[1], references[-2]):
        with django_assert_num_queries(FIND_FOUND):
            response = client.get(f"/en/draws/{draw.draw_id}/?ref={reference}")
        assert reference in response.content.decode()
