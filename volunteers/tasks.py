from celery import shared_task

from center.celery import RETRY

from . import services


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300, **RETRY)
def expire_sanctions() -> int:
    """Daily: warnings and yellow cards end by themselves (safe to run twice)."""
    return services.sanctions_expire()


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300, **RETRY)
def purge_import_rows() -> int:
    """Daily: raw rows of old imports (names, mobiles, ID numbers) are deleted (safe to run twice)."""
    return services.import_rows_purge()
