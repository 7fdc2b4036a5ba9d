"""Queries per request on the founder's pages stay fixed whatever the number of rounds,
centers, commitments, grants and milestones, so an N+1 cannot slip in unnoticed."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications.services import status_token_make
from tests.factories import CenterFactory, CommitmentFactory, RoundFactory

from .conftest import answers

pytestmark = pytest.mark.django_db

# The counts measured when these tests were written (SQLite, default lane): one more query fails
# the test, and a query per row would also break the "same count for few and many" checks.
# The rounds and centers the form offers (with the rounds' strata) are read once per process for
# a moment (applications.selectors.offer_read): three queries on the first request, none after;
# they were two on each form POST, check page and submission, and the strata one more.
OFFER_READ = 3
# The blank form is rendered once per process for what it shows and served again after that.
FORM_GET = OFFER_READ
FORM_GET_STORED = 0
# The answers wait in a signed cookie between the form and the check page (was the session: its
# row read, written and committed on each page, 4 queries more on each POST); submitting no
# longer looks for an earlier application first (the unique constraint refuses it). What is left
# of continuing from the form is looking for the company's application in the round.
FORM_POST = 1
CHECK_GET = 0
CHECK_POST = 9
STATUS_GET = 11


def queries(request) -> int:
    with CaptureQueriesContext(connection) as context:
        response = request()
    assert response.status_code < 400, response.status_code
    return len(context.captured_queries)


def more_rounds_and_centers(count: int) -> None:
    for number in range(count):
        RoundFactory(code=f"extra-round-{number}")
        CenterFactory(code=f"extra-center-{number}", name_en=f"Extra {number}")


def test_the_form_page_takes_the_same_queries_for_one_round_or_many(
    client, open_round, django_assert_max_num_queries
):
    with django_assert_max_num_queries(FORM_GET):
        client.get("/en/apply/")
    few = queries(lambda: client.get("/en/apply/"))
    assert few <= FORM_GET_STORED
    more_rounds_and_centers(6)
    with django_assert_max_num_queries(FORM_GET):
        client.get("/en/apply/")
    assert queries(lambda: client.get("/en/apply/")) == few


def test_continuing_from_the_form_takes_a_fixed_number_of_queries(
    client, open_round, django_assert_max_num_queries
):
    with django_assert_max_num_queries(OFFER_READ + FORM_POST):
        response = client.post("/en/apply/", answers())
    assert response.status_code == 302
    few = queries(lambda: client.post("/en/apply/", answers()))
    assert few <= FORM_POST
    more_rounds_and_centers(6)
    with django_assert_max_num_queries(OFFER_READ + FORM_POST):
        client.post("/en/apply/", answers())
    assert queries(lambda: client.post("/en/apply/", answers())) == few


def test_the_check_page_takes_no_query(client, open_round):
    client.post("/en/apply/", answers())
    assert queries(lambda: client.get("/en/apply/check/")) <= CHECK_GET


def test_submitting_takes_a_fixed_number_of_queries(
    client, open_round, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    client.post("/en/apply/", answers())
    with (
        django_capture_on_commit_callbacks(execute=False),
        django_assert_max_num_queries(CHECK_POST),
    ):
        response = client.post("/en/apply/check/")
    assert response.status_code == 302


def test_the_status_page_does_not_grow_with_commitments_or_milestones(
    client, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    from tests.milestones.factories import accepted_grant

    with django_capture_on_commit_callbacks(execute=False):
        small = accepted_grant(kinds=("open_code",)).application
        large = accepted_grant(kinds=("open_code", "open_weights", "paper", "product_launch"))
    large = large.application
    for application in (small, large):
        application.refresh_from_db()
    few = queries(lambda: client.get(f"/en/status/{status_token_make(small)}/"))
    many = queries(lambda: client.get(f"/en/status/{status_token_make(large)}/"))
    assert many == few
    with django_assert_max_num_queries(STATUS_GET):
        client.get(f"/en/status/{status_token_make(large)}/")


def test_the_status_page_of_an_application_without_a_grant(
    client, open_round, django_assert_max_num_queries
):
    from tests.factories import ApplicationFactory

    application = ApplicationFactory(round=open_round)
    one = queries(lambda: client.get(f"/en/status/{status_token_make(application)}/"))
    for kind, days in (("paper", 200), ("open_code", 300), ("product_launch", 400)):
        CommitmentFactory(
            application=application,
            kind=kind,
            target_date=timezone.localdate() + dt.timedelta(days=days),
        )
    assert queries(lambda: client.get(f"/en/status/{status_token_make(application)}/")) == one
    with django_assert_max_num_queries(STATUS_GET):
        client.get(f"/en/status/{status_token_make(application)}/")
