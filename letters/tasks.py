from celery import shared_task
from django.db import OperationalError

from letters import services


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
    acks_late=True,
)
def letter_render_task(grant_id: int, version: int) -> None:
    """Render one letter version. Safe to run twice: the service renders each version once."""
    services.letter_render(grant_id=grant_id, version=version)
