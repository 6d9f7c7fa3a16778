"""Celery tasks of the dashboards and reports: take ids, call a service,
safe to run twice (STYLE.md). The schedule is in ``center/celery.py``."""

from celery import shared_task  # noqa: F401

from center.celery import RETRY  # noqa: F401

# tasks: weathervane (part B)


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300, **RETRY)
def refresh_weathervane() -> list[str]:
    """Hourly: the city's weathervane snapshots (last complete month, last 7
    and 30 days), an upsert by key, so safe to run twice; day-window
    snapshots of past days are dropped. Returns the keys refreshed."""
    from .selectors_weathervane import snapshots_refresh

    return snapshots_refresh()


# tasks: dashboards (part C)


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60, **RETRY)
def refresh_dashboard_snapshot(key: str = "city", user_id: int | None = None) -> int:
    """Every minute (``city``) or five (``center``): the dashboards' stored
    figures (``reports.snapshot``); a ``scope:`` key is refreshed for the
    station manager ``user_id`` whose page found it old. An upsert by key:
    safe to run twice. The beat entries expire a run queued behind a stopped
    worker (the next one replaces it). Returns the time it took, in ms."""
    from django.contrib.auth import get_user_model

    from .snapshot import purge_scopes, refresh, refresh_scope

    if key.startswith("scope:"):
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        return refresh_scope(user).duration_ms if user is not None else 0
    if key == "center":  # every five minutes: the managers' old scopes go too
        purge_scopes()
    return refresh(key).duration_ms


# tasks: reports (part D)


@shared_task(
    ignore_result=True,
    soft_time_limit=540,
    time_limit=600,  # reports.services.WRITE_TIME_LIMIT: a claim older is a dead worker's
    acks_late=True,
    **RETRY,
)
def write_report(export_id: int) -> str:
    """Write one report file (``reports.services.export_write``): progress
    on its row, the file in ``STORAGES["reports"]``. Safe to run twice: a
    done file is not written again, a running one is claimed once."""
    from .services import export_write

    return export_write(export_id)


@shared_task(ignore_result=True, soft_time_limit=1140, time_limit=1200, **RETRY)
def monthly_report() -> int:
    """08:00 on the 1st: the city's report for last month, written, and every
    center manager told where to download it (``reports.services.
    monthly_report_run``). Safe to run twice: one file, nobody told twice."""
    from .services import monthly_report_run

    return monthly_report_run()


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300, **RETRY)
def purge_exports() -> int:
    """Daily: report files asked for by hand older than the retention
    (``reports.services.exports_purge``); the monthly ones stay."""
    from .services import exports_purge

    return exports_purge()


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60, **RETRY)
def sweep_exports() -> int:
    """Every ten minutes: queue again report files whose task was lost."""
    from .services import exports_sweep

    return exports_sweep()
