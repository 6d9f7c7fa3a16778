from celery import shared_task

from . import services


@shared_task(
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
    autoretry_for=(Exception,),
    max_retries=3,
    retry_backoff=True,
)
def expire_sanctions() -> int:
    """Daily: warnings and yellow cards end by themselves (safe to run twice)."""
    return services.sanctions_expire()
