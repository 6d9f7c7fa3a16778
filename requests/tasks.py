"""Celery tasks of the hotline: take ids, call a service. The arrow runs one
way: tasks import services and selectors; services queue these by name
(``center.broker.publish_on_commit("requests.tasks.widen_offer", ...)``)."""

import datetime

from celery import shared_task

from center.celery import RETRY

from . import selectors, services

# Redelivery after a killed worker: acks_late plus the broker's visibility
# timeout (settings; docs/decisions.md "Input, idempotency, outages").


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90, **RETRY)
def widen_offer(order_id: int, ring: int) -> bool:
    """If an offered order is still untaken, offer it to the next ring (safe to run twice)."""
    return services.order_widen(order_id=order_id, ring=ring)


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def widen_stale_offers() -> int:
    """Every minute: widen offers whose time is up (eager mode, lost messages,
    messages not published while the broker was down)."""
    done = 0
    for order_id, ring in selectors.stale_offers():
        done += bool(services.order_widen(order_id=order_id, ring=ring))
    return done


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def refresh_month_stats() -> int:
    """Every ten minutes: the current month's figures, and the month before
    (late completions and follow-ups still change it). Safe to run twice."""
    from django.utils import timezone

    today = timezone.localdate()
    last_month = today.replace(day=1) - datetime.timedelta(days=1)
    return services.order_month_stats_refresh(month=today) + services.order_month_stats_refresh(
        month=last_month
    )


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def roll_over_wishes() -> int:
    """Daily: published micro-wishes past their deadline start a new round
    with priority (requests.services.wishes.wishes_roll_over; safe to run twice)."""
    from .services import wishes

    return wishes.wishes_roll_over()


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def purge_resident_import_rows() -> int:
    """Daily: raw rows of resident imports never applied go after
    IMPORT_RETENTION_DAYS (requests.services.residents.import_rows_purge;
    safe to run twice)."""
    from .services import residents

    return residents.import_rows_purge()


# tasks: part A


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=280, **RETRY)
def remind_order_limits() -> int:
    """Every 5 minutes: open orders near and past their time limit, told to
    the provider holding them and the station's managers
    (requests.services.reminders.order_limits_remind; safe to run twice)."""
    from .services import reminders

    return reminders.order_limits_remind()


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300, **RETRY)
def remind_follow_ups() -> int:
    """Daily at 09:00: follow-up calls due, one digest per station to its
    managers (requests.services.reminders.follow_ups_due_remind; safe to run twice)."""
    from .services import reminders

    return reminders.follow_ups_due_remind()


# tasks: part B
# Care and micro-wish reminders (issue 13): each calls its service with the
# time it runs at; safe to run twice (a reminder's key tells nobody twice).


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300, **RETRY)
def remind_care_visits() -> int:
    """Daily (08:30): paired members' visits due today, and overdue."""
    from .services import reminders_care

    return reminders_care.care_visit_remind()


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300, **RETRY)
def remind_silent_residents() -> int:
    """Daily (09:05): each station's managers, how many residents are silent."""
    from .services import reminders_care

    return reminders_care.care_silent_digest()


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300, **RETRY)
def remind_wish_contacts() -> int:
    """Hourly: adopters whose contact deadline is near or passed."""
    from .services import reminders_wishes

    return reminders_wishes.wish_contact_remind()


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300, **RETRY)
def remind_wish_deadlines() -> int:
    """Daily (09:10): adopters of wishes due in three days; each station's
    managers, the wishes not adopted that roll over tonight."""
    from .services import reminders_wishes

    return reminders_wishes.wish_deadline_remind() + reminders_wishes.wish_rollover_digest()
