from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

# Retry only what a second attempt can fix (the database briefly unreachable,
# a lock timeout); a bug fails loudly once.
RETRYABLE = (OperationalError, InterfaceError)


@shared_task(
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
    autoretry_for=RETRYABLE,
    max_retries=3,
    retry_backoff=True,
)
def expire_sanctions() -> int:
    """Daily: warnings and yellow cards end by themselves (safe to run twice)."""
    return services.sanctions_expire()


@shared_task(
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
    autoretry_for=RETRYABLE,
    max_retries=3,
    retry_backoff=True,
)
def purge_import_rows() -> int:
    """Daily: raw rows of old imports (names, mobiles, ID numbers) are deleted (safe to run twice)."""
    return services.import_rows_purge()
