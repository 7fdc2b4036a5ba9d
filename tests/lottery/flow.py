"""Drive a draw through its lifecycle with the real services (used by several test modules)."""

from __future__ import annotations

import datetime as dt

from lottery import services
from lottery.models import Draw

AFTER_CLOSE = dt.timedelta(hours=1)


def completed_declared_draw(round_, value="public value 42") -> Draw:
    draw = services.draw_announce(
        round=round_,
        beacon_source="declared",
        beacon_description="A public event",
        now=round_.opens_at,
    )
    now = round_.closes_at + AFTER_CLOSE
    assert services.draw_freeze(draw=draw, now=now)
    services.draw_declared_value_enter(draw=draw, value=value, actor=None, now=now)
    return services.draw_execute(draw=draw, now=now)
