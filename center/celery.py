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
}
app.conf.beat_schedule = BEAT_SCHEDULE
