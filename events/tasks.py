"""Celery tasks of the events app: take ids, call a service (STYLE.md)."""

from celery import shared_task

from center.celery import RETRY

from .services import days


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90, **RETRY)
def generate_service_days() -> int:
    """Daily: the monthly service days of this month and the next two exist."""
    return len(days.service_days_generate(months=3))
