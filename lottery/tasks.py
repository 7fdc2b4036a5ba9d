"""Celery tasks of the draw: each takes an id, calls one service and holds only retry policy.

All are idempotent (the services lock the draw row and check its state), so a retried task,
a second worker or the beat enqueuing the same step twice changes nothing the second time.
"""

from celery import shared_task

from lottery import services
from lottery.beacon import BeaconNotAvailableError
from lottery.models import Draw


@shared_task(ignore_result=True)
def draws_advance_task() -> dict[str, int]:
    """Beat: announce new draws and enqueue the freeze / beacon / execute steps now due."""
    return services.draws_advance()


@shared_task(ignore_result=True)
def draw_freeze_task(draw_pk: int) -> bool:
    return services.draw_freeze(draw=Draw.objects.get(pk=draw_pk))


@shared_task(
    ignore_result=True,
    autoretry_for=(BeaconNotAvailableError,),
    retry_backoff=10,
    retry_backoff_max=300,
    max_retries=30,
)
def draw_beacon_task(draw_pk: int) -> bool:
    """Fetch the drand round; retried while it is unavailable (the beat also re-enqueues it).
    A round failing verification is not retried: staff are alerted by the service."""
    return services.draw_beacon_fetch(draw=Draw.objects.get(pk=draw_pk))


@shared_task(ignore_result=True)
def draw_execute_task(draw_pk: int) -> str:
    return services.draw_execute(draw=Draw.objects.get(pk=draw_pk)).state


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
