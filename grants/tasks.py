"""Celery tasks of the grants app: each calls one service; retry times live in the database."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def webhooks_deliver_event_task(event_id: int) -> int:
    """On-commit nudge: send this event's due deliveries now instead of at the next sweep."""
    return services.deliveries_nudge(event_id=event_id)


@shared_task(ignore_result=True)
def webhooks_sweep_task() -> int:
    """Periodic sweep: everything due (retries, nudges lost with a broker outage)."""
    return services.deliveries_sweep()


@shared_task(ignore_result=True)
def grants_lifecycle_task() -> dict[str, int]:
    """Expire unanswered offers, activate and complete grants by their dates."""
    return services.grants_lifecycle_sweep()
