from celery import shared_task

from .services import figures_refresh


@shared_task(ignore_result=True, expires=600)
def figures_refresh_task() -> None:
    """Keep the public figures computed ahead of readers (idempotent: it only recomputes)."""
    figures_refresh()
