"""Demo draws, fully offline: Guiyang's closed round gets a completed draw (declared public
value), the open rounds get announced draws. Idempotent: a second run changes nothing."""

from __future__ import annotations

from django.utils import timezone

from applications.models import Application, Round
from lottery import services
from lottery.models import Draw

DECLARED_DESCRIPTION = (
    "Demo: the China Welfare Lottery 3D draw on the evening after entries closed "
    "(福彩3D开奖号码, demo value)"
)
DECLARED_VALUE = "3D demo: 7 4 1"


def load_demo(stdout) -> None:
    now = timezone.now()
    made = []
    for round in Round.objects.filter(opens_at__lte=now).order_by("code"):
        closed = round.closes_at <= now
        if hasattr(round, "draw"):
            draw = round.draw
        else:
            draw = services.draw_announce(
                round=round,
                beacon_source=Draw.BeaconSource.DECLARED if closed else Draw.BeaconSource.DRAND,
                beacon_description=DECLARED_DESCRIPTION if closed else "",
                now=round.opens_at,
            )
        if not closed or draw.is_completed:
            continue
        if round.review_deadline is None and draw.state == Draw.State.ANNOUNCED:
            pending = Application.objects.filter(
                round=round, status=Application.Status.NEEDS_REVIEW
            ).exists()
            if pending:
                # The demo shows the deadline rule: cases still under review are left out.
                round.review_deadline = round.closes_at
                round.save(update_fields=["review_deadline"])
        services.draw_freeze(draw=draw, now=now)
        # The task the freeze enqueued may wait for a worker: the demo's dashboard shows the
        # fairness test at once.
        services.draw_entrant_days_count(draw=draw)
        draw.refresh_from_db()
        if not draw.beacon_value and draw.beacon_source == Draw.BeaconSource.DECLARED:
            services.draw_declared_value_enter(draw=draw, value=DECLARED_VALUE, actor=None, now=now)
        services.draw_execute(draw=draw, now=now)
        made.append(draw.draw_id)
    stdout.write(
        f"draws: {Draw.objects.count()} ({Draw.objects.filter(state='completed').count()} "
        f"completed{', new: ' + ', '.join(made) if made else ''})"
    )
