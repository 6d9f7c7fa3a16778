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
