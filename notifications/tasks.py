from celery import shared_task

from .services import notification_deliver, notifications_requeue_stale


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=3600, max_retries=8)
def notification_deliver_task(notification_id: int) -> None:
    notification_deliver(notification_id=notification_id)


@shared_task
def notifications_requeue_stale_task() -> int:
    return notifications_requeue_stale()
