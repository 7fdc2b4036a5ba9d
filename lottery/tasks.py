"""Celery tasks of the draw: each takes an id, calls one service and holds only retry policy.

All are idempotent (the services lock the draw row and check its state), so a retried task,
a second worker or the beat enqueuing the same step twice changes nothing the second time.
"""

import logging

from celery import shared_task

from lottery import services
from lottery.beacon import BeaconNotAvailableError
from lottery.models import Draw

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def draws_advance_task() -> dict[str, int]:
    """Beat: announce new draws and enqueue the freeze / beacon / execute steps now due."""
    return services.draws_advance()


@shared_task(ignore_result=True)
def draw_freeze_task(draw_pk: int) -> bool:
    return services.draw_freeze(draw=Draw.objects.get(pk=draw_pk))


@shared_task(ignore_result=True)
def draw_beacon_task(draw_pk: int) -> bool:
    """Fetch the drand round. While it is unavailable the beat enqueues this again every
    minute (no Celery retries piling up); a round failing verification alerts staff once and
    is not fetched again until staff retry it from the admin."""
    try:
        return services.draw_beacon_fetch(draw=Draw.objects.get(pk=draw_pk))
    except BeaconNotAvailableError as error:
        logger.warning("draw %s: beacon not available yet: %s", draw_pk, error)
        return False


@shared_task(ignore_result=True)
def draw_execute_task(draw_pk: int) -> str:
    return services.draw_execute(draw=Draw.objects.get(pk=draw_pk)).state


@shared_task(ignore_result=True)
def draw_entrant_days_count_task(draw_pk: int) -> bool:
    return services.draw_entrant_days_count(draw=Draw.objects.get(pk=draw_pk))


@shared_task(ignore_result=True)
def draw_entrants_notify_task(draw_pk: int, start: int = 0) -> int | None:
    """Send the digest e-mails one batch at a time, re-enqueuing itself for the next batch."""
    following = services.draw_entrants_notify(draw=Draw.objects.get(pk=draw_pk), start=start)
    if following is not None:
        draw_entrants_notify_task.delay(draw_pk, following)
    return following


@shared_task(ignore_result=True)
def draw_results_notify_task(draw_pk: int, after_rank: int = 0) -> int | None:
    last = services.draw_results_notify(draw=Draw.objects.get(pk=draw_pk), after_rank=after_rank)
    if last is not None:
        draw_results_notify_task.delay(draw_pk, last)
    return last
