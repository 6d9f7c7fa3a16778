"""Celery tasks of the events app: take ids, call a service (STYLE.md)."""

from celery import shared_task

from center.celery import RETRY

from .services import days


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90, **RETRY)
def generate_service_days() -> int:
    """Daily: the monthly service days of this month and the next two exist."""
    return len(days.service_days_generate(months=3))


# --- issue 13, part B: the service days' reminders (services.reminders) ---------------
# Each is safe to run twice: a reminder's key tells nobody twice.


@shared_task(ignore_result=True, soft_time_limit=3300, time_limit=3600, **RETRY)
def announce_service_days() -> int:
    """Daily (09:00): a week before a service day, its stations' volunteers
    (up to ~157k: minutes of writing, the SMS at the sms queue's rate)."""
    from .services import reminders

    return reminders.service_day_announce()


@shared_task(ignore_result=True, soft_time_limit=600, time_limit=660, **RETRY)
def remind_service_day_eve() -> int:
    """Daily (18:00): tomorrow's confirmed sign-ups."""
    from .services import reminders

    return reminders.service_day_eve_remind()


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300, **RETRY)
def remind_shifts_soon() -> int:
    """Every 10 minutes: confirmed sign-ups of the shifts starting in about two hours."""
    from .services import reminders

    return reminders.shift_soon_remind()
