from celery import shared_task

from .services import notification_deliver


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=3600, max_retries=8)
def notification_deliver_task(notification_id: int) -> None:
    notification_deliver(notification_id=notification_id)
