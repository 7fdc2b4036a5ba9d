"""Data the journeys share, built through the services as in production."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from lottery import services as lottery_services
from lottery.models import Draw
from tests.factories import ApplicationFactory, CenterFactory, RoundFactory

ROUND_TITLE = {"zh-hans": "武汉2026年第一轮", "en": "Wuhan 2026 round one"}


def completed_draw(*, entrants: int = 5, winners: int = 2) -> Draw:
    """A closed round of eligible applications drawn through the services (announce, freeze,
    declared value; the eager worker executes the draw)."""
    now = timezone.now()
    CenterFactory()
    draw_round = RoundFactory(
        code="wuhan-2026-r1",
        title_zh=ROUND_TITLE["zh-hans"],
        title_en=ROUND_TITLE["en"],
        opens_at=now - dt.timedelta(days=30),
        closes_at=now - dt.timedelta(days=1),
        winners=winners,
    )
    for _ in range(entrants):
        ApplicationFactory(round=draw_round)
    draw = lottery_services.draw_announce(
        round=draw_round,
        beacon_source=Draw.BeaconSource.DECLARED,
        beacon_description="SSE Composite Index close on the first trading day after entries close",
        now=now - dt.timedelta(days=29),
    )
    assert lottery_services.draw_freeze(draw=draw)
    lottery_services.draw_declared_value_enter(draw=draw, value="3412.56", actor=None)
    draw.refresh_from_db()
    assert draw.state == Draw.State.COMPLETED
    return draw
