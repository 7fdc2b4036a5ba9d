"""Fixtures for the lottery's Django tests: rounds with entrants, and a drand server."""

from __future__ import annotations

import datetime as dt

import pytest

from applications.models import Application, Stratum
from tests.factories import ApplicationFactory, RoundFactory
from tests.lottery.drand_server import ROUND_123, drand_server

# Entries close just before the spec's real quicknet round 123 (2023-08-23T15:16:33Z).
CLOSE_BEFORE_ROUND_123 = dt.datetime(2023, 8, 23, 15, 0, tzinfo=dt.UTC)


def make_round(*, closes_at=None, winners=3, strata=(), review_deadline=None, **fields):
    closes_at = closes_at or CLOSE_BEFORE_ROUND_123
    round_ = RoundFactory(
        opens_at=closes_at - dt.timedelta(days=30),
        closes_at=closes_at,
        winners=winners,
        review_deadline=review_deadline,
        **fields,
    )
    for position, (code, reserved, cap) in enumerate(strata):
        Stratum.objects.create(
            round=round_,
            code=code,
            name_zh=code,
            name_en=code,
            reserved=reserved,
            cap=cap,
            position=position,
        )
    return round_


def results_of(draw) -> list:
    """Every entrant's result in rank order, as pages read it (a kept entry or the published
    ranking line): the draw keeps entries only for winners and changed results."""
    from lottery import selectors

    return selectors.ranked_entries(draw=draw, first=1, last=draw.entrants_count)


def add_entrants(round_, count, *, stratum_of=lambda i: "", status=Application.Status.ELIGIBLE):
    return [
        ApplicationFactory(
            round=round_,
            stratum=stratum_of(i),
            status=status,
            submitted_at=round_.opens_at + dt.timedelta(hours=i + 1),
            language="en" if i % 2 else "zh-hans",
        )
        for i in range(count)
    ]


@pytest.fixture
def drand(settings):
    """A real local HTTP server serving the spec's quicknet round 123; the portal's beacon
    base URL points at it."""
    with drand_server({123: ROUND_123}) as (base, log):
        settings.LOTTERY_DRAND_BASE_URL = base
        settings.LOTTERY_BEACON_RETRY_SECONDS = 0.01
        yield log


@pytest.fixture
def completed(settings):
    """A completed draw of 12 entrants for 3 winners, one in four in a group with one reserved
    seat, its results shown 5 to a page."""
    from tests.lottery.flow import completed_declared_draw

    settings.LOTTERY_RESULTS_PAGE_SIZE = 5
    round_ = make_round(winners=3, strata=[("first-time", 1, None)])
    add_entrants(round_, 12, stratum_of=lambda i: "first-time" if i % 4 == 0 else "")
    return completed_declared_draw(round_)
