"""Celery tasks of the milestones app: each takes ids, calls one service, holds retry policy.

Retry times of the evidence checks live in the database (``Milestone.next_check_at``, swept
every five minutes by beat); the Celery-level retries below only cover infrastructure
failures (database locked, worker lost) and are safe because every service is idempotent.
"""

from celery import shared_task
from django.db import DatabaseError

from . import services


@shared_task(
    ignore_result=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=5,
)
def milestone_check(milestone_id: int, attempts: int | None = None) -> str:
    """Check a submitted milestone's evidence and apply the verdict (at most once per revision
    and attempt: ``attempts`` is the slot it was queued for; None from older queued tasks)."""
    outcome = services.milestone_check_run(milestone_id=milestone_id, attempts=attempts)
    return outcome.check.outcome if outcome.check is not None else "nothing_to_check"


@shared_task(ignore_result=True)
def milestones_check_due() -> int:
    """Beat: queue the checks whose time has come (first checks missed, backed-off retries)."""
    return len(services.milestones_check_due())


@shared_task(ignore_result=True, autoretry_for=(DatabaseError,), retry_backoff=60, max_retries=3)
def milestones_remind() -> int:
    """Beat: remind founders of milestones due soon (each reminder once)."""
    return services.milestones_remind()


@shared_task(ignore_result=True, autoretry_for=(DatabaseError,), retry_backoff=60, max_retries=3)
def milestones_mark_overdue() -> int:
    """Beat: milestones past date plus grace without evidence become overdue."""
    return len(services.milestones_mark_overdue())
