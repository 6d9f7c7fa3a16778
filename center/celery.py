"""The Celery app and the one periodic schedule of the project."""

import os

from celery import Celery
from celery.schedules import crontab
from django.db import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "center.settings")

# Retry only what a second attempt can fix: the database briefly unreachable
# or a lock/statement timeout. A bug raises anything else and fails loudly
# once. Every task spreads this: ``@shared_task(..., **RETRY)``.
RETRYABLE = (OperationalError, InterfaceError)
RETRY = {"autoretry_for": RETRYABLE, "max_retries": 3, "retry_backoff": True}

app = Celery("center")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job of every app is listed here, nowhere else.
BEAT_SCHEDULE = {
    "center-heartbeat": {
        "task": "center.tasks.beat_heartbeat",
        "schedule": crontab(),  # every minute: /healthz shows when beat last ran
    },
    "center-sweep-deliveries": {
        "task": "center.tasks.sweep_deliveries",
        "schedule": crontab(),  # every minute: the outbox of SMS and email (center.delivery)
    },
    "volunteers-expire-sanctions": {
        "task": "volunteers.tasks.expire_sanctions",
        "schedule": crontab(hour=0, minute=5),  # just after midnight, Asia/Shanghai
    },
    "center-purge-login-logs": {
        "task": "center.tasks.purge_login_logs",
        "schedule": crontab(hour=0, minute=15),
    },
    "center-purge-pii-log": {
        "task": "center.tasks.purge_pii_log",
        "schedule": crontab(hour=0, minute=25),  # access log past PII_LOG_RETENTION_DAYS
    },
    "requests-purge-resident-import-rows": {
        "task": "requests.tasks.purge_resident_import_rows",
        "schedule": crontab(hour=0, minute=22),
    },
    "volunteers-purge-import-rows": {
        "task": "volunteers.tasks.purge_import_rows",
        "schedule": crontab(hour=0, minute=20),
    },
    "events-generate-service-days": {
        "task": "events.tasks.generate_service_days",
        "schedule": crontab(hour=1, minute=0),  # the last Saturdays of the next three months
    },
    "requests-refresh-month-stats": {
        "task": "requests.tasks.refresh_month_stats",
        "schedule": crontab(minute="*/10"),  # the report's summary table (OrderMonthStat)
    },
    "requests-roll-over-wishes": {
        "task": "requests.tasks.roll_over_wishes",
        "schedule": crontab(hour=0, minute=30),  # micro-wishes past their deadline: next round
    },
    "requests-widen-stale-offers": {
        "task": "requests.tasks.widen_stale_offers",
        "schedule": crontab(),  # every minute
    },
    # beat: part B
    "events-announce-service-days": {
        "task": "events.tasks.announce_service_days",
        "schedule": crontab(hour=9, minute=0),  # a week before a service day
    },
    "events-remind-service-day-eve": {
        "task": "events.tasks.remind_service_day_eve",
        "schedule": crontab(hour=18, minute=0),  # tomorrow's sign-ups
    },
    "events-remind-shifts-soon": {
        "task": "events.tasks.remind_shifts_soon",
        "schedule": crontab(minute="*/10"),  # shifts starting in about two hours
    },
    "requests-remind-care-visits": {
        "task": "requests.tasks.remind_care_visits",
        "schedule": crontab(hour=8, minute=30),  # visits due today, and overdue
    },
    "requests-remind-silent-residents": {
        "task": "requests.tasks.remind_silent_residents",
        "schedule": crontab(hour=9, minute=5),  # one digest per station
    },
    "requests-remind-wish-contacts": {
        "task": "requests.tasks.remind_wish_contacts",
        "schedule": crontab(minute=40),  # hourly: contact deadlines near and past
    },
    "requests-remind-wish-deadlines": {
        "task": "requests.tasks.remind_wish_deadlines",
        "schedule": crontab(hour=9, minute=10),  # deadlines near; unadopted before rollover
    },
    # beat: part C
    # beat: part A
    "requests-remind-order-limits": {
        "task": "requests.tasks.remind_order_limits",
        "schedule": crontab(minute="*/5"),  # open orders near and past their time limit
    },
    "requests-remind-follow-ups": {
        "task": "requests.tasks.remind_follow_ups",
        "schedule": crontab(hour=9, minute=0),  # follow-up calls due: one digest per station
    },
    # beat: issue 14 weathervane (part B)
    "reports-refresh-weathervane": {
        "task": "reports.tasks.refresh_weathervane",
        "schedule": crontab(minute=7),  # hourly: the city's weathervane (DashboardSnapshot)
        "options": {"expires": 3000},
    },
    # beat: issue 14 dashboards (part C)
    "reports-refresh-dashboard-city": {
        "task": "reports.tasks.refresh_dashboard_snapshot",
        "schedule": crontab(),  # every minute: the city's dashboard figures (reports.snapshot)
        "kwargs": {"key": "city"},
        "options": {"expires": 55},
    },
    "reports-refresh-dashboard-center": {
        "task": "reports.tasks.refresh_dashboard_snapshot",
        "schedule": crontab(minute="*/5"),  # the center manager's figures by branch
        "kwargs": {"key": "center"},
        "options": {"expires": 290},
    },
    # beat: issue 14 reports (part D)
    # Replaces issue 13's center-monthly-report-ready: the file, then the message.
    "reports-monthly-report": {
        "task": "reports.tasks.monthly_report",
        "schedule": crontab(hour=8, minute=0, day_of_month=1),  # last month's city report
    },
    "reports-purge-exports": {
        "task": "reports.tasks.purge_exports",
        "schedule": crontab(hour=2, minute=40),  # files asked for by hand, past retention
    },
    "reports-sweep-exports": {
        "task": "reports.tasks.sweep_exports",
        "schedule": crontab(minute="*/10"),  # report files whose task was lost
        "options": {"expires": 590},
    },
}
app.conf.beat_schedule = BEAT_SCHEDULE
